"""The split design: U-Net body, text eraser, spatial transformer, fusion (tsb/models/split.py)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import nn

from tsb.errors import ConfigError
from tsb.inference.palette import SourceColours
from tsb.inference.pipeline import Pipeline
from tsb.losses.layout import LayoutLoss
from tsb.models.background import BackgroundNet
from tsb.models.layout import TextLayout, coordinates, placement, squeeze_inside, warp
from tsb.models.split import SplitBrushNet
from tsb.models.unet import UNet
from tsb.utils.fill import pull_push

TINY = (4, 8, 8)


def tiny_net(layout: bool = True) -> SplitBrushNet:
    torch.manual_seed(0)
    return SplitBrushNet(
        BackgroundNet(TINY), UNet(7, 4, TINY), TextLayout((4, 8), hidden=8) if layout else None
    )


@pytest.mark.parametrize("width", [64, 100, 37])
def test_unet_keeps_any_size(width: int) -> None:
    out = UNet(3, 5, TINY)(torch.randn(2, 3, 64, width))
    assert out.shape == (2, 5, 64, width)


def test_unet_names_the_expected_channels() -> None:
    with pytest.raises(ConfigError, match=r"\(B, 3, H, W\)"):
        UNet(3, 1, TINY)(torch.randn(1, 4, 64, 64))
    with pytest.raises(ConfigError, match="channels"):
        UNet(3, 1, (8,))


def test_residual_eraser_starts_as_the_identity() -> None:
    x = torch.rand(2, 3, 64, 96) * 2 - 1
    background, old_word = BackgroundNet(TINY, inpaint=False)(x)
    assert torch.equal(background, x)
    assert old_word.shape == (2, 1, 64, 96) and torch.allclose(old_word, torch.full_like(old_word, 0.5))


def test_inpainting_eraser_starts_with_almost_no_hole() -> None:
    x = torch.rand(2, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        background, old_word = BackgroundNet(TINY)(x)
    assert float(old_word.max()) < 0.02
    assert float((background - x).abs().mean()) < 0.02


def test_pull_push_keeps_known_pixels_and_fills_holes_from_around() -> None:
    # a horizontal ramp with a hole in the middle: the fill is the ramp's colours around it
    ramp = torch.linspace(-1, 1, 64).expand(1, 3, 32, 64).clone()
    weight = torch.ones(1, 1, 32, 64)
    weight[..., 8:24, 24:40] = 0
    filled = pull_push(ramp, weight)
    assert torch.equal(pull_push(ramp, torch.ones_like(weight)), ramp)
    assert torch.allclose(filled[..., weight[0, 0] > 0], ramp[..., weight[0, 0] > 0])
    hole = filled[..., 8:24, 24:40]
    assert float(hole.min()) >= float(ramp[..., 20].min()) - 0.05
    assert float(hole.max()) <= float(ramp[..., 43].max()) + 0.05
    assert float(hole[..., :, :4].mean()) < float(hole[..., :, -4:].mean())  # the ramp goes on
    constant = torch.full((2, 3, 17, 33), 0.3)
    assert torch.allclose(pull_push(constant, weight.new_zeros(2, 1, 17, 33).bernoulli_(0.3)), constant)
    assert torch.equal(pull_push(constant, torch.zeros(2, 1, 17, 33)), torch.zeros_like(constant))
    with pytest.raises(ConfigError, match="weight"):
        pull_push(constant, torch.ones(2, 3, 17, 33))


def test_pull_push_smoothing_fills_letter_holes_with_the_colour_around_them() -> None:
    # a two-coloured background (a sign's edge) and four letter strokes in its top colour: plain
    # pull-push fills the strokes from coarse levels that mix in the bottom colour, so the strokes
    # stay visible; the Jacobi steps make the fill the top colour
    image = torch.full((1, 3, 32, 64), -1.0)
    image[..., 20:, :] = 1.0
    weight = torch.ones(1, 1, 32, 64)
    for column in (8, 20, 32, 44):
        weight[..., 3:15, column : column + 4] = 0
    hole = weight[0, 0] == 0
    plain = (pull_push(image, weight)[..., hole] + 1).abs().mean()
    smoothed = (pull_push(image, weight, smooth=4)[..., hole] + 1).abs().mean()
    assert float(plain) > 0.05
    assert float(smoothed) < 1e-3
    assert torch.equal(pull_push(image, weight, smooth=4)[..., ~hole], image[..., ~hole])
    with pytest.raises(ConfigError, match="smooth"):
        pull_push(image, weight, smooth=-1)
    with pytest.raises(ConfigError, match=r"background\.smooth"):
        BackgroundNet(TINY, smooth=-1)


class _FixedUNet(nn.Module):
    def __init__(self, out: torch.Tensor) -> None:
        super().__init__()
        self.out = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out


def test_inpainting_eraser_removes_a_segmented_word() -> None:
    """Where the mask says "word", the flat background around it comes back; elsewhere the input."""
    style = torch.full((1, 3, 32, 64), -0.6)
    word = torch.zeros(1, 1, 32, 64)
    word[..., 10:22, 12:50] = 1
    style = torch.where(word.bool(), torch.tensor(0.9), style)
    eraser = BackgroundNet(TINY, dilate=1)
    logit = (word * 2 - 1) * 20
    eraser.unet = _FixedUNet(torch.cat([torch.zeros(1, 3, 32, 64), logit], dim=1))
    background, old_word = eraser(style)
    assert torch.allclose(old_word, word, atol=1e-6)
    assert torch.allclose(background, torch.full_like(style, -0.6), atol=1e-4)
    eraser.unet = _FixedUNet(torch.cat([torch.zeros(1, 3, 32, 64), -logit.abs()], dim=1))
    assert torch.allclose(eraser(style)[0], style, atol=1e-4)  # no word found: nothing erased


def test_hole_gain_fills_uncertain_pixels_completely() -> None:
    mask = torch.tensor([0.0, 0.25, 0.5, 0.9]).view(1, 1, 1, 4)
    assert torch.equal(BackgroundNet(TINY, dilate=0).hole(mask), mask)
    assert torch.equal(
        BackgroundNet(TINY, dilate=0, hole_gain=2).hole(mask),
        torch.tensor([0.0, 0.5, 1.0, 1.0]).view(1, 1, 1, 4),
    )
    with pytest.raises(ConfigError, match="hole_gain"):
        BackgroundNet(TINY, hole_gain=0.5)


def test_coordinates_are_pixel_centres() -> None:
    c = coordinates(torch.zeros(1, 1, 2, 4))
    assert torch.allclose(c[0, 0, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    assert torch.allclose(c[0, 1, :, 0], torch.tensor([-0.5, 0.5]))


def test_warp_moves_ink() -> None:
    ink = torch.zeros(1, 1, 32, 64)
    ink[..., 10:20, 20:30] = 1.0
    assert torch.allclose(warp(ink, torch.eye(2, 3)[None]), ink, atol=1e-5)
    # output x samples input x + 0.25 (normalised): the block moves left by 0.25 * 64 / 2 = 8 px
    shifted = warp(ink, torch.tensor([[[1.0, 0.0, 0.25], [0.0, 1.0, 0.0]]]))
    assert torch.allclose(shifted[..., 10:20, 12:22], ink[..., 10:20, 20:30], atol=1e-5)
    assert shifted.sum().item() == pytest.approx(ink.sum().item(), rel=1e-4)


def _word(h: int = 64, w: int = 256) -> torch.Tensor:
    """A word-like ink map: five 'letters' in a row, centred, 20 px high."""
    ink = torch.zeros(1, 1, h, w)
    x0 = w // 2 - 48
    for k in range(5):
        ink[..., 22:42, x0 + 20 * k : x0 + 12 + 20 * k] = 1.0
    return ink


@pytest.mark.parametrize(
    ("dx", "dy", "scale", "degrees"), [(30, 6, 1.0, 0.0), (-20, -5, 1.4, 0.0), (10, 3, 0.8, 8.0)]
)
def test_placement_puts_the_ink_on_the_old_word(dx: float, dy: float, scale: float, degrees: float) -> None:
    """The old word is the content's ink moved, scaled and turned: the moments recover the map."""
    h, w = 64, 256
    ink = _word(h, w)
    # the old word: the ink rotated by `degrees` (counter-clockwise on screen), scaled, shifted
    a = math.radians(degrees)
    half = torch.tensor([w / 2, h / 2])
    rot_t = torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    lin = (rot_t * half.view(1, 2) / half.view(2, 1)) / scale
    centre = torch.tensor([dx / (w / 2), dy / (h / 2)])
    truth = torch.cat([lin, (-(lin @ centre))[:, None]], dim=1)[None]
    old = warp(ink, truth)
    placed = warp(ink, placement(old, ink))
    overlap = (placed * old).sum() / old.sum()
    assert overlap.item() > 0.9
    assert (placed - old).abs().sum().item() < 0.2 * old.sum().item()


