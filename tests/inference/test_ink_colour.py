"""The full-contrast ink colours step (tsb/inference/ink_colour.py): white lettering in thin
strokes comes back white, not the grey of its anti-aliased edges."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from tsb.data.content import render_content
from tsb.inference.ink_colour import InkColours, full_contrast
from tsb.inference.palette import SourceColours
from tsb.inference.pipeline import Pipeline, build_pipeline
from tsb.models.background import BackgroundNet
from tsb.models.layout import TextLayout
from tsb.models.split import SplitBrushNet
from tsb.models.unet import UNet
from tsb.utils.image import grow_mask

H, W = 64, 128
TINY = (4, 8, 8)
BLUE = torch.tensor([0.0, 0.45, 0.75]).view(1, 3, 1, 1) * 2 - 1
WHITE = torch.ones(1, 3, 1, 1)


def _small_word(text: str = "risk") -> Tensor:
    """``text`` small (strokes of two or three pixels, anti-aliased) in the middle of a (1, 1, H, W)
    canvas of ink."""
    small = (1 - render_content(text, 28, W)[None]) / 2
    canvas = torch.zeros(1, 1, H, W)
    canvas[..., 18:46, :] = small
    return canvas


def _net() -> SplitBrushNet:
    """A split network whose eraser's mask is the crop's light pixels grown by 2 (wider than the
    ink, as an eraser's is) and whose fill is the plate's blue."""
    torch.manual_seed(0)
    net = SplitBrushNet(BackgroundNet(TINY), UNet(7, 4, TINY), TextLayout(channels=(4, 8), hidden=8))

    def segment(style: Tensor) -> tuple[Tensor, Tensor]:
        light = (style.mean(dim=1, keepdim=True) > 0.3).float()
        return torch.zeros_like(style), grow_mask(light, 2)

    net.background.segment = segment  # type: ignore[method-assign]
    net.background.fill = lambda style, residual, mask: BLUE.expand_as(style).clone()  # type: ignore[method-assign]
    return net.eval()


def test_white_thin_lettering_comes_back_white() -> None:
    ink = _small_word()
    style = ink * WHITE + (1 - ink) * BLUE  # white letters on a blue plate, anti-aliased
    net = _net()
    source = render_content("risk", H, W)[None]
    content = render_content("dwell", H, W)[None]
    with torch.no_grad():
        palette = Pipeline(source_colours=SourceColours(), sharp_mask=True).generate(net, style, content, source)
        full = Pipeline(source_colours=SourceColours(), ink_colours=InkColours(), sharp_mask=True).generate(
            net, style, content, source
        )
    assert full.layout is not None
    letters = full.layout[0, 0] > 0.9  # the new letters' cores
    assert int(letters.sum()) > 50

    def colour(out: Tensor) -> Tensor:
        return out[0][:, letters].mean(dim=1)  # mean RGB in [-1, 1] over the letters

    white = WHITE.flatten()
    # the eroded-mask palette mixes the strokes' edges with the blue: grey-blue letters
    assert float((colour(palette.image) - white).abs().max()) > 0.2
    # the full-contrast ink: white within 5% of the range (the sharp mask lets 2% of the plate through)
    assert float((colour(full.image) - white).abs().max()) < 0.1


def test_full_contrast_pixels_are_the_letters_not_the_masks_rim() -> None:
    ink = _small_word()
    style = ink * WHITE + (1 - ink) * BLUE
    mask = grow_mask((ink > 0.05).float(), 2) > 0.5
    sure = full_contrast(style, BLUE.expand_as(style), mask)
    assert bool((ink[sure > 0.5] > 0.7).all())  # only strong ink
    assert int(sure.sum()) >= 0.3 * int((ink > 0.7).sum())  # a good share of it


def test_with_too_few_ink_pixels_the_colour_layer_is_kept() -> None:
    style = BLUE.expand(1, 3, H, W).clone()
    _, found = InkColours()(style, style, torch.zeros(1, 1, H, W))
    assert not bool(found.any())


def test_the_step_is_in_the_photo_white_preset_and_photo_and_none_leave_it_off() -> None:
    assert "ink_colours" in build_pipeline("photo_white").steps
    assert "ink_colours" not in build_pipeline("photo").steps
    assert "ink_colours" not in build_pipeline("none").steps


def test_bad_settings_are_one_message() -> None:
    from tsb.errors import ConfigError

    with pytest.raises(ConfigError, match="ink_colours needs"):
        InkColours(min_pixels=0)
