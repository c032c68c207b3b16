"""Building blocks shared by the registered networks."""

from torch import nn

# The paper's activation: unbounded, so the network cannot saturate into a constant map.
LEAKY_SLOPE = 0.1
# BatchNorm without affine parameters (they would act as a bias); eps as in the paper's code.
BATCHNORM_EPS = 1e-4


def leaky_relu() -> nn.LeakyReLU:
    return nn.LeakyReLU(LEAKY_SLOPE)


def batchnorm1d(features: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(features, eps=BATCHNORM_EPS, affine=False)


def batchnorm2d(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BATCHNORM_EPS, affine=False)


class Upsample2x(nn.Module):
    """Nearest-neighbour upsampling by 2, the decoders' inverse of 2×2 max-pooling."""

    def forward(self, x):
        return nn.functional.interpolate(x, scale_factor=2)


def check_image_shape(name: str, input_shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if tuple(input_shape) != expected:
        raise ValueError(
            f"network {name!r} takes samples of shape {expected}; got {tuple(input_shape)}. "
            "Use network='auto' or 'mlp' for other shapes."
        )


def check_rep_dim_divisible(name: str, rep_dim: int, divisor: int) -> None:
    if rep_dim <= 0 or rep_dim % divisor:
        raise ValueError(
            f"rep_dim for network {name!r} must be a positive multiple of {divisor} "
            f"(its decoder reshapes the code to {divisor} pixels); got {rep_dim}"
        )
