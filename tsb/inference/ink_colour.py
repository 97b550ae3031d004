"""The new word's colours from the old word's full-contrast ink (``inference.ink_colours``).

The source palette (:mod:`tsb.inference.palette`) takes the old word's colours from its mask's
sure pixels, eroded by two. Small print and thin strokes have no pixel two deep inside a letter,
so the palette falls back to the letters' edges, where the ink is mixed with the background:
white lettering comes back grey, black print dark grey (on the real-photo set the new word kept
0.6 to 0.9 of the old ink's contrast against its background, docs/lab-notes.md).

This step takes the colours from the ink the photo shows at full strength instead: the pixels of
the old word's mask that differ from the eraser's background (the crop without its word) at
least as much as the letters do in the median (the stronger of the two classes that Otsu's
threshold splits the mask's differences into: the letters, not the grown mask's rim or
the anti-aliased edges; :func:`full_contrast`). Those colours are spread over the crop by
pull-push (:func:`~tsb.utils.fill.pull_push`), so a many-coloured word keeps its colours in
order and each new letter takes the colour of the old letters nearest it. Owns no weight; with
too few such pixels the learned colour layer is kept.
"""

from __future__ import annotations

from torch import Tensor

from tsb.errors import ConfigError
from tsb.inference.ink_height import ink_in_mask
from tsb.utils.fill import pull_push


def full_contrast(style: Tensor, background: Tensor, mask: Tensor) -> Tensor:
    """(B, 1, H, W) in {0, 1}: the pixels of ``mask`` (bool) whose difference from ``background``
    is at least the median difference of the mask's stronger class (Otsu's split)."""
    return ink_in_mask(style, background, mask, share=1.0).to(style.dtype)


class InkColours:
    """``(style, background, source_mask) -> (colours, found)``: the old word's full-contrast ink
    (:func:`full_contrast`) spread over the crop (B, 3, H, W), and whether a sample had at least
    ``min_pixels`` such pixels (B, 1, 1, 1) bool.

    Args:
        sure: the mask value above which a pixel is the old word's.
        smooth: Jacobi steps per level of the spreading (:func:`~tsb.utils.fill.pull_push`).
        min_pixels: fewer full-contrast pixels: no colours taken (the caller keeps its own).
    """

    def __init__(self, sure: float = 0.5, smooth: int = 8, min_pixels: int = 20) -> None:
        if not 0 <= sure < 1 or smooth < 0 or min_pixels < 1:
            raise ConfigError(
                "inference.ink_colours needs sure in [0, 1), smooth >= 0 and min_pixels >= 1; "
                f"got {sure}, {smooth}, {min_pixels}"
            )
        self.sure, self.smooth, self.min_pixels = float(sure), int(smooth), int(min_pixels)

    def __call__(self, style: Tensor, background: Tensor, source_mask: Tensor) -> tuple[Tensor, Tensor]:
        weight = full_contrast(style, background, source_mask > self.sure)
        found = weight.sum(dim=(1, 2, 3), keepdim=True) >= self.min_pixels
        return pull_push(style, weight, self.smooth), found
