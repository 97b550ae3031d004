"""Fixtures of the loss tests: the stand-ins of tests/helpers/nets.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.nets import TinyD, TinyNet, make_batch, write_recognizer_ckpt, write_typeface_ckpt


@pytest.fixture
def batch() -> dict:
    return make_batch()


@pytest.fixture
def tiny_net() -> TinyNet:
    torch.manual_seed(0)
    return TinyNet()


@pytest.fixture
def tiny_d() -> TinyD:
    torch.manual_seed(1)
    return TinyD()


@pytest.fixture
def typeface_ckpt(tmp_path: Path) -> Path:
    return write_typeface_ckpt(tmp_path / "typeface.ckpt")


@pytest.fixture
def recognizer_ckpt(tmp_path: Path) -> Path:
    return write_recognizer_ckpt(tmp_path / "recognizer.ckpt")
