"""Background L1: the split design's erased background must equal the renderer's clean one.

``fake.background`` (:class:`tsb.models.split.SplitBrushNet`) against the batch's ``background``
(synthetic data; paired folders with ``t_b/``), split by the source's text mask like the
reconstruction: ``fg_weight`` weighs the pixels under the old word (where erasing is the job),
``bg_weight`` the rest (where the background is the input). Skipped on batches without a clean
background; a network without a background branch is a configuration error.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.errors import ConfigError
from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.losses.reconstruction import masked_l1


def split_part(ctx: LossContext, part: str, term: str) -> Tensor:
    """``ctx.fake.<part>`` of a split design; a network without it is one configuration error."""
    value = getattr(ctx.fake, part, None)
    if value is None:
        raise ConfigError(
            f"loss.{term} needs a network with a background branch (model=stylebrush_bg); "
            f"drop the term (~loss.{term}) for this model"
        )
    return value  # type: ignore[no-any-return]


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
        pred = split_part(ctx, "background", "background")
        return masked_l1(pred, truth, ctx.get("mask_src"), self.fg_weight, self.bg_weight)


class SourceMaskBCE(LossTerm):
    """Binary cross entropy between the eraser's mask of the old word and ``mask_src``.

    The layout places the new word on this mask's moments, and it shows the eraser where to
    work. Skipped on batches without ``mask_src``.
    """

    def forward(self, ctx: LossContext) -> Tensor | None:
        truth = ctx.get("mask_src")
        if truth is None:
            return None
        pred = split_part(ctx, "source_mask", "source_mask")
        with torch.autocast(device_type=pred.device.type, enabled=False):
            return F.binary_cross_entropy(pred.float().clamp(1e-6, 1 - 1e-6), truth.float().clamp(0, 1))
