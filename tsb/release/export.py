"""Export a training checkpoint as published weights: a safetensors file and its manifest entry.

The file holds the generator network's EMA weights (``net.*``, as the task's ``state_dict``
names them) and, in its metadata, the model config *as trained* (no discriminator, no key of
:data:`~tsb.training.checkpoint.MOVED_TO_INFERENCE`); settings for inference are never written
into it: they are the manifest entry's ``model_settings`` and ``inference``.

:func:`publish` validates every input (the name, the report, the settings, the inference preset,
the checkpoint, the exported file loaded back) before it writes anything.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import shlex
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import ListConfig, OmegaConf

from tsb.errors import CheckpointError, ConfigError, UnsafeConfigError
from tsb.published import DEFAULT, is_plain_name, read_manifest
from tsb.release.card import card_path, model_card, read_report
from tsb.release.manifest import check_inference, check_settings, manifest_file, write_manifest
from tsb.training.checkpoint import (
    WEIGHTS_FORMAT,
    WEIGHTS_SUFFIX,
    WEIGHTS_VERSION,
    load_checkpoint,
    load_task,
    load_weights,
)
from tsb.utils.io import atomic_write_bytes
from tsb.utils.safe_config import check_config_size

#: the largest file the repository takes (docs: published weights <= 25 MB)
MAX_BYTES = 25 * 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Export:
    """A checkpoint exported in memory: the safetensors file's bytes and what they hold."""

    data: bytes
    tensors: dict[str, torch.Tensor]
    config: dict[str, Any]
    info: dict[str, Any]


def encode_weights(tensors: Mapping[str, torch.Tensor], config: Mapping[str, Any], step: int, weights: str) -> bytes:
    """The safetensors file of ``tensors`` with the metadata :func:`~tsb.training.checkpoint.load_weights` reads."""
    from safetensors.torch import save

    metadata = {
        "format": WEIGHTS_FORMAT,
        "format_version": str(WEIGHTS_VERSION),
        "config": json.dumps(config),
        "step": str(int(step)),
        "weights": weights,
    }
    return bytes(save(dict(tensors), metadata=metadata))


def export_weights(ckpt: Path) -> Export:
    """The inference weights of a training checkpoint (EMA where it has them), in memory."""
    state = load_checkpoint(ckpt)
    task, cfg = load_task(ckpt, "cpu", use_ema=True, model_settings={})  # as trained (keys migrated)
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(model_cfg, dict)
    model_cfg["discriminator"] = None
    config = {"model": model_cfg, "task_name": cfg.get("task_name")}
    tensors = {
        f"net.{k}": v.detach().cpu().contiguous().clone() for k, v in task.get_submodule("net").state_dict().items()
    }
    step = int(state.get("step", 0))
    weights = "ema" if state.get("ema") and "net" in state.get("ema_names", []) else "live"
    data = encode_weights(tensors, config, step, weights)
    run = _run_dir(ckpt)
    summary = _run_summary(run)
    wall = summary.get("wall_s")
    info = {
        "steps": step,
        "run_steps": int(summary.get("step", step)),
        "checkpoint": ckpt.name,
        "weights": weights,
        "wall_s": float(wall) if wall is not None else None,
        "command": _command(run),
        "parameters": sum(v.numel() for v in tensors.values() if v.is_floating_point()),
        "data": _data_paths(OmegaConf.to_container(cfg.data, resolve=True)) if "data" in cfg else None,
    }
    return Export(data, tensors, config, info)


def check_name(name: str) -> str:
    """``name`` if it can name published weights (a plain name: the file is ``<name>.safetensors``)."""
    if not is_plain_name(name):
        raise ConfigError(
            f"--name {name!r}: give a plain name (letters, digits, '_', '-', '.'; no path separator "
            "or '..'): the weights are written as tsb/weights/<name>.safetensors"
        )
    return name


