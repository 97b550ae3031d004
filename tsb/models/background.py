"""BackgroundNet: the split design's background branch, which erases the text of a crop.

``forward(style) -> (background, source_mask)``: the crop with its word removed (B, 3, H, W) in
[-1, 1] (linear), as SRNet's and MOSTEL's background branches do, and where that word was
(B, 1, H, W) in [0, 1]. One U-Net predicts both: a residual on the input (outside the word the
background *is* the input) and a mask logit. They are trained against the renderer's clean
background and the source's text mask (:mod:`tsb.losses.background`). The background is what
``tsb.edit --erase`` pastes; the mask tells the layout where the old word is.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from tsb.models.unet import UNet


class BackgroundNet(nn.Module):
    """Text eraser and old-word segmenter: ``style + UNet(style)[:3]``, ``sigmoid(UNet(style)[3])``."""

    def __init__(self, channels: Sequence[int] = (16, 32, 64, 128, 128), norm: str = "batch") -> None:
        super().__init__()
        self.unet = UNet(3, 4, channels, norm=norm, global_context=True)
        nn.init.zeros_(self.unet.head.weight)
        if self.unet.head.bias is not None:
            nn.init.zeros_(self.unet.head.bias)

    def forward(self, style: Tensor) -> tuple[Tensor, Tensor]:
        out = self.unet(style)
        return style + out[:, :3], torch.sigmoid(out[:, 3:])
