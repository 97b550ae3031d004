"""The data modules' structured configs: each class's settings and defaults from its signature
(hydra-zen's ``builds``), registered in Hydra's ConfigStore as ``data/base_<name>`` so that
``conf/data/<name>.yaml`` holds only what differs (:mod:`tsb.configs` registers them with the
trainer's; the data command line, ``python -m tsb.data.synth --data NAME``, on its own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field, fields, make_dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra_zen import builds

from tsb.data.base import DataModule
from tsb.data.fontcrops import FontCropData
from tsb.data.imgur5k import IMGUR5KData
from tsb.data.mixed import MixedData
from tsb.data.paired import PairedData
from tsb.data.render import EffectConfig
from tsb.data.scene_folder import SceneFolderData
from tsb.data.synth import ShardData, SynthData

#: ``group/name`` -> the class whose signature is the schema
DATA_SCHEMAS: dict[str, Callable[..., Any]] = {
    "base_synth": SynthData,
    "base_synth_shards": ShardData,
    "base_imgur5k": IMGUR5KData,
    "base_scene_folder": SceneFolderData,
    "base_paired": PairedData,
    "base_mixed": MixedData,
    "base_fontcrops": FontCropData,
}


def data_schema(cls: Callable[..., Any]) -> type:
    """A data module's settings: the arguments of its ``__init__`` and of every data module class it
    extends (:class:`~tsb.data.base.DataModule`'s loader settings at the bottom); the synthetic
    renderer's ``effects`` are :class:`~tsb.data.render.EffectConfig`'s fields."""
    chain = [c for c in reversed(type.mro(cls)) if isinstance(c, type) and issubclass(c, DataModule)]  # type: ignore[arg-type]
    schema: type | None = None
    for c in chain:
        if "__init__" not in vars(c):
            continue
        bases = (schema,) if schema is not None else ()
        options = {"kw_only": True, "cls_name": f"{c.__name__}Settings"}
        schema = builds(c, populate_full_signature=True, builds_bases=bases, zen_dataclass=options)  # type: ignore[call-overload]
    assert schema is not None
    if "effects" in {f.name for f in fields(schema)}:
        effects = field(default_factory=EffectConfig)
        schema = make_dataclass(
            schema.__name__, [("effects", EffectConfig, effects)], bases=(schema,), kw_only=True
        )
    return schema


def register_data() -> None:
    """Put the data schemas in Hydra's ConfigStore (again is harmless)."""
    store = ConfigStore.instance()
    for name, cls in DATA_SCHEMAS.items():
        store.store(group="data", name=name, node=data_schema(cls))
