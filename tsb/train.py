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

from tsb.errors import ConfigError, TsbError
from tsb.logger.base import Logger
from tsb.logger.jsonl import JsonlLogger
from tsb.storage.base import Storage
from tsb.tasks.base import Task
from tsb.training import distributed as dist
from tsb.training.trainer import Trainer
from tsb.utils.secrets import install_log_redaction
from tsb.utils.seed import seed_everything

log = logging.getLogger(__name__)


def build(node: Any, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate(node, **kwargs)``, with our own message in place of Hydra's
    wrapper when a constructor rejects a config value (a :class:`TsbError`)."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        user = unwrap_user_error(e)
        if user is e:
            raise  # Hydra's own error, its cause (the constructor's exception) kept
        raise user from e


def build_task(cfg: DictConfig) -> Task:
    """``cfg.model`` with the instantiated ``cfg.loss`` (or None when the config has no loss)."""
    loss = build(cfg.loss) if cfg.get("loss") else None
    try:
        task = build(cfg.model, loss=loss)
    except InstantiationException as e:
        raise foreign_model_keys(e) from e
    if not isinstance(task, Task):
        raise ConfigError(f"cfg.model must build a tsb.tasks.base.Task, got {type(task).__name__}")
    return task


def start_from(task: Task, path: str) -> None:
    """Load the network weights of ``path`` (a run's checkpoint, its EMA weights where it has them,
    or published ``.safetensors``) into ``task`` before training: a fine-tune. The optimizer,
    schedule and step start fresh (``ckpt_path`` resumes a run instead)."""
    from tsb.training.checkpoint import load_task

    source, _ = load_task(path, "cpu", use_ema=True, model_settings={})
    theirs = {k: v for k, v in source.state_dict().items() if k.startswith("net.")}
    mine = task.state_dict()
    unfit = [k for k, v in theirs.items() if k not in mine or mine[k].shape != v.shape]
    missing = [k for k in mine if k.startswith("net.") and k not in theirs]
    if unfit or missing or not theirs:
        raise ConfigError(
            f"init_from={path} does not fit this run's model (not in it or another shape: {unfit[:3]}; "
            f"not in the file: {missing[:3]}); give weights of the same model preset and sizes"
        )
    task.load_state_dict(theirs, strict=False)
    log.info("started from the network weights of %s (%d tensors); optimizer and step start fresh", path, len(theirs))


def build_trainer(
    cfg: DictConfig, run_dir: Path, loggers: Sequence[Logger] = (), storage: Storage | None = None
) -> Trainer:
    """The trainer of ``cfg.trainer`` with the task, data and optimizers ``cfg`` describes."""
    task = build_task(cfg)
    if cfg.get("init_from"):
        start_from(task, str(cfg.init_from))
    data = build(cfg.data)
    check_input_size(task, data)
    trainer = build(
        cfg.trainer,
        task=task,
        data=data,
        optimizer=cfg.optimizer,
        run_dir=run_dir,
        loggers=list(loggers),
        storage=storage,
        resolved_config={**resolved_config(cfg), "choices": hydra_choices()},
        seed=seed_of(cfg),
        run_name=run_name(run_dir),
        _recursive_=False,
    )
    if not isinstance(trainer, Trainer):
        raise ConfigError(f"cfg.trainer must build a tsb.training.trainer.Trainer, got {type(trainer).__name__}")
    return trainer


def input_multiple(task: Task) -> int:
    """What the task's networks need a word's height and width to be multiples of (1: any): the
    content encoder's stride (16), the U-Net baseline's downscale."""
    from tsb.models.baseline import UNetBaseline
    from tsb.models.content_encoder import CONTENT_STRIDE, ContentEncoder

    multiple = 1
    for module in task.modules():
        if isinstance(module, ContentEncoder):
            multiple = max(multiple, CONTENT_STRIDE)
        elif isinstance(module, UNetBaseline):
            multiple = max(multiple, module.downscale)
    return multiple


def check_input_size(task: Task, data: Any) -> None:
    """Refuse ``data.height`` / ``data.width`` the networks cannot take, naming the setting (the
    networks themselves would name a tensor shape at the first step)."""
    multiple = input_multiple(task)
    for key in ("height", "width"):
        value = getattr(data, key, None)
        if isinstance(value, int) and not isinstance(value, bool) and value % multiple:
            near = max(multiple, round(value / multiple) * multiple)
            raise ConfigError(
                f"data.{key}={value}: this model's networks take words whose height and width are "
                f"multiples of {multiple}; e.g. data.{key}={near}"
            )


def seed_of(cfg: DictConfig) -> int:
    """``cfg.seed`` as a whole number, or one message naming the setting."""
    seed = cfg.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be a whole number (e.g. seed=1234), got {seed!r}")
    return seed


def unwrap_user_error(e: Exception) -> Exception:
    """Hydra wraps errors raised in constructors; give the user our own message, not the wrapper."""
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, TsbError):
            return cause
        cause = cause.__cause__
    return e


