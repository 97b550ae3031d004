"""Storage interface: where a run's files go besides the local run folder.

The trainer writes every file locally first (the local copy is always kept) and then calls
``storage.upload(local_path, relative_name)``. Data sets and checkpoints are fetched with
``storage.download(remote, local_path)``. Storage never raises on a failed upload during
training: it retries, reports, and keeps the file for a later ``flush()``.
"""

from __future__ import annotations

from pathlib import Path


class Storage:
    """Base storage: keeps files in the run folder only."""

    def setup(self, run_dir: Path, run_name: str) -> None:
        """Called once before training: the local run folder and a name for the remote folder."""

    def upload(self, local_path: Path, name: str) -> None:
        """Copy ``local_path`` to the remote folder of this run under ``name``."""

    def download(self, remote: str, local_path: Path) -> Path:
        """Fetch ``remote`` (a path or link this storage understands) to ``local_path``."""
        raise NotImplementedError(f"{type(self).__name__} cannot download {remote!r}")

    def flush(self) -> None:
        """Retry pending uploads; called at the end of training."""
