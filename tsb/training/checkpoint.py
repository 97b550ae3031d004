"""Checkpoint files: atomic writes, safe loading, resuming, and building a task for inference.

A checkpoint is a ``dict`` saved with ``torch.save`` and read with ``weights_only=True`` (no
arbitrary code runs on load). Keys:

``format`` ("tsb-checkpoint"), ``version``, ``task`` (state_dict), ``optimizers``,
``schedulers``, ``scalers`` (by parameter group), ``ema`` (shadow state_dict or None),
``ema_names``, ``step``, ``data`` ({"consumed_batches": n}), ``rng`` (python, numpy, torch,
cuda), ``best`` ({"metric", "value"}), ``config`` (the resolved config as YAML, secret-free).

Inference weights (published ones, ``tsb/weights/*.safetensors``, written by ``python -m
tsb.release``) are safetensors files: the generator network's tensors, and in the header's
metadata ``format`` ("tsb-weights"), ``format_version``, ``config`` (JSON: ``{"model": ...,
"task_name": ...}``, the model config as trained), ``step`` and ``weights`` ("ema" or "live").
:func:`load_task` reads both kinds; a safetensors file holds tensors and strings only, so reading
one runs no code.

Published weights have a manifest beside them (``manifest.json``: ``{"weights": {name: entry}}``,
each entry naming its ``file``, ``sha256`` and ``model_settings``; :mod:`tsb.published` is the
repository's): :func:`load_task` checks such a file's hash before reading it and applies its
entry's model settings (:func:`model_settings_for`).

Stored model configs written by older versions may name network options that are inference
steps now (:data:`MOVED_TO_INFERENCE`): :func:`migrate_model_config` drops them on load.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from tsb.errors import CheckpointError
from tsb.utils.io import atomic_torch_save, file_digest, why_not_a_file

FORMAT = "tsb-checkpoint"
VERSION = 1
#: the safetensors metadata's ``format`` of inference weights, and the newest ``format_version``
WEIGHTS_FORMAT = "tsb-weights"
WEIGHTS_VERSION = 1
WEIGHTS_SUFFIX = ".safetensors"
#: keys of a stored model config (under ``model.``) that are no longer options of the network:
#: they are steps of the inference pipeline now (conf/inference/, e.g. ``inference=photo``)
MOVED_TO_INFERENCE: tuple[str, ...] = (
    "net.sharp_inference",
    "net.colour_from_source",
    "net.effect_ring",
    "net.extrusion",
    "net.background.refine",
)
_SETTING_PATH = re.compile(r"model(\.[A-Za-z][A-Za-z0-9_]*)+")
#: the manifest beside published weights
MANIFEST_NAME = "manifest.json"
#: a published name, a file name in a manifest, an inference preset's name
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: (resolved file, sha256) pairs already checked in this process
VERIFIED: set[tuple[str, str]] = set()

log = logging.getLogger(__name__)


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (tagged with ``format`` and ``version``) to ``path`` atomically
    (:func:`tsb.utils.io.atomic_torch_save`): a crash mid-write leaves the previous file intact."""
    return atomic_torch_save(path, {"format": FORMAT, "version": VERSION, **state})


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the ``.NAME.tmp-PID`` files of :func:`save_checkpoint` whose process is gone (a kill
    mid-write leaves them); returns what was removed."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp-*"):
        pid = tmp.name.rpartition(".tmp-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)) and tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a tsb checkpoint; any problem becomes one :class:`CheckpointError` naming the file."""
    path = Path(path)
    problem = why_not_a_file(path)
    if problem == "is a folder":
        raise CheckpointError(
            f"{path} is a folder; give the checkpoint file in it (e.g. {path / 'checkpoints' / 'last.ckpt'}), "
            "or ckpt_path=auto to resume from the newest checkpoint of the run folder."
        )
    if problem is not None and problem != "does not exist":
        raise CheckpointError(f"checkpoint {path} {problem}; give a checkpoint file (ckpt_path=PATH)")
    if problem is not None:
        raise CheckpointError(
            f"checkpoint not found: {path}. Give an existing file (ckpt_path=PATH), or "
            "ckpt_path=auto to resume from the newest checkpoint of the run folder."
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # random bytes make the unpickler raise anything (KeyError, IndexError...)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f"cannot read checkpoint {path}: the file is truncated, corrupt or not a tsb checkpoint "
            f"({first}). Resume from another file (e.g. checkpoints/best.ckpt) or start fresh "
            "(ckpt_path=null)."
        ) from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is a PyTorch file but not a tsb checkpoint (no format={FORMAT!r} entry). "
            "Give a checkpoint written by tsb's trainer (<run>/checkpoints/last.ckpt)."
        )
    return state


