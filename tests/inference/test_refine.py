"""Inference-only helpers of the split design for photos: the old word's strokes found by colour
inside the detector's text region (tsb/inference/refine.py) and its colours as the new word's
colour layer (tsb/inference/palette.py)."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.inference.palette import SourceColours, source_colours
from tsb.inference.pipeline import Pipeline
from tsb.inference.refine import TextRegionRefiner, colour_strokes, unclip
from tsb.models.background import BackgroundNet
from tsb.models.split import SplitBrushNet
from tsb.models.unet import UNet
from tsb.utils.colour import kmeans, rgb_to_lab

TINY = (4, 8, 8)


def _rgb(r: float, g: float, b: float) -> Tensor:
    """One pixel (1, 3, 1, 1) from 0..1 components, in the project's [-1, 1]."""
    return torch.tensor([r, g, b]).view(1, 3, 1, 1) * 2 - 1


@pytest.mark.parametrize(
    "rgb, lab",
    [
        ((1.0, 1.0, 1.0), (100.0, 0.0, 0.0)),
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
        ((1.0, 0.0, 0.0), (53.24, 80.09, 67.20)),
        ((0.0, 0.0, 1.0), (32.30, 79.19, -107.86)),
        ((0.5, 0.5, 0.5), (53.39, 0.0, 0.0)),
    ],
)
def test_rgb_to_lab_matches_the_cie_reference_values(rgb: tuple[float, ...], lab: tuple[float, ...]) -> None:
    out = rgb_to_lab(_rgb(*rgb)).flatten()
    assert torch.allclose(out, torch.tensor(lab), atol=0.05), out


def test_kmeans_finds_separated_clusters_deterministically() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, 3, generator=g) + torch.tensor([0.0, 0.0, 0.0])
    b = torch.randn(50, 3, generator=g) + torch.tensor([20.0, 0.0, 0.0])
    centres = kmeans(torch.cat([a, b]), 2)
    found = sorted(centres[:, 0].tolist())
    assert found[0] == pytest.approx(float(a[:, 0].mean()), abs=1e-4)
    assert found[1] == pytest.approx(float(b[:, 0].mean()), abs=1e-4)
    assert torch.equal(centres, kmeans(torch.cat([a, b]), 2))
    # fewer distinct points than k: as many centres as points, no empty cluster
    assert kmeans(torch.zeros(5, 3), 4).shape == (1, 3)


def _red_bars(img: Tensor, rows: tuple[int, int], width: int) -> tuple[Tensor, Tensor]:
    """Seven red vertical 'strokes' (every 16 px from x=12) over ``img`` (1, 3, 64, 128), and where they are."""
    strokes = torch.zeros(1, 1, 64, 128, dtype=torch.bool)
    for x0 in range(12, 116, 16):
        strokes[..., rows[0] : rows[1], x0 : x0 + width] = True
    return torch.where(strokes, _rgb(0.9, 0.1, 0.1), img), strokes


def _two_coloured_word() -> tuple[Tensor, Tensor, Tensor]:
    """A crop whose background is blue left and green right, with red 'strokes' in a band."""
    img = torch.empty(1, 3, 64, 128)
    img[..., :64] = _rgb(0.1, 0.2, 0.8)
    img[..., 64:] = _rgb(0.1, 0.7, 0.2)
    img, strokes = _red_bars(img, rows=(22, 42), width=5)
    region = torch.zeros(1, 1, 64, 128)
    region[..., 16:48, 6:122] = 1
    return img, strokes, region


def test_colour_strokes_are_the_region_pixels_unlike_the_colours_around_it() -> None:
    img, strokes, region = _two_coloured_word()
    found = colour_strokes(img, region)
    assert found.shape == (1, 1, 64, 128)
    assert float(found[strokes].min()) > 0.99  # every stroke, on either background colour
    assert float(found[~strokes].max()) < 0.01  # no background pixel, inside the region or out
    assert torch.equal(colour_strokes(img, torch.zeros_like(region)), torch.zeros_like(region))


def test_colour_strokes_use_the_border_when_the_region_fills_the_crop() -> None:
    img, strokes, _ = _two_coloured_word()
    found = colour_strokes(img, torch.ones(1, 1, 64, 128))
    assert float(found[strokes].min()) > 0.99 and float(found[~strokes].max()) < 0.01


class _Detector:
    """A stand-in for the text detector: a fixed probability map, and how often it was asked."""

    def __init__(self, prob: Tensor) -> None:
        self.prob, self.calls = prob, 0

    def __call__(self, images: Tensor) -> Tensor:
        self.calls += 1
        return self.prob.expand(len(images), -1, -1, -1)


