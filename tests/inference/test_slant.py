"""The slant step: the lean of a word's strokes measured, and given to the new word."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import pytest
import torch

from tsb.data.content import render_content
from tsb.errors import ConfigError
from tsb.inference.slant import Slant, shear_theta, slant
from tsb.models.layout import warp

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def ink(text: str, font: str = "DejaVuSans.ttf", width: int = 256) -> torch.Tensor:
    """``text`` drawn in ``font`` as ink (1, 1, 64, width) in [0, 1]."""
    return ((1 - render_content(text, 64, width, str(FONTS / font))) / 2)[None]


@pytest.mark.parametrize("word", ["London", "HOTEL", "minimum", "Available"])
def test_an_oblique_face_measures_its_lean_and_an_upright_one_none(word: str) -> None:
    step = Slant()
    plain = ink(word)
    # DejaVu Sans Oblique leans about 11 degrees (0.2 pixels per pixel); the grid step is 0.04
    assert float(step.measure(ink(word, "DejaVuSans-Oblique.ttf"), plain)) == pytest.approx(0.2, abs=0.045)
    assert float(step.measure(ink(word, "DejaVuSans-BoldOblique.ttf"), plain)) == pytest.approx(
        0.2, abs=0.045
    )
    assert float(step.measure(ink(word, "DejaVuSerif.ttf"), plain)) == pytest.approx(0.0, abs=0.045)
    assert float(step.measure(plain, plain)) == 0.0


def test_a_word_without_upright_strokes_measures_no_lean() -> None:
    step = Slant()
    plain = ink("wavy")
    assert abs(float(slant(plain, step.shears))) > step.max_plain  # its own peak is anywhere
    assert float(step.measure(ink("wavy", "DejaVuSerif-Italic.ttf"), plain)) == 0.0


def test_leaning_a_word_round_trips_and_keeps_its_centre() -> None:
    step = Slant()
    plain = ink("Handle")
    for lean in (0.3, -0.2):
        (leaned,) = step(torch.tensor([lean]), (64, 256), plain)
        assert float(step.measure(leaned, plain)) == pytest.approx(lean, abs=0.045)
        # the ink's centre stays: leaned about its middle row
        assert centre(leaned) == pytest.approx(centre(plain), abs=1.5)
        assert float(leaned.sum()) == pytest.approx(float(plain.sum()), rel=0.03)


def centre(x: torch.Tensor) -> float:
    """The ink's centre column."""
    cols = torch.arange(x.shape[-1]).float()
    return float((x.sum(dim=(1, 2))[0] * cols).sum() / x.sum())


def test_the_lean_keeps_its_angle_when_the_frame_is_stretched() -> None:
    # measured on a 64 x 128 crop that the composition stretches to 64 x 256: twice as far per row
    step = Slant()
    plain = ink("Handle", width=256)
    (leaned,) = step(torch.tensor([0.25]), (64, 128), plain)
    assert float(slant(leaned, torch.arange(0, 31).float() * 0.04)) == pytest.approx(0.5, abs=0.045)


def test_shear_theta_moves_the_rows_above_the_pivot_right() -> None:
    x = torch.zeros(1, 1, 64, 128)
    x[..., 28:36, 60:68] = 1  # a square at the middle
    x[..., 4:12, 60:68] = 1  # and one above it
    theta = shear_theta(torch.tensor([0.5]), torch.tensor([0.0]), (64, 128))
    y = warp(x, theta)
    cols = torch.arange(128).float()
    top, middle = y[0, 0, 4:12].sum(0), y[0, 0, 28:36].sum(0)
    shift_top = float((top * cols).sum() / top.sum()) - 63.5
    shift_middle = float((middle * cols).sum() / middle.sum()) - 63.5
    assert shift_middle == pytest.approx(0.0, abs=0.6)
    assert shift_top == pytest.approx(0.5 * 24, abs=1.0)  # 24 rows above the pivot, half a pixel each
    assert math.isclose(float(y.sum()), float(x.sum()), rel_tol=0.02)


def test_a_bad_grid_is_one_config_error() -> None:
    with pytest.raises(ConfigError, match=r"inference\.slant"):
        Slant(max_shear=0.5, step=0.0)


def test_the_published_weights_keep_an_oblique_word_oblique() -> None:
    """An oblique word on paper, replaced with the published weights and their photo steps: the new
    word leans as the old one does; with the step off it comes back upright."""
    from PIL import Image, ImageDraw, ImageFont

    from tsb import published
    from tsb.edit import Edit, Editor, parse_box
    from tsb.inference.pipeline import build_pipeline
    from tsb.utils.image import pil_to_tensor

    if published.DEFAULT not in published.read_manifest():
        pytest.skip("needs the published weights")
    photo = Image.new("RGB", (320, 96), (235, 232, 225))
    font = ImageFont.truetype(str(FONTS / "DejaVuSans-Oblique.ttf"), 52)
    ImageDraw.Draw(photo).text((20, 14), "Handle", font=font, fill=(30, 30, 40))
    edits = [Edit(parse_box("0,0,320,96"), "Bottle", source="Handle")]
    editor = Editor(None, "cpu", read_source=False)
    assert "slant" in editor.pipeline.steps  # the published weights' own preset: photo
    leaned, _ = editor.edit(photo, edits)
    editor.pipeline = build_pipeline("photo", ["slant=null"])
    upright, _ = editor.edit(photo, edits)
    paper = pil_to_tensor(Image.new("RGB", photo.size, (235, 232, 225)), "RGB")
    shears = Slant().shears
    lean = [
        float(slant(((paper - pil_to_tensor(im, "RGB")).abs().mean(0) > 0.5).float()[None, None], shears))
        for im in (leaned, upright)
    ]
    assert lean[0] == pytest.approx(0.2, abs=0.085)  # DejaVu Sans Oblique's lean
    assert lean[1] == pytest.approx(0.0, abs=0.045)
