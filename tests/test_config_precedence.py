"""Presets set the keys of conf/train.yaml (issue 14, finding 8): the quickstart writes to
outputs/quickstart/ as the README says, a sweep preset's optimized_metric reaches the sweeper."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from omegaconf import DictConfig


@pytest.mark.parametrize(
    ("overrides", "task_name"),
    [([], "quickstart"), (["experiment=paper"], "paper"), (["debug=fast"], "debug"),
     (["~experiment"], "train"), (["hparams_search=loss_weights"], "sweep_loss_weights")],
)  # fmt: skip
def test_presets_set_task_name(cfg_factory: Callable[..., DictConfig], overrides: list[str], task_name: str) -> None:
    assert cfg_factory(overrides).task_name == task_name


def test_sweep_preset_sets_the_optimized_metric(cfg_factory: Callable[..., DictConfig]) -> None:
    assert cfg_factory(["hparams_search=loss_weights"]).optimized_metric == "val/l1"
    assert cfg_factory([]).optimized_metric is None


def test_quickstart_run_folder_is_outputs_quickstart() -> None:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from tsb.utils.config import CONF

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train.yaml", return_hydra_config=True)
    GlobalHydra.instance().clear()
    assert str(cfg.hydra.run.dir).startswith("outputs/quickstart/")
