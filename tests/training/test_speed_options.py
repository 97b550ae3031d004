"""The GPU speed switches train the real model as the plain settings do.

``trainer.channels_last`` and a fused Adam (``optimizer.default.fused``) run on CPU too, so they
are checked here; bf16 autocast and pinned-memory loading are CUDA-only and checked where a GPU is
present (the ``cuda`` marker skips them elsewhere). A run is three steps of the tiny StyleBrush
with a GAN loss (D, R1, G), compared step by step with the same run without the switch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from tests.conftest import compose_config
from tests.tasks.conftest import TINY_MODEL
from tsb.train import build_trainer
from tsb.training.trainer import Trainer

GAN = [
    *TINY_MODEL,
    "loss.adversarial.weight=0.1",
    "loss.r1.weight=1",
    "loss.r1.interval=2",
    "loss.cycle.weight=1",
    "data.batch_size=4",
    "data.num_workers=0",
    "trainer.ema_decay=null",
]


Run = tuple[list[dict[str, float]], list[torch.Tensor], Trainer]


def run(
    tmp_path: Path,
    name: str,
    overrides: list[str],
    steps: int = 3,
    prepare: Callable[[Trainer], None] | None = None,
) -> Run:
    """``steps`` training steps: the logged values of each, the gradients of step 0 (the last
    phase of each group: R1 for the discriminator, G for the generator) and the trainer;
    ``prepare`` runs on the trainer after its setup."""
    cfg = compose_config([*GAN, *overrides], tmp_path / name)
    torch.manual_seed(0)
    trainer = build_trainer(cfg, tmp_path / name / "run")
    trainer.setup()
    if prepare is not None:
        prepare(trainer)
    logs: list[dict[str, float]] = []
    grads: list[torch.Tensor] = []
    for step in range(steps):
        logs.append({k: float(v) for k, v in trainer.train_step().items()})
        trainer.step += 1
        if step == 0:
            grads = [p.grad.detach().float().cpu().clone() for p in trainer.task.parameters() if p.grad is not None]
    return logs, grads, trainer


def assert_same_step(a: Run, b: Run, values: float, grads: float) -> None:
    """Step 0 (the same weights) gives the same values and gradients; later steps stay finite.

    Gradients compare as one vector (relative distance): the tiny content encoder's batch norms
    see near-constant maps and turn 1e-7 rounding differences into 1-2% on their own gradients
    (measured for channels_last). Later values are not compared: one GAN step at initialisation
    moves the weights so far that 1e-5 differences come out as 1% a step later.
    """
    assert a[0][0].keys() == b[0][0].keys()
    for k in a[0][0]:
        assert b[0][0][k] == pytest.approx(a[0][0][k], rel=values, abs=values), k
    assert grad_distance(a, b) <= grads
    assert all(math.isfinite(v) for step in b[0] for v in step.values())


def grad_distance(a: Run, b: Run) -> float:
    """The relative distance between the step-0 gradients of two runs (one vector each)."""
    assert [g.shape for g in a[1]] == [h.shape for h in b[1]] and a[1]
    g, h = torch.cat([t.flatten() for t in a[1]]), torch.cat([t.flatten() for t in b[1]])
    return float((h - g).norm()) / float(g.norm())


def round_weights_to_bf16(trainer: Trainer) -> None:
    """Every weight of the task rounded to bfloat16 (kept in float32)."""
    with torch.no_grad():
        for p in trainer.task.parameters():
            p.copy_(p.to(torch.bfloat16).float())


def test_channels_last_trains_as_contiguous_memory(tmp_path: Path) -> None:
    plain = run(tmp_path, "plain", ["trainer.device=cpu"])
    fast = run(tmp_path, "fast", ["trainer.device=cpu", "trainer.channels_last=true"])
    assert_same_step(plain, fast, values=1e-4, grads=1e-2)
    convs = [m.weight for m in fast[2].task.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)


def test_fused_adam_comes_from_the_config(tmp_path: Path) -> None:
    plain = run(tmp_path, "plain", ["trainer.device=cpu"])
    fused = run(tmp_path, "fused", ["trainer.device=cpu", "optimizer.default.fused=true"])
    assert set(fused[2].optimizers) == {"generator", "discriminator"}
    assert all(opt.defaults["fused"] is True for opt in fused[2].optimizers.values())
    assert all(not opt.defaults["fused"] for opt in plain[2].optimizers.values())
    assert_same_step(plain, fused, values=1e-6, grads=1e-6)


@pytest.mark.cuda
def test_bf16_channels_last_fused_adam_on_cuda(tmp_path: Path) -> None:
    """bf16 moves the step-0 gradients no more than bf16's own rounding of the weights does.

    A fixed tolerance cannot say that: at initialisation the tiny model's encoder gradients are
    ill-conditioned (measured in fp32 on CPU: weights rounded to bf16 move the whole gradient
    by 12%, a random 0.4% change of every weight by 21%; bf16 autocast moved it by 16% on an
    H200, 18% on CPU), so the yardstick is the fp32 run with its weights rounded to bf16."""
    plain = ["trainer.device=cuda", "trainer.precision=null", "trainer.tf32=false"]
    fp32 = run(tmp_path, "fp32", plain)
    # trainer.tf32 applies in every precision (fp32 is where it matters)
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    rounded = run(tmp_path, "rounded", plain, prepare=round_weights_to_bf16)
    rounding = grad_distance(fp32, rounded)
    assert 0 < rounding < 0.5
    fast = run(
        tmp_path,
        "bf16",
        [
            "trainer.device=cuda",
            "trainer.precision=bf16",
            "trainer.channels_last=true",
            "optimizer.default.fused=true",
            "data.pin_memory=true",
        ],
    )
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    assert all(p.is_cuda for p in fast[2].task.parameters())
    assert all(opt.defaults["fused"] is True for opt in fast[2].optimizers.values())
    assert_same_step(fp32, fast, values=3e-2, grads=2.5 * rounding)  # bf16 keeps 8 bits of mantissa


@pytest.mark.cuda
def test_pinned_batches_reach_cuda(tmp_path: Path) -> None:
    cfg = compose_config([*GAN, "trainer.device=cuda", "data.pin_memory=true"], tmp_path)
    trainer = build_trainer(cfg, tmp_path / "run")
    trainer.setup()
    raw = next(iter(trainer.data.train_loader()))
    assert all(v.is_pinned() for v in raw.values() if isinstance(v, torch.Tensor))
    batch = trainer._next_batch()
    assert all(v.is_cuda for v in batch.values() if isinstance(v, torch.Tensor))
