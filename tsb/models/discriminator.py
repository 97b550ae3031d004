"""Discriminator D: StyleGAN2's residual discriminator with minibatch standard deviation, on 64xW.

Layout for ``channels = (c64, c32, c16, c8, c4)``: a 1x1 from-RGB conv at 64xW, residual blocks
halving the size down to 4x(W/16), the minibatch-stddev feature, a 3x3 conv, then the head.
StyleGAN2 flattens its 4x4 map into a linear layer; to accept any W (a multiple of 16) we average
over the width and flatten only the height (4 rows), so vertical layout (baseline, ascenders,
descenders) still reaches the head while the width is free. Output: one logit per image, (B,).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.layers import DEFAULT_BLUR, ConvLayer, EqualLinear, ResBlock


def minibatch_stddev(x: Tensor, group_size: int = 4, n_feat: int = 1) -> Tensor:
    """Append ``n_feat`` channels: the std over groups of samples, averaged over features and pixels.

    The group is the largest divisor of the batch size not above ``group_size`` (StyleGAN2 needs
    the batch to be divisible; this works for any batch, a batch of 1 gives a zero-ish feature).
    """
    b, c, h, w = x.shape
    g = max(d for d in range(1, min(group_size, b) + 1) if b % d == 0)
    y = x.reshape(g, -1, n_feat, c // n_feat, h, w)
    y = torch.sqrt(y.var(dim=0, unbiased=False) + 1e-8)  # (b/g, F, c/F, h, w)
    y = y.mean(dim=(2, 3, 4))  # (b/g, F)
    y = y.reshape(-1, n_feat, 1, 1).repeat(g, 1, h, w).to(dtype=x.dtype)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """Residual StyleGAN2 discriminator, ``forward(image (B, 3, height, W)) -> logits (B,)``."""

    def __init__(
        self,
        channels: Sequence[int] = (256, 512, 512, 512, 512),
        image_channels: int = 3,
        height: int = 64,
        stddev_group: int = 4,
        stddev_feat: int = 1,
        blur_kernel: Sequence[float] = DEFAULT_BLUR,
    ) -> None:
        super().__init__()
        channels = list(channels)
        self.downscale = 2 ** (len(channels) - 1)
        if len(channels) < 2 or height % self.downscale:
            raise ConfigError(
                f"discriminator.channels {channels}: needs >= 2 scales and height {height} divisible by "
                f"2**(len(channels) - 1) = {self.downscale}"
            )
        if channels[-1] % stddev_feat:
            raise ConfigError(
                f"discriminator: last width {channels[-1]} must be divisible by stddev_feat {stddev_feat}"
            )
        self.image_channels = image_channels
        self.height = height
        self.stddev_group = stddev_group
        self.stddev_feat = stddev_feat
        self.from_rgb = ConvLayer(image_channels, channels[0], 1)
        self.blocks = nn.Sequential(
            *(ResBlock(cin, cout, blur_kernel) for cin, cout in itertools.pairwise(channels))
        )
        self.final_conv = ConvLayer(channels[-1] + stddev_feat, channels[-1], 3)
        final_h = height // self.downscale
        self.final_linear = nn.Sequential(
            EqualLinear(channels[-1] * final_h, channels[-1], activation=True),
            EqualLinear(channels[-1], 1),
        )

    def forward(self, image: Tensor) -> Tensor:
        if (
            image.ndim != 4
            or image.shape[1] != self.image_channels
            or image.shape[2] != self.height
            or image.shape[3] % self.downscale
        ):
            raise ConfigError(
                f"discriminator input must be (B, {self.image_channels}, {self.height}, W) with W a multiple "
                f"of {self.downscale}; got {tuple(image.shape)}"
            )
        x = self.blocks(self.from_rgb(image))
        x = minibatch_stddev(x, self.stddev_group, self.stddev_feat)
        x = self.final_conv(x)
        x = x.mean(dim=3).flatten(1)  # average over width, keep the rows
        return self.final_linear(x).squeeze(1)
