"""Fully convolutional networks for FCDD (Liznerski et al., ICLR 2021; the thesis' chapter 3)
and the receptive-field upsampling that turns their output map into a full-resolution heatmap.

A fully convolutional φ maps an image to a u × v map: every output cell sees one patch of the
input, its receptive field. ``receptive_field`` computes that patch's size, the step between
neighbouring patches and the offset of the first, from the layers; ``GaussianUpsampler`` is
the fixed transposed convolution with a Gaussian kernel of the receptive field's size and the
network's total stride, which spreads each cell's value over the pixels it saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from deepsad.networks.layers import batchnorm2d, leaky_relu


class FcddNet28(nn.Module):
    """For 1×28×28 images (Fashion-MNIST, MNIST): conv 16×5×5, pool, conv 32×5×5, pool, and a
    1×1 convolution to one channel: a 7×7 map. Three convolutions with BatchNorm separated by
    two poolings, as the thesis describes; no bias (a constant map would be a bias)."""

    def __init__(self, in_channels: int = 1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, 16, 5, padding=2, bias=False), batchnorm2d(16), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, padding=2, bias=False), batchnorm2d(32), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(32, 1, 1, bias=False),
        )  # fmt: skip

    def forward(self, x):
        return self.layers(x)


class FcddNet32(nn.Module):
    """For 3×32×32 images (CIFAR-10): the LeNet-5-like network of the thesis with 3×3 kernels
    and BatchNorm, whose last pooling and fully connected layers are replaced by two
    convolutions: an 8×8 map."""

    def __init__(self, in_channels: int = 3):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1, bias=False), batchnorm2d(32), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), batchnorm2d(64), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1, bias=False), batchnorm2d(128), leaky_relu(),
            nn.Conv2d(128, 1, 1, bias=False),
        )  # fmt: skip

    def forward(self, x):
        return self.layers(x)


class FcddNetAnySize(nn.Module):
    """For images of other sizes (at least 8×8 pixels) and any number of channels: three 3×3
    convolutions with BatchNorm, each followed by a 2×2 pooling, and a 1×1 convolution to one
    channel: a map of 1/8 the image's side."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1, bias=False), batchnorm2d(32), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), batchnorm2d(64), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1, bias=False), batchnorm2d(128), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(128, 1, 1, bias=False),
        )  # fmt: skip

    def forward(self, x):
        return self.layers(x)


MIN_SIDE = 8
"""The smallest image side ``FcddNetAnySize`` takes (three 2×2 poolings)."""


def fully_convolutional_network(input_shape: tuple[int, ...]) -> nn.Module:
    """The FCDD network for an image shape: the thesis' for 1×28×28 and 3×32×32 images, else
    ``FcddNetAnySize``."""
    if tuple(input_shape) == (1, 28, 28):
        return FcddNet28()
    if tuple(input_shape) == (3, 32, 32):
        return FcddNet32()
    channels, height, width = input_shape
    if min(height, width) < MIN_SIDE:
        raise ValueError(
            f"FCDD's built-in networks take images of at least {MIN_SIDE}×{MIN_SIDE} pixels; got {height}×{width}. "
            "Resize the images, or give a fully convolutional nn.Module as network"
        )
    return FcddNetAnySize(channels)


@dataclass(frozen=True)
class ReceptiveField:
    """Of one output cell: ``size`` (pixels per side), ``stride`` (pixels between neighbouring
    cells) and ``start`` (the centre of the first cell's field, in input pixels, from 0)."""

    size: int
    stride: int
    start: float


SPATIAL_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
"""Layers whose window the receptive field follows."""

PADDING_LAYERS = (nn.ZeroPad2d, nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d, nn.CircularPad2d)

UNMAPPABLE_LAYERS = (nn.ConvTranspose2d, nn.Upsample, nn.Linear, nn.Bilinear, nn.Flatten, nn.Unflatten,
                     nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.PixelShuffle, nn.PixelUnshuffle, nn.Fold,
                     nn.Unfold, nn.MultiheadAttention)
"""Layers that mix or move the map's cells in ways a receptive field cannot describe (also
where they only act on channels, as in squeeze-and-excitation blocks: refused alike)."""


@dataclass(frozen=True)
class _Window:
    kernel: int  # with dilation
    stride: int
    padding: int  # before the first row or column (torch pads "same" with an even kernel unevenly)


