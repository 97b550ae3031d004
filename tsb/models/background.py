"""BackgroundNet: the split design's background branch, which erases the text of a crop.

``forward(style) -> (background, source_mask)``: the crop with its word removed (B, 3, H, W) in
[-1, 1] (linear), as SRNet's and MOSTEL's background branches do, and where that word was
(B, 1, H, W) in [0, 1]. One U-Net predicts a mask logit of the old word and a colour residual.
They are trained against the renderer's clean background and the source's text mask
(:mod:`tsb.losses.background`). The background is what ``tsb.edit --erase`` pastes; the mask
tells the layout where the old word is.

Two ways to erase (``inpaint``):

- ``True`` (default): *segment, then fill*. The hole is the predicted mask, grown by
  ``dilate`` pixels (a max-pool: anti-aliased edges, blur, small mask errors); outside it the
  background is the input, inside it is :func:`pull_push`'s fill from the surrounding pixels
  plus the U-Net's residual (texture the fill cannot know). Segmenting a word is learned in a
  few hundred steps; the fill removes the old word from the first step the mask is right.
- ``False``: a residual on the whole input (``style + U-Net``), which must learn to paint every
  letter over: at CPU budgets it only dims the old word (docs/lab-notes.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.unet import UNet
from tsb.utils.fill import pull_push
from tsb.utils.image import grow_mask


class BackgroundNet(nn.Module):
    """Text eraser and old-word segmenter: ``(background, source_mask)`` of a style crop.

    Args:
        channels: U-Net widths at full, 1/2, 1/4 ... size.
        norm: normalisation of the U-Net's blocks.
        inpaint: segment then fill (True) or a residual on the whole input (False).
        dilate: pixels the hole grows beyond the predicted mask (``inpaint`` only).
        hole_gain: the hole is ``min(1, hole_gain * mask)`` before growing: with 2, a pixel the
            mask gives even odds is filled completely, so no ghost of a letter edge stays.
        smooth: Jacobi steps per level of the fill (:func:`pull_push`); 0 is plain pull-push,
            which leaves the old word's shapes in two-coloured backgrounds.
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32, 64, 128, 128),
        norm: str = "batch",
        inpaint: bool = True,
        dilate: int = 2,
        hole_gain: float = 1.0,
        smooth: int = 0,
    ) -> None:
        super().__init__()
        if dilate < 0:
            raise ConfigError(f"model.net.background.dilate must be >= 0 pixels, got {dilate}")
        if hole_gain < 1:
            raise ConfigError(f"model.net.background.hole_gain must be >= 1, got {hole_gain}")
        if smooth < 0:
            raise ConfigError(f"model.net.background.smooth must be >= 0 steps, got {smooth}")
        self.unet = UNet(3, 4, channels, norm=norm, global_context=True)
        self.inpaint = bool(inpaint)
        self.dilate = int(dilate)
        self.hole_gain = float(hole_gain)
        self.smooth = int(smooth)
        nn.init.zeros_(self.unet.head.weight)
        if self.unet.head.bias is not None:
            nn.init.zeros_(self.unet.head.bias)
            if self.inpaint:  # start with (almost) no hole: the background is the input
                nn.init.constant_(self.unet.head.bias[3:], -4.0)

    def hole(self, source_mask: Tensor) -> Tensor:
        """The region the fill replaces: the old word's mask (times ``hole_gain``) grown by ``dilate`` pixels."""
        return grow_mask((source_mask * self.hole_gain).clamp(max=1), self.dilate)

    def segment(self, style: Tensor) -> tuple[Tensor, Tensor]:
        """The U-Net's colour residual (B, 3, H, W) and the old word's mask (B, 1, H, W) in [0, 1]."""
        out = self.unet(style)
        return out[:, :3], torch.sigmoid(out[:, 3:])

    def fill(self, style: Tensor, residual: Tensor, source_mask: Tensor) -> Tensor:
        """The crop with the word of ``source_mask`` removed (B, 3, H, W). The mask may come from
        :meth:`segment` or be corrected first (the inference pipeline's mask refinement)."""
        if not self.inpaint:
            return style + residual
        hole = self.hole(source_mask)
        fill = pull_push(style, 1 - hole, self.smooth) + residual
        return (1 - hole) * style + hole * fill

    def forward(self, style: Tensor) -> tuple[Tensor, Tensor]:
        residual, source_mask = self.segment(style)
        return self.fill(style, residual, source_mask), source_mask
