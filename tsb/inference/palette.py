"""The old word's own colours as the new word's colour layer (``inference.source_colours``).

The split design's text branch learns the new word's colour layer from the style crop; on
photos it often picks a colour the old word does not have (grey letters for orange ones) and it
cannot keep a many-coloured word's colours in order. :func:`source_colours` takes them from the
photo instead: the style crop's pixels where the old word's mask is sure (eroded by two pixels,
so no anti-aliased edge, thin outline or shadow edge mixes in; less where the letters are too
thin for it) are spread over the crop by pull-push with smoothing
(:func:`~tsb.utils.fill.pull_push`): every pixel of the new word takes the colour of the
old letters nearest to it. Owns no weight.

With ``ink_only`` the sure pixels are first kept to the letters' ink
(:func:`~tsb.inference.ink_height.ink_in_mask`: those that differ from the eraser's background by
half the letters' contrast). The eraser's mask of small letters is a blob that fills their
counters and the gaps between their strokes; eroded, what is left of it is those counters, in the
background's colour, and a new letter crossing one came back with a gap in it (the scene's
``haul`` read ``hau!``).
"""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.errors import ConfigError
from tsb.inference.ink_height import ink_in_mask
from tsb.utils.fill import pull_push
from tsb.utils.image import grow_mask


def sure_cores(sure: Tensor, erode: int = 2, band: int = 16, min_pixels: int = 4) -> Tensor:
    """The pixels of ``sure`` (B, 1, H, W) in {0, 1} that give colours: ``sure`` shrunk by
    ``erode`` pixels (no anti-aliased edge, thin outline or shadow edge), or, in a band of ``band``
    columns where that leaves fewer than ``min_pixels``, shrunk less (down to 0): thin letters
    keep their colour beside thick ones (UNIVERSITY's thin dark-red start beside its bolder green
    end), while a thin false stroke beside thick letters is still eroded away."""
    b, _, h, w = sure.shape
    nb = -(-w // band)
    out = torch.zeros_like(sure)
    for radius in range(max(0, erode) + 1):  # deeper levels win where they leave enough
        level = grow_mask(sure, -radius)
        count = F.pad(level, (0, nb * band - w)).view(b, 1, h, nb, band).sum(dim=(2, 4))  # (B, 1, nb)
        enough = (count >= min_pixels).repeat_interleave(band, dim=-1)[..., None, :w]  # (B, 1, 1, W)
        out = torch.where(enough, level, out)
    return out


def source_colours(
    style: Tensor,
    source_mask: Tensor,
    background: Tensor | None = None,
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
        background: the crop without its word (B, 3, H, W); given, the sure region is kept to the
            letters' ink first (:func:`~tsb.inference.ink_height.ink_in_mask`).
        sure: the mask value above which a pixel is the old word's.
        smooth: Jacobi steps per level of the spreading (:func:`pull_push`).
        erode: pixels the sure region shrinks by first (no edge, thin outline or shadow edge
            mixes in); less where the letters are too thin for it (:func:`sure_cores`).
    """
    region = source_mask > sure
    if background is not None:
        region = ink_in_mask(style, background, region)
    weight = sure_cores(region.to(style.dtype), erode)
    found = weight.sum(dim=(1, 2, 3), keepdim=True) >= min_pixels
    return pull_push(style, weight, smooth), found


class SourceColours:
    """The source palette step of the inference pipeline: ``(style, source_mask, background) ->
    (colours, found)``, :func:`source_colours` with these settings; ``ink_only``: the sure pixels
    kept to the letters' ink (the caller gives the eraser's background)."""

    def __init__(self, ink_only: bool = False, **settings: float) -> None:
        # the settings: the parameters after style, mask and background
        known = dict(list(inspect.signature(source_colours).parameters.items())[3:])
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise ConfigError(
                f"inference.source_colours takes ink_only, {', '.join(known)}; got {', '.join(unknown)}"
            )
        full = {name: settings.get(name, p.default) for name, p in known.items()}
        if not 0 < full["sure"] < 1 or full["smooth"] < 0 or full["min_pixels"] < 1 or full["erode"] < 0:
            raise ConfigError(
                "inference.source_colours needs sure in (0, 1), smooth >= 0, min_pixels >= 1, erode >= 0; "
                f"got {full}"
            )
        self.settings = settings
        self.ink_only = bool(ink_only)

    def __call__(
        self, style: Tensor, source_mask: Tensor, background: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        return source_colours(style, source_mask, background if self.ink_only else None, **self.settings)  # type: ignore[arg-type]
