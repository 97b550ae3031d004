"""Writing a trained helper network (typeface classifier, recognizer) where the losses read it.

The helper tasks' ``export(path)`` (called by the trainer at the end of a run when
``trainer.export_path`` is set, with EMA weights applied where kept) is :func:`export_helper`.
The file format is described in :mod:`tsb.pretrained.helpers`, which writes and reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tsb.errors import ConfigError
from tsb.pretrained.helpers import write_helper_checkpoint
from tsb.tasks.base import Task


def export_helper(task: Task, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Atomically write ``task.helper_payload()`` (+ ``extra``: plain values only) to ``path``."""
    make = getattr(task, "helper_payload", None)
    if make is None:
        raise ConfigError(
            f"{type(task).__name__} has no helper network to export; trainer.export_path is for "
            "experiment=typeface and experiment=recognizer"
        )
    payload: dict[str, Any] = make()
    payload.update(dict(extra or {}))
    return write_helper_checkpoint(Path(path).expanduser(), payload)
