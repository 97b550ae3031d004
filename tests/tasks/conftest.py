"""Tiny versions of the real StyleBrush configs for task tests (same classes, narrow widths)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig

from tests.conftest import compose_config

# model=stylebrush_small at a few thousand parameters: same networks, narrow; on the paper-style
# quickstart's groups and settings (the default experiment=quickstart is the split design)
TINY_MODEL = [
    "model=stylebrush_small",
    "model.net.style_encoder.stem_channels=8",
    "model.net.style_encoder.widths=[8,8,16,16]",
    "model.net.style_encoder.style_dim=16",
    "model.net.content_encoder.stem_channels=8",
    "model.net.content_encoder.widths=[8,8,16,16]",
    "model.net.content_encoder.out_channels=16",
    "model.net.generator.channels=[16,16,16,8,8]",
    "model.discriminator.channels=[8,8,16,16,16]",
    "experiment=quickstart_paper",
]


@pytest.fixture
def tiny_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """``tiny_cfg(["loss=recon", ...])``: the composed config with the tiny model and tmp paths."""

    def make(overrides: list[str] | None = None) -> DictConfig:
        return compose_config([*TINY_MODEL, *(overrides or [])], tmp_path)

    return make
