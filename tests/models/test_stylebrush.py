"""StyleBrushNet (style encoder + content encoder + generator) on the small preset."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hydra.errors import InstantiationException

from tsb.models.content_encoder import ContentEncoder
from tsb.models.generator import Generator
from tsb.models.style_encoder import StyleEncoder
from tsb.models.stylebrush import GeneratorOutput, StyleBrushNet

Inputs = Callable[..., tuple[torch.Tensor, torch.Tensor]]


@pytest.fixture
def net(make_net: Callable[..., torch.nn.Module]) -> StyleBrushNet:
    n = make_net("stylebrush_small")
    assert isinstance(n, StyleBrushNet)
    return n


@pytest.mark.parametrize("width", [128, 256, 384])
def test_output_and_mask_shapes(net: StyleBrushNet, inputs: Inputs, width: int) -> None:
    style, content = inputs(batch=2, width=width)
    out = net(style, content)
    assert isinstance(out, GeneratorOutput)
    assert out.image.shape == (2, 3, 64, width)
    assert out.mask.shape == (2, 1, 64, width)
    assert [m.shape for m in out.masks] == [(2, 1, 4 * 2**k, width // 16 * 2**k) for k in range(5)]
    assert out.masks[-1] is out.mask
    assert net.content_encoder(content).shape == (2, 64, 4, width // 16)
    for m in out.masks:
        assert m.min() >= 0.0 and m.max() <= 1.0
    assert torch.isfinite(out.image).all()


def test_style_code_shape_and_reuse(net: StyleBrushNet, inputs: Inputs) -> None:
    net.eval()
    style, content = inputs(batch=3, width=128)
    code = net.encode_style(style)
    assert code.shape == (3, net.n_styles, net.style_dim) == (3, 5, 64)
    with torch.no_grad():
        direct = net(style, content).image
        reused = net.synthesize(code, content).image
        # one style for many words: a code of batch 1 is broadcast over the content batch
        one = net.synthesize(code[:1], content).image
        each = torch.cat([net.synthesize(code[:1], content[i : i + 1]).image for i in range(3)])
    assert torch.allclose(direct, reused)
    assert torch.allclose(one, each, atol=1e-5)


def test_style_image_may_differ_in_size_from_content(net: StyleBrushNet, inputs: Inputs) -> None:
    _, content = inputs(batch=2, width=256)
    for size in [(256, 256), (64, 160), (48, 96)]:
        style, _ = inputs(batch=2, style_size=size)
        assert net(style, content).image.shape == (2, 3, 64, 256)


def test_different_styles_give_different_images(net: StyleBrushNet, inputs: Inputs) -> None:
    net.eval()
    style_a, content = inputs(batch=2, seed=1)
    style_b, _ = inputs(batch=2, seed=2)
    style_b = style_b * 0.5 + 0.4  # another colour distribution, not just another noise draw
    with torch.no_grad():
        a, b = net(style_a, content), net(style_b, content)
        code_a, code_b = net.encode_style(style_a), net.encode_style(style_b)
    assert (code_a - code_b).abs().mean() > 1e-3
    assert (a.image - b.image).abs().mean() > 1e-3
    # style codes drive the generator directly too: two random codes, same content
    g = torch.Generator().manual_seed(0)
    codes = torch.randn(2, 1, 5, 64, generator=g)
    with torch.no_grad():
        x = net.synthesize(codes[0].expand(2, -1, -1), content).image
        y = net.synthesize(codes[1].expand(2, -1, -1), content).image
    assert (x - y).abs().mean() > 1e-3


def test_different_contents_give_different_images(net: StyleBrushNet, inputs: Inputs) -> None:
    net.eval()
    style, content_a = inputs(batch=2, seed=1)
    _, content_b = inputs(batch=2, seed=7)
    with torch.no_grad():
        a, b = net(style, content_a), net(style, content_b)
    assert (a.image - b.image).abs().mean() > 1e-3
    assert (a.mask - b.mask).abs().mean() > 1e-4


def test_eval_outputs_do_not_depend_on_the_rest_of_the_batch(net: StyleBrushNet, inputs: Inputs) -> None:
    net.eval()
    style, content = inputs(batch=3)
    with torch.no_grad():
        batch = net(style, content).image
        alone = net(style[1:2], content[1:2]).image
    assert torch.allclose(batch[1:2], alone, atol=1e-5)


@pytest.mark.parametrize("multi_scale", [True, False])
def test_every_parameter_gets_a_gradient(
    make_net: Callable[..., torch.nn.Module], inputs: Inputs, multi_scale: bool
) -> None:
    net = make_net("stylebrush_small", **{"net.style_encoder.multi_scale": multi_scale})
    style, content = inputs(batch=2, width=128)
    out = net(style, content)
    target = torch.randn_like(out.image)
    loss = (out.image - target).abs().mean() + (out.mask - 0.3).abs().mean()
    loss.backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_single_vector_style_ablation(make_net: Callable[..., torch.nn.Module], inputs: Inputs) -> None:
    net = make_net("stylebrush_small", **{"net.style_encoder.multi_scale": False})
    multi = make_net("stylebrush_small")
    style, content = inputs(batch=2)
    code = net.encode_style(style)
    assert code.shape == (2, 5, 64)
    assert torch.equal(code[:, 0], code[:, 3])  # one vector, repeated for every scale
    assert len(net.style_encoder.heads) == 1 and len(multi.style_encoder.heads) == 5
    assert net(style, content).image.shape == (2, 3, 64, 256)


def test_same_seed_same_output(make_net: Callable[..., torch.nn.Module], inputs: Inputs) -> None:
    style, content = inputs(batch=2, width=128)
    a = make_net("stylebrush_small", seed=3)(style, content)
    b = make_net("stylebrush_small", seed=3)(style, content)
    c = make_net("stylebrush_small", seed=4)(style, content)
    assert torch.equal(a.image, b.image) and torch.equal(a.mask, b.mask)
    assert not torch.equal(a.image, c.image)


def test_bf16_autocast_gives_finite_outputs_and_gradients(net: StyleBrushNet, inputs: Inputs) -> None:
    style, content = inputs(batch=2, width=128)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(style, content)
        loss = out.image.float().square().mean() + out.mask.float().mean()
    loss.backward()
    assert out.image.dtype == torch.float32  # convs in bf16, the skip sum in the parameters' dtype
    assert torch.isfinite(out.image.float()).all() and torch.isfinite(out.mask.float()).all()
    assert out.mask.min() >= 0.0 and out.mask.max() <= 1.0
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    with torch.no_grad():
        full = net(style, content).image
    diff = (out.image.float() - full).abs().mean()
    assert 0 < diff < 0.05 * full.abs().mean()  # bf16 did run, and stays close to fp32


def test_channels_last_gives_the_same_output(net: StyleBrushNet, inputs: Inputs) -> None:
    net.eval()
    style, content = inputs(batch=2, width=128)
    with torch.no_grad():
        ref = net(style, content)
        net.to(memory_format=torch.channels_last)
        cl = net(
            style.contiguous(memory_format=torch.channels_last),
            content.contiguous(memory_format=torch.channels_last),
        )
    assert torch.allclose(ref.image, cl.image, atol=1e-4)
    assert torch.allclose(ref.mask, cl.mask, atol=1e-5)


def test_fused_modconv_gives_the_same_network(
    make_net: Callable[..., torch.nn.Module], inputs: Inputs
) -> None:
    a = make_net("stylebrush_small", seed=5).eval()
    b = make_net("stylebrush_small", seed=5, **{"net.generator.fused_modconv": True}).eval()
    style, content = inputs(batch=2, width=128)
    with torch.no_grad():
        assert torch.allclose(a(style, content).image, b(style, content).image, atol=1e-4)


def test_bad_inputs_and_mismatched_configs_say_what_to_fix(net: StyleBrushNet, inputs: Inputs) -> None:
    style, content = inputs(batch=2, width=256)
    with pytest.raises(ValueError, match="multiple of 16"):
        net(style, content[..., :250])
    with pytest.raises(ValueError, match=r"\(B, 1, 64, W\)"):
        net(style, content.expand(-1, 3, -1, -1))
    with pytest.raises(ValueError, match="style image"):
        net(style[:, :1], content)
    with pytest.raises(ValueError, match="style batch"):
        net.synthesize(net.encode_style(style)[:1].expand(3, -1, -1), content)
    enc = StyleEncoder(stem_channels=8, widths=[8, 8, 8, 8], blocks=[1, 1, 1, 1], style_dim=16)
    content_enc = ContentEncoder(stem_channels=8, widths=[8, 8, 8, 8], blocks=[1, 1, 1, 1], out_channels=16)
    with pytest.raises(ValueError, match="style_dim"):
        StyleBrushNet(enc, content_enc, Generator(in_channels=16, style_dim=32, channels=[8] * 5))
    with pytest.raises(ValueError, match="scales"):
        StyleBrushNet(enc, content_enc, Generator(in_channels=16, style_dim=16, channels=[8] * 4))
    with pytest.raises(ValueError, match="out_channels"):
        StyleBrushNet(enc, content_enc, Generator(in_channels=8, style_dim=16, channels=[8] * 5))
    with pytest.raises(ValueError, match="unknown norm"):
        StyleEncoder(norm="layer")


@pytest.mark.parametrize("norm", ["group", "instance", "none"])
def test_other_norms_build_and_run(
    make_net: Callable[..., torch.nn.Module], inputs: Inputs, norm: str
) -> None:
    net = make_net("stylebrush_small", **{"net.style_encoder.norm": norm, "net.content_encoder.norm": norm})
    style, content = inputs(batch=2, width=128)
    out = net(style, content)
    assert out.image.shape == (2, 3, 64, 128) and torch.isfinite(out.image).all()


@pytest.mark.parametrize("preset", ["stylebrush_small", "baseline"])
def test_fits_a_tiny_batch(make_net: Callable[..., torch.nn.Module], preset: str) -> None:
    """30 Adam steps on one batch: colours come from the style, the text layout from the content.

    The mask must beat the best layout-blind guess (the entropy of the text fraction, ~0.67) and
    the total loss must fall far below its start.
    """
    net = make_net(preset)
    g = torch.Generator().manual_seed(1)
    colour = torch.tensor([[0.8, -0.5, 0.2], [-0.6, 0.1, 0.7]])[:, :, None, None]
    style = colour + 0.2 * (torch.rand(2, 3, 64, 64, generator=g) * 2 - 1)
    blocks = torch.rand(2, 1, 8, 8, generator=g) > 0.6  # glyph-like blocks of 8x8 pixels
    content = torch.nn.functional.interpolate(torch.where(blocks, -1.0, 1.0), scale_factor=8.0)
    target_mask = (content < 0).float()
    target = torch.where(target_mask.bool(), -colour, colour)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, betas=(0.0, 0.99))
    losses = []
    for _ in range(30):
        out = net(style, content)
        bce = torch.nn.functional.binary_cross_entropy(out.mask, target_mask)
        loss = (out.image - target).abs().mean() + bce
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    p = target_mask.mean()
    prior_entropy = -(p * p.log() + (1 - p) * (1 - p).log())
    assert bce.item() < 0.9 * prior_entropy
    assert losses[-1] < 0.4 * losses[0]


# stylebrush_small: widths[1], widths[0], stem, the content image's channel
SKIPS = {"net.generator.content_skips": [32, 16, 16, 1]}


def test_content_skips_shapes_gradients_and_locality(
    make_net: Callable[..., torch.nn.Module], inputs: Inputs
) -> None:
    """With U-Net content skips (the quickstart's option) every layer still trains, and a change
    in the content's left half changes the left of the output far more than the right."""
    net = make_net("stylebrush_small", **SKIPS)
    plain = make_net("stylebrush_small")
    assert len(net.generator.skip_convs) == 4 and len(plain.generator.skip_convs) == 0
    pyramid = net.content_encoder.pyramid(inputs(batch=1, width=128)[1])
    assert [m.shape[-2] for m in pyramid] == [4, 8, 16, 32, 64]
    style, content = inputs(batch=2, width=128)
    out = net(style, content)
    assert out.image.shape == (2, 3, 64, 128) and [m.shape[-2] for m in out.masks] == [4, 8, 16, 32, 64]
    (out.image.abs().mean() + out.mask.mean()).backward()
    assert [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0] == []
    net.eval()
    edited = content.clone()
    edited[..., :32] = -edited[..., :32]
    with torch.no_grad():
        a, b = net(style, content).image, net(style, edited).image
    diff = (a - b).abs().mean(dim=(0, 1, 2))
    assert diff[:32].mean() > 3 * diff[-32:].mean()


def test_content_skips_must_match_the_content_encoder(make_net: Callable[..., torch.nn.Module]) -> None:
    with pytest.raises(InstantiationException, match="prefix of"):
        make_net("stylebrush_small", **{"net.generator.content_skips": [16, 16]})
    with pytest.raises(ValueError, match="upsampling scales"):
        Generator(in_channels=8, style_dim=8, channels=[8, 8], content_skips=[8, 8])
    gen = Generator(in_channels=8, style_dim=8, channels=[8, 8, 8], content_skips=[8])
    with pytest.raises(ValueError, match="skip maps"):
        gen(torch.zeros(1, 3, 8), torch.zeros(1, 8, 4, 8))