def _loads_back(exported: Export, settings: Mapping[str, Any], source: Path) -> None:
    """Refuse an export whose file does not read back as the same tensors and config, or whose
    model settings do not fit it (a setting the network does not take, or one that owns weights)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"check{WEIGHTS_SUFFIX}"
        path.write_bytes(exported.data)
        back = load_weights(path)
        same = set(back["task"]) == set(exported.tensors) and all(
            torch.equal(back["task"][k], v) and back["task"][k].dtype == v.dtype for k, v in exported.tensors.items()
        )
        if not same or back["config"] != exported.config:
            raise ConfigError(f"the weights exported from {source} do not read back as written")
        try:
            load_task(path, "cpu", model_settings=dict(settings))
        except CheckpointError as e:
            raise ConfigError(f"the model settings do not fit the weights of {source}: {e}") from e


def publish(
    ckpt: str | Path,
    report: str | Path | None = None,
    name: str = DEFAULT,
    weights_dir: Path | None = None,
    card: Path | None = None,
    machine: str = "2 CPU cores",
    model_settings: Mapping[str, Any] | None = None,
    inference: str | None = None,
    write_card: bool = True,
) -> dict[str, Any]:
    """Export a run's checkpoint as published weights ``name``: the file, its manifest entry and
    (``write_card``) the model card (``card``, default :func:`~tsb.release.card.card_path`).

    Nothing is written unless every input is valid and the exported file loads back.
    """
    check_name(name)
    settings = check_settings(dict(model_settings or {}))
    if inference is not None:
        check_inference(inference)
    rep = read_report(report) if report else None
    manifest_path = manifest_file(weights_dir)
    entries = read_manifest(manifest_path)
    source = Path(ckpt)
    exported = export_weights(source)
    size = len(exported.data)
    if size > MAX_BYTES:
        raise ConfigError(
            f"{name}{WEIGHTS_SUFFIX} would be {size / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB the repository takes"
        )
    _loads_back(exported, settings, source)
    out = manifest_path.parent / f"{name}{WEIGHTS_SUFFIX}"
    entry = {
        "file": out.name,
        "format": "safetensors",
        "sha256": hashlib.sha256(exported.data).hexdigest(),
        "bytes": size,
        "target": str(exported.config["model"]["net"].get("_target_")),
        "machine": machine,
        "published": _dt.date.today().isoformat(),
        **exported.info,
        "model_settings": settings,
        "inference": inference,
    }
    card_file = (card or card_path(name)) if write_card else None
    text = model_card(name, entry, rep) if card_file else None
    # everything is checked: write the weights, then the manifest that names them, then the card
    atomic_write_bytes(out, exported.data)
    write_manifest(manifest_path, {**entries, name: entry})
    if card_file and text is not None:
        atomic_write_bytes(card_file, text.encode("utf-8"))
    return entry


def _run_dir(ckpt: Path) -> Path:
    return ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent


def _command(run: Path) -> str:
    """The training command of the run, from its ``.hydra/overrides.yaml`` (a list of strings);
    a file that is not one is refused, its size checked before it is built."""
    overrides = run / ".hydra" / "overrides.yaml"
    if not overrides.is_file():
        return "(unknown: the run folder has no .hydra/overrides.yaml)"
    fix = "restore it, or delete it to publish without the training command"
    try:
        text = overrides.read_text(encoding="utf-8")
        check_config_size(text, str(overrides))
        items = OmegaConf.create(text)
    except UnsafeConfigError as e:
        raise ConfigError(f"{e}; {fix}") from e
    except Exception as e:  # OSError, UnicodeDecodeError, YAML errors
        raise ConfigError(f"{overrides} is not a readable list of overrides ({type(e).__name__}); {fix}") from e
    if not isinstance(items, ListConfig) or not all(isinstance(o, str) for o in items):
        raise ConfigError(f"{overrides} is not a list of overrides (key=value); {fix}")
    # shell-quoted: a command to paste, read back word for word with shlex.split
    return shlex.join(["python", "train.py", *(str(o) for o in items)])


def _run_summary(run: Path) -> dict[str, Any]:
    """The run's ``summary.json`` (wall time, last step), or {}; a file that is not JSON is refused."""
    summary = run / "summary.json"
    if summary.is_file():
        try:
            data = json.loads(summary.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as e:
            raise ConfigError(
                f"{summary} is not readable JSON ({type(e).__name__}); restore it, or delete it to publish "
                "without the run's wall time"
            ) from e
        return data if isinstance(data, dict) else {}
    return {}


def _data_paths(data: Any) -> Any:
    """The data config with its folders relative to the repository (no machine's absolute path)."""
    if not isinstance(data, dict):
        return data
    return {k: _relative(v) if k in ("root", "val_root") and v else v for k, v in data.items()}


def _relative(path: Any) -> str:
    """A data path as the run saw it, relative to the repository when inside it."""
    p = Path(str(path))
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)
