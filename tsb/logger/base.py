"""Logger interface. The trainer always writes ``metrics.jsonl`` and a console progress bar
itself; loggers in ``cfg.logger`` (a dict name -> config, possibly empty) receive the same
scalars, the resolved config and the sample grids."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class Logger:
    """Base logger: every method is a no-op, subclasses override what they support."""

    def setup(self, run_dir: Path, config: dict[str, Any]) -> None:
        """Called once before training with the run folder and the resolved, secret-free config."""

    def resume(self, step: int) -> None:
        """Called after :meth:`setup` when the run resumes from a checkpoint of ``step``: the steps
        after it are done again, so what was logged for them is logged again."""

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Scalars, keys like ``train/G/adv`` or ``val/l1``."""

    def log_image(self, key: str, path: Path, step: int) -> None:
        """A PNG file already written in the run folder (sample grids)."""

    def finish(self) -> None:
        """Flush and close."""
