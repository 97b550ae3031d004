"""Resuming with other settings: the command line applies, and start-up says what changed.

A checkpoint holds the optimizer's state (its moments *and* its hyper-parameters) and the lr
schedule's state (its length, its step). Resuming with ``ckpt_path=auto`` and a new learning rate,
a longer run (the cosine schedule's ``T_max`` follows ``trainer.max_steps``) or another optimizer
must train with what the command line says, not with what the checkpoint remembers; where the
checkpoint's state cannot serve the new optimizer, the run is refused with one message. A run
resumed with the same settings is still the uninterrupted run, bit for bit
(tests/training/test_trainer.py).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf

from tests.helpers.toy import ToyData, ToyTask
from tsb.errors import ConfigError
from tsb.logger.jsonl import JsonlLogger, read_metrics
from tsb.training.checkpoint import load_checkpoint
from tsb.training.trainer import Trainer
from tsb.utils.seed import seed_everything


def optimizer(
    target: str = "torch.optim.Adam", lr: float = 0.01, cosine: int | None = None, **kw: Any
) -> Any:
    node: dict[str, Any] = {"default": {"_target_": target, "_partial_": True, "lr": lr, **kw}}
    if cosine is not None:
        node["scheduler"] = {
            "default": {
                "_target_": "torch.optim.lr_scheduler.CosineAnnealingLR",
                "_partial_": True,
                "T_max": cosine,
            }
        }
    return OmegaConf.create(node)


def trainer(run_dir: Path, opt: Any, max_steps: int = 10) -> Trainer:
    seed_everything(0)
    return Trainer(
        ToyTask(),
        ToyData(batch_size=8, seed=3),
        opt,
        run_dir,
        loggers=[JsonlLogger()],
        resolved_config={"task_name": "toy", "optimizer": OmegaConf.to_container(opt)},
        max_steps=max_steps,
        val_every_n_steps=5,
        limit_val_batches=1,
        log_every_n_steps=1,
        ema_decay=None,
        progress_bar=False,
        device="cpu",
    )


def lrs(run_dir: Path) -> dict[int, float]:
    """The learning rate of each step, as the optimizer ran it (logged by the test's own hook)."""
    return {int(r["step"]): r["train/lr"] for r in read_metrics(run_dir / "metrics.jsonl") if "train/lr" in r}


def log_lr(t: Trainer) -> None:
    """Log the lr each step actually used (before the scheduler moves it)."""
    original = t.train_step

    def step() -> dict[str, torch.Tensor]:
        lr = t.optimizers["model"].param_groups[0]["lr"]
        logs = original()
        return {**logs, "train/lr": torch.tensor(lr, dtype=torch.float64)}

    t.train_step = step  # type: ignore[method-assign]


def test_a_new_learning_rate_applies_and_is_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    trainer(tmp_path, optimizer(lr=0.01), max_steps=5).run()
    before = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["task"]
    resumed = trainer(tmp_path, optimizer(lr=1e-6), max_steps=10)
    with caplog.at_level(logging.INFO, logger="tsb.training.trainer"):
        resumed.run(ckpt_path="auto")
    fresh = trainer(tmp_path / "fresh", optimizer(lr=1e-6))
    fresh.setup()  # a new run with that lr (the toy task's lazy phase scales it by 2/3)
    lr = fresh.optimizers["model"].param_groups[0]["lr"]
    assert resumed.optimizers["model"].param_groups[0]["lr"] == lr
    # Adam moves each weight by about lr a step: five steps at 1e-6, not at 0.01
    after = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    moved = max(float((after["task"][k] - before[k]).abs().max()) for k in before)
    assert 0 < moved < 5 * 1e-6 * 1.5
    assert after["optimizers"]["model"]["param_groups"][0]["lr"] == lr  # what ran is what is recorded
    said = [
        r.getMessage() for r in caplog.records if "lr" in r.getMessage() and "checkpoint" in r.getMessage()
    ]
    assert said and "0.01" in said[0] and "1e-06" in said[0], said


def test_a_longer_run_stretches_the_cosine_schedule(tmp_path: Path) -> None:
    """10 steps of a 10-step cosine end at lr 0; raised to 20 steps the schedule is the 20-step one
    from step 10 on (lr/2, falling), not the old one climbing back up."""
    short = trainer(tmp_path / "run", optimizer(lr=0.01, cosine=10), max_steps=10)
    log_lr(short)
    short.run()
    longer = trainer(tmp_path / "run", optimizer(lr=0.01, cosine=20), max_steps=20)
    log_lr(longer)
    longer.run(ckpt_path="auto")
    ran = lrs(tmp_path / "run")
    base = ran[1]  # 0.01 x 2/3: the toy task's lazy phase scales the lr
    for step in range(11, 21):  # the lr of step s was set after s - 1 scheduler steps
        expected = base * (1 + math.cos(math.pi * (step - 1) / 20)) / 2
        assert ran[step] == pytest.approx(expected, rel=1e-9, abs=1e-12), step
    assert all(ran[s + 1] <= ran[s] for s in range(11, 20))


def test_another_optimizer_runs_with_its_own_settings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Adam's moments carry over to AdamW (the same state), with AdamW's hyper-parameters."""
    trainer(tmp_path, optimizer("torch.optim.Adam", lr=0.01), max_steps=5).run()
    saved = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["optimizers"]["model"]
    adamw = optimizer("torch.optim.AdamW", lr=0.003, weight_decay=0.05, betas=[0.8, 0.9])
    resumed = trainer(tmp_path, adamw, max_steps=10)
    with caplog.at_level(logging.INFO, logger="tsb.training.trainer"):
        resumed.setup("auto")
    fresh = trainer(tmp_path / "fresh", adamw)
    fresh.setup()
    opt = resumed.optimizers["model"]
    assert type(opt) is torch.optim.AdamW
    settings = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    assert settings == {k: v for k, v in fresh.optimizers["model"].param_groups[0].items() if k != "params"}
    assert settings["weight_decay"] == 0.05 and settings["lr"] == pytest.approx(0.003 * 2 / 3)
    first = opt.param_groups[0]["params"][0]
    assert torch.equal(opt.state[first]["exp_avg"], saved["state"][0]["exp_avg"])
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "Adam" in said and "AdamW" in said and "weight_decay" in said


def test_an_optimizer_whose_state_does_not_fit_is_refused(tmp_path: Path) -> None:
    trainer(tmp_path, optimizer("torch.optim.Adam"), max_steps=5).run()
    resumed = trainer(tmp_path, optimizer("torch.optim.SGD", momentum=0.9), max_steps=10)
    with pytest.raises(ConfigError, match=r"Adam.*SGD.*ckpt_path=null") as e:
        resumed.setup("auto")
    assert "\n" not in str(e.value) and e.value.exit_code == 2


def test_the_same_settings_say_nothing_changed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    trainer(tmp_path, optimizer(lr=0.01, cosine=10), max_steps=5).run()
    with caplog.at_level(logging.INFO, logger="tsb.training.trainer"):
        trainer(tmp_path, optimizer(lr=0.01, cosine=10), max_steps=10).setup("auto")
    assert not [r for r in caplog.records if "instead of the checkpoint" in r.getMessage()]


def test_metrics_of_the_redone_steps_are_not_kept_twice(tmp_path: Path) -> None:
    """A run killed after step 7 with its last checkpoint at step 5 redoes steps 6 and 7: their
    first lines are dropped from metrics.jsonl when it resumes."""
    trainer(tmp_path, optimizer(), max_steps=5).run()
    with (tmp_path / "metrics.jsonl").open("a") as f:  # what the killed run logged after step 5
        for step in (6, 7):
            f.write(json.dumps({"step": step, "train/main/ce": 99.0}) + "\n")
        f.write('{"step": 8, "train/ma')  # cut mid-line by the kill
    trainer(tmp_path, optimizer(), max_steps=10).run(ckpt_path="auto")
    rows = read_metrics(tmp_path / "metrics.jsonl")
    train_steps = [r["step"] for r in rows if "train/main/ce" in r]
    assert train_steps == list(range(1, 11))
    assert all(r["train/main/ce"] != 99.0 for r in rows if "train/main/ce" in r)


def test_max_steps_below_the_checkpoint_is_refused(tmp_path: Path) -> None:
    trainer(tmp_path, optimizer(), max_steps=8).run()
    with pytest.raises(ConfigError, match=r"step 8.*trainer\.max_steps=5"):
        trainer(tmp_path, optimizer(), max_steps=5).run(ckpt_path="auto")


def test_max_steps_equal_to_the_checkpoint_says_there_is_nothing_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trainer(tmp_path, optimizer(), max_steps=5).run()
    with caplog.at_level(logging.INFO, logger="tsb.training.trainer"):
        summary = trainer(tmp_path, optimizer(), max_steps=5).run(ckpt_path="auto")
    assert summary["step"] == 5
    assert any("nothing to train" in r.getMessage() for r in caplog.records)


def test_a_resume_with_the_same_schedule_is_the_uninterrupted_run(tmp_path: Path) -> None:
    """The schedule replayed to the checkpoint's step gives the same numbers as the one that ran."""
    full, part = tmp_path / "full", tmp_path / "part"
    trainer(full, optimizer(lr=0.01, cosine=10), max_steps=10).run()
    trainer(part, optimizer(lr=0.01, cosine=10), max_steps=5).run()
    trainer(part, optimizer(lr=0.01, cosine=10), max_steps=10).run(ckpt_path="auto")
    a = load_checkpoint(full / "checkpoints" / "last.ckpt")
    b = load_checkpoint(part / "checkpoints" / "last.ckpt")
    assert all(torch.equal(a["task"][k], b["task"][k]) for k in a["task"])
    assert (
        a["optimizers"]["model"]["param_groups"][0]["lr"] == b["optimizers"]["model"]["param_groups"][0]["lr"]
    )
    assert read_metrics(full / "metrics.jsonl") == read_metrics(part / "metrics.jsonl")
