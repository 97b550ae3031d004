"""Mask supervision: the generator's foreground masks must match the synthetic data's masks.

Compares ``fake.mask`` with ``mask_tgt`` and ``recon.mask`` with ``mask_src`` (each where the
batch has it; None when it has neither), at the final scale or at every scale of ``masks``
(the ground truth is area-downsampled to each scale). ``kind``: ``l1`` or ``bce`` (binary cross
entropy, computed in float32 outside autocast).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.errors import ConfigError
from tsb.losses.base import LossTerm
from tsb.losses.context import GeneratorOutputLike, LossContext


class MaskLoss(LossTerm):
    """Supervised foreground-mask loss.

    Args:
        weight: term weight.
        kind: ``l1`` or ``bce``.
        all_scales: also supervise the masks of the lower scales (``GeneratorOutput.masks``).
        recon: also supervise the reconstruction's mask against ``mask_src`` (costs a generator
            pass when no other term computes the reconstruction).
    """

    def __init__(
        self, weight: float = 1.0, kind: str = "l1", all_scales: bool = True, recon: bool = True
    ) -> None:
        super().__init__(weight)
        if kind not in ("l1", "bce"):
            raise ConfigError(f"loss.mask.kind must be 'l1' or 'bce', got {kind!r}")
        self.kind = kind
        self.all_scales = bool(all_scales)
        self.recon = bool(recon)

    def _distance(self, pred: Tensor, truth: Tensor) -> Tensor:
        if truth.shape[-2:] != pred.shape[-2:]:
            truth = F.interpolate(truth.float(), size=pred.shape[-2:], mode="area")
        if self.kind == "l1":
            return (pred.float() - truth.float()).abs().mean()
        with torch.autocast(device_type=pred.device.type, enabled=False):
            p = pred.float().clamp(1e-6, 1 - 1e-6)
            return F.binary_cross_entropy(p, truth.float().clamp(0, 1))

    def _compare(self, out: GeneratorOutputLike, truth: Tensor) -> Tensor:
        preds = [out.mask]
        if self.all_scales:
            preds += [m for m in out.masks if m.shape[-2:] != out.mask.shape[-2:]]
        return torch.stack([self._distance(p, truth) for p in preds]).mean()

    def forward(self, ctx: LossContext) -> Tensor | None:
        parts: list[Tensor] = []
        mask_tgt = ctx.get("mask_tgt")
        if mask_tgt is not None:
            parts.append(self._compare(ctx.fake, mask_tgt))
        mask_src = ctx.get("mask_src")
        if self.recon and mask_src is not None:
            parts.append(self._compare(ctx.recon, mask_src))
        if not parts:
            return None
        return torch.stack(parts).mean()
