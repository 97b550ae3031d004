"""The old word's text in an edit (--source-text, an edit's "source", --replace, else read by the
packaged PP-OCRv6 recognizer): rendered like the new word, in the same frame, for the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers.paths import REAL_WORDS
from tests.helpers.standin import EchoTask
from tsb.data.content import render_content
from tsb.edit import Edit, EditError, Editor, load_edits, main, parse_box


@pytest.fixture
def echo(echo_ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> Editor:
    import tsb.utils.safe_config as safe

    monkeypatch.setattr(safe, "ALLOWED_PACKAGES", (*safe.ALLOWED_PACKAGES, "tests.helpers.standin."))
    return Editor(echo_ckpt, "cpu")


def _photo() -> Image.Image:
    return Image.fromarray(np.full((60, 200, 3), 200, np.uint8))


def test_a_named_source_is_rendered_in_the_content_frame(echo: Editor) -> None:
    task = echo.task
    assert isinstance(task, EchoTask)
    echo.edit(_photo(), [Edit(parse_box("20,10,160,40"), "new", source="Wonderful")])
    src = task.last_source
    assert src is not None and src.shape[:3] == (1, 1, 64)
    # the frame is wide enough for the longer word, and it is that word's plain rendering
    assert torch.equal(src[0], render_content("Wonderful", 64, src.shape[-1]))


def test_the_matched_font_draws_both_words_and_is_reported(echo: Editor) -> None:
    from tsb.data.content import content_font_path
    from tsb.inference.font_match import FontMatch

    task = echo.task
    assert isinstance(task, EchoTask)
    assert echo.font_match is None  # off by default
    echo.font_match = FontMatch()
    # the echo redraws every candidate alike: a tie keeps the content font
    _, infos = echo.edit(_photo(), [Edit(parse_box("20,10,160,40"), "new", source="Wonderful")])
    assert infos[0].font == content_font_path()
    # off: no font reported, the plain rendering as before
    echo.font_match = None
    _, infos = echo.edit(_photo(), [Edit(parse_box("20,10,160,40"), "new", source="Wonderful")])
    assert infos[0].font is None
    src = task.last_source
    assert src is not None and torch.equal(src[0], render_content("Wonderful", 64, src.shape[-1]))
    # no old word: nothing to match
    echo.font_match, echo.read_source = FontMatch(), False
    _, infos = echo.edit(_photo(), [Edit(parse_box("20,10,160,40"), "new")])
    assert infos[0].font is None


def test_without_reading_no_source_is_given(echo: Editor) -> None:
    echo.read_source = False
    echo.edit(_photo(), [Edit(parse_box("20,10,160,40"), "new")])
    assert isinstance(echo.task, EchoTask) and echo.task.last_source is None


def test_the_old_word_is_read_from_a_real_crop(echo: Editor) -> None:
    if not REAL_WORDS.is_dir():
        pytest.skip(f"{REAL_WORDS} is not present")
    photo = Image.open(REAL_WORDS / "demo_10.jpg").convert("RGB")
    w, h = photo.size
    box = parse_box(f"0,0,{w},{h}")
    assert echo.read_word(photo, box) == "UNIVERSITY"
    assert echo.source_text(photo, Edit(box, "COLLEGE", source="given")) == "given"
    echo.read_source = False
    assert echo.source_text(photo, Edit(box, "COLLEGE")) is None


def test_source_in_the_edits_file_and_on_the_command_line(tmp_path: Path) -> None:
    f = tmp_path / "edits.json"
    f.write_text(
        json.dumps([{"box": "1,2,30,10", "text": "new", "source": "old"}, {"box": "1,2,30,10", "text": "x"}])
    )
    assert [e.source for e in load_edits(f)] == ["old", None]
    f.write_text(json.dumps([{"box": "1,2,30,10", "text": "new", "source": 5}]))
    with pytest.raises(EditError, match='"source"'):
        load_edits(f)
    img = tmp_path / "p.png"
    _photo().save(img)
    assert main(["--image", str(img), "--source-text", "old", "--out", str(tmp_path / "o.png")]) == 2
