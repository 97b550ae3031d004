"""What a command composes (issue 14, finding 8): presets set the keys of conf/train.yaml (the
quickstart writes to outputs/quickstart/ as the README says, a sweep preset's optimized_metric
reaches the sweeper); swapping a group changes that group only, and the design-card command
`model=stylebrush loss=perceptual+cycle` gets no quickstart settings."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from omegaconf import DictConfig


@pytest.mark.parametrize(
    ("overrides", "task_name"),
    [([], "quickstart"), (["experiment=paper"], "paper"), (["debug=fast"], "debug"),
     (["loss=recon"], "train"), (["hparams_search=loss_weights"], "sweep_loss_weights")],
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


def _without(cfg: DictConfig, *keys: str) -> dict[str, object]:
    from omegaconf import OmegaConf

    plain = OmegaConf.to_container(cfg)
    assert isinstance(plain, dict)
    return {k: v for k, v in plain.items() if k not in keys}


def test_swapping_the_model_changes_only_the_model(cfg_factory: Callable[..., DictConfig]) -> None:
    base, swapped = cfg_factory([]), cfg_factory(["model=stylebrush"])
    assert swapped.model.net.style_encoder != base.model.net.style_encoder
    assert _without(swapped, "model") == _without(base, "model")


def test_design_card_command_gets_no_quickstart_settings(cfg_factory: Callable[..., DictConfig]) -> None:
    from omegaconf import OmegaConf

    from tsb.utils.config import CONF

    cfg = cfg_factory(["model=stylebrush", "loss=perceptual+cycle"])
    assert cfg.loss.adversarial.weight > 0 and cfg.model.net._target_.endswith("StyleBrushNet")
    assert list(cfg.optimizer.default.betas) == [0.0, 0.99]  # StyleGAN2's, not the quickstart's 0.9
    assert cfg.optimizer.get("scheduler", {}).get("default") is None  # no 1,500-step cosine
    trainer = OmegaConf.load(CONF / "trainer" / "default.yaml")
    for key in ("max_steps", "num_threads", "ema_decay", "val_every_n_steps", "monitor"):
        assert cfg.trainer[key] == trainer[key], key
    assert cfg.task_name == "train"


def test_python_train_py_alone_is_still_the_quickstart(cfg_factory: Callable[..., DictConfig]) -> None:
    from omegaconf import OmegaConf

    plain, explicit = cfg_factory([]), cfg_factory(["experiment=quickstart"])
    assert OmegaConf.to_container(plain) == OmegaConf.to_container(explicit)
    assert plain.trainer.max_steps == 1500 and list(plain.optimizer.default.betas) == [0.9, 0.99]
    assert plain.model.net.generator.content_skips and plain.data.width == 128
