"""JsonlLogger: one JSON object per log_metrics call, readable while the run goes on."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from tsb.logger.jsonl import JsonlLogger, read_metrics


def test_one_line_per_call_flushed_immediately(tmp_path: Path) -> None:
    lg = JsonlLogger()
    lg.setup(tmp_path / "run", {"seed": 1})
    path = tmp_path / "run" / "metrics.jsonl"
    lg.log_metrics({"train/G/adv": 0.5, "lr": torch.tensor(1e-3)}, step=1)
    # readable by another reader before finish(): flushed each call
    assert json.loads(path.read_text().splitlines()[0]) == {
        "step": 1,
        "train/G/adv": 0.5,
        "lr": pytest.approx(1e-3),
    }
    lg.log_metrics({"val/l1": float("nan")}, step=2)
    lg.finish()
    lg.log_metrics({"late": 3.0}, step=3)  # after finish: reopened, not dropped
    lg.finish()
    rows = read_metrics(path)
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert math.isnan(rows[1]["val/l1"]) and rows[2]["late"] == 3.0


def test_resumed_run_appends(tmp_path: Path) -> None:
    for step in (1, 2):
        lg = JsonlLogger()
        lg.setup(tmp_path, {})
        lg.log_metrics({"loss": float(step)}, step=step)
        lg.finish()
    assert read_metrics(tmp_path / "metrics.jsonl") == [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 2.0}]


def test_not_set_up_writes_nothing(tmp_path: Path) -> None:
    JsonlLogger().log_metrics({"loss": 1.0}, step=0)  # e.g. a non-main process: silently nothing
    assert list(tmp_path.iterdir()) == []
