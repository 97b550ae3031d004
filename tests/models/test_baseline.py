"""UNetBaseline: a drop-in for StyleBrushNet (same calls, same GeneratorOutput)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from tsb.models.baseline import UNetBaseline
from tsb.models.stylebrush import GeneratorOutput

Inputs = Callable[..., tuple[torch.Tensor, torch.Tensor]]


@pytest.fixture
def net(make_net: Callable[..., torch.nn.Module]) -> UNetBaseline:
    n = make_net("baseline")
    assert isinstance(n, UNetBaseline)
    return n


@pytest.mark.parametrize("width", [128, 256, 384])
def test_shapes_and_mask_range(net: UNetBaseline, inputs: Inputs, width: int) -> None:
    style, content = inputs(batch=2, width=width, style_size=(64, 192))  # style resized to the content
    out = net(style, content)
    assert isinstance(out, GeneratorOutput)
    assert out.image.shape == (2, 3, 64, width)
    assert out.mask.shape == (2, 1, 64, width)
    assert [m.shape[-2:] for m in out.masks] == [(4 * 2**k, width // 16 * 2**k) for k in range(5)]
    assert out.masks[-1] is out.mask
    assert all(m.min() >= 0.0 and m.max() <= 1.0 for m in out.masks)


def test_drop_in_style_api(net: UNetBaseline, inputs: Inputs) -> None:
    net.eval()
    style, content = inputs(batch=2)
    with torch.no_grad():
        code = net.encode_style(style)
        assert torch.allclose(net.synthesize(code, content).image, net(style, content).image)
        assert net.synthesize(code[:1], content).image.shape == (2, 3, 64, 256)


def test_style_and_content_both_matter(net: UNetBaseline, inputs: Inputs) -> None:
    net.eval()
    s1, c1 = inputs(batch=2, seed=1)
    s2, c2 = inputs(batch=2, seed=2)
    with torch.no_grad():
        ref = net(s1, c1).image
        assert (net(s2 * 0.5 + 0.4, c1).image - ref).abs().mean() > 1e-3
        assert (net(s1, c2).image - ref).abs().mean() > 1e-3


def test_every_parameter_gets_a_gradient(net: UNetBaseline, inputs: Inputs) -> None:
    style, content = inputs(batch=2, width=128)
    out = net(style, content)
    (out.image.abs().mean() + out.mask.mean()).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_same_seed_same_output_and_autocast(make_net: Callable[..., torch.nn.Module], inputs: Inputs) -> None:
    style, content = inputs(batch=2, width=128)
    a = make_net("baseline", seed=2)(style, content)
    net = make_net("baseline", seed=2)
    assert torch.equal(a.image, net(style, content).image)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(style, content)
    assert torch.isfinite(out.image.float()).all() and out.mask.min() >= 0.0 and out.mask.max() <= 1.0
