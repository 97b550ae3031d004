"""Does the generator learn at all? The check users run when a re-implementation "does not converge".

On a handful of fixed synthetic pairs (words in the content font, recoloured), the supervised L1
of a tiny StyleBrush generator (the real networks, narrow) must fall by at least half. The
always-on test runs 50 steps; the slow one runs 400 and also asks the output to beat the
trivial "copy the style image" answer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from omegaconf import DictConfig

from tests.tasks.pairs import make_pairs
from tsb.losses.reconstruction import masked_l1
from tsb.tasks.base import Phase
from tsb.train import build_task


def train_supervised(tiny_cfg: Callable[..., DictConfig], steps: int) -> tuple[float, float, dict]:
    torch.manual_seed(0)
    task = build_task(tiny_cfg(["~loss.reconstruction", "~loss.mask", "loss.supervised.weight=1"]))
    batch = make_pairs(4, 64)
    opt = torch.optim.Adam(task.param_groups()["generator"], lr=5e-3, betas=(0.0, 0.99))
    (phase,) = task.phases()
    assert phase == Phase("G", "generator")
    first = last = float("nan")
    for step in range(steps):
        out = task.phase_loss(phase, batch, step)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        value = float(out.logs["supervised"])
        first = value if step == 0 else first
        last = value
    task.eval()
    with torch.no_grad():
        fake = task.generate(batch["style"], batch["content_tgt"]).image  # type: ignore[operator]
    return first, last, {"fake": fake, **batch}


def test_supervised_l1_halves(tiny_cfg: Callable[..., DictConfig]) -> None:
    first, last, _ = train_supervised(tiny_cfg, 50)
    assert last <= 0.5 * first, (first, last)


@pytest.mark.slow
def test_supervised_l1_halves_and_beats_copying(tiny_cfg: Callable[..., DictConfig]) -> None:
    first, last, out = train_supervised(tiny_cfg, 400)
    assert last <= 0.5 * first, (first, last)
    copy = float(masked_l1(out["style"], out["target"], out["mask_tgt"]))
    assert float(masked_l1(out["fake"], out["target"], out["mask_tgt"])) < copy
