"""Typeface encoder E: a word image -> a unit vector that is the same for one typeface whatever the
word, colours, scale or position, and apart for different typefaces.

A small residual network on grey 32x128 crops (colour carries no typeface: RGB input is averaged)
with a global average pool and a linear projection to ``dim``, normalised. Trained as a
normalised-softmax classifier over the library's training fonts (``forward`` gives the cosine
logits times ``scale`` against one learned unit vector per font); retrieval uses :meth:`embed`
against prototypes of every library font (:mod:`tsb.inference.typeface`), so fonts it never
trained on (held-out families, a user's folder) are found by their nearest neighbours.

About 0.8M parameters; an embedding costs about a millisecond on one CPU core.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: tuple[int, int]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip: nn.Module = nn.Identity()
        if cin != cout or stride != (1, 1):
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x))


class TypefaceEncoder(nn.Module):
    """Args:
    num_classes: fonts of the training classifier (an upper bound on the data's font ids).
    dim: embedding size.
    channels: channels of the four stages (after the stem, the last three each halve the resolution).
    scale: the normalised softmax's temperature (logits = scale * cosine).
    input_size: crops are resized to this (height, width) first.
    """

    def __init__(
        self,
        num_classes: int = 2048,
        dim: int = 128,
        channels: Sequence[int] = (24, 48, 96, 160),
        scale: float = 16.0,
        input_size: Sequence[int] = (32, 128),
    ) -> None:
        super().__init__()
        c = list(channels)
        self.hparams = {"num_classes": int(num_classes), "dim": int(dim), "channels": c, "scale": float(scale),
                        "input_size": [int(input_size[0]), int(input_size[1])]}  # fmt: skip
        self.num_classes = int(num_classes)
        self.dim = int(dim)
        self.scale = float(scale)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.imagenet_input = False  # trained from scratch (the typeface task asks)
        # the stem halves the resolution at once (16x64 from 32x128): strokes are still 1-3 pixels
        self.stem = nn.Sequential(nn.Conv2d(1, c[0], 3, 2, 1, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU())
        strides = [(1, 1), (2, 2), (2, 2), (2, 2)]
        layers: list[nn.Module] = []
        cin = c[0]
        for cout, stride in zip(c, strides, strict=True):
            layers.append(_Block(cin, cout, stride))
            cin = cout
        self.stages = nn.Sequential(*layers)
        self.project = nn.Linear(cin, self.dim)
        self.classes = nn.Parameter(torch.randn(self.num_classes, self.dim) * 0.01)

    def _prepare(self, x: Tensor) -> Tensor:
        if x.shape[1] != 1:
            x = x.mean(1, keepdim=True)
        if tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        # the typeface is the same at any contrast (and, learnt from the data, in either polarity):
        # standardise each crop
        mean = x.mean((2, 3), keepdim=True)
        std = x.std((2, 3), keepdim=True).clamp_min(1e-3)
        return (x - mean) / std

    def embed(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images in [-1, 1] -> (B, dim) unit vectors."""
        h = self.stages(self.stem(self._prepare(x)))
        return F.normalize(self.project(h.mean((2, 3))), dim=1)

    def forward(self, x: Tensor) -> Tensor:
        """Cosine logits against each training font, times ``scale``: (B, num_classes)."""
        return self.scale * self.embed(x) @ F.normalize(self.classes, dim=1).t()