def _stretch(ink: torch.Tensor, sx: float, sy: float, dx: float, dy: float) -> torch.Tensor:
    """``ink`` scaled about the image centre by (sx, sy) and moved by (dx, dy) pixels."""
    _, _, h, w = ink.shape
    theta = torch.tensor([[[1 / sx, 0.0, -dx / (w / 2) / sx], [0.0, 1 / sy, -dy / (h / 2) / sy]]])
    return warp(ink, theta)


def _overlap(a: torch.Tensor, b: torch.Tensor) -> float:
    """Intersection over union of two ink maps thresholded at 0.5."""
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize(
    ("old_text", "new_text"), [("Gupta", "Chopping"), ("iy", "dJyfkB"), ("dose", "MAXIMUM")]
)
def test_placement_from_the_old_words_rendering_takes_its_width_and_baseline(
    old_text: str, new_text: str
) -> None:
    """A wide font (1.5x the content font's width, 0.8x its height, lower in the crop): the map that
    draws the old word's plain rendering onto the old word draws the new word where it belongs."""
    from tsb.data.content import render_content

    def ink(text: str) -> torch.Tensor:
        return (1 - render_content(text, 64, 256)[None]) / 2

    old_plain, new_plain = ink(old_text), ink(new_text)
    old = _stretch(old_plain, 1.5, 0.8, 6, 5)  # the photo's old word
    truth = _stretch(new_plain, 1.5, 0.8, 6, 5)  # where the new word belongs
    with_source = warp(new_plain, placement(old, new_plain, source_ink=old_plain))
    height_only = warp(new_plain, placement(old, new_plain))
    assert _overlap(with_source, truth) > 0.8
    assert _overlap(with_source, truth) > _overlap(height_only, truth) + 0.2