def test_refiner_adds_the_strokes_the_mask_missed_and_keeps_what_it_found() -> None:
    img, strokes, region = _two_coloured_word()
    core = torch.zeros_like(region)
    core[..., 28:36, 12:116] = 0.9  # the detector's shrunk band along the word
    refiner = TextRegionRefiner(grow=12, detector=_Detector(core))
    mask = torch.zeros(1, 1, 64, 128)
    mask[..., 2:6, 2:6] = 0.7  # something the network found outside the region
    out = refiner(img, mask)
    assert float(out[strokes].min()) > 0.99
    assert torch.equal(out[..., 2:6, 2:6], mask[..., 2:6, 2:6])
    assert bool((out >= mask).all())
    assert list(refiner.state_dict()) == [] and not list(refiner.parameters())


def test_refiner_runs_the_detector_once_per_crop_and_gives_the_same_mask_again() -> None:
    img, strokes, region = _two_coloured_word()
    core = torch.zeros_like(region)
    core[..., 28:36, 12:116] = 0.9
    detector = _Detector(core)
    refiner = TextRegionRefiner(grow=12, detector=detector, memory=2)
    mask = torch.zeros(1, 1, 64, 128)
    first = refiner(img, mask)
    assert float(first[strokes].min()) > 0.99
    other_mask = torch.zeros(1, 1, 64, 128)
    other_mask[..., 2:6, 2:6] = 0.7
    again = refiner(img, other_mask)  # the same crop, another network mask: no second detection
    assert detector.calls == 1
    assert torch.equal(again, torch.maximum(first, other_mask))
    # a batch with the remembered crop and a new one: the detector sees only the new one
    other = img.flip(-1)
    both = refiner(torch.cat([img, other]), torch.zeros(2, 1, 64, 128))
    assert detector.calls == 2 and torch.equal(both[:1], first)
    fresh = TextRegionRefiner(grow=12, detector=_Detector(core), memory=0)
    assert torch.equal(fresh(torch.cat([img, other]), torch.zeros(2, 1, 64, 128)), both)
    # the oldest crop is forgotten beyond ``memory``
    refiner(img * 0.5, mask)
    refiner(img, mask)
    assert detector.calls == 4


def test_unclip_grows_each_core_by_its_area_over_perimeter() -> None:
    core = torch.zeros(1, 1, 64, 128)
    core[..., 28:36, 10:90] = 1  # 8 x 80: area 640, 172 boundary pixels
    core[..., 30:32, 110:112] = 1  # a speck: 2 x 2, grows by 1.5 x 4 / 4 = 1.5 pixels
    out = unclip(core, 1.5)
    d = 1.5 * 640 / 172  # 5.58 pixels
    column = out[0, 0, :, 50]
    assert int(column.sum()) == 8 + 2 * int(d)  # the band grows by floor(d) above and below
    assert bool(out[0, 0, 32, 10 - int(d)]) and not bool(out[0, 0, 32, 10 - int(d) - 1])
    assert int(out[0, 0, :, 111].sum()) == 2 + 2 * 1  # the speck by its own, smaller offset
    assert torch.equal(unclip(core, 0.0), core)
    assert bool((out >= core).all())


def _tall_word() -> tuple[Tensor, Tensor, Tensor]:
    """Red letters much taller than the detector's band (big letters), on grey."""
    img, strokes = _red_bars(_rgb(0.5, 0.5, 0.5).expand(1, 3, 64, 128), rows=(10, 54), width=8)
    core = torch.zeros(1, 1, 64, 128)
    core[..., 24:40, 12:116] = 0.9
    return img, strokes, core


def test_refiner_finds_letters_taller_than_the_detectors_band_as_likely_strokes() -> None:
    img, strokes, core = _tall_word()
    near = torch.zeros(1, 1, 64, 128, dtype=torch.bool)
    near[..., 20:44, 8:120] = True  # the core grown by 4
    mask = torch.zeros(1, 1, 64, 128)
    # near region only: its ring runs through the letters, so red is a colour "around the word"
    # and the letters are missed
    missed = TextRegionRefiner(unclip=0.0, detector=_Detector(core))(img, mask)
    assert float(missed[strokes].mean()) < 0.3
    # the full region: the core grown by 2.5 x 1664 / 236 = 17.6 px, rows 7 to 57; its ring is grey
    out = TextRegionRefiner(unclip=2.5, likely=0.75, detector=_Detector(core))(img, mask)
    assert float(out[strokes].min()) == pytest.approx(0.75, abs=1e-6)  # erased by the hole (gain 2)...
    assert float(out[~strokes].max()) < 0.01  # ...and no background pixel
    # ...but too unsure for the palette: no colour is taken from them
    _, found = source_colours(img, out)
    assert not bool(found.any())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0.0},
        {"threshold": 1.0},
        {"grow": -1},
        {"clusters": 0},
        {"tau": 0.0},
        {"unclip": -1.0},
        {"likely": 0.0},
        {"likely": 1.5},
    ],
)
def test_refiner_refuses_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="refine"):
        TextRegionRefiner(**kwargs)  # type: ignore[arg-type]


