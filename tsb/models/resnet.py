"""A configurable ResNet body (BasicBlocks) shared by the style and content encoders.

The paper uses ResNet34 bodies: ``stem_channels=64, widths=(64, 128, 256, 512),
blocks=(3, 4, 6, 3)`` gives exactly torchvision's ``resnet34`` feature extractor (same layers and
parameter count without the classifier, when ``norm="batch"``). Narrow presets change the numbers,
not the code. torchvision's own class is not used because its stage widths are fixed.

``norm`` picks the normalisation: ``batch`` (ResNet's own; keeps per-image colour and brightness,
which the style encoder must see), ``group`` (batch-independent, no running statistics),
``instance`` or ``none``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from tsb.errors import ConfigError

NORMS = ("batch", "group", "instance", "none")


def make_norm(kind: str, channels: int) -> nn.Module:
    """Normalisation layer by name (see module docstring)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(math.gcd(32, channels), channels)
    if kind == "instance":
        return nn.GroupNorm(channels, channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {kind!r}; use one of {', '.join(NORMS)}")


class BasicBlock(nn.Module):
    """ResNet basic block: 3x3 conv (stride) - norm - ReLU - 3x3 conv - norm, + projected skip."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, norm: str = "batch") -> None:
        super().__init__()
        bias = norm == "none"
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=bias)
        self.norm1 = make_norm(norm, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=bias)
        self.norm2 = make_norm(norm, out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias),
                make_norm(norm, out_channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNetBody(nn.Module):
    """Stem (7x7 conv stride 2, norm, ReLU) + max-pool + stages of :class:`BasicBlock` s.

    ``forward(x) -> [stem, stage_1, ..., stage_n]`` feature maps, finest first. The stem map is
    at 1/2 resolution, stage 1 at 1/4 (after the max-pool), then each stage divides by its stride.
    """

    def __init__(
        self,
        in_channels: int = 3,
        stem_channels: int = 64,
        widths: Sequence[int] = (64, 128, 256, 512),
        blocks: Sequence[int] = (3, 4, 6, 3),
        strides: Sequence[int] = (1, 2, 2, 2),
        norm: str = "batch",
    ) -> None:
        super().__init__()
        widths, blocks, strides = list(widths), list(blocks), list(strides)
        if not (len(widths) == len(blocks) == len(strides)) or not widths:
            raise ConfigError(
                f"ResNet body: widths {widths}, blocks {blocks} and strides {strides} must be "
                "non-empty lists of the same length (one entry per stage)"
            )
        if min(blocks) < 1 or min(widths) < 1:
            raise ConfigError(
                f"ResNet body: every stage needs >= 1 block and >= 1 channel, got {blocks}, {widths}"
            )
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, 7, stride=2, padding=3, bias=norm == "none"),
            make_norm(norm, stem_channels),
            nn.ReLU(inplace=True),
        )
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        stages = []
        cin = stem_channels
        for width, n, stride in zip(widths, blocks, strides):
            layers = [BasicBlock(cin, width, stride, norm)]
            layers += [BasicBlock(width, width, 1, norm) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
            cin = width
        self.stages = nn.ModuleList(stages)
        self.feature_channels = [stem_channels, *widths]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.stem(x)
        feats = [x]
        x = self.pool(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats
