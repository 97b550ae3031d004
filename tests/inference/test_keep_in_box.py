"""The new word within the box a photo editor pastes (``keep_in_box``): a longer new word is squeezed
into the old word's span instead of running past the box's end (where the paste cuts its letters
off) or into the next word; the old word's strokes past that span are still erased."""

from __future__ import annotations

import math

import pytest
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from tests.helpers.nets import dark_eraser_net
from tsb import published
from tsb.data.content import render_content
from tsb.data.crop import span_along
from tsb.edit import Edit, Editor
from tsb.edit.editor import box_bounds
from tsb.inference.pipeline import Pipeline, build_pipeline, ink_span, within
from tsb.utils.image import grow_mask

H, W = 64, 256
TINY = (4, 8, 8)


def _cols(x: Tensor) -> Tensor:
    """The columns (pixels) where ``x`` (1, 1, H, W) is over one half."""
    return torch.nonzero((x[0, 0] > 0.5).any(dim=0))[:, 0]


def _crop() -> tuple[Tensor, Tensor, Tensor]:
    """A style crop (1, 3, H, W): the word ``us`` in the middle and, in the context on the right, the
    start of the next word; the old word's ink and the next word's."""
    word = (1 - render_content("us", H, 96)[None]) / 2
    nxt = (1 - render_content("mm", H, 64)[None]) / 2
    old = torch.zeros(1, 1, H, W)
    old[..., 80:176] = word
    neighbour = torch.zeros(1, 1, H, W)
    neighbour[..., 224:] = nxt[..., :32]
    style = (0.8 - 1.6 * torch.maximum(old, neighbour)).expand(1, 3, H, W).clone()
    return style, old, neighbour


def test_a_longer_new_word_is_squeezed_into_the_old_words_span_and_the_box() -> None:
    style, old, neighbour = _crop()
    net = dark_eraser_net()
    source = render_content("us", H, W)[None]
    content = render_content("minimum", H, W)[None]
    bounds = torch.tensor([-0.5, 0.6])  # the box: the old word and some of the space after it
    with torch.no_grad():
        loose = Pipeline(sharp_mask=True).generate(net, style, content, source, bounds)
        kept = Pipeline(sharp_mask=True, keep_in_box=True).generate(net, style, content, source, bounds)
    assert loose.layout is not None and kept.layout is not None
    span = _cols(grow_mask(old, 2))
    # without the step the new word runs past the old word's span (into the next word's place)
    assert int(_cols(loose.layout).max()) > int(span.max()) + 10
    cols = _cols(kept.layout)
    assert int(cols.min()) >= int(span.min()) - 1 and int(cols.max()) <= int(span.max()) + 1
    assert int(cols.max()) - int(cols.min()) > 0.8 * (int(span.max()) - int(span.min()))  # filled, not shrunk
    # the next word (outside the box) is neither erased nor drawn over, the old word all erased
    assert kept.hole is not None
    assert float(kept.mask[0, 0][neighbour[0, 0] > 0.5].max()) < 0.05
    assert float(kept.hole[0, 0][old[0, 0] > 0.5].min()) > 0.5


def test_the_old_words_strokes_past_the_letters_part_are_still_erased() -> None:
    """A box whose part for the letters cuts the old word's first stroke: the new word keeps to that
    part, the hole still holds the whole old word."""
    style, old, _ = _crop()
    net = dark_eraser_net()
    source = render_content("us", H, W)[None]
    content = render_content("am", H, W)[None]
    first = int(_cols(old).min())
    cut = torch.tensor([(first + 6) / W * 2 - 1, 0.6])
    with torch.no_grad():
        out = Pipeline(sharp_mask=True, keep_in_box=True).generate(net, style, content, source, cut)
    assert out.hole is not None and out.layout is not None
    assert float(out.hole[0, 0][old[0, 0] > 0.5].min()) > 0.5
    assert int(_cols(out.layout).min()) >= first + 5


def test_without_bounds_or_the_step_the_output_is_the_networks() -> None:
    """evaluate.py gives no bounds: its figures cannot change with the step."""
    style, _, _ = _crop()
    net = dark_eraser_net()
    source = render_content("us", H, W)[None]
    content = render_content("minimum", H, W)[None]
    with torch.no_grad():
        plain = Pipeline(sharp_mask=True).generate(net, style, content, source)
        no_bounds = Pipeline(sharp_mask=True, keep_in_box=True).generate(net, style, content, source)
    assert torch.equal(plain.image, no_bounds.image) and torch.equal(plain.mask, no_bounds.mask)


def test_within_and_ink_span() -> None:
    mask = torch.zeros(2, 1, 4, 20)
    mask[0, :, :, 3:9] = 1.0
    mask[0, :, :, 15:18] = 1.0  # outside the bounds below
    bounds = torch.tensor([[-0.9, 0.2], [-0.5, 0.5]])
    kept = within(mask, bounds)
    assert kept[0, 0, 0].nonzero().flatten().tolist() == list(range(3, 9))
    span = ink_span(mask, bounds)
    assert span[0].tolist() == pytest.approx([3 / 20 * 2 - 1, 9 / 20 * 2 - 1])
    assert span[1].tolist() == pytest.approx([-0.5, 0.5])  # no ink there: the bounds themselves


@pytest.mark.parametrize("angle", [0.0, 30.0, -75.0])
def test_the_letters_part_of_a_turned_box_is_found_along_its_line(angle: float) -> None:
    box = (100.0, 50.0, 80.0, 20.0, angle)
    t = math.radians(angle)
    # 10 pixels along the box's line from its centre, 40 wide: from -10 to 30
    inner = (100.0 + 10 * math.cos(t), 50.0 - 10 * math.sin(t), 40.0, 20.0, angle)
    assert span_along(box, inner) == pytest.approx((-10.0, 30.0))
    assert span_along(box, None) == (-40.0, 40.0)
    wide = (100.0, 50.0, 200.0, 20.0, angle)
    assert span_along(box, wide) == pytest.approx((-40.0, 40.0))  # within the box
    grown = (100.0, 50.0, 100.0, 30.0, angle)
    assert box_bounds(box, grown, inner).tolist() == pytest.approx([-0.2, 0.6])


def test_the_photo_preset_keeps_the_new_word_in_the_box() -> None:
    assert "keep_in_box" in build_pipeline("photo").steps
    assert "keep_in_box" not in build_pipeline("none").steps


def test_a_longer_word_on_a_line_keeps_its_space_before_the_next_word() -> None:
    """The published weights on a line of three words: ``us`` -> ``mom`` is read as its own word
    between its neighbours by PP-OCRv6 (with the new word running to the box's end, the detector
    read ``nonfirst``: the first letter cut, the space gone)."""
    from tsb.detect import find_words

    if published.DEFAULT not in published.read_manifest():
        pytest.skip("needs the published weights")
    import matplotlib

    face = ImageFont.truetype(matplotlib.get_data_path() + "/fonts/ttf/DejaVuSans.ttf", 28)
    line = Image.new("RGB", (360, 70), (0, 150, 200))
    ImageDraw.Draw(line).text((14, 16), "Let us first", font=face, fill=(255, 255, 255))
    words = {w.text: w for w in find_words(line)}
    us = words["us"]
    editor = Editor(None, "cpu")
    out, _ = editor.edit(line, [Edit(us.box, "mom", source="us", letters=us.letters)])
    assert [w.text for w in find_words(out)] == ["Let", "mom", "first"]
