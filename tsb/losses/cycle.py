"""Cycle consistency: the generated image, used as the style example, must give back the source.

``cycle = G(G(style, content_tgt).image, content_src)`` is compared with the style image by the
same foreground/background-weighted L1 as the reconstruction (mask: ``mask_src`` when the data
has it, else the cycle's own predicted mask, detached). Gradients flow through both generator
passes.
"""

from __future__ import annotations

from torch import Tensor

from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.losses.reconstruction import masked_l1


class CycleLoss(LossTerm):
    """Masked L1 between ``G(fake, content_src)`` and the style image (paper weight 1)."""

    def __init__(self, weight: float = 1.0, fg_weight: float = 1.0, bg_weight: float = 1.0) -> None:
        super().__init__(weight)
        self.fg_weight = float(fg_weight)
        self.bg_weight = float(bg_weight)

    def forward(self, ctx: LossContext) -> Tensor:
        cycle = ctx.cycle
        mask = ctx.get("mask_src")
        if mask is None:
            mask = cycle.mask.detach()
        return masked_l1(cycle.image, ctx.style, mask, self.fg_weight, self.bg_weight)
