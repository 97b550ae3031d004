"""Structured configs: every configurable class's settings and their defaults, taken from the class's
own signature (hydra-zen's ``builds``) and registered in Hydra's ConfigStore, so a constructor's
default is the one source of each setting.

A file of ``conf/`` starts from its class's schema and holds only what differs::

    # conf/data/synth.yaml
    defaults:
      - base_synth      # tsb.data.synth.SynthData's signature: every key, its type and default
      - _self_
    num_workers: 4      # what this preset sets differently

``python train.py --cfg job`` prints the composed whole. Composition checks the types
(``trainer.max_steps=abc`` is refused) and the keys (a typo is refused with the valid ones).

The schemas must be registered before a config is composed: importing this module registers them
(``train.py``, ``evaluate.py``, :func:`compose_config` and the apps import it first).
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.config_store import ConfigStore
from hydra_zen import builds
from omegaconf import DictConfig, open_dict

from tsb.data.schemas import DATA_SCHEMAS, data_schema, register_data
from tsb.training.trainer import Trainer
from tsb.utils.config import CONF, ROOT, compose_conf

__all__ = ["CONF", "DATA_SCHEMAS", "ROOT", "compose_config", "data_schema", "register", "trainer_schema"]

#: Trainer arguments the run gives (built objects, the run folder), not settings of conf/trainer
TRAINER_RUN_ARGS = ("task", "data", "optimizer", "run_dir", "loggers", "storage", "resolved_config",
                    "seed", "run_name")  # fmt: skip


def trainer_schema() -> type:
    """The settings of ``conf/trainer``: :class:`~tsb.training.trainer.Trainer`'s keyword arguments."""
    return builds(
        Trainer,
        populate_full_signature=True,
        zen_exclude=TRAINER_RUN_ARGS,
        zen_dataclass={"cls_name": "TrainerSettings"},
    )  # type: ignore[no-any-return]


def register() -> None:
    """Put the schemas in Hydra's ConfigStore (again is harmless: the same nodes replace themselves)."""
    store = ConfigStore.instance()
    store.store(group="trainer", name="base", node=trainer_schema())
    register_data()


register()


def compose_config(
    overrides: list[str] | None = None, run_root: Path | None = None, config_name: str = "train.yaml"
) -> DictConfig:
    """Compose ``conf/<config_name>`` with ``overrides`` from Python (tests, benchmarks, tools),
    outside a Hydra run.

    The ``${hydra:...}`` interpolations only resolve inside a Hydra run, so with ``run_root``
    the paths that use them are set: output_dir = run_root/run, checkpoints_dir =
    run_root/checkpoints, data_dir = run_root/data, root_dir = the repository.
    """
    if not CONF.is_dir():
        raise FileNotFoundError(f"{CONF} not found: tsb's configs live in the repository (pip install -e .)")
    cfg = compose_conf(overrides or [], config_name)
    if run_root is not None:
        with open_dict(cfg):
            cfg.paths.root_dir = str(ROOT)
            cfg.paths.output_dir = str(run_root / "run")
            cfg.paths.data_dir = str(run_root / "data")
            cfg.paths.checkpoints_dir = str(run_root / "checkpoints")
    return cfg
