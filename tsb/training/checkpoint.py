"""Checkpoint files: atomic writes, safe loading, resuming, and building a task for inference.

A checkpoint is a ``dict`` saved with ``torch.save`` and read with ``weights_only=True`` (no
arbitrary code runs on load). Keys:

``format`` ("tsb-checkpoint"), ``version``, ``task`` (state_dict), ``optimizers``,
``schedulers``, ``scalers`` (by parameter group), ``ema`` (shadow state_dict or None),
``ema_names``, ``step``, ``data`` ({"consumed_batches": n}), ``rng`` (python, numpy, torch,
cuda), ``best`` ({"metric", "value"}), ``config`` (the resolved config as YAML, secret-free).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from tsb.errors import CheckpointError

FORMAT = "tsb-checkpoint"
VERSION = 1


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically: a temporary file in the same folder, then rename.

    A crash mid-write leaves the previous file intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"format": FORMAT, "version": VERSION, **state}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


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
    if not path.is_file():
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


def find_latest(run_dir: str | Path) -> Path | None:
    """The newest checkpoint in ``<run_dir>/checkpoints`` (``last.ckpt`` first), or None."""
    ckpt_dir = Path(run_dir) / "checkpoints"
    last = ckpt_dir / "last.ckpt"
    if last.is_file():
        return last
    candidates = sorted(ckpt_dir.glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def checkpoint_config(state: dict[str, Any], path: str | Path = "the checkpoint") -> DictConfig:
    """The config a checkpoint was trained with (data only: nothing in it is instantiated here)."""
    try:
        cfg = OmegaConf.create(state.get("config") or {})
    except Exception as e:  # not YAML / not a mapping
        raise CheckpointError(f"{path} holds an unreadable config ({type(e).__name__}); it was not written by tsb") from e
    if not isinstance(cfg, DictConfig):
        raise CheckpointError(f"{path} holds a config that is not a mapping; it was not written by tsb")
    return cfg


def load_task(
    path: str | Path, device: str | torch.device = "cpu", use_ema: bool = True
) -> tuple[torch.nn.Module, DictConfig]:
    """Build ``cfg.model`` from the checkpoint's own config with ``loss=None`` and load its weights.

    Where the checkpoint holds EMA weights they replace the live ones (``use_ema``). Weights of
    loss terms (frozen helpers) in the checkpoint are ignored: inference needs none.
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    from tsb.utils.safe_config import check_targets

    state = load_checkpoint(path, map_location="cpu")
    cfg = checkpoint_config(state, path)
    model_cfg = cfg.get("model")
    if not isinstance(model_cfg, DictConfig):
        raise CheckpointError(f"{path} stores no model config (config.model); it was not written by tsb's trainer")
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
