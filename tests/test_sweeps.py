"""Sweeps need no code change: Hydra multirun over loss weights, locally and through submitit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

FAST = ["debug=fast", "trainer.max_steps=2", "trainer.val_every_n_steps=2", "data.num_workers=0",
        "data.batch_size=2", "data.val_batch_size=2"]


def run_train(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "train.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def summaries(sweep_dir: Path) -> dict[str, dict[str, float]]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(sweep_dir.glob("*/summary.json"))}


def test_multirun_over_a_loss_weight_runs_one_job_per_value(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    out = run_train(["-m", "loss.background.weight=2,5,10", f"hydra.sweep.dir={sweep}", *FAST], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    got = summaries(sweep)
    assert sorted(got) == ["0", "1", "2"] and all(s["step"] == 2 for s in got.values())
    weights = [(sweep / j / ".hydra" / "overrides.yaml").read_text() for j in ("0", "1", "2")]
    assert ["loss.background.weight=2" in weights[0], "loss.background.weight=5" in weights[1],
            "loss.background.weight=10" in weights[2]] == [True, True, True]


def test_local_submitit_sweep_and_summary_table(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    out = run_train(["-m", "hydra/launcher=local", "loss.reconstruction.weight=5,20",
                     f"hydra.sweep.dir={sweep}", *FAST], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert sorted(summaries(sweep)) == ["0", "1"]
    assert list(sweep.glob(".submitit/*")), "jobs did not go through submitit"
    table = subprocess.run([sys.executable, "-m", "tsb.summary", str(sweep), "--file", "summary.json",
                            "--sort", "step"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 3  # header + both jobs
    assert "loss.reconstruction.weight=5" in table and "loss.reconstruction.weight=20" in table
    assert (sweep / "summary_table.csv").is_file()
