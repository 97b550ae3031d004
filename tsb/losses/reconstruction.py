"""Reconstruction: G(style, content of the source string) must give back the style image.

L1 split into foreground (text) and background by a mask, each part averaged over its own
pixels, so thin strokes are not drowned by the background:
``fg_weight * mean_{mask}|x - y| + bg_weight * mean_{1-mask}|x - y|``.
The mask is the data's ``mask_src`` where the source provides it, else the generator's own
predicted mask (detached).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from tsb.losses.base import LossTerm
from tsb.losses.context import GeneratorOutputLike, LossContext

EPS = 1e-6


def masked_l1(
    x: Tensor, y: Tensor, mask: Tensor | None, fg_weight: float = 1.0, bg_weight: float = 1.0
) -> Tensor:
    """Foreground/background-weighted L1 between images x and y (B, C, H, W).

    ``mask`` (B, 1, H, W) in [0, 1] (1 = text), resized to the images if needed; without a mask,
    plain mean L1 times ``(fg_weight + bg_weight) / 2``.
    """
    if x.shape != y.shape:
        raise ValueError(
            f"cannot compare images of shapes {tuple(x.shape)} and {tuple(y.shape)}: the style image and "
            "the generator output must have the same size for this loss (use 64xW word crops as style)"
        )
    diff = (x.float() - y.float()).abs()
    if mask is None:
        return diff.mean() * (fg_weight + bg_weight) / 2
    m = mask.float()
    if m.shape[-2:] != diff.shape[-2:]:
        m = F.interpolate(m, size=diff.shape[-2:], mode="area")
    c = diff.shape[1]
    fg = (diff * m).sum() / (m.sum() * c + EPS)
    bg = (diff * (1 - m)).sum() / ((1 - m).sum() * c + EPS)
    return fg_weight * fg + bg_weight * bg


class ReconstructionLoss(LossTerm):
    """Masked L1 between ``G(style, content_src)`` and the style image (paper weight 10)."""

    def __init__(self, weight: float = 1.0, fg_weight: float = 1.0, bg_weight: float = 1.0) -> None:
        super().__init__(weight)
        self.fg_weight = float(fg_weight)
        self.bg_weight = float(bg_weight)

    def output(self, ctx: LossContext) -> GeneratorOutputLike:
        """The generated image compared with the style image."""
        return ctx.recon

    def forward(self, ctx: LossContext) -> Tensor:
        out = self.output(ctx)
        mask = ctx.get("mask_src")
        if mask is None:
            mask = out.mask.detach()
        return masked_l1(out.image, ctx.style, mask, self.fg_weight, self.bg_weight)
