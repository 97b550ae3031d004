"""Adversarial terms: known values, and gradients only where each phase intends them."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

from tests.helpers.nets import TinyD, TinyNet
from tsb.losses import D_REG, G_REG, D, G, LossContext
from tsb.losses.adversarial import NonSaturatingLoss, PathLengthPenalty, R1Penalty, style_code_tensors

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


class ZeroD(nn.Module):
    """Logit 0 for every image (D(x) = 0 * sum(x)): sigmoid 1/2."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        return self.w * x.flatten(1).sum(1)


class LinearD(nn.Module):
    """D(x) = <w, x>, so grad_x D = w and the R1 penalty is |w|^2."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.linspace(-1, 1, math.prod(shape)).view(1, *shape))

    def forward(self, x: Tensor) -> Tensor:
        return (x * self.w).flatten(1).sum(1)


def grads(module: nn.Module) -> list[Tensor | None]:
    return [p.grad for p in module.parameters()]


def test_non_saturating_known_values(tiny_net: TinyNet, batch: dict) -> None:
    term = NonSaturatingLoss()
    d = ZeroD()
    assert float(term(LossContext(tiny_net, d, batch, G))) == pytest.approx(math.log(2), rel=1e-6)
    assert float(term(LossContext(tiny_net, d, batch, D))) == pytest.approx(2 * math.log(2), rel=1e-6)


def test_generator_phase_reaches_generator_not_discriminator(
    tiny_net: TinyNet, tiny_d: TinyD, batch: dict
) -> None:
    tiny_d.requires_grad_(False)  # the trainer freezes every group but the running one
    NonSaturatingLoss()(LossContext(tiny_net, tiny_d, batch, G)).backward()
    assert all(g is not None and g.abs().sum() > 0 for g in grads(tiny_net.style))
    assert all(g is None for g in grads(tiny_d))


def test_discriminator_phase_never_touches_generator(tiny_net: TinyNet, tiny_d: TinyD, batch: dict) -> None:
    ctx = LossContext(tiny_net, tiny_d, batch, D)
    loss = NonSaturatingLoss()(ctx)
    loss.backward()
    assert all(g is None for g in grads(tiny_net))  # fakes are made without a generator graph
    assert all(g is not None and g.abs().sum() > 0 for g in grads(tiny_d))
    assert set(ctx.logs) == {"logits_fake", "logits_real"}


def test_non_saturating_d_loss_falls_when_d_separates(tiny_net: TinyNet, batch: dict) -> None:
    class Oracle(nn.Module):  # knows which images are real (the style images)
        def __init__(self, real: Tensor, scale: float) -> None:
            super().__init__()
            self.real, self.scale = real, scale

        def forward(self, x: Tensor) -> Tensor:
            same = torch.isclose(x, self.real).flatten(1).all(1).float()
            return self.scale * (2 * same - 1)

    weak = NonSaturatingLoss()(LossContext(tiny_net, Oracle(batch["style"], 0.1), batch, D))
    strong = NonSaturatingLoss()(LossContext(tiny_net, Oracle(batch["style"], 10.0), batch, D))
    assert float(strong) < 1e-3 < float(weak)


def test_r1_known_value_and_lazy_interval(tiny_net: TinyNet, batch: dict) -> None:
    d = LinearD(tuple(batch["style"].shape[1:]))
    sq_norm = float(d.w.square().sum())
    term = R1Penalty(gamma=10.0, interval=16)
    ctx = LossContext(tiny_net, d, batch, D_REG)
    value = term(ctx)
    assert float(value) == pytest.approx(10.0 / 2 * sq_norm, rel=1e-5)  # the phase applies the x16
    assert float(ctx.logs["r1_penalty"]) == pytest.approx(sq_norm, rel=1e-5)
    value.backward()  # d/dw of gamma/2 * |w|^2 = gamma * w
    assert torch.allclose(d.w.grad, 10.0 * d.w.detach(), rtol=1e-4, atol=1e-6)
    assert all(g is None for g in grads(tiny_net))
    assert term.phases == (D_REG,) and term.interval == 16


def test_r1_rejects_bad_interval() -> None:
    with pytest.raises(ValueError, match="interval"):
        R1Penalty(interval=0)


def test_path_length_penalty(tiny_net: TinyNet, batch: dict) -> None:
    term = PathLengthPenalty(weight=2.0, interval=4, batch_shrink=2)
    assert "pl_mean" not in term.state_dict()  # not checkpointed (see the class docstring)
    ctx = LossContext(tiny_net, None, batch, G_REG)
    value = term(ctx)
    length = float(ctx.logs["pl_length"])
    assert length > 0
    assert float(term.pl_mean) == pytest.approx(0.01 * length, rel=1e-5)
    # one sample (batch_shrink 2 of 2): penalty = (length - pl_mean)^2 (the phase applies the x4)
    assert float(value) == pytest.approx((length - 0.01 * length) ** 2, rel=1e-4)
    value.backward()
    # the path length depends on the synthesis weights (the style conv enters only through ReLU gates)
    assert tiny_net.to_image.weight.grad is not None and tiny_net.to_image.weight.grad.abs().sum() > 0


def test_style_code_tensors_walks_containers() -> None:
    a, b = torch.zeros(1), torch.ones(1)
    assert len(style_code_tensors({"x": [a, (b,)]})) == 2
    assert style_code_tensors(a)[0] is a
