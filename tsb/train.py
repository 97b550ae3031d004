"""``train(cfg)``: build everything from a composed config and run the trainer.

``train.py`` is a thin ``@hydra.main`` wrapper around this function; tests call it directly
with a config from ``hydra.compose``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from tsb.errors import TsbError
from tsb.logger.base import Logger
from tsb.logger.jsonl import JsonlLogger
from tsb.storage.base import Storage
from tsb.tasks.base import Task
from tsb.training import distributed as dist
from tsb.training.trainer import Trainer
from tsb.utils.secrets import install_log_redaction
from tsb.utils.seed import seed_everything

log = logging.getLogger(__name__)


def build_task(cfg: DictConfig) -> Task:
    """``cfg.model`` with the instantiated ``cfg.loss`` (or None when the config has no loss)."""
    try:
        loss = instantiate(cfg.loss) if cfg.get("loss") else None
        task = instantiate(cfg.model, loss=loss)
    except InstantiationException as e:
        raise unwrap_user_error(e) from e
    if not isinstance(task, Task):
        raise TypeError(f"cfg.model must build a tsb.tasks.base.Task, got {type(task).__name__}")
    return task


def build_trainer(
    cfg: DictConfig, run_dir: Path, loggers: Sequence[Logger] = (), storage: Storage | None = None
) -> Trainer:
    """The trainer of ``cfg.trainer`` with the task, data and optimizers ``cfg`` describes."""
    task = build_task(cfg)
    try:
        data = instantiate(cfg.data)
    except InstantiationException as e:
        raise unwrap_user_error(e) from e
    try:
        trainer = instantiate(
            cfg.trainer,
            task=task,
            data=data,
            optimizer=cfg.optimizer,
            run_dir=run_dir,
            loggers=list(loggers),
            storage=storage,
            resolved_config=resolved_config(cfg),
            seed=int(cfg.seed),
            run_name=run_name(run_dir),
            _recursive_=False,
        )
    except InstantiationException as e:
        raise unwrap_user_error(e) from e
    if not isinstance(trainer, Trainer):
        raise TypeError(f"cfg.trainer must build a tsb.training.trainer.Trainer, got {type(trainer).__name__}")
    return trainer


def unwrap_user_error(e: Exception) -> Exception:
    """Hydra wraps errors raised in constructors; give the user our own message, not the wrapper."""
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, TsbError):
            return cause
        cause = cause.__cause__
    return e


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain data, checked to hold no secret values."""
    from tsb.utils.secrets import assert_no_secrets_in_config

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    assert_no_secrets_in_config(plain)
    return plain  # type: ignore[return-value]


def run_name(run_dir: Path) -> str:
    """``train/2026-01-01_12-00-00/3`` for ``.../multirun/train/2026-01-01_12-00-00/3``: the part
    below ``outputs/`` or ``multirun/`` (unique across runs and sweep points), else the folder name."""
    parts = run_dir.resolve().parts
    for anchor in ("outputs", "multirun"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            if i + 1 < len(parts):
                return "/".join(parts[i + 1 :])
    return run_dir.name


def train(cfg: DictConfig) -> dict[str, float]:
    """Train as ``cfg`` says; returns the final summary (also written to ``<run>/summary.json``)."""
    install_log_redaction()
    dist.init()
    try:
        seed_everything(int(cfg.seed))
        # every rank uses rank 0's run folder (Hydra's timestamped folders may differ by a second)
        run_dir = Path(dist.broadcast_object(str(cfg.paths.output_dir)))
        loggers: list[Logger] = [JsonlLogger()]
        loggers += [instantiate(c) for c in (cfg.get("logger") or {}).values()]
        trainer = build_trainer(cfg, run_dir, loggers, instantiate(cfg.storage))
        return trainer.run(cfg.get("ckpt_path"))
    finally:
        dist.cleanup()
