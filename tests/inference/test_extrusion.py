"""The old word's 3-D sides fitted on the style crop and drawn under the new word
(tsb/inference/extrusion.py, the inference pipeline's ``extrusion`` step)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.inference.extrusion import SourceExtrusion, shift, sweep
from tsb.inference.palette import SourceColours
from tsb.inference.pipeline import Pipeline
from tsb.models.background import BackgroundNet
from tsb.models.split import SplitBrushNet
from tsb.models.unet import UNet

TINY = (4, 8, 8)
GREY, WHITE, NAVY = (0.6, 0.6, 0.55), (0.95, 0.97, 1.0), (0.1, 0.12, 0.35)


def _rgb(c: tuple[float, float, float]) -> Tensor:
    return torch.tensor(c).view(1, 3, 1, 1) * 2 - 1


def _letters(h: int = 64, w: int = 96) -> Tensor:
    """Three block letters (1, 1, H, W) in {0, 1} with 4-pixel strokes: an I, an L and an O-like ring."""
    face = torch.zeros(1, 1, h, w)
    face[..., 18:46, 14:18] = 1
    face[..., 18:46, 34:38] = 1
    face[..., 42:46, 34:50] = 1
    face[..., 18:46, 60:80] = 1
    face[..., 22:42, 64:76] = 0
    return face


def _crop(face: Tensor, effect: Tensor | None, effect_colour: tuple[float, float, float] = NAVY) -> Tensor:
    """White letters on grey, with ``effect`` (sides, an outline) in ``effect_colour`` under them."""
    style = _rgb(GREY).expand(1, 3, *face.shape[-2:]).clone()
    if effect is not None:
        style = torch.where(effect > 0.5, _rgb(effect_colour), style)
    return torch.where(face > 0.5, _rgb(WHITE), style)


def _eraser_inputs(style: Tensor, word: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """What a perfect eraser gives: the clean grey background, a mask surer of the faces than of the
    sides (it learned letters first), and a hole over the whole word."""
    background = _rgb(GREY).expand_as(style).clone()
    return style, background, word, (word > 0).float()


def test_shift_moves_by_whole_and_fractional_pixels() -> None:
    x = torch.zeros(1, 1, 8, 8)
    x[..., 3, 3] = 1
    moved = shift(x, torch.tensor([[2.0, -1.0]]))
    assert float(moved[0, 0, 2, 5]) == pytest.approx(1.0, abs=1e-6) and float(moved.sum()) == pytest.approx(
        1.0
    )
    half = shift(x, torch.tensor([[0.5, 0.0]]))
    assert float(half[0, 0, 3, 3]) == pytest.approx(0.5, abs=1e-6)
    assert float(half[0, 0, 3, 4]) == pytest.approx(0.5, abs=1e-6)


def test_sweep_extrudes_the_letters_along_the_offset_and_leaves_the_faces() -> None:
    face = torch.zeros(1, 1, 16, 32)
    face[..., 4:10, 4:8] = 1
    sides = sweep(face, torch.tensor([[5.0, 0.0]]))
    assert torch.allclose(sides[..., 4:10, 8:13], torch.ones(1, 1, 6, 5), atol=1e-5)  # 5 pixels right
    assert float(sides[..., 4:10, 4:8].sum()) < 1e-5  # never on the faces
    assert float(sides.sum()) == pytest.approx(30, abs=1e-4)
    assert float(sweep(face, torch.zeros(1, 2)).sum()) == 0


@pytest.mark.parametrize(("dx", "dy"), [(-6, 6), (7, 3), (0, 8)])
def test_fits_the_direction_and_length_of_extruded_sides(dx: int, dy: int) -> None:
    face = _letters()
    sides = sweep(face, torch.tensor([[float(dx), float(dy)]]))
    style = _crop(face, sides)
    word = face + 0.6 * sides
    ext = SourceExtrusion()(*_eraser_inputs(style, word))
    assert bool(ext.found[0])
    got = ext.offset[0]
    assert math.atan2(float(got[1]), float(got[0])) == pytest.approx(math.atan2(dy, dx), abs=math.radians(12))
    assert float(got.norm()) == pytest.approx(math.hypot(dx, dy), abs=1.5)
    assert torch.equal(ext.faces, face)  # the letter colours come from the faces only
    navy = _rgb(NAVY).flatten()
    assert torch.allclose(ext.colour[0, :, 30, 60], navy, atol=0.05)  # side colour, spread


@pytest.mark.parametrize("case", ["outline", "shadow", "two colours", "one colour", "no word"])
def test_finds_nothing_where_the_word_has_no_sides(case: str) -> None:
    face = _letters()
    if case == "outline":  # a ring all around: no direction
        ring = (nn.functional.max_pool2d(face, 5, 1, 2) - face).clamp(0, 1)
        style, word = _crop(face, ring), face + 0.6 * ring
    elif case == "shadow":  # the faces moved once (a drop shadow), not swept
        drop = (shift(face, torch.tensor([[6.0, 6.0]])) - face).clamp(0, 1)
        style, word = _crop(face, drop), face + 0.6 * drop
    elif case == "two colours":  # the left letters red, the right ones green: no sides
        style = _crop(face, None)
        left = face.clone()
        left[..., 48:] = 0
        style = torch.where(
            left > 0.5, _rgb((0.8, 0.1, 0.1)), torch.where(face > 0.5, _rgb((0.1, 0.6, 0.1)), style)
        )
        word = face
    elif case == "one colour":
        style, word = _crop(face, None), face
    else:
        style, word = _crop(face, None), torch.zeros_like(face)
    ext = SourceExtrusion()(*_eraser_inputs(style, word))
    assert not bool(ext.found[0])
    assert float(ext.offset.abs().sum()) == 0 and torch.equal(ext.faces, torch.ones_like(face))


def test_extrusion_refuses_an_empty_search() -> None:
    with pytest.raises(ConfigError, match="directions"):
        SourceExtrusion(directions=0)


class _Eraser(nn.Module):
    """A perfect eraser for one fixed crop (the split net's background branch)."""

    def __init__(self, background: Tensor, mask: Tensor) -> None:
        super().__init__()
        self.bg, self.mask = background, mask

    def forward(self, style: Tensor) -> tuple[Tensor, Tensor]:
        return self.bg.expand(style.shape[0], -1, -1, -1), self.mask.expand(style.shape[0], -1, -1, -1)

    def segment(self, style: Tensor) -> tuple[Tensor, Tensor]:
        return torch.zeros_like(style), self.mask.expand(style.shape[0], -1, -1, -1)

    def fill(self, style: Tensor, residual: Tensor, mask: Tensor) -> Tensor:
        return self.bg.expand(style.shape[0], -1, -1, -1)

    def hole(self, mask: Tensor) -> Tensor:
        return (mask > 0).float()


def test_the_extrusion_step_draws_the_fitted_sides_under_the_new_word() -> None:
    face = _letters()
    sides = sweep(face, torch.tensor([[-6.0, 6.0]]))
    style = _crop(face, sides)
    _, background, word, _ = _eraser_inputs(style, face + 0.6 * sides)
    torch.manual_seed(0)
    net = SplitBrushNet(BackgroundNet(TINY), UNet(7, 4, TINY), None)
    net.background = _Eraser(background, word)  # type: ignore[assignment]
    content = torch.ones(1, 1, 64, 96)
    content[..., 16:48, 40:46] = -1  # the new word: one bar
    net.eval()
    photo = {"sharp_mask": True, "source_colours": SourceColours()}
    with torch.no_grad():
        flat = Pipeline(**photo).generate(net, style, content)  # type: ignore[arg-type]
        deep = Pipeline(**photo, extrusion=SourceExtrusion()).generate(net, style, content)  # type: ignore[arg-type]
    navy, white = _rgb(NAVY).flatten(), _rgb(WHITE).flatten()
    # down-left of the bar: the navy side, in the pasted mask; the bar itself keeps the faces' white
    assert torch.allclose(deep.image[0, :, 40, 37], navy, atol=0.08)
    assert float(deep.mask[0, 0, 40, 37]) > 0.95 and float(flat.mask[0, 0, 40, 37]) < 0.05
    assert torch.allclose(deep.image[0, :, 30, 43], white, atol=0.05)
    assert torch.allclose(deep.image[0, :, 30, 50], flat.image[0, :, 30, 50])  # up-right: no side
    with torch.no_grad():  # the network alone draws no sides, in training or evaluation mode
        assert torch.equal(net(style, content).image, Pipeline().generate(net, style, content).image)
        assert not torch.allclose(net(style, content).image, deep.image)
