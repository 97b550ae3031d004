"""Shared fixtures: compose the real configs of conf/ for a test, with run folders in tmp_path."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
SHARED = ROOT.parent / "shared"

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


def compose_config(
    overrides: list[str] | None = None, tmp_path: Path | None = None, config_name: str = "train.yaml"
) -> DictConfig:
    """Compose ``conf/<config_name>`` with overrides; paths point into ``tmp_path``.

    The ``${hydra:...}`` interpolations only resolve inside a Hydra run, so the paths that use
    them are set here: output_dir = tmp_path/run, checkpoints_dir = tmp_path/checkpoints,
    root_dir = the repository, data_dir = tmp_path/data.
    """
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=overrides or [], return_hydra_config=False)
    if tmp_path is not None:
        with open_dict(cfg):
            cfg.paths.root_dir = str(ROOT)
            cfg.paths.output_dir = str(tmp_path / "run")
            cfg.paths.data_dir = str(tmp_path / "data")
            cfg.paths.checkpoints_dir = str(tmp_path / "checkpoints")
    return cfg


@pytest.fixture
def cfg_factory(tmp_path: Path) -> Iterator[Callable[..., DictConfig]]:
    """``cfg_factory(["model=baseline", ...])`` -> a composed config with tmp paths."""

    def make(overrides: list[str] | None = None, config_name: str = "train.yaml") -> DictConfig:
        return compose_config(overrides, tmp_path, config_name)

    yield make
    GlobalHydra.instance().clear()


@pytest.fixture
def real_words() -> Path:
    """The shared folder of real word crops (``labels.tsv``: file, word)."""
    path = SHARED / "data" / "real-words"
    if not path.is_dir():
        pytest.skip(f"{path} is not present")
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
