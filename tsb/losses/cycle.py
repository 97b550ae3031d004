"""Cycle consistency: the generated image, used as the style example, must give back the source.

``cycle = G(G(style, content_tgt).image, content_src)`` is compared with the style image by the
same foreground/background-weighted L1 as the reconstruction (mask: ``mask_src`` when the data
has it, else the cycle's own predicted mask, detached). Gradients flow through both generator
passes.
"""

from __future__ import annotations

from tsb.losses.context import GeneratorOutputLike, LossContext
from tsb.losses.reconstruction import ReconstructionLoss


class CycleLoss(ReconstructionLoss):
    """Masked L1 between ``G(fake, content_src)`` and the style image (paper weight 1)."""

    def output(self, ctx: LossContext) -> GeneratorOutputLike:
        return ctx.cycle