def load_weights(path: str | Path) -> dict[str, Any]:
    """Read inference weights in safetensors as a checkpoint-shaped dict for :func:`load_task`:
    ``{"task": tensors, "ema": None, "step": n, "config": {...}, "metadata": {...}}``.

    The metadata is checked before any tensor is read; any problem becomes one
    :class:`CheckpointError` naming the file and the fix.
    """
    path = Path(path)
    problem = why_not_a_file(path)
    if problem is not None and problem != "does not exist":
        raise CheckpointError(f"weights {path} {problem}; give a .safetensors or .ckpt file")
    if problem is not None:
        raise CheckpointError(
            f"weights not found: {path}. Give an existing .safetensors or .ckpt file, or no path "
            "for the published weights."
        )
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:  # type: ignore[no-untyped-call]
            metadata = dict(f.metadata() or {})
            config, step = _weights_metadata(metadata, path)
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except CheckpointError:
        raise
    except Exception as e:  # a truncated or foreign file: the reader raises SafetensorError and others
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f"cannot read weights {path}: the file is truncated, corrupt or not a safetensors file "
            f"({first}). Give another file, or restore published weights with `git checkout {path}`."
        ) from e
    return {"task": tensors, "ema": None, "ema_names": [], "step": step, "config": config, "metadata": metadata}


def _weights_metadata(metadata: dict[str, str], path: Path) -> tuple[dict[str, Any], int]:
    """The model config and step a safetensors file's metadata records, checked."""
    fix = "Give weights written by `python -m tsb.release` (or a <run>/checkpoints/last.ckpt)."
    if metadata.get("format") != WEIGHTS_FORMAT:
        raise CheckpointError(
            f"{path} is a safetensors file but not tsb weights (its metadata has no "
            f"format={WEIGHTS_FORMAT!r}). {fix}"
        )
    try:
        version = int(metadata.get("format_version", ""))
        step = int(metadata.get("step", "0"))
        config = json.loads(metadata.get("config", ""))
    except ValueError as e:
        raise CheckpointError(
            f"{path} has unreadable tsb metadata ({type(e).__name__}: {e}). {fix}"
        ) from e
    if version > WEIGHTS_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer tsb (weights format version {version}; this one reads "
            f"up to {WEIGHTS_VERSION}). Update tsb, or give another file."
        )
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise CheckpointError(f"{path} stores no model config in its metadata (config.model). {fix}")
    return config, step


def read_inference_state(path: str | Path) -> dict[str, Any]:
    """A checkpoint (``.ckpt``, :func:`load_checkpoint`) or inference weights (``.safetensors``,
    :func:`load_weights`), by the file's suffix."""
    path = Path(path)
    return load_weights(path) if path.suffix == WEIGHTS_SUFFIX else load_checkpoint(path, map_location="cpu")


def migrate_model_config(model_cfg: DictConfig, where: str) -> list[str]:
    """Drop the keys of :data:`MOVED_TO_INFERENCE` from a stored model config (in place).

    Configs written before those options became inference steps still name them; the network no
    longer takes them. One warning names the keys dropped; returns their ``model.`` paths.
    """
    dropped = []
    for key in MOVED_TO_INFERENCE:
        parent, _, name = key.rpartition(".")
        node = OmegaConf.select(model_cfg, parent, default=None)
        if isinstance(node, DictConfig) and name in node:
            node.pop(name)
            dropped.append(f"model.{key}")
    if dropped:
        log.warning(
            "%s: dropped %s from its stored model config: inference settings now, not options of "
            "the network (conf/inference/, e.g. inference=photo)",
            where,
            ", ".join(dropped),
        )
    return dropped


def model_setting_problem(path: Any, value: Any) -> str | None:
    """What is wrong with the model setting ``path=value`` as such (None: nothing).

    A model setting sets one option of a component of the stored model config: ``model.PATH``
    with plain key names (no ``_target_`` or other special key: it builds nothing new), to a
    number, a word, a boolean or null.
    """
    if not isinstance(path, str) or not _SETTING_PATH.fullmatch(path):
        return "write it as model.PATH (plain keys, for example model.net.background.smooth)"
    if value is not None and not isinstance(value, (bool, int, float, str)):
        return "its value is not a single number, word, boolean or null"
    if isinstance(value, str) and "${" in value:
        return "its value is an interpolation"
    return None


