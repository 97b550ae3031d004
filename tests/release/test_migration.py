"""Stored model configs of older versions name network options that are inference steps now."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from tests.helpers.tiny import make_split_checkpoint
from tsb.training.checkpoint import load_checkpoint, load_task, migrate_model_config, save_checkpoint

OLD_KEYS = {
    "net.sharp_inference": True,
    "net.colour_from_source": True,
    "net.effect_ring": 1,
    "net.extrusion": {"_target_": "tsb.models.extrusion.SourceExtrusion"},
    "net.background.refine": {"_target_": "tsb.models.refine.TextRegionRefiner", "unclip": 1.0},
}


def _old_checkpoint(path: Path) -> Path:
    """A split-design checkpoint whose stored config has the keys an older version wrote."""
    make_split_checkpoint(path)
    state = load_checkpoint(path)
    cfg = OmegaConf.create(state["config"])
    for key, value in OLD_KEYS.items():
        OmegaConf.update(cfg.model, key, value, merge=False)
    save_checkpoint(path, {**state, "config": OmegaConf.to_yaml(cfg)})
    return path


def test_migration_drops_the_moved_keys_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    model = OmegaConf.create({"_target_": "t", "net": {"_target_": "n", "ink_gain": 4.0, "background": {"smooth": 0}}})
    for key, value in OLD_KEYS.items():
        OmegaConf.update(model, key, value, merge=False)
    with caplog.at_level(logging.WARNING, logger="tsb.training.checkpoint"):
        dropped = migrate_model_config(model, "old.ckpt")
    assert dropped == [f"model.{k}" for k in OLD_KEYS]
    assert OmegaConf.to_container(model) == {
        "_target_": "t",
        "net": {"_target_": "n", "ink_gain": 4.0, "background": {"smooth": 0}},
    }
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert message.startswith("old.ckpt: dropped ") and "inference=photo" in message
    assert all(f"model.{k}" in message for k in OLD_KEYS)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tsb.training.checkpoint"):
        assert migrate_model_config(model, "new.ckpt") == []  # nothing to drop: no warning
    assert not caplog.records


def test_an_old_checkpoint_still_loads(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = _old_checkpoint(tmp_path / "old.ckpt")
    new = make_split_checkpoint(tmp_path / "new.ckpt")
    with caplog.at_level(logging.WARNING, logger="tsb.training.checkpoint"):
        task, cfg = load_task(old)
    assert sum("inference=photo" in r.getMessage() for r in caplog.records) == 1
    assert "sharp_inference" not in cfg.model.net and "refine" not in cfg.model.net.background
    reference, _ = load_task(new)
    for a, b in zip(task.state_dict().values(), reference.state_dict().values(), strict=True):
        assert torch.equal(a, b)
