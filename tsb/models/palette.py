"""The old word's own colours as the new word's colour layer (``model.net.colour_from_source``).

The split design's text branch learns the new word's colour layer from the style crop; on
photos it often picks a colour the old word does not have (grey letters for orange ones) and it
cannot keep a many-coloured word's colours in order. :func:`source_colours` takes them from the
photo instead: the style crop's pixels where the old word's mask is sure (eroded by two pixels,
so no anti-aliased edge, thin outline or shadow edge mixes in) are spread over the crop by pull-push with
smoothing (:func:`~tsb.models.background.pull_push`): every pixel of the new word takes the
colour of the old letters nearest to it. Owns no weight.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tsb.models.background import pull_push
from tsb.utils.image import grow_mask


def source_colours(
    style: Tensor,
    source_mask: Tensor,
    sure: float = 0.8,
    smooth: int = 8,
    min_pixels: int = 20,
    erode: int = 2,
) -> tuple[Tensor, Tensor]:
    """The old word's colours spread over the crop (B, 3, H, W), and whether each sample has an
    old word to take them from (B, 1, 1, 1) bool (fewer than ``min_pixels`` sure pixels: no; the
    caller keeps its learned colour layer for those).

    Args:
        style: the style crop (B, 3, H, W) in [-1, 1].
        source_mask: the old word's mask (B, 1, H, W) in [0, 1].
        sure: the mask value above which a pixel is the old word's.
        smooth: Jacobi steps per level of the spreading (:func:`pull_push`).
        erode: pixels the sure region shrinks by first (no edge, thin outline or shadow edge
            mixes in); a sample whose letters are too thin for it (fewer than ``min_pixels``
            left) is eroded less, down to 0.
    """
    sure_px = (source_mask > sure).to(style.dtype)
    weight = torch.zeros_like(sure_px)
    found = torch.zeros(len(style), 1, 1, 1, dtype=torch.bool, device=style.device)
    for radius in range(max(0, erode), -1, -1):
        shrunk = grow_mask(sure_px, -radius)
        enough = (shrunk.sum(dim=(1, 2, 3), keepdim=True) >= min_pixels) & ~found
        weight = torch.where(enough, shrunk, weight)
        found = found | enough
    return pull_push(style, weight, smooth), found
