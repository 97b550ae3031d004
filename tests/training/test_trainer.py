"""Trainer mechanics on a small real task (tests/helpers/toy.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf

from tests.helpers.toy import ToyData, ToyTask
from tsb.errors import CheckpointError, NonFiniteLossError
from tsb.logger.jsonl import JsonlLogger
from tsb.training.checkpoint import load_checkpoint, save_checkpoint
from tsb.training.trainer import Trainer
from tsb.utils.seed import seed_everything

ADAM = OmegaConf.create({"default": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.01}})


def make_trainer(run_dir: Path, *, task: ToyTask | None = None, batch_size: int = 8, **kw: Any) -> Trainer:
    seed_everything(0)
    task = task or ToyTask()
    data = ToyData(batch_size=batch_size, seed=3)
    opts: dict[str, Any] = {
        "max_steps": 20,
        "val_every_n_steps": 5,
        "limit_val_batches": 2,
        "log_every_n_steps": 1,
        "ema_decay": 0.9,
        "progress_bar": False,
        "device": "cpu",
    }
    opts.update(kw)
    return Trainer(task, data, ADAM, run_dir, loggers=[JsonlLogger()], resolved_config={"task_name": "toy"}, **opts)


def read_metrics(run_dir: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]


def train_losses(run_dir: Path) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for rec in read_metrics(run_dir):
        keys = {k: v for k, v in rec.items() if k.startswith("train/")}
        if keys:
            out.setdefault(int(rec["step"]), {}).update(keys)
    return out


def test_loss_falls_and_run_writes_outputs(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, max_steps=60, val_every_n_steps=20)
    summary = trainer.run()
    losses = train_losses(tmp_path)
    first = [losses[s]["train/main/ce"] for s in sorted(losses)[:5]]
    last = [losses[s]["train/main/ce"] for s in sorted(losses)[-5:]]
    assert sum(last) < 0.5 * sum(first)
    assert summary["val/acc"] > 0.8
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert sorted(p.name for p in (tmp_path / "samples").glob("*.png")) == [
        "step_0000020.png", "step_0000040.png", "step_0000060.png"
    ]
    assert json.loads((tmp_path / "summary.json").read_text())["step"] == 60
    # the reg phase (interval 2) ran on even steps only
    assert "train/reg/l2" in losses[1] and "train/reg/l2" not in losses[2]


def test_resume_reproduces_the_uninterrupted_run_exactly(tmp_path: Path) -> None:
    full, part = tmp_path / "full", tmp_path / "part"
    make_trainer(full, max_steps=20).run()
    make_trainer(part, max_steps=10).run()
    resumed = make_trainer(part, max_steps=20)
    resumed.run(ckpt_path="auto")
    assert resumed.step == 20
    a, b = train_losses(full), train_losses(part)
    assert sorted(a) == sorted(b) == list(range(1, 21))
    for step in a:
        assert a[step] == b[step], f"step {step}: {a[step]} != {b[step]}"
    pa = torch.load(full / "checkpoints" / "last.ckpt", weights_only=True)["task"]
    pb = torch.load(part / "checkpoints" / "last.ckpt", weights_only=True)["task"]
    assert all(torch.equal(pa[k], pb[k]) for k in pa)


def test_checkpoint_holds_every_part_of_the_state(tmp_path: Path) -> None:
    make_trainer(tmp_path, max_steps=5, monitor="val/ce").run()
    state = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    for key in ("task", "optimizers", "schedulers", "scalers", "ema", "step", "data", "rng", "best", "config"):
        assert key in state
    assert state["step"] == 5 and state["data"] == {"consumed_batches": 5}
    assert set(state["rng"]) >= {"python", "numpy", "torch"}
    assert (tmp_path / "checkpoints" / "best.ckpt").is_file()
    assert state["best"]["metric"] == "val/ce"


@pytest.mark.parametrize("damage", ["truncate", "foreign", "garbage", "missing"])
def test_bad_checkpoint_gives_one_clear_error(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "x.ckpt"
    if damage != "missing":
        save_checkpoint(path, {"task": ToyTask().state_dict(), "step": 1})
    if damage == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "foreign":
        torch.save({"weights": torch.zeros(3)}, path)
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert str(path) in str(err.value)


def test_save_is_atomic_previous_file_survives_a_failed_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "last.ckpt"
    save_checkpoint(path, {"step": 1})

    def boom(*a: Any, **k: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        save_checkpoint(path, {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, task=ToyTask(nan_at_step=7), max_steps=20)
    with pytest.raises(NonFiniteLossError, match=r"phase 'main' is nan at step 7.*last good checkpoint"):
        trainer.run()
    assert load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["step"] == 5


def test_gradient_accumulation_matches_the_big_batch(tmp_path: Path) -> None:
    task_a = ToyTask()
    task_a.net[3].p = 0.0  # no dropout: compare exact gradients
    task_b = ToyTask()
    task_b.load_state_dict(task_a.state_dict())
    task_b.net[3].p = 0.0
    a = make_trainer(tmp_path / "a", task=task_a, batch_size=8, max_steps=1, ema_decay=None)
    b = make_trainer(tmp_path / "b", task=task_b, batch_size=4, accumulate_grad_batches=2, max_steps=1, ema_decay=None)
    a.run()
    b.run()
    for pa, pb in zip(task_a.parameters(), task_b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_epochs_mode_and_grad_clipping(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, max_steps=None, max_epochs=2, grad_clip_norm=1e-9)
    before = [p.detach().clone() for p in trainer.task.parameters()]
    trainer.run()
    assert trainer.step == 2 * (256 // 8)
    # with a vanishing clip norm Adam still moves (sign of the grad), but clip must have run:
    # the grad norm left after the last step is at most the clip norm
    total = torch.sqrt(sum(p.grad.norm() ** 2 for p in trainer.task.parameters() if p.grad is not None))
    assert float(total) <= 1e-8
    assert any(not torch.equal(b, p) for b, p in zip(before, trainer.task.parameters()))


def test_ema_weights_are_used_for_validation_and_restored(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, max_steps=5)
    trainer.run()
    assert trainer.ema is not None
    live = [p.detach().clone() for p in trainer.task.net.parameters()]
    shadow = list(trainer.ema.shadow["net"].parameters())
    assert any(not torch.equal(a, b) for a, b in zip(live, shadow))
    with trainer.ema.applied():
        assert all(torch.equal(a, b) for a, b in zip(trainer.task.net.parameters(), shadow))
    assert all(torch.equal(a, b) for a, b in zip(trainer.task.net.parameters(), live))
