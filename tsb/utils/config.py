"""Where the project's configs live: the repository's ``conf/`` (composed by :mod:`tsb.configs`)."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"


def compose_conf(overrides: list[str], config_name: str | None = None) -> DictConfig:
    """Compose ``conf/`` with Hydra's compose API outside a Hydra run (its global state cleared
    first); ``config_name`` None composes the overrides' groups alone (``+data=synth``). The
    structured configs the files start from must be registered first (:mod:`tsb.configs`)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides)
