"""Layout loss: the placed content ink (``fake.layout``) must cover the target word's mask.

Compared after ``pool``-fold average pooling (L1), so that a warp that is still far off gets a
gradient (the blurred ink overlaps the blurred mask long before the strokes do) and the content
font's shapes, which differ from the target font's, are not punished stroke by stroke: this term
teaches *where and how big*, the text branch *which shapes*. Skipped without ``mask_tgt``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from tsb.errors import ConfigError
from tsb.losses.background import split_part
from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext


class LayoutLoss(LossTerm):
    """L1 between pooled ``fake.layout`` and pooled ``mask_tgt``."""

    def __init__(self, weight: float = 1.0, pool: int = 4) -> None:
        super().__init__(weight)
        if int(pool) < 1:
            raise ConfigError(f"loss.layout.pool must be >= 1, got {pool}")
        self.pool = int(pool)

    def forward(self, ctx: LossContext) -> Tensor | None:
        truth = ctx.get("mask_tgt")
        if truth is None:
            return None
        pred = split_part(ctx, "layout", "layout")
        k = self.pool
        return (
            (F.avg_pool2d(pred.float(), k, ceil_mode=True) - F.avg_pool2d(truth.float(), k, ceil_mode=True))
            .abs()
            .mean()
        )