def test_placement_bounds_the_angle_and_the_width() -> None:
    from tsb.data.content import render_content

    plain = (1 - render_content("iy", 64, 256)[None]) / 2
    tall = torch.zeros(1, 1, 64, 256)
    tall[..., 4:60, 120:136] = 1.0  # a 'word' whose long axis is vertical
    theta = placement(tall, plain, source_ink=plain, max_angle=20.0, max_aspect=2.0)
    lin = theta[0, :, :2] * torch.tensor([[1.0, 4.0], [0.25, 1.0]])  # back to pixel units (W = 4 H)
    angle = math.degrees(math.atan2(float(-lin[1, 0]), float(lin[0, 0])))
    assert abs(angle) <= 20.0 + 1e-3
    sx, sy = 1 / lin[:, 0].norm(), 1 / lin[:, 1].norm()  # scales of the columns of the inverse
    assert 0.5 - 1e-3 <= float(sx / sy) <= 2.0 + 1e-3
    with pytest.raises(ConfigError, match="max_aspect"):
        TextLayout((4,), max_aspect=0.5)
    with pytest.raises(ConfigError, match="max_angle"):
        TextLayout((4,), max_angle=120)


def _ink_columns(x: torch.Tensor) -> tuple[int, int]:
    cols = (x[0, 0].amax(0) > 0.5).nonzero()
    return int(cols.min()), int(cols.max())


