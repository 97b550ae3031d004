"""Supervised target L1: where the data has a ground truth (synthetic pairs), the output for the
target string must equal it. Skipped (returns None) on batches without ``target``.

The same foreground/background-weighted L1 as the reconstruction, with ``mask_tgt`` when present.
"""

from __future__ import annotations

from torch import Tensor

from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.losses.reconstruction import masked_l1


class SupervisedL1(LossTerm):
    """Masked L1 between ``G(style, content_tgt)`` and ``target``."""

    def __init__(self, weight: float = 1.0, fg_weight: float = 1.0, bg_weight: float = 1.0) -> None:
        super().__init__(weight)
        self.fg_weight = float(fg_weight)
        self.bg_weight = float(bg_weight)

    def forward(self, ctx: LossContext) -> Tensor | None:
        target = ctx.get("target")
        if target is None:
            return None
        return masked_l1(ctx.fake.image, target, ctx.get("mask_tgt"), self.fg_weight, self.bg_weight)
