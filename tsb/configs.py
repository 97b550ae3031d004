"""Structured configs: every configurable class's settings and their defaults, taken from the class's
own signature (hydra-zen's ``builds``) and registered in Hydra's ConfigStore, so a constructor's
default is the one source of each setting.

A file of ``conf/`` starts from its class's schema and holds only what differs::

    # conf/data/synth.yaml
    defaults:
      - base_synth      # tsb.data.synth.SynthData's signature: every key, its type and default
      - _self_
    num_workers: 4      # what this preset sets differently

A model or loss preset builds a tree of objects: its defaults list places one schema per node, at
that node's package (``net/split@net``: :class:`~tsb.models.split.SplitBrushNet`'s settings at
``model.net``, registered by :mod:`tsb.models.schemas`; ``term/mask@mask``:
:class:`~tsb.losses.mask.MaskLoss`'s at ``loss.mask``)::

    # conf/model/baseline.yaml
    defaults:
      - net/baseline@net                  # tsb.models.baseline.UNetBaseline
      - net/discriminator@discriminator   # tsb.models.discriminator.Discriminator
      - _self_
    _target_: tsb.tasks.stylebrush.StyleBrushTask
    net:
      channels: [8, 16, 32, 64, 128]

The task node itself names its class (``_target_``) and the few task settings a preset changes:
the parameter table of the networks (``python -m tsb.models.summary``, below the tasks) composes the
presets too, so they start from no schema of a layer above the networks. The loss set itself
(``loss/base``, :class:`~tsb.losses.LossSet`) is an open mapping of named terms, so that
``~loss.mask`` drops a term and ``+loss.lpips=...`` adds one; each term is typed.

``python train.py --cfg job`` prints the composed whole. Composition checks the types
(``trainer.max_steps=abc`` is refused) and the keys (a typo is refused with the valid ones).

The schemas must be registered before a config is composed: importing this module registers them
(``train.py``, ``evaluate.py``, :func:`compose_config` and the apps import it first).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException
from hydra_zen import builds
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import ConfigKeyError
from torch import nn

from tsb.data.schemas import DATA_SCHEMAS, data_schema, register_data
from tsb.errors import ConfigError
from tsb.losses.adversarial import NonSaturatingLoss, PathLengthPenalty, R1Penalty
from tsb.losses.background import BackgroundL1, SourceMaskBCE
from tsb.losses.cycle import CycleLoss
from tsb.losses.layout import LayoutLoss
from tsb.losses.lpips_loss import LPIPSLoss
from tsb.losses.mask import MaskLoss
from tsb.losses.recognition import RecognitionLoss
from tsb.losses.reconstruction import ReconstructionLoss
from tsb.losses.supervised import SupervisedL1
from tsb.losses.typeface import TypefaceEmbedding, TypefacePerceptual, TypefaceTexture
from tsb.models.schemas import NETWORK_SCHEMAS, register_networks
from tsb.training.trainer import Trainer
from tsb.utils.config import CONF, ROOT, compose_conf
from tsb.utils.schemas import class_schema

__all__ = [
    "CONF",
    "DATA_SCHEMAS",
    "LOSS_SCHEMAS",
    "NETWORK_SCHEMAS",
    "ROOT",
    "class_schema",
    "compose_config",
    "compose_preset",
    "data_schema",
    "register",
    "trainer_schema",
]

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


#: ``group/name`` -> the class whose signature is the schema: the terms of a loss set
#: (``loss/term/<the key presets give it>``) and the single losses of the helper-network tasks
LOSS_SCHEMAS: dict[str, Callable[..., Any]] = {
    "loss/term/adversarial": NonSaturatingLoss,
    "loss/term/r1": R1Penalty,
    "loss/term/path_length": PathLengthPenalty,
    "loss/term/reconstruction": ReconstructionLoss,
    "loss/term/cycle": CycleLoss,
    "loss/term/supervised": SupervisedL1,
    "loss/term/mask": MaskLoss,
    "loss/term/background": BackgroundL1,
    "loss/term/source_mask": SourceMaskBCE,
    "loss/term/layout": LayoutLoss,
    "loss/term/perceptual": TypefacePerceptual,
    "loss/term/texture": TypefaceTexture,
    "loss/term/embedding": TypefaceEmbedding,
    "loss/term/recognition": RecognitionLoss,
    "loss/term/lpips": LPIPSLoss,
    "loss/base_cross_entropy": nn.CrossEntropyLoss,
    "loss/base_ctc": nn.CTCLoss,
}

#: torch's deprecated loss arguments, left out of its losses' schemas
DEPRECATED_ARGS = ("size_average", "reduce")


def register() -> None:
    """Put the schemas in Hydra's ConfigStore (again is harmless: the same nodes replace themselves)."""
    store = ConfigStore.instance()
    store.store(group="trainer", name="base", node=trainer_schema())
    register_data()
    register_networks()
    for path, cls in LOSS_SCHEMAS.items():
        group, _, name = path.rpartition("/")
        store.store(group=group, name=name, node=class_schema(cls, exclude=DEPRECATED_ARGS))
    # the loss set: a mapping of named terms, open (~loss.NAME drops one, +loss.NAME=... adds one)
    store.store(group="loss", name="base", node={"_target_": "tsb.losses.LossSet"})


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
    try:
        cfg = compose_conf(overrides or [], config_name)
    except ConfigCompositionException as e:
        translated = foreign_model_keys(e)
        if translated is e:
            raise
        raise translated from e
    if run_root is not None:
        with open_dict(cfg):
            cfg.paths.root_dir = str(ROOT)
            cfg.paths.output_dir = str(run_root / "run")
            cfg.paths.data_dir = str(run_root / "data")
            cfg.paths.checkpoints_dir = str(run_root / "checkpoints")
    return cfg


def compose_preset(group: str, name: str) -> DictConfig:
    """``conf/<group>/<name>.yaml`` alone, composed (the defaults of its schemas filled in), as a
    plain config free to edit: a preset's model or loss set built on its own (tests, benchmarks)."""
    node = compose_conf([f"+{group}={name}"]).get(group)
    if not isinstance(node, DictConfig):
        raise ConfigError(f"conf/{group}/{name}.yaml composes no {group} node")
    plain = OmegaConf.create(OmegaConf.to_container(node))
    assert isinstance(plain, DictConfig)
    return plain


def foreign_model_keys(e: ConfigCompositionException) -> Exception:
    """An experiment preset's settings of its own model that land on another ``model=`` (``python
    train.py model=stylebrush`` under the default ``experiment=quickstart``, which narrows the split
    design's branches) are keys the other model's schema does not have: one message naming the way
    out. Any other error comes back as it was."""
    cause: BaseException | None = e
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen and not isinstance(cause, ConfigKeyError):
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    key = str(getattr(cause, "full_key", "") or "")
    preset = re.search(r"'(experiment/[^']+)'", str(e))
    if not (isinstance(cause, ConfigKeyError) and preset and key.startswith("model.")):
        return e
    refusal = str(cause).splitlines()[0]
    return ConfigError(
        f"{preset.group(1)} sets {key}, which this model does not have ({refusal}): an experiment preset "
        "sets keys of its own model (experiment=quickstart too, what `python train.py` runs unless told "
        "otherwise); with another model= add ~experiment (the groups alone, no preset) or name an "
        "experiment of that model (experiment=quickstart_paper: the paper-style small network)"
    )
