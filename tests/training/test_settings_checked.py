"""Settings a run cannot work with are refused at start-up with one message naming the setting
(exit status 2), before anything is trained or written."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig

from tests.training.test_trainer import make_trainer
from tsb.errors import ConfigError
from tsb.train import train


@pytest.mark.parametrize("value", [-1, -0.5, math.nan, math.inf, "abc"])
def test_a_gradient_clip_that_is_not_a_positive_norm_is_refused(tmp_path: Path, value: Any) -> None:
    """A negative norm scaled every gradient by a negative factor: the loss rose."""
    with pytest.raises(ConfigError, match=r"trainer\.grad_clip_norm must be a positive number") as e:
        make_trainer(tmp_path, grad_clip_norm=value)
    assert e.value.exit_code == 2 and "\n" not in str(e.value)
    assert not tmp_path.joinpath("checkpoints").exists()


def test_a_positive_gradient_clip_still_trains(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, grad_clip_norm=0.5, max_steps=2)
    assert trainer.run()["step"] == 2


@pytest.mark.parametrize("value", [-2, 1.5, "four"])
def test_a_thread_count_that_is_not_a_count_is_refused(tmp_path: Path, value: Any) -> None:
    with pytest.raises(ConfigError, match=r"trainer\.num_threads must be a whole number >= 1"):
        make_trainer(tmp_path, num_threads=value)


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("optimizer.default.lr=nan", r"optimizer\.default is refused .*(?i:learning rate)"),
        ("optimizer.default.lr=-1", r"optimizer\.default is refused .*(?i:learning rate)"),
        ("optimizer.default.betas=[2,0.9]", r"optimizer\.default is refused .*beta"),
        ("seed=abc", r"seed must be a whole number.*'abc'"),
        ("seed=1.5", r"seed must be a whole number"),
    ],
)
def test_a_setting_refused_by_its_constructor_is_named(
    cfg_factory: Callable[..., DictConfig], tmp_path: Path, override: str, named: str
) -> None:
    """What torch's constructors raise (``Adam(lr=nan)``: ValueError) and a seed that is no number
    were tracebacks; one message each, naming the setting."""
    cfg = cfg_factory(["debug=fast", "trainer.progress_bar=false", override])
    with pytest.raises(ConfigError, match=named) as e:
        train(cfg)
    assert e.value.exit_code == 2 and "\n" not in str(e.value)
    assert not (tmp_path / "run" / "checkpoints").exists()