def apply_model_settings(model_cfg: DictConfig, settings: Mapping[str, Any], where: str) -> None:
    """Set each ``model.PATH`` of ``settings`` in the stored model config (in place).

    The parent of each path must be a component of the config (a node with a ``_target_``); the
    key itself may be new (an option the run left at its default): building the model then tells
    whether the component takes it, and loading the weights whether it owns none.
    """
    for path, value in settings.items():
        problem = model_setting_problem(path, value)
        if problem:
            raise CheckpointError(f"{where}: model setting {path}={value!r}: {problem}")
        parent, _, key = path.removeprefix("model").lstrip(".").rpartition(".")
        node = OmegaConf.select(model_cfg, parent, default=None) if parent else model_cfg
        if not isinstance(node, DictConfig) or "_target_" not in node:
            raise CheckpointError(
                f"{where}: model setting {path}: the stored model config has no component "
                f"{'model.' + parent if parent else 'model'!r} (see conf/model/)"
            )
        node[key] = value


def is_plain_name(name: str) -> bool:
    """``name`` is one plain file-name-like word: no path separator, no ``..``, not hidden."""
    return isinstance(name, str) and bool(_PLAIN_NAME.fullmatch(name)) and ".." not in name


def read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """``{name: entry}`` of the manifest ``path`` ({} when there is none)."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(
            f"{path} is not a readable manifest ({e}); restore it with `git checkout {path}`"
        ) from e
    weights = data.get("weights") if isinstance(data, dict) else None
    if not isinstance(weights, dict) or not all(isinstance(v, dict) for v in weights.values()):
        raise CheckpointError(f"{path} has no 'weights' mapping; restore it with `git checkout {path}`")
    return weights


def verify_published(path: Path, entry: dict[str, Any]) -> None:
    """Refuse ``path`` unless it is the file ``entry`` describes (its SHA-256; once per process)."""
    if not path.is_file():
        raise CheckpointError(
            f"the published weights {path} are missing; restore them with `git checkout {path}` "
            "(or pass a checkpoint of your own)"
        )
    expected = str(entry.get("sha256", "")).lower()
    key = (str(path.resolve()), expected)
    if key in VERIFIED:
        return
    actual = file_digest(path, "sha256")
    if actual != expected:
        raise CheckpointError(
            f"{path} is not the published file (sha256 {actual[:12]}..., the manifest says "
            f"{expected[:12]}...): it is truncated, a Git LFS pointer or was replaced. "
            f"Restore it with `git checkout {path}` (or `git lfs pull`)."
        )
    VERIFIED.add(key)


def published_entry_for(path: str | Path) -> tuple[str, dict[str, Any], Path] | None:
    """``(name, entry, manifest)`` when the manifest beside ``path`` lists that file (after checking
    its hash), else None: a file elsewhere, or a folder's ``manifest.json`` of another kind."""
    path = Path(path)
    manifest = path.parent / MANIFEST_NAME
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not ours
    weights = data.get("weights") if isinstance(data, dict) else None
    if not isinstance(weights, dict):
        return None
    for name, entry in weights.items():
        if isinstance(entry, dict) and entry.get("file") == path.name:
            verify_published(path, entry)
            return str(name), entry, manifest
    return None