@pytest.mark.parametrize(
    ("a", "t", "squeezed"),
    [
        (0.8, 0.3, True),  # wider than the crop and off its left edge: squeezed to the room there is
        (1.2, -0.5, False),  # fits, but runs past the right edge: moved back, same width
        (1.0, 0.0, False),  # inside already: unchanged
    ],
)
def test_squeeze_inside_keeps_the_new_word_within_the_crop(a: float, t: float, squeezed: bool) -> None:
    ink = torch.zeros(1, 1, 64, 256)
    ink[..., 20:44, 10:246] = 1.0
    theta = torch.tensor([[[a, 0.0, t], [0.0, 1.0, 0.0]]])
    fitted = squeeze_inside(theta, ink)
    x0, x1 = _ink_columns(warp(ink, fitted))
    margin = 0.06 * 64
    assert x0 >= margin - 1 and x1 <= 256 - margin
    width = (x1 - x0 + 1) / 256 * 2
    natural = 236 / 256 * 2 / a  # the ink's width as theta draws it (unclipped), in [-1, 1] units
    if squeezed:
        assert width < natural and x1 - x0 + 1 >= 256 - 2 * margin - 2  # uses the whole room
    else:
        assert width == pytest.approx(natural, abs=2 / 256 * 2)
    if (a, t) == (1.0, 0.0):
        assert torch.allclose(fitted, theta)
    assert torch.allclose(fitted[:, 1], theta[:, 1])  # nothing moves across the line
    empty = torch.zeros_like(ink)
    assert torch.allclose(squeeze_inside(theta, empty), theta)  # no ink: nothing to fit


def test_layout_keep_inside_switches_the_squeeze() -> None:
    ink = torch.zeros(1, 1, 64, 256)
    ink[..., 20:44, 10:246] = 1.0
    old = torch.zeros(1, 1, 64, 256)
    old[..., 16:48, 60:200] = 1.0  # a short old word: the long new word's letter height, not width
    style = torch.rand(1, 3, 64, 256) * 2 - 1
    plain = TextLayout((4,), hidden=8)
    inside = TextLayout((4,), hidden=8, keep_inside=True)
    inside.load_state_dict(plain.state_dict())
    with torch.no_grad():
        over, kept = warp(ink, plain(style, style, old, ink)), warp(ink, inside(style, style, old, ink))
    assert _ink_columns(over) == (0, 255)  # runs past both edges
    x0, x1 = _ink_columns(kept)
    assert x0 >= 3 and x1 <= 252


