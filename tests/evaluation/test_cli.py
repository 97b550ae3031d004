"""evaluate.py as a Hydra program: a multirun over two checkpoints, then tsb.summary over the sweep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.tiny import ROOT, make_recognizer_checkpoint, make_task_checkpoint
from tsb.summary import summarize


@pytest.mark.slow  # two evaluations in a subprocess: about a minute on two busy cores
def test_multirun_two_checkpoints_and_summary(tmp_path: Path, paired_root: Path) -> None:
    a = make_task_checkpoint(tmp_path / "a.ckpt", seed=1)
    b = make_task_checkpoint(tmp_path / "b.ckpt", seed=2)
    make_recognizer_checkpoint(tmp_path / "ck" / "recognizer.ckpt")
    sweep = tmp_path / "multi"
    data = [f"data.root={paired_root}"]
    cmd = [
        sys.executable, "evaluate.py", "-m", f"ckpt_path={a},{b}", *data,
        f"paths.checkpoints_dir={tmp_path / 'ck'}", f"hydra.sweep.dir={sweep}",
        "device=cpu", "max_samples=2", "metrics=[mse,psnr,rec_acc]", "progress=false", "save_images=false",
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
        "TORCH_HOME": str(tmp_path / "torch"),
    }
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reports = sorted(sweep.glob("*/report.json"))
    assert len(reports) == 2
    ckpts = {json.loads(r.read_text())["checkpoint"] for r in reports}
    assert ckpts == {str(a), str(b)}
    _, rows, cols = summarize(sweep, sort="model/mse")
    assert [r["run"] for r in rows] != [] and "overrides" in cols
    mses = [r["metrics/model/mse"] for r in rows]
    assert mses == sorted(mses) and mses[0] != mses[1]  # two different random models
    assert all(r["metrics/model/lpips"] is None for r in rows)  # not requested: null, not a number


@pytest.mark.slow  # a subprocess: ~15 s of imports on a busy machine
def test_missing_checkpoint_is_one_message(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "evaluate.py", f"hydra.run.dir={tmp_path}", f"ckpt_path={tmp_path / 'none.ckpt'}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2  # a missing file (CheckpointError: what was given is wrong)
    out = proc.stdout + proc.stderr
    assert "checkpoint not found" in out and "Traceback" not in out
    full = subprocess.run(
        cmd, cwd=ROOT, env={**env, "HYDRA_FULL_ERROR": "1"}, capture_output=True, text=True, timeout=300
    )
    assert full.returncode != 0 and "Traceback" in full.stdout + full.stderr