def receptive_field(network: nn.Module, input_shape: tuple[int, int, int]) -> ReceptiveField:
    """The receptive field of the output cells of ``network`` on (channels, height, width)
    images: traced through one forward pass, so the layers count in the order ``forward``
    applies them, a layer applied twice counts twice, and a layer applied to a map of another
    size than the one before it gave (a branch, or an unknown layer that resizes) is refused,
    as are layers that move or mix cells."""
    calls, output_size = _spatial_calls(network, input_shape)
    current = tuple(input_shape[1:])
    size, stride, start = 1, 1, 0.5
    for module, in_size, out_size in calls:
        if in_size != current:
            raise ValueError(
                f"receptive_field follows one chain of layers; {module} takes a {in_size[0]}×{in_size[1]} map where the "
                f"layer before gave {current[0]}×{current[1]}: a branch or skip connection that resizes, or a layer "
                "other than convolutions, poolings, padding and element-wise ones that does, is not covered"
            )
        window = _window(module)
        start += ((window.kernel - 1) / 2 - window.padding) * stride
        size += (window.kernel - 1) * stride
        stride *= window.stride
        current = out_size
    if output_size != current:
        raise ValueError(
            f"the network gives a {output_size[0]}×{output_size[1]} map, but its convolutions, poolings and padding give "
            f"{current[0]}×{current[1]}: a layer changes the map's size in a way the receptive field cannot follow; use "
            "convolutions, poolings, padding and element-wise layers only"
        )
    return ReceptiveField(size, stride, start - 0.5)


def _spatial_calls(network: nn.Module, input_shape: tuple[int, int, int]) -> tuple[list, tuple[int, int]]:
    """(module, input size, output size) of each spatial or padding layer call, in the order of
    one forward pass, and the size of the network's output map."""
    calls = []

    def refuse(module, inputs):
        raise ValueError(f"receptive_field covers convolutions and poolings; the network has a {type(module).__name__}")

    def record(module, inputs, output):
        calls.append((module, tuple(inputs[0].shape[-2:]), tuple(output.shape[-2:])))

    # Unused layers do not matter; a layer that is called does, however it is registered.
    modules = list(network.modules())
    handles = [m.register_forward_pre_hook(refuse) for m in modules if isinstance(m, UNMAPPABLE_LAYERS)]
    handles += [m.register_forward_hook(record) for m in modules if isinstance(m, SPATIAL_LAYERS + PADDING_LAYERS)]
    training = network.training
    parameter = next(network.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    try:
        with torch.no_grad():
            output = network.eval()(torch.zeros(1, *input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
        network.train(training)
    if output.dim() != 4:
        raise ValueError(f"the network must map (n, c, h, w) images to (n, 1, u, v) maps; it gives {tuple(output.shape)}")
    return calls, tuple(output.shape[-2:])


def _window(module: nn.Module) -> _Window:
    if isinstance(module, PADDING_LAYERS):
        sides = set(module.padding) if isinstance(module.padding, tuple) else {module.padding}
        if len(sides) != 1:
            raise ValueError(f"receptive_field needs the same padding on every side; {module} has {module.padding!r}")
        return _Window(1, 1, sides.pop())  # a 1×1 window with the padding
    kernel, step, dilation = (_square(getattr(module, name, 1), name, module)
                              for name in ("kernel_size", "stride", "dilation"))
    kernel = dilation * (kernel - 1) + 1
    padding = getattr(module, "padding", 0)
    if padding == "valid":
        padding = 0
    elif padding == "same":  # stride 1 (torch's rule); torch puts the smaller half before
        padding = (kernel - 1) // 2
    else:
        padding = _square(padding, "padding", module)
    return _Window(kernel, step, padding)


def _square(value, name: str, module: nn.Module) -> int:
    values = value if isinstance(value, tuple) else (value, value)
    if len(set(values)) != 1 or not isinstance(values[0], int):
        raise ValueError(f"receptive_field needs square, integer {name}; {module} has {value!r}")
    return values[0]


class GaussianUpsampler(nn.Module):
    """Heatmaps of the input's size from a network's u × v output map: a transposed convolution
    with a fixed Gaussian kernel of the receptive field's size (σ in pixels; the FCDD paper's
    default is a quarter of the field) and its stride, cropped to ``image_size``."""

    def __init__(self, field: ReceptiveField, image_size: tuple[int, int], sigma: float | None = None):
        super().__init__()
        sigma = field.size / 4 if sigma is None else float(sigma)
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number of pixels; got {sigma!r}")
        self.field, self.image_size, self.sigma = field, tuple(image_size), sigma
        offsets = torch.arange(field.size, dtype=torch.float64) - (field.size - 1) / 2
        line = torch.exp(-(offsets**2) / (2 * sigma**2))
        self.register_buffer("kernel", (line[:, None] * line[None, :]).float()[None, None])

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        upsampled = nn.functional.conv_transpose2d(maps, self.kernel.to(maps.dtype), stride=self.field.stride)
        # The kernel's centre for cell i sits at i·stride + (size − 1)/2 of the transposed output;
        # the field's centre at start + i·stride of the input: crop by their difference, padding
        # with zeros where the map does not reach the image's border (networks without padding).
        offset = round((self.field.size - 1) / 2 - self.field.start)
        height, width = self.image_size
        before = max(0, -offset)
        after_rows = max(0, offset + height - upsampled.shape[-2])
        after_columns = max(0, offset + width - upsampled.shape[-1])
        if before or after_rows or after_columns:
            upsampled = nn.functional.pad(upsampled, (before, after_columns, before, after_rows))
        start = offset + before
        return upsampled[..., start : start + height, start : start + width]