def test_split_net_reads_the_source_rendering_and_checks_its_shape(
    inputs: Callable[..., tuple[torch.Tensor, torch.Tensor]],
) -> None:
    from tsb.data.content import render_content

    class _Eraser(nn.Module):  # an eraser that has found a wide old word
        def forward(self, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            plain = (1 - render_content("wide", 64, 128)[None]) / 2
            return style, _stretch(plain, 1.4, 1.0, 0, 0).expand(style.shape[0], -1, -1, -1)

        def hole(self, mask: torch.Tensor) -> torch.Tensor:
            return mask

    net = tiny_net().eval()
    net.background = _Eraser()  # type: ignore[assignment]
    style, content = inputs(batch=2, width=128)
    source = render_content("wide", 64, 128)[None].expand(2, -1, -1, -1)
    with torch.no_grad():
        plain, read = net(style, content), net(style, content, source)
        assert torch.equal(net(style, content, source[:1]).image, read.image)  # one source for all
    assert plain.layout is not None and read.layout is not None
    assert not torch.allclose(plain.layout, read.layout)  # the layout used it
    with pytest.raises(ConfigError, match="source content image"):
        net(style, content, source[..., :64])


def test_layout_falls_back_to_the_identity_without_an_old_word() -> None:
    layout = TextLayout((4, 8), hidden=8)
    style = torch.rand(2, 3, 64, 128) * 2 - 1
    ink = _word(64, 128).expand(2, -1, -1, -1)
    theta = layout(style, style, torch.zeros(2, 1, 64, 128), ink)
    assert torch.allclose(theta, torch.eye(2, 3).expand(2, -1, -1), atol=1e-6)
    old = torch.roll(ink, shifts=(4, 10), dims=(2, 3))
    moved = warp(ink, layout(style, style, old, ink))
    assert (moved * old).sum() > 0.9 * old.sum()


def test_fusion_composes_mask_text_and_background(
    inputs: Callable[..., tuple[torch.Tensor, torch.Tensor]],
) -> None:
    style, content = inputs(batch=2, width=128)
    out = tiny_net()(style, content)
    assert out.image.shape == (2, 3, 64, 128) and out.mask.shape == (2, 1, 64, 128)
    assert out.background is not None and out.foreground is not None and out.layout is not None
    expected = out.mask * out.foreground + (1 - out.mask) * out.background
    assert torch.allclose(out.image, expected, atol=1e-6)
    assert out.masks == [out.mask]
    # at initialisation the mask follows the placed ink (a residual on it)
    placed = out.layout
    assert (out.mask[placed > 0.5].mean() - out.mask[placed < 0.5].mean()).item() > 0.5
    assert out.source_mask is not None and out.source_mask.shape == (2, 1, 64, 128)


def test_one_style_for_many_words_and_other_style_sizes(
    inputs: Callable[..., tuple[torch.Tensor, torch.Tensor]],
) -> None:
    net = tiny_net().eval()
    style, content = inputs(batch=3, width=128, style_size=(48, 90))
    one = net(style[:1], content)
    each = net(style[:1].expand(3, -1, -1, -1), content)
    assert one.image.shape == (3, 3, 64, 128)
    assert torch.allclose(one.image, each.image, atol=1e-5)
    seen: list[int] = []  # one style for many words is erased once (font matching's redraws)
    hook = net.background.unet.register_forward_pre_hook(lambda _m, args: seen.append(int(args[0].shape[0])))
    photo = Pipeline(source_colours=SourceColours())
    with torch.no_grad():
        one = photo.generate(net, style[:1], content)
        each = photo.generate(net, style[:1].expand(3, -1, -1, -1), content)
    hook.remove()
    assert seen == [1, 3]
    assert torch.allclose(one.image, each.image, atol=1e-5)
    with pytest.raises(ConfigError, match="style batch 2"):
        net(style[:2], content)
    with pytest.raises(ConfigError, match="7 channels"):
        SplitBrushNet(BackgroundNet(TINY), UNet(4, 4, TINY))


def test_without_layout_the_ink_stays_put(inputs: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> None:
    style, content = inputs(batch=1, width=64)
    out = tiny_net(layout=False)(style, content)
    assert out.layout is not None and torch.equal(out.layout, (1 - content) / 2)


class _Ctx:
    """The two things the split design's terms read of a LossContext."""

    def __init__(self, fake: object, batch: dict[str, torch.Tensor]) -> None:
        self.fake = fake
        self.batch = batch

    def get(self, key: str) -> torch.Tensor | None:
        return self.batch.get(key)


def test_split_terms_refuse_a_net_without_the_branch() -> None:
    from tsb.losses.background import BackgroundL1

    out = type("Out", (), {"background": None, "layout": None, "source_mask": None})()
    ctx = _Ctx(out, {"background": torch.zeros(1, 3, 8, 8), "mask_tgt": torch.zeros(1, 1, 8, 8)})
    with pytest.raises(ConfigError, match="stylebrush_bg"):
        BackgroundL1()(ctx)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="stylebrush_bg"):
        LayoutLoss()(ctx)  # type: ignore[arg-type]
    assert BackgroundL1()(_Ctx(out, {})) is None  # type: ignore[arg-type]


def test_background_l1_weighs_the_old_word() -> None:
    from tsb.losses.background import BackgroundL1

    truth = torch.zeros(1, 3, 8, 8)
    pred = truth.clone()
    pred[..., :2, :] = 1.0  # wrong only under the old word
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :2, :] = 1.0
    out = type("Out", (), {"background": pred})()
    ctx = _Ctx(out, {"background": truth, "mask_src": mask})
    assert BackgroundL1(fg_weight=1.0, bg_weight=1.0)(ctx).item() == pytest.approx(1.0)  # type: ignore[arg-type, union-attr]
    assert BackgroundL1(fg_weight=0.5, bg_weight=1.0)(ctx).item() == pytest.approx(0.5)  # type: ignore[arg-type, union-attr]
    out.background = truth  # type: ignore[attr-defined]
    assert BackgroundL1()(ctx).item() == 0.0  # type: ignore[arg-type, union-attr]


