"""Training progress is never lost.

- ``trainer.checkpoint_every_n_steps`` is honoured on its own, not only at validations;
- SIGINT and SIGTERM finish the current step, write ``last.ckpt``, say so and exit non-zero
  (128 + the signal), and the run resumes from there as if never stopped;
- partial ``.last.ckpt.tmp-PID`` files of a killed run are removed;
- a bad step count is one message, not a run of no steps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.training.test_trainer import make_trainer, train_losses
from tsb.errors import ConfigError, TrainingInterrupted
from tsb.training import trainer as trainer_module
from tsb.training.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def _record_saves(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    saved: list[tuple[str, int]] = []
    real = trainer_module.save_checkpoint

    def recording(path: Path, state: dict[str, Any]) -> Path:
        saved.append((Path(path).name, int(state["step"])))
        return real(path, state)

    monkeypatch.setattr(trainer_module, "save_checkpoint", recording)
    return saved


def test_checkpoint_interval_is_honoured_between_validations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = _record_saves(monkeypatch)
    make_trainer(tmp_path, max_steps=12, val_every_n_steps=10, checkpoint_every_n_steps=3, monitor="val/ce").run()
    assert [s for n, s in saved if n == "last.ckpt"] == [3, 6, 9, 12]
    # best.ckpt follows the validations (steps 10 and 12), whatever the checkpoint interval
    assert [s for n, s in saved if n == "best.ckpt"][:1] == [10]


def _signal_at(trainer: Any, step: int, signum: int) -> None:
    inner = trainer.train_step

    def train_step() -> dict[str, torch.Tensor]:
        if trainer.step == step:
            os.kill(os.getpid(), signum)  # arrives in the middle of the step
        return inner()

    trainer.train_step = train_step


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_finishes_the_step_saves_and_resumes_exactly(tmp_path: Path, signum: int) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    make_trainer(tmp_path / "full").run()
    full = train_losses(tmp_path / "full")

    stopped = make_trainer(tmp_path / "cut")
    _signal_at(stopped, 6, signum)
    with pytest.raises(TrainingInterrupted, match=f"stopped by {signal.Signals(signum).name} after step 7") as e:
        stopped.run()
    assert e.value.exit_code == 128 + signum
    assert load_checkpoint(tmp_path / "cut" / "checkpoints" / "last.ckpt")["step"] == 7
    assert {s: signal.getsignal(s) for s in before} == before  # handlers restored

    make_trainer(tmp_path / "cut").run(ckpt_path="auto")
    assert train_losses(tmp_path / "cut") == full


def _wait_for_steps(proc: subprocess.Popen[str], metrics: Path, timeout: float = 120.0) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"train.py ended early: {proc.communicate()}")
        if metrics.is_file() and '"train/' in metrics.read_text():
            return
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("train.py logged no step in time")


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)]
)
def test_train_py_saves_on_signal_and_says_so(tmp_path: Path, signum: int) -> None:
    """A real ``python train.py debug=fast`` with data-loader workers, signalled the way SLURM
    (SIGTERM) and a terminal's Ctrl-C (SIGINT) do: every process of the group at once."""
    run = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "train.py"), "debug=fast", "trainer.max_steps=100000",
           "trainer.val_every_n_steps=100000", "data.num_workers=2", f"hydra.run.dir={run}"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    _wait_for_steps(proc, run / "metrics.jsonl")
    os.killpg(proc.pid, signum)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, out
    name = signal.Signals(signum).name
    assert f"stopped by {name} after step" in out and "ckpt_path=auto" in out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out
    state = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert state["step"] >= 1
    assert not list((run / "checkpoints").glob(".*tmp*"))


def test_stale_partial_checkpoints_are_removed(tmp_path: Path) -> None:
    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = ckpts / f".last.ckpt.tmp-{dead.pid}"
    mine = ckpts / f".best.ckpt.tmp-{os.getpid()}"
    for p in (stale, mine):
        p.write_bytes(b"partial")
    make_trainer(tmp_path, max_steps=1).setup()
    assert not stale.exists() and mine.exists()


@pytest.mark.parametrize(("key", "value"), [("max_steps", -5), ("max_steps", 0), ("max_steps", "abc"),
                                            ("max_epochs", 0), ("val_every_n_steps", -1)])  # fmt: skip
def test_bad_step_counts_are_one_message(tmp_path: Path, key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"trainer.{key} must be a whole number >= 1"):
        make_trainer(tmp_path, **{key: value})


def test_train_py_bad_max_steps_exits_2_without_traceback(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "train.py"), "debug=fast", "trainer.max_steps=abc", f"hydra.run.dir={tmp_path / 'r'}"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = res.stdout + res.stderr
    assert res.returncode in (1, 2) and "trainer.max_steps must be a whole number" in out, out
    assert "Traceback" not in out
