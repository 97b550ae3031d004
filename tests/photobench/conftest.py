"""Fixtures of the photo benchmark's tests: a tiny photo folder, the judge, a tiny checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.photos import make_photo_folder
from tests.helpers.tiny import make_split_checkpoint, make_task_checkpoint
from tsb.detect import WordFinder


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_photo_folder(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="session")
def judge() -> WordFinder:
    return WordFinder()


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_task_checkpoint(tmp_path_factory.mktemp("bench_ckpt") / "last.ckpt")


@pytest.fixture(scope="session")
def split_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny split design (a background branch: it can erase)."""
    return make_split_checkpoint(tmp_path_factory.mktemp("bench_split") / "last.ckpt")