def test_split_net_is_an_nn_module_the_allow_list_accepts() -> None:
    from tsb.utils.safe_config import allowed_class

    for target in (
        "tsb.models.split.SplitBrushNet",
        "tsb.models.background.BackgroundNet",
        "tsb.models.layout.TextLayout",
        "tsb.models.unet.UNet",
    ):
        cls = allowed_class(target)
        assert cls is not None and issubclass(cls, nn.Module)


def test_without_mask_residual_the_mask_is_the_placed_ink() -> None:
    torch.manual_seed(0)
    net = SplitBrushNet(BackgroundNet(TINY), UNet(7, 4, TINY), None, ink_gain=1.0, mask_residual=False)
    for p in net.text.parameters():  # a text branch whose mask logit would be far from the ink
        nn.init.normal_(p, std=0.5)
    content = torch.ones(2, 1, 64, 96)
    content[..., 20:44, 10:80] = -1  # black ink
    out = net(torch.rand(2, 3, 64, 96) * 2 - 1, content)
    ink = (1 - content) / 2
    assert torch.allclose(out.mask, torch.sigmoid(1.0 * (ink * 2 - 1)), atol=1e-6)
    net.mask_residual = True
    assert not torch.allclose(net(torch.rand(2, 3, 64, 96) * 2 - 1, content).mask, out.mask, atol=1e-2)


def test_the_sharp_mask_is_an_inference_step_not_a_mode_of_the_network() -> None:
    torch.manual_seed(0)
    net = SplitBrushNet(BackgroundNet(TINY, norm="none"), UNet(7, 4, TINY, norm="none"), None, ink_gain=1.0)
    for p in net.text.parameters():
        nn.init.normal_(p, std=0.5)
    content = torch.ones(2, 1, 64, 96)
    content[..., 20:44, 10:80] = -1
    style = torch.rand(2, 3, 64, 96) * 2 - 1
    placed = torch.sigmoid(1.0 * (((1 - content) / 2) * 2 - 1))
    with torch.no_grad():
        trained = net.train()(style, content)
        evaluated = net.eval()(style, content)
        assert torch.equal(trained.image, evaluated.image) and torch.equal(trained.mask, evaluated.mask)
        assert not torch.allclose(evaluated.mask, placed, atol=1e-2)  # the corrected mask
        sharp = Pipeline(sharp_mask=True).generate(net, style, content)
        assert torch.allclose(sharp.mask, placed, atol=1e-6)
        assert sharp.foreground is not None and sharp.background is not None
        assert torch.allclose(sharp.image, sharp.mask * sharp.foreground + (1 - sharp.mask) * sharp.background)
        plain = Pipeline().generate(net, style, content)  # no step: the network itself
        assert torch.equal(plain.image, evaluated.image) and torch.equal(plain.mask, evaluated.mask)
    with pytest.raises(ConfigError, match="sharp_mask"):
        Pipeline(effect_ring=1)


def test_stroke_grows_and_thins_each_sample_by_its_radius() -> None:
    from tsb.models.layout import fit_weight, stroke

    ink = torch.zeros(3, 1, 32, 64)
    ink[..., 10:20, 20:24] = 1.0  # a 4 px wide stroke
    out = stroke(ink, torch.tensor([0, 2, -1]), 3)
    widths = [int((out[i, 0, 15] > 0.5).sum()) for i in range(3)]
    assert widths == [4, 8, 2]
    # the radius that makes the plain stroke cover a bolder old word
    bold = stroke(ink, torch.tensor([2, 2, 2]), 3)
    assert fit_weight(bold, ink, 3).tolist() == [2, 2, 2]
    assert fit_weight(ink, ink, 3).tolist() == [0, 0, 0]
    with pytest.raises(ConfigError, match="max_stroke"):
        TextLayout((4,), max_stroke=9)
