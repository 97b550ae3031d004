"""``init_from``: a run starts from another run's (or the published) network weights, with a fresh
optimizer and step; weights of another model are one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from tests.helpers.tiny import TINY_MODEL, make_task_checkpoint, tiny_model_config
from tsb.errors import ConfigError
from tsb.train import start_from


def _net(task: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in task.state_dict().items() if k.startswith("net.")}


def test_the_run_starts_from_the_checkpoints_network(tmp_path: Path) -> None:
    ckpt = make_task_checkpoint(tmp_path / "a.ckpt", seed=0)
    torch.manual_seed(1)
    task = instantiate(tiny_model_config(), loss=None)
    saved = {k: v for k, v in torch.load(ckpt, weights_only=False)["task"].items() if k.startswith("net.")}
    assert any(not torch.equal(v, saved[k]) for k, v in _net(task).items())  # another start before
    start_from(task, str(ckpt))
    after = _net(task)
    assert after.keys() == saved.keys() and all(torch.equal(after[k], saved[k]) for k in saved)


def test_weights_of_another_model_are_refused(tmp_path: Path) -> None:
    wider = [o for o in TINY_MODEL if not o.startswith("net.generator.channels")] + [
        "net.generator.channels=[8,8,8,8,4]"
    ]
    ckpt = make_task_checkpoint(tmp_path / "wide.ckpt", overrides=wider)
    task = instantiate(tiny_model_config(), loss=None)
    before = {k: v.clone() for k, v in _net(task).items()}
    with pytest.raises(ConfigError, match=r"init_from=.*does not fit this run's model"):
        start_from(task, str(ckpt))
    assert all(torch.equal(v, before[k]) for k, v in _net(task).items())  # nothing half-loaded
