"""How much of the effect ring to draw: the new letters as heavy as the old ones (``inference.fit_ring``).

With ``sharp_mask`` the new letters are the content font's shapes, placed; ``effect_ring`` lets
the network's dropped mask correction draw a few pixels around them, in its learned colour: an
outline, a shadow, or a bolder stroke. Where that correction is only the blur of an upsampled
crop (small print), the ring makes the letters bolder than the old word's; where the old lettering
is bold, it is what brings the new word to its weight.

:func:`ring_strength` measures, per sample, the stroke width (:func:`~tsb.utils.image.stroke_width`)
of the old word's ink and of the new word's ink in the composed image with no ring and with the
whole ring, all three the same way (the pixels at least half as far from the eraser's background
as the letters' median, :func:`~tsb.inference.ink_height.ink_in_mask`, at the style crop's
size, so the content's width does not count), and draws the share of the ring that brings the new
width to the old one (from 0 to all of it). Owns no weight and no threshold.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.inference.ink_height import ink_in_mask
from tsb.utils.image import grow_mask, stroke_width


def ring_strength(
    style: Tensor,
    background: Tensor,
    source_mask: Tensor,
    without: Tensor,
    with_ring: Tensor,
    letters: Tensor,
) -> Tensor:
    """(B, 1, 1, 1) in [0, 1]: the share of the ring to draw.

    Args:
        style: the style crop (B, 3, h, w).
        background: the eraser's fill of it (B, 3, h, w).
        source_mask: the old word's mask (B, 1, h, w) in [0, 1].
        without: the composed image with no ring (B, 3, H, W), at the content's size.
        with_ring: the same with the whole ring.
        letters: the new letters and their ring (B, 1, H, W) in [0, 1], where the new ink is looked for.

    Where the old word shows no ink, or the ring widens nothing, all of it (as without this step).
    """
    size = style.shape[-2:]

    def at_style(x: Tensor) -> Tensor:
        return F.interpolate(x.float(), size=size, mode="bilinear", align_corners=False).to(style.dtype)

    region = at_style(grow_mask((letters > 0.5).to(style.dtype), 2)) > 0.5
    old = ink_in_mask(style, background, source_mask > 0.5)
    w_old = stroke_width(old)
    w0 = stroke_width(ink_in_mask(at_style(without), background, region))
    w1 = stroke_width(ink_in_mask(at_style(with_ring), background, region))
    share = ((w_old - w0) / (w1 - w0).clamp_min(1e-3)).clamp(0, 1)
    measured = (w1 > w0 + 1e-3) & old.flatten(1).any(1)
    return torch.where(measured, share, torch.ones_like(share)).view(-1, 1, 1, 1)
