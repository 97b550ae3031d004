"""Low-level file helpers shared by every layer: digests and atomic ``torch.save``.

Nothing here knows about data sets, storage back-ends, checkpoints' contents or networks, so the
data sets, the storages, the pretrained-weights checks and the helper-network export all use it.

- :func:`file_digest`: hex digest of a file, read in chunks (checksums of downloads, weight files
  and published checkpoints).
- :func:`cache_dir`: the folder for files the project writes once and reuses (``$TSB_CACHE_DIR``
  or ``~/.cache/tsb``: extracted fonts, font checks, FID features of reference images).
- :func:`atomic_torch_save`: ``torch.save`` through a temporary ``.<name>.tmp-<pid>`` file in the
  same folder, then a rename, so a crash mid-write leaves the previous file intact (the helper
  checkpoints; the same scheme as :func:`tsb.training.checkpoint.save_checkpoint`, whose
  ``remove_stale_temporaries`` sweeps such files).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch

CHUNK = 1 << 20


def cache_dir() -> Path:
    """Folder for files the project writes once and reuses (extracted fonts, preprocessed crops,
    font checks, FID features): ``$TSB_CACHE_DIR``, default ``~/.cache/tsb``."""
    env = os.environ.get("TSB_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "tsb"


def file_digest(path: Path, algo: str) -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def why_not_a_file(path: str | Path) -> str | None:
    """None when ``path`` is a regular file; else what it is, as a phrase for a message ("does not
    exist", "is a folder", "is not a regular file (a FIFO)", "is a symbolic link that loops")."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "is a symbolic link to a missing file" if path.is_symlink() else "does not exist"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "is a symbolic link that loops"
        return f"cannot be read ({e.strerror or e})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder"
    kind = (
        "a FIFO" if stat.S_ISFIFO(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "not a file"
    )  # fmt: skip
    return f"is not a regular file ({kind})"


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path`` (``.<name>.tmp-<pid>``), flush it to disk,
    then rename it over ``path``: a crash mid-write leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """``data`` to ``path`` atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_torch_save(path: str | Path, obj: Any) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda f: torch.save(obj, f))


def write_cache_file(path: str | Path, data: bytes) -> bool:
    """``data`` to a cache file, atomically (:func:`atomic_write_bytes`); False, and nothing raised,
    where the cache folder cannot be written (a cache is only not kept then)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError:
        return False
    return True


def read_json_cache(path: str | Path) -> dict[str, Any]:
    """The JSON object in a cache file; empty where the file is missing or unreadable (it is then
    filled again and rewritten)."""
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}

