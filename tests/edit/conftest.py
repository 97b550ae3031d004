"""Fixtures of the edit tests: a tiny random StyleBrush checkpoint and an echo checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.helpers.tiny import make_task_checkpoint
from tsb.edit import Editor


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_task_checkpoint(tmp_path_factory.mktemp("edit_ckpt") / "last.ckpt")


@pytest.fixture(scope="session")
def editor(tiny_ckpt: Path) -> Editor:
    return Editor(tiny_ckpt, "cpu")


@pytest.fixture(scope="session")
def echo_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tsb.training.checkpoint import save_checkpoint

    path = tmp_path_factory.mktemp("echo") / "echo.ckpt"
    cfg = OmegaConf.create({"model": {"_target_": "tests.helpers.standin.EchoTask"}})
    from tests.helpers.standin import EchoTask

    save_checkpoint(path, {"task": EchoTask().state_dict(), "config": OmegaConf.to_yaml(cfg)})
    return path
