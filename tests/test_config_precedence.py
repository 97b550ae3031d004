"""What a command composes: presets set the keys of conf/train.yaml (the quickstart writes to
outputs/quickstart/ as the README says, a sweep preset's optimized_metric reaches the sweeper);
`python train.py` alone is experiment=quickstart, the split design's small model; swapping a group
(loss=..., data=...) changes that group only, never the optimizer, schedule, steps or task name;
`~experiment` gives the bare groups and settings."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
from omegaconf import DictConfig, OmegaConf

from tsb.configs import CONF
from tsb.training.trainer import Trainer


@pytest.mark.parametrize(
    ("overrides", "task_name"),
    [([], "quickstart"), (["experiment=quickstart_paper"], "quickstart_paper"), (["experiment=paper"], "paper"),
     (["experiment=stylebrush_bg"], "stylebrush_bg"), (["debug=fast"], "debug"), (["loss=recon"], "quickstart"),
     (["~experiment"], "train"), (["hparams_search=loss_weights"], "sweep_loss_weights")],
)  # fmt: skip
def test_presets_set_task_name(cfg_factory: Callable[..., DictConfig], overrides: list[str], task_name: str) -> None:
    assert cfg_factory(overrides).task_name == task_name


def test_sweep_preset_sets_the_optimized_metric(cfg_factory: Callable[..., DictConfig]) -> None:
    assert cfg_factory(["hparams_search=loss_weights"]).optimized_metric == "val/psnr"
    assert cfg_factory([]).optimized_metric is None


def test_quickstart_run_folder_is_outputs_quickstart() -> None:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train.yaml", return_hydra_config=True)
    GlobalHydra.instance().clear()
    assert str(cfg.hydra.run.dir).startswith("outputs/quickstart/")


def _without(cfg: DictConfig, *keys: str) -> dict[str, object]:
    plain = OmegaConf.to_container(cfg)
    assert isinstance(plain, dict)
    return {k: v for k, v in plain.items() if k not in keys}


@pytest.mark.parametrize("loss", sorted(p.stem for p in (CONF / "loss").glob("*.yaml")))
def test_a_loss_alone_changes_only_the_loss(cfg_factory: Callable[..., DictConfig], loss: str) -> None:
    """`python train.py loss=NAME` is the quickstart with another loss: the same optimizer, schedule,
    steps, trainer and task name (no setting follows the loss's name)."""
    base, swapped = cfg_factory([]), cfg_factory([f"loss={loss}"])
    assert _without(swapped, "loss") == _without(base, "loss")
    assert list(swapped.optimizer.default.betas) == [0.9, 0.99] and swapped.trainer.max_steps == base.trainer.max_steps
    assert swapped.task_name == "quickstart"


def test_swapping_the_data_changes_only_the_data(cfg_factory: Callable[..., DictConfig]) -> None:
    base, swapped = cfg_factory([]), cfg_factory(["data=synth"])
    assert swapped.data.width == 256 and base.data.width == 128
    assert _without(swapped, "data") == _without(base, "data")


def test_swapping_the_model_changes_only_the_model(cfg_factory: Callable[..., DictConfig]) -> None:
    base, swapped = cfg_factory(["~experiment"]), cfg_factory(["~experiment", "model=stylebrush"])
    assert swapped.model.net.style_encoder != base.model.net.style_encoder
    assert _without(swapped, "model") == _without(base, "model")


def test_without_a_preset_the_design_card_command_gets_the_bare_settings(cfg_factory: Callable[..., DictConfig]) -> None:
    cfg = cfg_factory(["~experiment", "model=stylebrush", "loss=perceptual+cycle"])
    assert cfg.loss.adversarial.weight > 0 and cfg.model.net._target_.endswith("StyleBrushNet")
    assert list(cfg.optimizer.default.betas) == [0.0, 0.99]  # StyleGAN2's, not the quickstart's 0.9
    assert cfg.optimizer.get("scheduler", {}).get("default") is None  # no cosine
    bare = inspect.signature(Trainer).parameters  # conf/trainer's defaults are the Trainer's own
    for key in ("max_steps", "num_threads", "ema_decay", "val_every_n_steps", "monitor"):
        assert cfg.trainer[key] == bare[key].default, key
    assert cfg.task_name == "train"


def test_the_design_card_command_swaps_only_the_model_and_the_loss(cfg_factory: Callable[..., DictConfig]) -> None:
    """python train.py model=stylebrush loss=perceptual+cycle under the default preset: the paper's
    network and losses, the quickstart's data, optimizer and trainer (its model is a group option of
    its own, model=stylebrush_bg_small, so no key of it lands on another model)."""
    from tsb.train import build_task

    cfg = cfg_factory(["model=stylebrush_small", "loss=perceptual+cycle"])
    quick = cfg_factory([])
    assert cfg.model.net._target_.endswith("StyleBrushNet") and cfg.loss.cycle.weight > 0
    assert cfg.data == quick.data and cfg.optimizer == quick.optimizer and cfg.trainer == quick.trainer
    assert type(build_task(cfg).net).__name__ == "StyleBrushNet"


def test_another_experiments_model_keys_on_another_model_name_the_way_out(cfg_factory: Callable[..., DictConfig]) -> None:
    """experiment=stylebrush_bg narrows the split design's branches; another model= with it does not
    take those keys (its networks' structured configs refuse them when composing): one message
    saying to add ~experiment, from Python and from `python train.py`'s check of its command line,
    not Hydra's key error."""
    from tsb.cli import unknown_key
    from tsb.errors import ConfigError

    overrides = ["experiment=stylebrush_bg", "model=stylebrush_small"]
    with pytest.raises(ConfigError, match="~experiment"):
        cfg_factory(overrides)
    problem = unknown_key(overrides, "train")
    assert isinstance(problem, ConfigError) and "~experiment" in str(problem) and "model.net.background" in str(problem)


def test_python_train_py_alone_is_the_split_quickstart(cfg_factory: Callable[..., DictConfig]) -> None:
    """The split design at narrower widths than the CPU recipe, its losses, mild 64x128 words
    rendered on the fly (nothing to render first), one training thread, a cosine schedule over
    the run, best.ckpt by val/psnr (logged beside val/copy_psnr)."""
    plain, explicit = cfg_factory([]), cfg_factory(["experiment=quickstart"])
    assert OmegaConf.to_container(plain) == OmegaConf.to_container(explicit)
    recipe = cfg_factory(["experiment=stylebrush_bg"])
    assert plain.model.net._target_ == "tsb.models.split.SplitBrushNet"
    for branch in ("background", "text", "layout"):
        assert sum(plain.model.net[branch].channels) < sum(recipe.model.net[branch].channels), branch
    assert {"supervised", "background", "source_mask", "layout", "mask"} <= {
        k for k, v in plain.loss.items() if isinstance(v, DictConfig) and v.weight > 0
    }
    assert plain.data._target_ == "tsb.data.synth.SynthData" and (plain.data.height, plain.data.width) == (64, 128)
    assert plain.data.num_workers == 1 and plain.data.val_font_split == "heldout"
    assert plain.trainer.num_threads == 1 and plain.trainer.max_steps <= 1500
    assert list(plain.optimizer.default.betas) == [0.9, 0.99]
    assert plain.optimizer.scheduler.default.T_max == plain.trainer.max_steps
    assert (plain.trainer.monitor, plain.trainer.monitor_mode) == ("val/psnr", "max")


def test_the_paper_style_quickstart_is_a_named_preset(cfg_factory: Callable[..., DictConfig]) -> None:
    """experiment=quickstart_paper: what `python train.py` ran before the split design."""
    cfg = cfg_factory(["experiment=quickstart_paper"])
    assert cfg.model.net.generator.content_skips and cfg.data.width == 128 and "cycle" in cfg.loss
    assert cfg.trainer.max_steps == 1500 and list(cfg.optimizer.default.betas) == [0.9, 0.99]
    assert cfg.optimizer.scheduler.default.T_max == 1500 and cfg.trainer.monitor == "val/l1"
