"""A tiny published run for the release tests: a split-design checkpoint with EMA weights, its run
folder (overrides, summary) and an evaluation report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers.tiny import make_split_checkpoint

REPORT: dict[str, Any] = {
    "data": "data_cache/bench",
    "num_samples": 3,
    "mode": "paired",
    "judge": "ppocr",
    "device": "cpu",
    "rows": {"model": "model", "copy_source": "copy the source"},
    "metrics": {
        "model": {"mse": 0.01, "psnr": 20.5, "ssim": 0.8, "lpips": 0.1, "fid": 30.0, "rec_acc": 90.0, "ned": 0.05},
        "copy_source": {
            "mse": 0.04,
            "psnr": 14.7,
            "ssim": 0.65,
            "lpips": 0.26,
            "fid": 53.4,
            "rec_acc": 0.0,
            "ned": 0.93,
        },
    },
}


def make_run(root: Path, seed: int = 0) -> Path:
    """``root/run/checkpoints/last.ckpt`` (step 7, EMA weights 0.01 off the live ones) and its run
    folder's ``.hydra/overrides.yaml`` and ``summary.json``; returns the checkpoint."""
    run = root / "run"
    ckpt = make_split_checkpoint(run / "checkpoints" / "last.ckpt", seed=seed, ema_shift=0.01)
    (run / ".hydra").mkdir(exist_ok=True)
    (run / ".hydra" / "overrides.yaml").write_text("- experiment=stylebrush_bg\n")
    (run / "summary.json").write_text(json.dumps({"wall_s": 600.0}))
    return ckpt


def write_report(path: Path, report: dict[str, Any] | None = None) -> Path:
    path.write_text(json.dumps(REPORT if report is None else report))
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
