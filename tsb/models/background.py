"""BackgroundNet: the split design's background branch, which erases the text of a crop.

``forward(style) -> background`` (B, 3, H, W) in [-1, 1] (linear): the crop with its word
removed, as SRNet's and MOSTEL's background branches do. A U-Net predicts a residual on the
input (outside the word the background *is* the input), trained against the renderer's clean
background (batch key ``background``, :class:`tsb.losses.background.BackgroundL1`). It is also
what ``tsb.edit --erase`` pastes.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from tsb.models.unet import UNet


class BackgroundNet(nn.Module):
    """Text eraser: ``style + UNet(style)``."""

    def __init__(self, channels: Sequence[int] = (16, 32, 64, 128, 128), norm: str = "batch") -> None:
        super().__init__()
        self.unet = UNet(3, 3, channels, norm=norm, global_context=True)
        nn.init.zeros_(self.unet.head.weight)
        if self.unet.head.bias is not None:
            nn.init.zeros_(self.unet.head.bias)

    def forward(self, style: Tensor) -> Tensor:
        return style + self.unet(style)
