"""Shared fixtures for the network tests: the presets of conf/model/*.yaml, composed on their own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from tsb.configs import compose_preset

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
PRESETS = ("stylebrush_small", "stylebrush", "baseline", "stylebrush_bg")


def load_model_cfg(name: str, **updates: object) -> DictConfig:
    """conf/model/<name>.yaml composed as a DictConfig; ``updates`` are dotted keys (``net.generator.channels``)."""
    cfg = compose_preset("model", name)
    for key, value in updates.items():
        OmegaConf.update(cfg, key, value, merge=False)
    return cfg


def build(name: str, node: str = "net", seed: int = 0, **updates: object) -> nn.Module:
    """Instantiate one network node of a preset under a fixed seed."""
    torch.manual_seed(seed)
    return instantiate(load_model_cfg(name, **updates)[node])


@pytest.fixture
def make_net() -> Callable[..., nn.Module]:
    return build


@pytest.fixture
def inputs() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """(style (B, 3, Hs, Ws), content (B, 1, 64, W)) in [-1, 1], seeded."""

    def make(batch: int = 2, width: int = 256, style_size: tuple[int, int] | None = None, seed: int = 1):
        g = torch.Generator().manual_seed(seed)
        hs, ws = style_size or (64, width)
        style = torch.rand(batch, 3, hs, ws, generator=g) * 2 - 1
        # content: dark strokes on white, like a rendering
        content = torch.ones(batch, 1, 64, width)
        strokes = torch.rand(batch, 1, 64, width, generator=g) > 0.8
        content[strokes] = -1.0
        return style, content

    return make
