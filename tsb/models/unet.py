"""A small U-Net: the image-to-image body of the split design's branches and of the baseline.

Stride-2 convolutional encoder, nearest-upsampling decoder with skip connections, a 1x1 output
head at full resolution. Inputs of any height and width are padded (replicate) to a multiple of
``2 ** (len(channels) - 1)`` and the output is cropped back, so a 64 x W crop of any W works.
``global_context``: the bottleneck also gets its own spatial mean through a linear layer, so every
output pixel can see the whole crop (a word's colour, its overall size) at no real cost.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.resnet import make_norm


class ConvBlock(nn.Sequential):
    """(3x3 conv - norm - ReLU) x 2, the first conv optionally with stride 2."""

    def __init__(self, cin: int, cout: int, stride: int, norm: str) -> None:
        bias = norm == "none"
        super().__init__(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=bias),
            make_norm(norm, cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=bias),
            make_norm(norm, cout),
            nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """``forward(x) -> (B, out_channels, H, W)``; ``channels`` are the widths at full, 1/2, 1/4 ... size."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        channels: Sequence[int] = (16, 32, 64, 128, 128),
        norm: str = "batch",
        global_context: bool = True,
    ) -> None:
        super().__init__()
        channels = list(channels)
        if len(channels) < 2:
            raise ConfigError(f"a U-Net needs >= 2 widths (one per scale), got channels={channels}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.multiple = 2 ** (len(channels) - 1)
        self.down = nn.ModuleList()
        cin = in_channels
        for i, c in enumerate(channels):
            self.down.append(ConvBlock(cin, c, 1 if i == 0 else 2, norm))
            cin = c
        self.context = nn.Linear(channels[-1], channels[-1]) if global_context else None
        rev = channels[::-1]
        self.up = nn.ModuleList(ConvBlock(rev[k - 1] + rev[k], rev[k], 1, norm) for k in range(1, len(rev)))
        self.head = nn.Conv2d(channels[0], out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(f"U-Net input must be (B, {self.in_channels}, H, W); got {tuple(x.shape)}")
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        feats = []
        for block in self.down:
            x = block(x)
            feats.append(x)
        if self.context is not None:
            x = x + self.context(x.mean(dim=(2, 3)))[:, :, None, None]
        for k, block in enumerate(self.up, start=1):
            skip = feats[-1 - k]
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)[..., :h, :w]
