"""The split design: U-Net body, text eraser, spatial transformer, fusion (tsb/models/split.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from tsb.errors import ConfigError
from tsb.losses.layout import LayoutLoss
from tsb.models.background import BackgroundNet
from tsb.models.layout import TextLayout, coordinates, warp
from tsb.models.split import SplitBrushNet
from tsb.models.unet import UNet

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


def test_eraser_starts_as_the_identity() -> None:
    x = torch.rand(2, 3, 64, 96) * 2 - 1
    assert torch.equal(BackgroundNet(TINY)(x), x)


def test_coordinates_are_pixel_centres() -> None:
    c = coordinates(torch.zeros(1, 1, 2, 4))
    assert torch.allclose(c[0, 0, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    assert torch.allclose(c[0, 1, :, 0], torch.tensor([-0.5, 0.5]))


def test_layout_starts_at_the_identity_and_warp_moves_ink() -> None:
    style = torch.rand(2, 3, 32, 64) * 2 - 1
    theta = TextLayout((4, 8), hidden=8)(style, style)
    assert torch.allclose(theta, torch.eye(2, 3).expand(2, -1, -1))
    ink = torch.zeros(1, 1, 32, 64)
    ink[..., 10:20, 20:30] = 1.0
    assert torch.allclose(warp(ink, torch.eye(2, 3)[None]), ink, atol=1e-5)
    # output x samples input x + 0.25 (normalised): the block moves left by 0.25 * 64 / 2 = 8 px
    shifted = warp(ink, torch.tensor([[[1.0, 0.0, 0.25], [0.0, 1.0, 0.0]]]))
    assert torch.allclose(shifted[..., 10:20, 12:22], ink[..., 10:20, 20:30], atol=1e-5)
    assert shifted.sum().item() == pytest.approx(ink.sum().item(), rel=1e-4)


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
    # at initialisation the mask follows the content's ink (a residual on it) and the layout is the ink
    ink = (1 - content) / 2
    assert torch.allclose(out.layout, ink, atol=1e-5)
    assert (out.mask[ink > 0.5].mean() - out.mask[ink < 0.5].mean()).item() > 0.5


def test_one_style_for_many_words_and_other_style_sizes(
    inputs: Callable[..., tuple[torch.Tensor, torch.Tensor]],
) -> None:
    net = tiny_net().eval()
    style, content = inputs(batch=3, width=128, style_size=(48, 90))
    one = net(style[:1], content)
    each = net(style[:1].expand(3, -1, -1, -1), content)
    assert one.image.shape == (3, 3, 64, 128)
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
    """The two things LayoutLoss reads of a LossContext."""

    def __init__(self, fake: object, batch: dict[str, torch.Tensor]) -> None:
        self.fake = fake
        self.batch = batch

    def get(self, key: str) -> torch.Tensor | None:
        return self.batch.get(key)


def test_layout_learns_where_the_word_is() -> None:
    """Convergence on a tiny problem: the word sits 12 px right and 4 px low of the content's
    place; trained with the layout loss alone, the transformer finds the shift."""
    torch.manual_seed(0)
    h, w, b = 32, 64, 8
    ink = torch.zeros(b, 1, h, w)
    ink[..., 12:20, 16:32] = 1.0  # the "content" word, where the content renderer puts it
    dx, dy = 12, 4
    truth = torch.roll(ink, shifts=(dy, dx), dims=(2, 3))
    colour = torch.rand(b, 3, 1, 1) * 2 - 1
    style = truth * colour + (1 - truth) * (-colour)  # the word, drawn where it belongs
    layout = TextLayout((8, 16), norm="none", hidden=16)
    opt = torch.optim.Adam(layout.parameters(), lr=3e-3)
    loss_fn = LayoutLoss(pool=4)

    def loss() -> torch.Tensor:
        placed = warp(ink, layout(style, -colour.expand_as(style)))
        value = loss_fn(_Ctx(type("Out", (), {"layout": placed})(), {"mask_tgt": truth}))  # type: ignore[arg-type]
        assert value is not None
        return value

    first = loss().item()
    for _ in range(150):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < 0.25 * first
    theta = layout(style, -colour.expand_as(style))[0]
    # output pixel x samples input x - dx: translation -dx / (w/2), -dy / (h/2)
    assert theta[0, 2].item() == pytest.approx(-dx / (w / 2), abs=0.12)
    assert theta[1, 2].item() == pytest.approx(-dy / (h / 2), abs=0.12)


def test_split_terms_refuse_a_net_without_the_branch() -> None:
    from tsb.losses.background import BackgroundL1

    out = type("Out", (), {"background": None, "layout": None})()
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
