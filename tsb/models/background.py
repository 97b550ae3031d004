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
  letter over: at CPU budgets it only dims the old word (docs/models.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.unet import UNet
from tsb.utils.image import grow_mask


def _smooth(image: Tensor) -> Tensor:
    """3x3 mean with replicated borders (one Jacobi step of the Laplace equation)."""
    return F.avg_pool2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


def pull_push(image: Tensor, weight: Tensor, smooth: int = 0) -> Tensor:
    """Fill ``image`` where ``weight`` is 0 from where it is 1 (pull-push, Gortler et al. 1996).

    Pull: a pyramid of weighted means (2x2 average pooling of ``image * weight`` and ``weight``).
    Push: from the coarsest level down, each level keeps its own mean in proportion to its
    weight and takes the coarser level's (bilinearly upsampled) for the rest. Pixels of weight 1
    are returned unchanged; a hole gets a smooth blend of the colours around it. Differentiable
    in both arguments; an all-zero weight gives 0.

    Plain pull-push fills the inside of a letter-shaped hole from a coarser level than the gaps
    between the letters, so where the background has two colours (a sign's edge, a photo) the
    fill keeps the old word's shapes in a blend of them. ``smooth`` > 0 adds that many Jacobi
    steps of the Laplace equation at every level after the push (a multigrid solve: the hole
    becomes the harmonic interpolation of its border, each pixel taking the colours nearest to
    it), which removes those shapes at a cost of ``smooth`` 3x3 means per level.

    Args:
        image: (B, C, H, W).
        weight: (B, 1, H, W) in [0, 1], how much each pixel is known.
        smooth: Jacobi steps per pyramid level (0: plain pull-push).
    """
    if weight.ndim != 4 or weight.shape[1] != 1 or weight.shape[-2:] != image.shape[-2:]:
        raise ConfigError(f"pull_push weight must be (B, 1, H, W) of the image; got {tuple(weight.shape)}")
    if smooth < 0:
        raise ConfigError(f"pull_push smooth must be >= 0 steps, got {smooth}")
    weight = weight.clamp(0, 1)
    levels = [(image * weight, weight)]
    while max(levels[-1][1].shape[-2:]) > 1:
        x, w = levels[-1]
        levels.append((F.avg_pool2d(x, 2, ceil_mode=True), F.avg_pool2d(w, 2, ceil_mode=True)))
    x, w = levels[-1]
    fill = x / w.clamp_min(1e-6)
    for x, w in reversed(levels[:-1]):
        up = F.interpolate(fill, size=x.shape[-2:], mode="bilinear", align_corners=False)
        # own weighted mean where known (x is premultiplied: x / w * w), the coarser fill elsewhere
        unknown = 1 - w
        fill = x + unknown * up
        for _ in range(smooth):
            fill = x + unknown * _smooth(fill)
    return fill


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
        refine: at inference only (eval mode), a module ``(style, mask) -> mask`` that corrects
            the predicted mask before the hole is cut, e.g.
            :class:`~tsb.models.refine.TextRegionRefiner` (finds the strokes the U-Net misses on
            photos); owns no weight, so trained weights take it or leave it. None: off.
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32, 64, 128, 128),
        norm: str = "batch",
        inpaint: bool = True,
        dilate: int = 2,
        hole_gain: float = 1.0,
        smooth: int = 0,
        refine: nn.Module | None = None,
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
        self.refine = refine
        nn.init.zeros_(self.unet.head.weight)
        if self.unet.head.bias is not None:
            nn.init.zeros_(self.unet.head.bias)
            if self.inpaint:  # start with (almost) no hole: the background is the input
                nn.init.constant_(self.unet.head.bias[3:], -4.0)

    def hole(self, source_mask: Tensor) -> Tensor:
        """The region the fill replaces: the old word's mask (times ``hole_gain``) grown by ``dilate`` pixels."""
        return grow_mask((source_mask * self.hole_gain).clamp(max=1), self.dilate)

    def forward(self, style: Tensor) -> tuple[Tensor, Tensor]:
        out = self.unet(style)
        residual, source_mask = out[:, :3], torch.sigmoid(out[:, 3:])
        if self.refine is not None and not self.training:
            source_mask = self.refine(style, source_mask)
        if not self.inpaint:
            return style + residual, source_mask
        hole = self.hole(source_mask)
        fill = pull_push(style, 1 - hole, self.smooth) + residual
        return (1 - hole) * style + hole * fill, source_mask
