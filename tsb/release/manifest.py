"""The manifest (``tsb/weights/manifest.json``) and the two fields that say how weights are used.

An entry's ``model_settings`` (``{"model.net.background.smooth": 4}``: settings of the stored
model config that own no weight, applied at load) and ``inference`` (the inference preset,
``conf/inference/<name>.yaml``) are edited here, in the manifest only: no weight file is
rewritten, and the new settings are checked by loading the published file with them first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tsb import published
from tsb.errors import CheckpointError, ConfigError
from tsb.published import is_plain_name, published_checkpoint, read_manifest
from tsb.training.checkpoint import load_task, model_setting_problem
from tsb.utils.io import atomic_write_bytes

#: the inference presets an entry's ``inference`` may name
INFERENCE_DIR = Path(__file__).resolve().parents[2] / "conf" / "inference"


def manifest_file(weights_dir: Path | None = None) -> Path:
    """The manifest of ``weights_dir``; None: the repository's (:data:`tsb.published.MANIFEST`)."""
    return published.MANIFEST if weights_dir is None else weights_dir / published.MANIFEST.name


def write_manifest(path: Path, entries: Mapping[str, dict[str, Any]]) -> None:
    """Write ``{"weights": entries}`` to ``path`` (atomically)."""
    atomic_write_bytes(path, (json.dumps({"weights": dict(entries)}, indent=2) + "\n").encode("utf-8"))


def parse_settings(items: Sequence[str]) -> dict[str, Any]:
    """``["model.net.background.smooth=4", ...]`` as ``{path: value}`` (values read as YAML scalars)."""
    import yaml

    settings: dict[str, Any] = {}
    for item in items:
        path, eq, text = item.partition("=")
        if not eq or not text:
            raise ConfigError(
                f"--model-setting {item!r}: write it as model.PATH=VALUE (for example model.net.background.smooth=4)"
            )
        try:
            settings[path] = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"--model-setting {item!r}: the value is not a YAML scalar ({e})") from e
    return check_settings(settings)


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` if each is a model setting as such (a plain ``model.PATH``, a scalar value)."""
    for path, value in settings.items():
        problem = model_setting_problem(path, value)
        if problem:
            raise ConfigError(f"--model-setting {path}={value!r}: {problem}")
    return settings


def check_inference(name: str, presets: Path | None = None) -> str:
    """``name`` if it names an inference preset (``conf/inference/<name>.yaml``)."""
    presets = INFERENCE_DIR if presets is None else presets
    if not is_plain_name(name) or not (presets / f"{name}.yaml").is_file():
        known = ", ".join(sorted(p.stem for p in presets.glob("*.yaml"))) or "none"
        raise ConfigError(f"--inference {name!r}: not an inference preset in {presets} (there: {known})")
    return name


def edit_settings(
    name: str,
    set_settings: Mapping[str, Any] | None = None,
    drop: Iterable[str] = (),
    inference: str | None = None,
    weights_dir: Path | None = None,
) -> dict[str, Any]:
    """Change the ``model_settings`` / ``inference`` of published weights ``name`` in the manifest.

    The published file is loaded with the new settings before the manifest is written (a setting
    the network does not take, or one that owns weights, is refused); nothing else changes.
    """
    manifest_path = manifest_file(weights_dir)
    entries = read_manifest(manifest_path)
    if name not in entries:
        raise ConfigError(f"no published weights named {name!r} in {manifest_path}; publish a run first")
    entry = dict(entries[name])
    settings = dict(entry.get("model_settings") or {})
    for key in drop:
        if key not in settings:
            raise ConfigError(f"--drop-model-setting {key}: {name!r} has no such model setting (it has: {', '.join(settings) or 'none'})")
        del settings[key]
    settings.update(check_settings(dict(set_settings or {})))
    if inference is not None:
        entry["inference"] = check_inference(inference)
    try:
        load_task(published_checkpoint(name, manifest_path), "cpu", model_settings=settings)
    except CheckpointError as e:
        raise ConfigError(f"the model settings do not fit the published weights {name!r}: {e}") from e
    entry["model_settings"] = settings
    write_manifest(manifest_path, {**entries, name: entry})
    return entry
