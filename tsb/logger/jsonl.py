"""``metrics.jsonl`` in the run folder: one JSON object per ``log_metrics`` call, flushed each time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tsb.logger.base import Logger


class JsonlLogger(Logger):
    def __init__(self, filename: str = "metrics.jsonl") -> None:
        self.filename = filename
        self.path: Path | None = None

    def setup(self, run_dir: Path, config: dict[str, Any]) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / self.filename

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if self.path is None:
            return
        with open(self.path, "a") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")
