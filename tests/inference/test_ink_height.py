"""The letter height and baseline step (tsb/inference/ink_height.py): the new word's letters take
the old word's own rows of ink, not the spread of a mask that holds more than its letters."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor

from tests.helpers.nets import dark_eraser_net
from tsb.data.content import render_content
from tsb.inference.ink_height import (
    InkHeight,
    centre_line,
    inner_part,
    register_rows,
    row_extent,
    row_profile,
    word_parts,
)
from tsb.inference.pipeline import Pipeline, build_pipeline

H, W = 64, 128
TINY = (4, 8, 8)


def _ink(text: str, height: int, top: int, width: int = W) -> Tensor:
    """``text`` rendered plain at ``height`` pixels (ascender to descender), its frame's top at row
    ``top`` of a (1, 1, H, width) canvas of ink (1 = ink); rows outside the canvas are cut."""
    small = (1 - render_content(text, height, width)[None]) / 2  # (1, 1, height, width)
    canvas = torch.zeros(1, 1, H, width)
    lo, hi = max(0, top), min(H, top + height)
    canvas[..., lo:hi, :] = small[..., lo - top : hi - top, :]
    return canvas


def _rows(ink: Tensor) -> tuple[int, int]:
    """The first and last row (pixels) where ``ink`` (1, 1, H, W) is over one half."""
    rows = torch.nonzero((ink[0, 0] > 0.5).any(dim=1))[:, 0]
    return int(rows.min()), int(rows.max())


def _photo(neighbour: bool) -> tuple[Tensor, Tensor, Tensor]:
    """A style crop (1, 3, H, W): the word ``us`` small in a lot of vertical padding, with (or
    without) the lower half of a line of text above it, cut by the crop's top edge; the old word's
    ink alone; the neighbouring line's ink."""
    word = _ink("us", 26, 26)
    line = _ink("Hello world", 26, -12) if neighbour else torch.zeros(1, 1, H, W)
    ink = torch.maximum(word, line)
    style = (0.8 - 1.6 * ink).expand(1, 3, H, W).clone()  # dark letters on a light wall
    return style, word, line


@pytest.mark.parametrize("neighbour", [True, False])
def test_the_new_letters_take_the_old_words_ink_height_and_leave_the_line_above_alone(neighbour: bool) -> None:
    style, word, line = _photo(neighbour)
    net = dark_eraser_net()
    source = render_content("us", H, W)[None]
    content = render_content("am", H, W)[None]  # x-height letters, as "us"
    old_top, old_bottom = _rows(word)
    with torch.no_grad():
        before = Pipeline(sharp_mask=True).generate(net, style, content, source)
        after = Pipeline(sharp_mask=True, ink_height=InkHeight()).generate(net, style, content, source)
    assert before.layout is not None and after.layout is not None
    top, bottom = _rows(after.layout)
    assert abs(top - old_top) <= 1 and abs(bottom - old_bottom) <= 1, ((top, bottom), (old_top, old_bottom))
    if neighbour:
        # the moments of the mask (the line above in it) made the letters too tall, over that line
        b_top, b_bottom = _rows(before.layout)
        assert b_bottom - b_top > 1.3 * (old_bottom - old_top)
        over = line[0, 0] > 0.5
        assert float(before.mask[0, 0][over].max()) > 0.5
        assert float(after.mask[0, 0][over].max()) < 0.05  # the new word never covers the line above
        # nor does the eraser's hole: the line's strokes are not the old word's (keep_word)
        assert before.hole is not None and after.hole is not None
        assert float(before.hole[0, 0][over].max()) > 0.5
        assert float(after.hole[0, 0][over].max()) < 0.05
        assert float(after.hole[0, 0][word[0, 0] > 0.5].min()) > 0.5  # the old word is still erased
    # along the line the new word is centred where the old one is (the layout placed it from a
    # mask without the line above)
    cols = lambda x: torch.nonzero((x[0, 0] > 0.5).any(dim=0))[:, 0].float()  # noqa: E731
    assert abs(float(cols(after.layout).mean() - cols(word).mean())) <= 3


def test_without_the_old_words_text_the_layout_is_kept() -> None:
    style, _, _ = _photo(True)
    net = dark_eraser_net()
    content = render_content("am", H, W)[None]
    with torch.no_grad():
        plain = Pipeline(sharp_mask=True).generate(net, style, content)
        stepped = Pipeline(sharp_mask=True, ink_height=InkHeight()).generate(net, style, content)
    assert torch.equal(plain.image, stepped.image)


def test_the_rows_are_registered_with_ascenders_and_dots() -> None:
    """``first`` (ascenders, a dot) drawn at 0.6 of its rendering's size, 10 rows down: the fit
    finds that map, and its rows are the drawn word's."""
    template = _ink("first", H, 0)
    drawn = _ink("first", 38, 20)
    a, b, score = register_rows(row_profile(drawn)[0], row_profile(template)[0])
    assert a == pytest.approx(38 / 64, rel=0.06)  # the renderer's sizes round: not exactly 38 / 64
    edges = row_extent(template)[0]
    top, bottom = ((a * edges + b + 1) / 2 * H).tolist()
    want_top, want_bottom = _rows(drawn)
    assert abs(top - want_top) <= 1 and abs(bottom - (want_bottom + 1)) <= 1
    assert score > 0.95


