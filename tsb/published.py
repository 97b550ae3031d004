"""Published weights: inference weights that ship in the repository (``tsb/weights/``).

``tsb/weights/manifest.json`` lists each file with its SHA-256, size and where it came from (run,
steps, wall time, the command); the hash is checked before anything is read, so a truncated
download, a Git LFS pointer or a swapped file is refused with one message. The files are
safetensors (tensors and strings only: reading one runs no code) holding the EMA weights of the
generator network and, in their metadata, the model config of the training run as trained (checked
against the allow-list by :func:`tsb.training.checkpoint.load_task` before anything is built).

How the weights are *used* lives beside them in their manifest entry, never in the file:

- ``model_settings``: ``{"model.net.background.smooth": 4, ...}``, settings of the network that own
  no weight, applied to the stored config whenever the published file is loaded
  (:func:`model_settings_for`, called by ``load_task``);
- ``inference``: the name of the inference preset (``conf/inference/<name>.yaml``: the photo
  steps around the network) the weights are meant to be used with.

:func:`published_settings` returns both. The files, the manifest and the model card are written
by the project's own command (``python -m tsb.release``; the manifest's two fields are edited with
its ``--model-setting`` / ``--inference`` options, which rewrite no weight file).

``tsb.edit`` and ``evaluate.py`` use :data:`DEFAULT` when no checkpoint is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsb.errors import CheckpointError
from tsb.training.checkpoint import (
    MANIFEST_NAME,
    VERIFIED,
    entry_model_settings,
    is_plain_name,
    model_settings_for,
    published_entry_for,
    verify_published,
)
from tsb.training.checkpoint import read_manifest as _read_manifest

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST = WEIGHTS_DIR / MANIFEST_NAME
#: the weights used when no checkpoint is given
DEFAULT = "stylebrush_bg"

#: the files whose hash this process has checked (shared with the loader)
_verified = VERIFIED

__all__ = [
    "DEFAULT",
    "MANIFEST",
    "WEIGHTS_DIR",
    "PublishedSettings",
    "display_path",
    "entry_settings",
    "is_plain_name",
    "model_settings_for",
    "published_checkpoint",
    "published_entry_for",
    "published_settings",
    "read_manifest",
    "resolve_checkpoint",
]


@dataclass(frozen=True)
class PublishedSettings:
    """How a published entry's weights are meant to be used (their manifest entry's fields)."""

    #: ``{"model.PATH": value}``: settings of the stored model config that own no weight, applied
    #: when the weights are loaded
    model_settings: dict[str, Any] = field(default_factory=dict)
    #: the inference preset's name (``conf/inference/<name>.yaml``), or None: none recorded
    inference: str | None = None


def read_manifest(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """``{name: entry}`` of the published weights ({} when none are published yet)."""
    return _read_manifest(MANIFEST if path is None else path)


def entry_settings(entry: dict[str, Any], where: str) -> PublishedSettings:
    """The ``model_settings`` and ``inference`` of a manifest entry, checked (``where`` names it)."""
    settings = entry_model_settings(entry, where)
    inference = entry.get("inference")
    if inference is not None and not (isinstance(inference, str) and is_plain_name(inference)):
        raise CheckpointError(
            f"{where}: inference {inference!r} is not the name of a preset (conf/inference/NAME.yaml); "
            "edit it with `python -m tsb.release --inference NAME`"
        )
    return PublishedSettings(settings, inference)


def published_settings(name: str = DEFAULT, manifest: Path | None = None) -> PublishedSettings:
    """The model settings and the inference preset's name of published weights ``name``."""
    manifest = MANIFEST if manifest is None else manifest
    return entry_settings(_entry(name, manifest), f"{manifest} ({name})")


def _entry(name: str, manifest: Path) -> dict[str, Any]:
    entries = read_manifest(manifest)
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none yet"
        raise CheckpointError(
            f"no published weights named {name!r} (published: {known}); give a checkpoint of your own "
            "(--ckpt RUN/checkpoints/last.ckpt, ckpt_path=...) or publish one with `python -m tsb.release`"
        )
    return entries[name]


def _file_of(entry: dict[str, Any], manifest: Path, name: str) -> Path:
    file = str(entry.get("file", ""))
    if not is_plain_name(file):
        raise CheckpointError(
            f"{manifest} ({name}): file {file!r} is not a file name beside the manifest; "
            f"restore it with `git checkout {manifest}`"
        )
    return manifest.parent / file


def published_checkpoint(name: str = DEFAULT, manifest: Path | None = None) -> Path:
    """The path of published weights ``name``, after checking their SHA-256 (once per process)."""
    manifest = MANIFEST if manifest is None else manifest
    entry = _entry(name, manifest)
    path = _file_of(entry, manifest, name)
    verify_published(path, entry)
    return path


def display_path(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (for reports), else as given."""
    try:
        return str(Path(path).resolve().relative_to(WEIGHTS_DIR.parents[1]))
    except ValueError:
        return str(path)


def resolve_checkpoint(ckpt: str | Path | None) -> Path:
    """``ckpt`` itself (a ``.ckpt`` or ``.safetensors`` file), or the default published weights when
    it is None / empty / ``published`` (``published:NAME``: those named so).

    A file that a manifest beside it lists (published weights given by path) has its hash checked
    here, before anything reads it; any other missing file is reported by the loader (``load_task``).
    """
    if ckpt in (None, "", "published"):
        return published_checkpoint()
    text = str(ckpt)
    if text.startswith("published:"):
        return published_checkpoint(text.partition(":")[2])
    path = Path(text)
    published_entry_for(path)  # published weights given by path: their hash (or their absence)
    return path


#: an ``inference`` setting that follows the weights (:func:`default_inference`)
AUTO = "auto"


def default_inference(path: str | Path) -> str:
    """The inference preset (``conf/inference``) for the checkpoint file ``path`` when none is given:
    the one its manifest entry records when it is published weights (``photo`` for the shipped
    ones), else ``none``: a run of one's own is the network as it is."""
    found = published_entry_for(path)
    return str(found[1].get("inference") or "none") if found is not None else "none"