class _Everything(nn.Module):
    def forward(self, style: Tensor, mask: Tensor) -> Tensor:
        return torch.ones_like(mask)


def test_the_pipeline_refines_the_erasers_mask_before_the_hole_is_cut() -> None:
    torch.manual_seed(0)
    net = SplitBrushNet(BackgroundNet(TINY, dilate=0), UNet(7, 4, TINY), None).eval()
    style = torch.rand(1, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        _, mask = net.background(style)
        assert float(mask.max()) < 0.05  # the untrained U-Net finds (almost) nothing
        background, hole = Pipeline(refine=_Everything()).erase(net, style)
        assert torch.equal(hole, torch.ones_like(hole))
        # the whole crop is the hole: filled from nowhere, its residual alone (zero-initialised)
        assert float(background.abs().max()) < 1e-6
        # the refined mask reaches the layout and the text branch too: the network's own output
        # with the pipeline's eraser outputs is what the pipeline returns
        content = torch.ones(1, 1, 64, 96)
        content[..., 20:44, 10:80] = -1
        out = Pipeline(refine=_Everything()).generate(net, style, content)
        assert out.source_mask is not None and torch.equal(out.source_mask, torch.ones_like(out.source_mask))
        plain = Pipeline().generate(net, style, content)
        assert plain.source_mask is not None and float(plain.source_mask.max()) < 0.05


def test_source_colours_spread_the_old_words_colours_and_say_where_there_is_none() -> None:
    style = torch.empty(2, 3, 64, 128)
    style[:] = _rgb(0.1, 0.2, 0.8)
    style[..., 20:44, 10:40] = _rgb(1.0, 0.0, 0.0)  # left letter red
    style[..., 20:44, 90:120] = _rgb(0.0, 1.0, 0.0)  # right letter green
    mask = torch.zeros(2, 1, 64, 128)
    mask[0, :, 20:44, 10:40] = mask[0, :, 20:44, 90:120] = 1
    out, found = source_colours(style, mask)
    assert found.flatten().tolist() == [True, False]  # no old word in the second: nothing to take
    red, green = _rgb(1.0, 0.0, 0.0).flatten(), _rgb(0.0, 1.0, 0.0).flatten()
    assert torch.allclose(out[0, :, 30, 25], red, atol=1e-5)  # the old letters keep their colour

    def nearer(pixel: Tensor, a: Tensor, b: Tensor) -> bool:
        return float((pixel - a).norm()) < 0.5 * float((pixel - b).norm())

    assert nearer(out[0, :, 5, 2], red, green)  # far left takes the left letter's colour
    assert nearer(out[0, :, 60, 125], green, red)  # far right the right one's
    assert float((out[0] - _rgb(0.1, 0.2, 0.8)[0]).abs().min(0).values.max()) > 0.5  # no background blue


def test_the_source_colours_step_takes_the_old_words_colours() -> None:
    torch.manual_seed(0)
    net = SplitBrushNet(BackgroundNet(TINY), UNet(7, 4, TINY), None).eval()
    style = torch.empty(1, 3, 64, 96)
    style[:] = _rgb(1.0, 0.5, 0.0)  # all orange: the old word's colour, as the refiner says
    content = torch.ones(1, 1, 64, 96)
    content[..., 20:44, 10:80] = -1
    with torch.no_grad():
        learned = net(style, content).foreground
        assert not torch.allclose(learned, style, atol=0.1)
        out = Pipeline(refine=_Everything(), source_colours=SourceColours()).generate(net, style, content)
        assert torch.allclose(out.foreground, style, atol=1e-5)
        assert torch.allclose(out.image, out.mask * out.foreground + (1 - out.mask) * out.background)


def test_source_colours_erode_thin_letters_less() -> None:
    style = torch.empty(1, 3, 64, 64)
    style[:] = _rgb(0.9, 0.9, 0.8)
    mask = torch.zeros(1, 1, 64, 64)
    for x0 in range(8, 56, 8):  # 3-pixel strokes: nothing is left of them after eroding by 2
        style[..., 10:50, x0 : x0 + 3] = _rgb(0.6, 0.0, 0.0)
        mask[..., 10:50, x0 : x0 + 3] = 1
    out, found = source_colours(style, mask, erode=2)
    assert bool(found.all())
    assert torch.allclose(out[0, :, 30, 9], _rgb(0.6, 0.0, 0.0).flatten(), atol=1e-5)
    assert torch.allclose(
        out[0, :, 2, 2], _rgb(0.6, 0.0, 0.0).flatten(), atol=0.05
    )  # spread from the strokes only
