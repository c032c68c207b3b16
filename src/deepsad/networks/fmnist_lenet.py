"""LeNet-type network for Fashion-MNIST (Deep SAD paper, appendix): conv 16×5×5 → conv 32×5×5 → fc 64 → fc 32."""

from torch import nn

from deepsad.networks.layers import Upsample2x, batchnorm1d, batchnorm2d, check_image_shape, leaky_relu
from deepsad.networks.registry import EncoderDecoder, register_network

HIDDEN = 64


class FmnistLeNetEncoder(nn.Module):
    def __init__(self, rep_dim: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2, bias=False), batchnorm2d(16), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, padding=2, bias=False), batchnorm2d(32), leaky_relu(), nn.MaxPool2d(2),
        )
        self.hidden = nn.Sequential(nn.Linear(32 * 7 * 7, HIDDEN, bias=False), batchnorm1d(HIDDEN), leaky_relu())
        self.code = nn.Linear(HIDDEN, rep_dim, bias=False)

    def forward(self, x):
        return self.code(self.hidden(self.features(x).flatten(1)))


class FmnistLeNetDecoder(nn.Module):
    def __init__(self, rep_dim: int = 32):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(rep_dim, HIDDEN, bias=False), batchnorm1d(HIDDEN))
        self.layers = nn.Sequential(
            leaky_relu(), Upsample2x(),                                              # 4 → 8
            nn.ConvTranspose2d(HIDDEN // 16, 32, 5, padding=2, bias=False),
            batchnorm2d(32), leaky_relu(), Upsample2x(),                             # 8 → 16
            nn.ConvTranspose2d(32, 16, 5, padding=3, bias=False),                    # 16 → 14
            batchnorm2d(16), leaky_relu(), Upsample2x(),                             # 14 → 28
            nn.ConvTranspose2d(16, 1, 5, padding=2, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, z):
        return self.layers(self.hidden(z).view(-1, HIDDEN // 16, 4, 4))


@register_network("fmnist_lenet")
def build_fmnist_lenet(input_shape, rep_dim=None) -> EncoderDecoder:
    check_image_shape("fmnist_lenet", input_shape, (1, 28, 28))
    rep_dim = 32 if rep_dim is None else int(rep_dim)
    if rep_dim <= 0:
        raise ValueError(f"rep_dim must be positive; got {rep_dim}")
    return EncoderDecoder(FmnistLeNetEncoder(rep_dim), FmnistLeNetDecoder(rep_dim), rep_dim)
