"""Fixtures of the evaluation tests: a tiny checkpoint, a tiny recognizer, a paired folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

from tests.conftest import compose_config
from tests.helpers.tiny import make_paired_folder, make_recognizer_checkpoint, make_task_checkpoint
from tsb.evaluate.settings import register

register()  # conf/evaluate.yaml starts from the structured config evaluate_settings, as evaluate.py registers it


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_task_checkpoint(tmp_path_factory.mktemp("ckpt") / "last.ckpt")


@pytest.fixture(scope="session")
def paired_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_paired_folder(tmp_path_factory.mktemp("paired"))


@pytest.fixture
def eval_cfg(tmp_path: Path, tiny_ckpt: Path, paired_root: Path) -> Iterator[Callable[..., DictConfig]]:
    """``eval_cfg([...overrides])``: conf/evaluate.yaml on the tiny checkpoint and the paired folder.

    The judge is a tiny CRNN checkpoint (fast, a known alphabet) unless the overrides name one.
    """

    def make(overrides: list[str] | None = None) -> DictConfig:
        base = [
            f"ckpt_path={tiny_ckpt}",
            "device=cpu",
            "progress=false",
            "batch_size=2",
            f"data.root={paired_root}",
        ]
        cfg = compose_config(base + list(overrides or []), tmp_path, config_name="evaluate.yaml")
        with open_dict(cfg):
            cfg.output_dir = str(tmp_path / "run")
        crnn = Path(cfg.paths.checkpoints_dir) / "recognizer.ckpt"
        make_recognizer_checkpoint(crnn)
        if not any(o.startswith("judge=") for o in overrides or []):
            with open_dict(cfg):
                cfg.judge = str(crnn)
        return cfg

    yield make
    GlobalHydra.instance().clear()
