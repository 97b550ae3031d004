"""The old word's colours as the new word's (tsb/inference/palette.py: which of its pixels give
colours), and the split design's learned outline around the sharp letters (effect_ring)."""

from __future__ import annotations

import torch
from torch import Tensor

from tsb.inference.palette import SourceColours, source_colours, sure_cores
from tsb.inference.pipeline import Pipeline
from tsb.models.background import BackgroundNet
from tsb.models.split import SplitBrushNet
from tsb.models.unet import UNet

TINY = (4, 8, 8)


def _rgb(r: float, g: float, b: float) -> Tensor:
    return torch.tensor([r, g, b]).view(1, 3, 1, 1) * 2 - 1


def test_sure_cores_erode_thick_letters_and_less_where_a_band_has_only_thin_ones() -> None:
    sure = torch.zeros(1, 1, 32, 64)
    sure[..., 4:28, 2:14] = 1  # a 12-pixel stroke in the first band of 16 columns
    sure[..., 4:28, 15] = 1  # a hairline beside it (same band): eroded away
    sure[..., 4:28, 40:43] = 1  # a 3-pixel stroke alone in the third band: eroded by 1 only
    core = sure_cores(sure, erode=2, band=16)
    assert torch.equal(core[..., 6:26, 4:12], torch.ones(1, 1, 20, 8))  # 2 pixels in
    assert float(core[..., :, :4].sum()) == 0 and float(core[..., :, 12:32].sum()) == 0
    assert torch.equal(core[0, 0, 10, 38:45], torch.tensor([0.0, 0, 0, 1, 0, 0, 0]))  # its centre
    assert torch.equal(core, core * sure)  # never outside the mask
    assert torch.equal(sure_cores(sure, erode=0), sure)


def test_thin_letters_keep_their_own_colour_beside_thick_ones() -> None:
    """A thin red word part and a thick green one: eroded alike, the few red pixels left drowned in
    the green ones' average; eroded band by band, the red letters spread red."""
    style = torch.empty(1, 3, 64, 160)
    style[:] = _rgb(0.9, 0.9, 0.8)
    mask = torch.zeros(1, 1, 64, 160)
    for x0 in range(8, 56, 8):  # thin red strokes on the left
        style[..., 12:52, x0 : x0 + 3] = _rgb(0.6, 0.0, 0.0)
        mask[..., 12:52, x0 : x0 + 3] = 1
    style[..., 12:52, 96:150] = _rgb(0.0, 0.5, 0.0)  # a thick green block on the right
    mask[..., 12:52, 96:150] = 1
    out, found = source_colours(style, mask, erode=2)
    assert bool(found.all())
    red, green = _rgb(0.6, 0.0, 0.0).flatten(), _rgb(0.0, 0.5, 0.0).flatten()
    between = out[0, :, 30, 12]  # between two red strokes
    assert float((between - red).norm()) < 0.5 * float((between - green).norm())


def test_with_the_background_the_colours_come_from_the_ink_not_the_counters() -> None:
    """White ring letters on blue, the eraser's mask a blob over each (their counters included):
    eroded, the blob leaves the blue counters, which colour the new letters there; kept to the ink
    first (the pixels that differ from the background), the colours are the letters' white."""
    blue, white = _rgb(0.0, 0.6, 0.8), _rgb(1.0, 1.0, 1.0)
    style = blue.expand(1, 3, 64, 160).clone()
    mask = torch.zeros(1, 1, 64, 160)
    for x0 in range(10, 150, 30):  # ring letters 20 wide, strokes 4 pixels, counters 12 x 24
        style[..., 16:48, x0 : x0 + 20] = white
        style[..., 20:44, x0 + 4 : x0 + 16] = blue
        mask[..., 12:52, x0 - 4 : x0 + 24] = 1  # the blob: letter, counter and a margin
    background = blue.expand(1, 3, 64, 160)
    centre = (slice(None), 32, 20)  # a counter's middle
    blob, _ = source_colours(style, mask, erode=2)
    ink, found = source_colours(style, mask, erode=2, background=background)
    assert bool(found.all())
    assert float((blob[0][centre] - blue.flatten()).norm()) < 0.3  # the counter's own blue
    assert float((ink[0][centre] - white.flatten()).norm()) < 0.3  # the letters' white
    step = SourceColours(ink_only=True)
    assert torch.allclose(step(style, mask, background)[0], ink)
    assert torch.allclose(SourceColours()(style, mask, background)[0], blob)  # off: the blob's


class _Bold(torch.nn.Module):
    """A text branch that says: the letters are bolder than the placed ink (a large mask correction
    everywhere), in green."""

    in_channels, out_channels = 7, 4

    def forward(self, x: Tensor) -> Tensor:
        out = torch.zeros(x.shape[0], 4, *x.shape[-2:])
        out[:, 0] = 20.0
        out[:, 1:] = _rgb(0.0, 1.0, 0.0)
        return out


def test_effect_ring_draws_the_learned_outline_around_the_sharp_letters() -> None:
    torch.manual_seed(0)
    net = SplitBrushNet(BackgroundNet(TINY), UNet(7, 4, TINY), None)
    net.text = _Bold()
    style = torch.zeros(1, 3, 64, 64)
    content = torch.ones(1, 1, 64, 64)
    content[..., 16:48, 30:35] = -1  # a 5-pixel bar
    green = _rgb(0.0, 1.0, 0.0).flatten()
    net.eval()
    with torch.no_grad():
        sharp = Pipeline(sharp_mask=True).generate(net, style, content)
        ringed = Pipeline(sharp_mask=True, effect_ring=2).generate(net, style, content)
    bg = sharp.background
    assert bg is not None
    assert torch.allclose(sharp.image[0, :, 32, 28], bg[0, :, 32, 28], atol=0.05)  # no ring: background
    for x in (28, 29, 35, 36):  # within 2 pixels of the letters: the learned (green) outline
        assert torch.allclose(ringed.image[0, :, 32, x], green, atol=1e-3), x
        assert float(ringed.mask[0, 0, 32, x]) > 0.99
    for x in (26, 38):  # farther: as without the ring (background)
        assert torch.allclose(ringed.image[0, :, 32, x], sharp.image[0, :, 32, x], atol=1e-5)
    assert torch.allclose(
        ringed.image[..., 16:48, 30:35], sharp.image[..., 16:48, 30:35]
    )  # the letters unchanged
    trained = net(style, content)  # the network itself: the correction is the mask; no ring on top of it
    assert torch.allclose(trained.image[0, :, 32, 20], green, atol=1e-3)
