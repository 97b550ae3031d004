"""Background L1: the split design's erased background must equal the renderer's clean one.

``fake.background`` (:class:`tsb.models.split.SplitBrushNet`) against the batch's ``background``
(synthetic data; paired folders with ``t_b/``), split by the source's text mask like the
reconstruction: ``fg_weight`` weighs the pixels under the old word (where erasing is the job),
``bg_weight`` the rest (where the background is the input). Skipped on batches without a clean
background; a network without a background branch is a configuration error.
"""

from __future__ import annotations

from torch import Tensor

from tsb.errors import ConfigError
from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.losses.reconstruction import masked_l1


class BackgroundL1(LossTerm):
    """Masked L1 between the predicted background and ``background``."""

    def __init__(self, weight: float = 1.0, fg_weight: float = 1.0, bg_weight: float = 1.0) -> None:
        super().__init__(weight)
        self.fg_weight = float(fg_weight)
        self.bg_weight = float(bg_weight)

    def forward(self, ctx: LossContext) -> Tensor | None:
        truth = ctx.get("background")
        if truth is None:
            return None
        pred = ctx.fake.background
        if pred is None:
            raise ConfigError(
                "loss.background needs a network with a background branch (model=stylebrush_bg); "
                "drop the term (~loss.background) for this model"
            )
        return masked_l1(pred, truth, ctx.get("mask_src"), self.fg_weight, self.bg_weight)
