"""FontMatch: the font whose rendering of the old word the model redraws best draws the new word."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import Tensor

from tsb.data.content import content_font_path, render_content
from tsb.data.fonts import load_fonts
from tsb.errors import ConfigError
from tsb.inference.font_match import FontMatch
from tsb.models.generator import GeneratorOutput


class Draw:
    """A stand-in model that draws its content image as it is (black on white, RGB)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> GeneratorOutput:
        self.calls += 1
        assert source is not None and source.shape == content.shape
        mask = (1 - content) / 2
        return GeneratorOutput(image=content.expand(-1, 3, -1, -1), mask=mask, masks=[mask])


def _font(split: str, name: str) -> str:
    found = [str(f.path) for f in load_fonts().split(split) if Path(f.path).stem == name]
    assert found, f"{name} is not a {split} font here"
    return found[0]


def test_finds_the_font_the_old_word_is_drawn_in() -> None:
    true = _font("train", "cmtt10")  # a typewriter face, far from the content font
    style = render_content("Harbour", 64, 256, true)[None].expand(-1, 3, -1, -1)
    choice = FontMatch().choose(Draw(), style, "Harbour", "Station")
    assert choice.font == true
    assert choice.error == pytest.approx(0.0, abs=1e-6)
    assert choice.content_font_error > 0.01
    assert torch.equal(choice.content, render_content("Station", 64, 256, true))
    assert torch.equal(choice.source, render_content("Harbour", 64, 256, true))


def test_train_split_never_offers_a_held_out_font() -> None:
    held = _font("heldout", "SpaceMono_Regular")
    style = render_content("Harbour", 64, 256, held)[None].expand(-1, 3, -1, -1)
    match = FontMatch(split="train")
    assert held not in match.candidates("HarbourStation")
    choice = match.choose(Draw(), style, "Harbour", "Station")
    train = {str(f.path) for f in load_fonts().split("train")} | {content_font_path()}
    assert choice.font in train and choice.font != held
    # with the held-out split it is found
    assert FontMatch(split="heldout").choose(Draw(), style, "Harbour", "Station").font == held


def test_candidates_start_with_the_content_font_and_cover_the_text() -> None:
    match = FontMatch()
    fonts = match.candidates("Hello")
    assert fonts[0] == content_font_path() and len(set(fonts)) == len(fonts) > 10
    # a character no shipped Latin font draws: only the content font is left
    assert match.candidates("Hello\u4e2d") == [content_font_path()]


def test_batches_and_width() -> None:
    draw = Draw()
    style = torch.zeros(1, 3, 64, 128)
    match = FontMatch(batch_size=7)
    n = len(match.candidates("abcxyz"))
    choice = match.choose(draw, style, "abc", "xyz", width=192)
    assert draw.calls == -(-n // 7)
    assert choice.content.shape == choice.source.shape == (1, 64, 192)


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="split"):
        FontMatch(split="test")
    with pytest.raises(ConfigError, match="batch_size"):
        FontMatch(batch_size=0)
    with pytest.raises(ConfigError, match="one style image"):
        FontMatch().choose(Draw(), torch.zeros(2, 3, 64, 64), "a", "b")


def test_choose_each_matches_every_style_of_a_batch() -> None:
    true = _font("train", "cmtt10")
    styles = torch.cat(
        [
            render_content("Harbour", 64, 256, f)[None].expand(-1, 3, -1, -1)
            for f in (true, content_font_path())
        ]
    )
    choices = FontMatch().choose_each(Draw(), styles, ["Harbour", "Harbour"], ["Station", "Bay"])
    assert [c.font for c in choices] == [true, content_font_path()]
    assert torch.equal(choices[1].content, render_content("Bay", 64, 256))
    with pytest.raises(ConfigError, match="a source and a target word per style image"):
        FontMatch().choose_each(Draw(), styles, ["Harbour"], ["Station", "Bay"])
