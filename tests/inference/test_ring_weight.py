"""How much of the effect ring is drawn (tsb/inference/ring_weight.py): the new letters as heavy as
the old ones, measured on the crop."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from tsb.errors import ConfigError
from tsb.inference.pipeline import Pipeline
from tsb.inference.ring_weight import ring_strength
from tsb.utils.image import grow_mask, stroke_width

PAPER, INK = 0.8, -0.8


def _strokes(width: int, scale: int = 1) -> Tensor:
    """(1, 1, 64, 64 * scale) in {0, 1}: vertical strokes ``width`` pixels wide (x ``scale`` along
    the line: a content image wider than the crop), 40 rows long."""
    on = torch.zeros(1, 1, 64, 64 * scale)
    for x0 in range(8, 56, 12):
        on[..., 12:52, x0 * scale : (x0 + width) * scale] = 1
    return on


def _page(on: Tensor) -> Tensor:
    """Dark ink ``on`` a light page, RGB in [-1, 1]."""
    return (PAPER + (INK - PAPER) * on).expand(-1, 3, -1, -1).clone()


@pytest.mark.parametrize(("old", "expected"), [(2, 0.0), (3, 0.5), (4, 1.0), (6, 1.0)])
@pytest.mark.parametrize("scale", [1, 2])
def test_the_ring_drawn_is_the_share_that_gives_the_old_stroke_width(old: int, expected: float, scale: int) -> None:
    """New strokes 2 pixels wide, 4 with the whole ring (a pixel each side): old strokes of 2
    pixels take none of it, 3 half, 4 all, 6 all (it cannot do more); the same when the content
    image is twice the crop's width (the widths are compared at the crop's size)."""
    style = _page(_strokes(old))
    background = torch.full_like(style, PAPER)
    source_mask = grow_mask(_strokes(old), 2)
    new = _strokes(2, scale)
    ringed = _strokes(4, scale).roll(-scale, dims=-1)  # the same strokes one pixel wider each side
    share = ring_strength(style, background, source_mask, _page(new), _page(ringed), ringed)
    assert share.shape == (1, 1, 1, 1)
    assert float(share) == pytest.approx(expected, abs=0.1)


def test_without_an_old_word_or_a_ring_that_widens_nothing_all_of_it_is_drawn() -> None:
    page = _page(_strokes(2))
    background = torch.full_like(page, PAPER)
    empty = torch.zeros(1, 1, 64, 64)
    assert float(ring_strength(page, background, empty, page, _page(_strokes(4)), _strokes(4))) == 1.0
    assert float(ring_strength(page, background, _strokes(2), page, page, _strokes(2))) == 1.0


def test_stroke_width_measures_strokes() -> None:
    widths = stroke_width(torch.cat([_strokes(2), _strokes(5), torch.zeros(1, 1, 64, 64)]) > 0.5)
    assert widths.tolist() == pytest.approx([2 * 40 / 42, 5 * 40 / 45, 0.0])  # the ends are outline too


def test_fit_ring_needs_the_ring_and_goes_with_it() -> None:
    with pytest.raises(ConfigError, match="fit_ring"):
        Pipeline(sharp_mask=True, effect_ring=0, fit_ring=True)
    pipe = Pipeline(sharp_mask=True, effect_ring=1, fit_ring=True)
    assert pipe.steps == ["sharp_mask", "effect_ring", "fit_ring"]
    assert pipe.without("sharp_mask").steps == []
