"""Residual StyleGAN2 discriminator on 64xW images."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from tsb.models.discriminator import Discriminator, minibatch_stddev


@pytest.fixture
def disc(make_net: Callable[..., torch.nn.Module]) -> Discriminator:
    d = make_net("stylebrush_small", node="discriminator")
    assert isinstance(d, Discriminator)
    return d


@pytest.mark.parametrize("width", [128, 256, 384])
def test_one_logit_per_image_for_any_width(disc: Discriminator, width: int) -> None:
    x = torch.rand(4, 3, 64, width) * 2 - 1
    out = disc(x)
    assert out.shape == (4,)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("batch", [1, 3, 6])
def test_batches_not_divisible_by_the_stddev_group(disc: Discriminator, batch: int) -> None:
    assert disc(torch.randn(batch, 3, 64, 128)).shape == (batch,)


def test_minibatch_stddev_feature() -> None:
    x = torch.randn(4, 6, 2, 3)
    out = minibatch_stddev(x, group_size=4)
    assert out.shape == (4, 7, 2, 3)
    assert torch.equal(out[:, :6], x)
    expected = x.std(dim=0, unbiased=False).mean()
    assert torch.allclose(out[:, 6], expected.expand(4, 2, 3), atol=1e-4)
    # identical samples -> (almost) zero spread
    same = minibatch_stddev(x[:1].expand(4, -1, -1, -1))
    assert same[:, 6].max() < 1e-3


def test_every_parameter_gets_a_gradient(disc: Discriminator) -> None:
    x = torch.randn(4, 3, 64, 128, requires_grad=True)
    torch.nn.functional.softplus(-disc(x)).mean().backward()
    missing = [n for n, p in disc.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
    assert x.grad is not None and x.grad.abs().sum() > 0  # R1 needs gradients w.r.t. the input


def test_logits_depend_on_the_image(disc: Discriminator) -> None:
    x = torch.randn(2, 3, 64, 128)
    assert (disc(x) - disc(x.flip(-1))).abs().max() > 1e-4


def test_same_seed_same_logits(make_net: Callable[..., torch.nn.Module]) -> None:
    x = torch.randn(2, 3, 64, 128)
    a = make_net("stylebrush_small", node="discriminator", seed=1)(x)
    b = make_net("stylebrush_small", node="discriminator", seed=1)(x)
    assert torch.equal(a, b)


def test_autocast_and_channels_last(disc: Discriminator) -> None:
    x = torch.randn(4, 3, 64, 128)
    ref = disc(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf = disc(x)
    assert torch.isfinite(bf.float()).all()
    disc.to(memory_format=torch.channels_last)
    cl = disc(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(ref, cl, atol=1e-4)


def test_bad_input_is_explained(disc: Discriminator) -> None:
    with pytest.raises(ValueError, match="multiple of 16"):
        disc(torch.randn(2, 3, 64, 100))
    with pytest.raises(ValueError, match="64"):
        disc(torch.randn(2, 3, 32, 128))
