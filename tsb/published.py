"""Published weights: inference-only checkpoints that ship in the repository (``tsb/weights/``).

``tsb/weights/manifest.json`` lists each file with its SHA-256, size and where it came from (run,
steps, wall time, the command); :func:`published_checkpoint` checks the hash before anything is
read, so a truncated download, a Git LFS pointer or a swapped file is refused with one message.
The files are ordinary tsb checkpoints (``weights_only`` loading, the stored model config checked
against the allow-list by :func:`tsb.training.checkpoint.load_task`) holding the EMA weights of the
generator network only (no discriminator, optimizer or RNG state).

They are written by the project's own command, which also writes the model card::

    python -m tsb.publish RUN/checkpoints/last.ckpt --report RUN_EVAL/report.json

``tsb.edit`` and ``evaluate.py`` use :data:`DEFAULT` when no checkpoint is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tsb.data.remote import file_digest
from tsb.errors import CheckpointError

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"
#: the weights used when no checkpoint is given
DEFAULT = "stylebrush_bg"

_verified: set[tuple[str, str]] = set()


def read_manifest(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """``{name: entry}`` of the published weights ({} when none are published yet)."""
    path = MANIFEST if path is None else path
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(
            f"{path} is not a readable manifest ({e}); restore it with `git checkout {path}`"
        ) from e
    weights = data.get("weights") if isinstance(data, dict) else None
    if not isinstance(weights, dict):
        raise CheckpointError(f"{path} has no 'weights' mapping; restore it with `git checkout {path}`")
    return weights


def published_checkpoint(name: str = DEFAULT, manifest: Path | None = None) -> Path:
    """The path of published weights ``name``, after checking their SHA-256 (once per process)."""
    manifest = MANIFEST if manifest is None else manifest
    entries = read_manifest(manifest)
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none yet"
        raise CheckpointError(
            f"no published weights named {name!r} (published: {known}); give a checkpoint of your own "
            "(--ckpt RUN/checkpoints/last.ckpt, ckpt_path=...) or publish one with `python -m tsb.publish`"
        )
    entry = entries[name]
    path = manifest.parent / str(entry.get("file", ""))
    if not path.is_file():
        raise CheckpointError(
            f"the published weights {path} are missing; restore them with `git checkout {path}` "
            "(or pass a checkpoint of your own)"
        )
    expected = str(entry.get("sha256", "")).lower()
    key = (str(path), expected)
    if key not in _verified:
        actual = file_digest(path, "sha256")
        if actual != expected:
            raise CheckpointError(
                f"{path} is not the published file (sha256 {actual[:12]}..., the manifest says "
                f"{expected[:12]}...): it is truncated, a Git LFS pointer or was replaced. "
                f"Restore it with `git checkout {path}` (or `git lfs pull`)."
            )
        _verified.add(key)
    return path


def display_path(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (for reports), else as given."""
    try:
        return str(Path(path).resolve().relative_to(WEIGHTS_DIR.parents[1]))
    except ValueError:
        return str(path)


def resolve_checkpoint(ckpt: str | Path | None) -> Path:
    """``ckpt`` itself, or the default published weights when it is None / empty / ``published``."""
    if ckpt in (None, "", "published"):
        return published_checkpoint()
    text = str(ckpt)
    if text.startswith("published:"):
        return published_checkpoint(text.partition(":")[2])
    return Path(text)