def entry_model_settings(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """A manifest entry's ``model_settings``, each checked (``where`` names the entry)."""
    fix = "edit them with `python -m tsb.release --model-setting KEY=VALUE / --drop-model-setting KEY`"
    settings = entry.get("model_settings") or {}
    if not isinstance(settings, dict):
        raise CheckpointError(f"{where}: model_settings is not a mapping of model.PATH to a value; {fix}")
    for key, value in settings.items():
        problem = model_setting_problem(key, value)
        if problem:
            raise CheckpointError(f"{where}: model setting {key}={value!r}: {problem}; {fix}")
    return dict(settings)


def model_settings_for(path: str | Path) -> dict[str, Any]:
    """The model settings to apply when ``path`` is loaded: those of its manifest entry when it is
    published weights (hash checked first), {} for any other file (loaded as trained)."""
    found = published_entry_for(path)
    if found is None:
        return {}
    name, entry, manifest = found
    return entry_model_settings(entry, f"{manifest} ({name})")


def find_latest(run_dir: str | Path) -> Path | None:
    """The newest checkpoint in ``<run_dir>/checkpoints`` (``last.ckpt`` first), or None."""
    ckpt_dir = Path(run_dir) / "checkpoints"
    last = ckpt_dir / "last.ckpt"
    if last.is_file():
        return last
    candidates = sorted(ckpt_dir.glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def checkpoint_config(state: dict[str, Any], path: str | Path = "the checkpoint") -> DictConfig:
    """The config a checkpoint was trained with (data only: nothing in it is instantiated here).

    Its size is checked before it is built (:func:`tsb.utils.safe_config.check_config_size`): a
    config of YAML aliases that expands a billion-fold is refused in milliseconds."""
    from tsb.utils.safe_config import check_config_size

    stored = state.get("config") or {}
    check_config_size(stored, str(path))
    try:
        cfg = OmegaConf.create(stored)
    except Exception as e:  # not YAML / not a mapping
        raise CheckpointError(f"{path} holds an unreadable config ({type(e).__name__}); it was not written by tsb") from e
    if not isinstance(cfg, DictConfig):
        raise CheckpointError(f"{path} holds a config that is not a mapping; it was not written by tsb")
    return cfg


def check_finite_weights(path: str | Path, *tensor_sets: Mapping[str, Any] | None) -> None:
    """Refuse weights that are NaN or infinite (a run that diverged before it was saved): every
    image made from them would be black or noise."""
    bad = [
        name
        for tensors in tensor_sets
        for name, t in (tensors or {}).items()
        if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all())
    ]
    if bad:
        raise CheckpointError(
            f"{path} holds weights that are NaN or infinite ({len(bad)} tensors, e.g. {bad[0]}): the run "
            "diverged before it was saved. Give an earlier checkpoint (or train again with a lower "
            "learning rate)"
        )


def load_task(
    path: str | Path,
    device: str | torch.device = "cpu",
    use_ema: bool = True,
    model_settings: Mapping[str, Any] | None = None,
) -> tuple[torch.nn.Module, DictConfig]:
    """Build ``cfg.model`` from the file's own config with ``loss=None`` and load its weights.

    ``path`` is a training checkpoint (``.ckpt``) or inference weights (``.safetensors``). Where
    the checkpoint holds EMA weights they replace the live ones (``use_ema``). Weights of loss
    terms (frozen helpers) in the checkpoint are ignored: inference needs none. Keys that are
    inference steps now are dropped from the stored config (:func:`migrate_model_config`).

    ``model_settings`` (``{"model.net.background.smooth": 4}``) are applied to the stored model
    config before it is built; None: those of the published weights' manifest entry when
    ``path`` is published weights (their hash is checked first,
    :func:`model_settings_for`), none for any other file. ``{}`` loads published
    weights as trained.
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    from tsb.utils.safe_config import check_targets

    where = f"the manifest entry of {path}"
    if model_settings is None:
        model_settings = model_settings_for(path)  # checks a published file's hash before reading it
    else:
        where = f"the model settings given for {path}"
    state = read_inference_state(path)
    cfg = checkpoint_config(state, path)
    model_cfg = cfg.get("model")
    if not isinstance(model_cfg, DictConfig):
        raise CheckpointError(f"{path} stores no model config (config.model); it was not written by tsb's trainer")
    migrate_model_config(model_cfg, str(path))
    apply_model_settings(model_cfg, model_settings, where)
    check_targets(model_cfg, str(path))  # a checkpoint builds tsb's networks and nothing else
    try:
        task = instantiate(model_cfg, loss=None)
    except InstantiationException as e:
        raise CheckpointError(
            f"cannot build the model stored in {path} ({model_cfg.get('_target_')}): {e}. "
            "Was it written by another version of tsb?"
        ) from e
    if not callable(getattr(task, "generate", None)):
        raise CheckpointError(
            f"{path} is a checkpoint of {type(task).__name__} (task_name={cfg.get('task_name')}), which "
            "does not generate images; give the checkpoint of a StyleBrush run (model=stylebrush*, "
            "model=baseline: <run>/checkpoints/last.ckpt)"
        )
    weights = {k: v for k, v in state["task"].items() if not k.startswith("loss.")}
    check_finite_weights(path, weights, state.get("ema") if use_ema else None)
    missing, unexpected = task.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not fit the model its config describes (missing: {missing[:5]}, "
            f"unexpected: {unexpected[:5]}). Was it written by another version of tsb?"
        )
    if use_ema and state.get("ema"):
        for name in state.get("ema_names", []):
            prefix = name.replace(".", "__") + "."
            sub = {k[len(prefix) :]: v for k, v in state["ema"].items() if k.startswith(prefix)}
            task.get_submodule(name).load_state_dict(sub)
    task.to(device).eval()
    if hasattr(task, "on_load"):
        task.on_load()
    return task, cfg
