"""``metrics.jsonl`` in the run folder: one JSON object per ``log_metrics`` call, flushed each time.

Each line is ``{"step": <int>, "<key>": <float>, ...}``. The file is opened in append mode, so a
resumed run continues the same file; on resume (:meth:`JsonlLogger.resume`) the lines of the steps
after the checkpoint, which the run does again, are dropped first (and a last line cut short by a
kill), so each step is in the file once. Values are converted with ``float()``
(tensors and numpy scalars included); non-finite values are written as ``NaN`` / ``Infinity``,
which Python's ``json`` reads back. Secret env values in keys are redacted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from tsb.logger.base import Logger
from tsb.utils.io import atomic_write_bytes
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

    def resume(self, step: int) -> None:
        """Drop the lines of steps after ``step`` (done again by the resumed run) and a last line
        cut short by a kill; the file is rewritten atomically."""
        if self.path is None or not self.path.is_file():
            return
        lines = self.path.read_text(encoding="utf-8").splitlines()
        kept = []
        for i, line in enumerate(lines):
            try:
                record = json.loads(line)
            except ValueError:
                if i == len(lines) - 1:
                    continue  # written half when the run was killed
                kept.append(line)  # not ours to judge: kept as it was
                continue
            if not (isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] > step):
                kept.append(line)
        if len(kept) == len(lines):
            return
        self.finish()
        atomic_write_bytes(self.path, "".join(f"{ln}\n" for ln in kept).encode("utf-8"))
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
