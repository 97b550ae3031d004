"""Mirror a run's files into another folder (a network mount, a synced cloud folder, a USB disk).

``storage=local`` (the default, :class:`tsb.storage.base.Storage`) keeps files in the run folder
only; :class:`FolderStorage` additionally copies each uploaded file to
``<root>/<run_name>/<name>``, atomically (a temporary file, then a rename), so a reader of the
mirror never sees half a checkpoint. A failed copy (disk full, mount gone) is logged, kept
pending and retried by :meth:`FolderStorage.flush`; it never raises during training.
``download`` accepts a name inside this run's mirror, a path, or anything
:func:`tsb.storage.fetch.fetch` understands.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections import OrderedDict
from pathlib import Path

from tsb.storage.base import Storage
from tsb.storage.yadisk import check_name

log = logging.getLogger(__name__)


class FolderStorage(Storage):
    """Copy run files to ``<root>/<run_name>/``."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).expanduser()
        self.run_root: Path | None = None
        self._pending: OrderedDict[str, Path] = OrderedDict()

    def setup(self, run_dir: Path, run_name: str) -> None:
        self.run_root = self.root / check_name(run_name)
        self.run_root.mkdir(parents=True, exist_ok=True)

    def upload(self, local_path: Path, name: str) -> None:
        if self.run_root is None:
            raise RuntimeError("FolderStorage.upload() called before setup()")
        name = check_name(name)
        self._pending.pop(name, None)
        if not self._copy(Path(local_path), name):
            self._pending[name] = Path(local_path)

    def _copy(self, src: Path, name: str) -> bool:
        assert self.run_root is not None
        dst = self.run_root / name
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp)
            tmp.replace(dst)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            log.warning("copy of %s to %s failed (%s); kept locally and retried by flush()", name, dst, exc)
            return False
        return True

    @property
    def pending(self) -> list[str]:
        return list(self._pending)

    def flush(self) -> None:
        for name, src in list(self._pending.items()):
            if self._copy(src, name):
                del self._pending[name]
        if self._pending:
            log.warning(
                "%d file(s) not copied to %s: %s", len(self._pending), self.run_root, ", ".join(self._pending)
            )

    def download(self, remote: str, local_path: Path) -> Path:
        from tsb.storage.fetch import fetch

        if self.run_root is not None and not Path(remote).is_absolute() and "://" not in remote:
            candidate = self.run_root / check_name(remote)
            if candidate.exists():
                remote = str(candidate)
        return fetch(remote, Path(local_path))
