"""Lazy regularisation as StyleGAN2 does it.

A group stepped by a main phase every step and a regularisation phase every k steps: the phase
multiplies its loss by k, and the group's Adam runs with ``lr * c`` and ``betas ** c``,
``c = k / (k + 1)`` (Karras et al. 2020, official code and rosinality's). The test runs the
trainer on a one-parameter task and replays the same steps by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch import Tensor, nn

from tests.helpers.toy import ToyData
from tsb.errors import ConfigError
from tsb.losses import LossSet
from tsb.losses.adversarial import R1Penalty
from tsb.tasks.base import Phase, PhaseOutput, Task, lazy_ratio
from tsb.training.trainer import Trainer

LR, BETAS, EPS, K, STEPS = 0.1, (0.5, 0.9), 1e-8, 4, 9
TARGET, REG = 1.0, 0.5


class OneWeight(Task):
    """main: (w - 1)^2 every step; reg: 0.5 * w^2 every K steps; one group."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(3.0))

    def phases(self) -> list[Phase]:
        return [Phase("main", "g"), Phase("reg", "g", interval=K)]

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"g": [self.w]}

    def phase_loss(self, phase: Phase, batch: dict[str, object], step: int) -> PhaseOutput:
        loss = (self.w - TARGET) ** 2 if phase.name == "main" else REG * self.w**2
        return PhaseOutput(loss, {"w": self.w.detach()})

    def validation_step(self, batch: dict[str, object]) -> dict[str, Tensor]:
        return {"w": self.w.detach()}

    def sample(self, batch: dict[str, object]) -> Tensor:
        return torch.zeros(3, 2, 2)


def hand_adam() -> list[float]:
    """w after each trainer step, from Adam's update written out."""
    c = K / (K + 1)
    lr, b1, b2 = LR * c, BETAS[0] ** c, BETAS[1] ** c
    w, m, v, t = 3.0, 0.0, 0.0, 0

    def adam(g: float) -> None:
        nonlocal w, m, v, t
        t += 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + EPS)

    out = []
    for step in range(STEPS):
        adam(2 * (w - TARGET))  # main phase
        if step % K == 0:
            adam(K * 2 * REG * w)  # reg phase: gradient of REG * w^2, times the interval
        out.append(w)
    return out


def test_effective_adam_update_matches_the_hand_computation(tmp_path: Path) -> None:
    task = OneWeight()
    adam = OmegaConf.create(
        {"default": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": LR, "betas": list(BETAS), "eps": EPS}}
    )
    trainer = Trainer(task, ToyData(batch_size=4, seed=0), adam, tmp_path, max_steps=STEPS,
                      val_every_n_steps=100, progress_bar=False, device="cpu", precision=None)  # fmt: skip
    seen: list[float] = []
    inner = trainer.train_step

    def recording() -> dict[str, Tensor]:
        out = inner()
        seen.append(float(task.w.detach()))
        return out

    trainer.train_step = recording  # type: ignore[method-assign]
    trainer.run()
    group = trainer.optimizers["g"].param_groups[0]
    assert group["lr"] == pytest.approx(LR * K / (K + 1))
    assert group["betas"] == pytest.approx(tuple(b ** (K / (K + 1)) for b in BETAS))
    assert seen == pytest.approx(hand_adam(), rel=1e-5, abs=1e-6)


def test_lazy_ratio() -> None:
    assert lazy_ratio([Phase("D", "d"), Phase("D_reg", "d", interval=16)], "d") == pytest.approx(16 / 17)
    assert lazy_ratio([Phase("D", "d"), Phase("G", "g", interval=4)], "d") == 1.0  # other group
    assert lazy_ratio([Phase("G_reg", "g", interval=4)], "g") == 1.0  # alone: never scaled up


def test_the_phase_applies_the_gain_once_not_each_term() -> None:
    """Terms of one phase with different intervals (misweighted before: the phase ran at the
    largest interval while each term multiplied by its own) are refused."""
    class OtherReg(R1Penalty):
        pass

    loss = LossSet(r1=R1Penalty(interval=16), other=OtherReg(interval=8))
    with pytest.raises(ConfigError, match=r"loss.r1.interval=16, loss.other.interval=8"):
        loss.phase_intervals()
    assert LossSet(r1=R1Penalty(interval=16), other=OtherReg(interval=16)).phase_intervals() == {"D_reg": 16}
