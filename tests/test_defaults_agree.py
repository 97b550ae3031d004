"""One source of defaults: where a constructor keeps a Python default for
an option its config file also sets, the two agree, so building a trainer or data module from
Python (tests, benchmarks, notebooks) gives what ``python train.py`` gives."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

# each data class and the config file that is its own (the others are variants of these)
PRIMARY = ["synth", "synth_shards", "imgur5k", "scene_folder", "paired", "mixed"]
# set per option on purpose (workers, batch sizes) or wired from the run (seed): the DataModule base
# keeps Python defaults for programmatic use, and each option says its own
PER_OPTION = {"seed", "batch_size", "val_batch_size", "num_workers", "shuffle", "pin_memory",
              "persistent_workers", "prefetch_factor"}  # fmt: skip


def _effects(value: Any) -> Any:
    from tsb.data.render import EffectConfig

    return EffectConfig.from_dict(value)


# options whose Python default (None) stands for built-in values: compare what they build
NORMALISE: dict[str, Callable[[Any], Any]] = {"effects": _effects}


def _disagreements(node: DictConfig, where: str, skip: frozenset[str] = frozenset()) -> list[str]:
    plain: dict[str, Any] = OmegaConf.to_container(node, resolve=True)  # type: ignore[assignment]
    out = []
    for cls in get_class(plain["_target_"]).__mro__:
        init = cls.__dict__.get("__init__")
        if init is None or not cls.__module__.startswith("tsb."):
            continue
        for name, param in inspect.signature(init).parameters.items():
            if name not in plain or name in skip or param.default is inspect.Parameter.empty:
                continue
            value, default = plain[name], param.default
            if name in NORMALISE:
                value, default = NORMALISE[name](value), NORMALISE[name](default)
            if isinstance(default, tuple) and isinstance(value, list):
                value = tuple(value)
            if value != default:
                out.append(f"{where}.{name}: {cls.__name__} says {default!r}, the config {value!r}")
    return out


def test_trainer_defaults_agree(cfg_factory: Callable[..., DictConfig]) -> None:
    # ~experiment: no preset (python train.py runs experiment=quickstart), the bare trainer config
    assert _disagreements(cfg_factory(["~experiment"]).trainer, "trainer") == []


@pytest.mark.parametrize("data", PRIMARY)
def test_data_defaults_agree(cfg_factory: Callable[..., DictConfig], data: str) -> None:
    cfg = cfg_factory(["~experiment", f"data={data}"])
    assert _disagreements(cfg.data, f"data={data}", frozenset(PER_OPTION)) == []
