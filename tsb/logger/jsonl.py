"""``metrics.jsonl`` in the run folder: one JSON object per ``log_metrics`` call, flushed each time.

Each line is ``{"step": <int>, "<key>": <float>, ...}``. The file is opened in append mode, so a
resumed run continues the same file (lines of steps logged after the resumed checkpoint appear
twice; :func:`read_metrics` keeps them, in file order). Values are converted with ``float()``
(tensors and numpy scalars included); non-finite values are written as ``NaN`` / ``Infinity``,
which Python's ``json`` reads back. Secret env values in keys are redacted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from tsb.logger.base import Logger
from tsb.utils.secrets import redact


def _number(value: Any) -> float | int | str:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(redact(str(value)))


class JsonlLogger(Logger):
    """Appends ``{"step": step, **metrics}`` to ``<run_dir>/<filename>``."""

    def __init__(self, filename: str = "metrics.jsonl") -> None:
        self.filename = filename
        self.path: Path | None = None
        self._file: IO[str] | None = None

    def setup(self, run_dir: Path, config: dict[str, Any]) -> None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        self.finish()
        self.path = run_dir / self.filename
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open, closed in finish()

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if self.path is None:
            return  # not set up (e.g. a non-main process)
        if self._file is None:  # after finish(): reopen rather than drop the line
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        record: dict[str, Any] = {"step": int(step)}
        for key, value in metrics.items():
            record[redact(str(key))] = _number(value)
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def finish(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` file, in order (NaN / Infinity read as floats)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out