def foreign_model_keys(e: InstantiationException) -> Exception:
    """A network given keys it does not take is, in practice, an experiment preset's settings for
    its own model landing on another ``model=`` (``python train.py model=stylebrush`` under the
    default ``experiment=quickstart``, which narrows the split design's branches): one message
    naming the way out. Any other error comes back as it was."""
    cause: BaseException | None = e
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen and not isinstance(cause, TypeError):
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    if not (isinstance(cause, TypeError) and "unexpected keyword argument" in str(cause)):
        return e
    import re

    choices = hydra_choices()
    experiment = choices.get("experiment", "quickstart")
    model = f"model={choices['model']}" if "model" in choices else "this model"
    where = re.search(r"full_key: (\S+)", str(e))
    return ConfigError(
        f"cfg.{where.group(1) if where else 'model'} was given a key its class does not take ({cause}): "
        f"an experiment preset sets keys of its own model, and experiment={experiment} is what "
        f"`python train.py` runs unless told otherwise; with {model} add ~experiment (the groups alone, "
        "no preset) or name an experiment of that model (experiment=quickstart_paper: the paper-style "
        "small network)"
    )


def edit_command(trainer: Trainer) -> str | None:
    """The commands that edit a photo with this run's weights (``best.ckpt`` when validation kept
    one, else ``last.ckpt``): list its words, then replace one. Only for the tasks whose
    checkpoints ``tsb.edit`` loads; None otherwise."""
    from tsb.tasks.stylebrush import StyleBrushTask

    if not isinstance(trainer.task, StyleBrushTask):
        return None
    ckpt = next((p for p in (trainer.ckpt_dir / n for n in ("best.ckpt", "last.ckpt")) if p.is_file()), None)
    if ckpt is None:
        return None
    # a photo of the shared scenes folder where this checkout has one (its word "farm"), else yours
    scene = Path(__file__).resolve().parents[2] / "shared" / "data" / "scenes" / "english.png"
    image, replace = (_shown(scene), "farm=zoo") if scene.is_file() else ("PHOTO.jpg", "OLD=NEW")
    edit = f"python -m tsb.edit --ckpt {_shown(ckpt)} --image {image}"
    return f"{edit} --list\n  {edit} --replace {replace} --out edited.png"


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is below it or one folder up, else absolute."""
    import os

    rel = os.path.relpath(path.resolve())
    return str(path.resolve()) if rel.split(os.sep)[:2] == [os.pardir, os.pardir] else rel


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain data, checked to hold no secret values."""
    from tsb.utils.secrets import assert_no_secrets_in_config

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    assert_no_secrets_in_config(plain)
    return plain  # type: ignore[return-value]


def hydra_choices() -> dict[str, str]:
    """The config-group options of this run (``{"model": "stylebrush_small", ...}``); empty outside
    a Hydra run. Checkpoints keep them, so a mismatch on resume can name the ``model=`` to use."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return {}
    choices = HydraConfig.get().runtime.choices
    return {str(k): str(v) for k, v in choices.items() if not str(k).startswith("hydra") and v is not None}


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
        seed_everything(seed_of(cfg))
        # every rank uses rank 0's run folder (Hydra's timestamped folders may differ by a second)
        run_dir = Path(dist.broadcast_object(str(cfg.paths.output_dir)))
        loggers: list[Logger] = [JsonlLogger()]
        loggers += [build(c) for c in (cfg.get("logger") or {}).values()]
        trainer = build_trainer(cfg, run_dir, loggers, build(cfg.storage))
        summary = trainer.run(cfg.get("ckpt_path"))
        command = edit_command(trainer) if trainer.is_main else None
        if command:
            log.info("edit a photo with this run's weights:\n  %s", command)
        return summary
    finally:
        dist.cleanup()