def test_the_parts_cut_by_the_crops_top_or_bottom_are_the_neighbouring_lines() -> None:
    mask = torch.zeros(20, 30, dtype=torch.bool)
    mask[0:4, 2:8] = True  # cut by the top edge
    mask[8:12, 5:25] = True  # the word
    mask[17:20, 20:28] = True  # cut by the bottom edge
    inner = inner_part(mask)
    assert int(inner.sum()) == 4 * 20 and bool(inner[8:12, 5:25].all())
    full = torch.zeros(20, 30, dtype=torch.bool)
    full[0:20, 3:6] = True  # one part that spans the crop: kept as it is
    assert torch.equal(inner_part(full), full)


def test_the_photo_preset_has_the_step_and_none_leaves_it_off() -> None:
    assert "ink_height" in build_pipeline("photo").steps
    assert "ink_height" not in build_pipeline("none").steps
    assert "ink_height" not in build_pipeline("photo", ["ink_height=null"]).steps


def test_the_line_through_the_middle_is_the_word_and_its_dot_stays_with_it() -> None:
    mask = torch.zeros(30, 40, dtype=torch.bool)
    mask[2:8, 5:30] = True  # the line above, inside the crop
    mask[11:20, 5:12] = True  # the word's letters, through the middle row (14): an ascender
    mask[13:20, 15:22] = True  # and an x-height letter
    mask[11:12, 16:18] = True  # its dot: within the letters' rows, not touching them
    mask[23:28, 5:30] = True  # the line below
    line = centre_line(mask)
    assert int(line.sum()) == 7 * 9 + 7 * 7 + 2 and not bool(line[2:8].any()) and not bool(line[23:28].any())


def test_the_masks_parts_outside_the_words_rows_are_dropped() -> None:
    mask = torch.zeros(32, 40)
    mask[0:6, 0:30] = 0.9  # a neighbouring line, all outside the rows
    mask[9:24, 5:30] = 1.0  # the word
    mask[22:30, 32:36] = 0.8  # a part mostly outside (6 of its 8 rows)
    rows = ((torch.tensor([8.0, 24.0]) / 32) * 2 - 1).tolist()
    kept = word_parts(mask, *rows)
    assert torch.equal(kept[9:24, 5:30], mask[9:24, 5:30])
    assert float(kept[0:6].sum()) == 0 and float(kept[22:30, 32:36].sum()) == 0


def test_the_photo_preset_keeps_the_mask_to_the_words_line() -> None:
    """As ``conf/inference/photo.yaml`` runs it (``refit: false``): the line above is dropped from
    the old word's mask, so neither the hole nor the layout's new letters reach it, and the
    letters are placed on the word's line instead of spread over both."""
    style, word, line = _photo(True)
    net = dark_eraser_net()
    source = render_content("us", H, W)[None]
    content = render_content("am", H, W)[None]
    step = build_pipeline("photo").ink_height
    assert step is not None and not step.refit and step.keep_word_parts
    with torch.no_grad():
        before = Pipeline(sharp_mask=True).generate(net, style, content, source)
        after = Pipeline(sharp_mask=True, ink_height=InkHeight(refit=False)).generate(net, style, content, source)
    assert after.layout is not None and after.hole is not None and before.layout is not None
    over = line[0, 0] > 0.5
    assert float(after.mask[0, 0][over].max()) < 0.05 and float(after.hole[0, 0][over].max()) < 0.05
    old_top, old_bottom = _rows(word)
    top, bottom = _rows(after.layout)
    b_top, _ = _rows(before.layout)
    assert b_top < old_top - 20  # before: the new letters reached up into the line above
    height = old_bottom - old_top
    assert old_top - height <= top and bottom <= old_bottom + height // 2  # on the word's line


def test_registering_several_profiles_at_once_gives_each_ones_own_fit() -> None:
    from tsb.inference.ink_height import register_rows, register_rows_each

    template = torch.zeros(64)
    template[20:40] = 10.0
    template[14:16] = 3.0  # a dot above the letters
    measured = torch.stack([torch.roll(template, 6), torch.roll(template, -9) * 0.5, template.flip(0)])
    each = register_rows_each(measured, template)
    assert each == [register_rows(m, template) for m in measured]
    a, b, score = each[0]
    assert a == pytest.approx(1.0, abs=0.03) and b == pytest.approx(6 * 2 / 64, abs=1e-6) and score > 1.0


def test_the_template_is_drawn_under_each_map_as_sampled_one_map_at_a_time() -> None:
    from tsb.inference.ink_height import _resample

    template = torch.zeros(64)
    template[18:41] = torch.linspace(1.0, 9.0, 23)
    template[12:14] = 4.0
    scales = torch.tensor([0.3, 0.77, 1.0, 1.9])
    drawn, offsets = _resample(template, scales, 64, 0.5)
    assert drawn.shape == (4, 257, 64) and offsets[0] == -2.0 and offsets[-1] == 2.0 and offsets[128] == 0.0
    cum = torch.cat([torch.zeros(1), template.cumsum(0)])
    edges = torch.linspace(-1, 1, 65)
    for i, a in enumerate(scales.tolist()):
        for j in (0, 40, 128, 131, 256):
            # the ink above each output row edge, mapped back into the template, one map at a time
            pos = (((edges - offsets[j]) / a + 1) / 2 * 64).clamp(0, 64)
            at = torch.from_numpy(np.interp(pos.numpy(), np.arange(65), cum.numpy())).float()
            assert torch.allclose(drawn[i, j], at[1:] - at[:-1], atol=1e-4)
    assert torch.allclose(drawn[2, 128], template, atol=1e-4)  # the identity map draws it as it is
