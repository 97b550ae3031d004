"""Every option of every config group composes, and builds (or fails with a clear message)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException, MissingConfigException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from tests.conftest import CONF, ROOT
from tsb.data.base import DataModule
from tsb.errors import TsbError
from tsb.logger.base import Logger
from tsb.storage.base import Storage
from tsb.tasks.base import Task
from tsb.train import build_task

GROUPS = ["model", "loss", "data", "optimizer", "logger", "storage", "trainer", "experiment", "debug"]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


CASES = [(g, o) for g in GROUPS for o in options(g)]


def test_every_group_has_options() -> None:
    for group in GROUPS:
        assert options(group), f"conf/{group}/ is empty"


@pytest.mark.parametrize(("group", "option"), CASES, ids=[f"{g}={o}" for g, o in CASES])
def test_option_composes_and_builds(group: str, option: str, cfg_factory: Callable[..., DictConfig]) -> None:
    # an experiment preset as it is; any other option on the bare groups (`~experiment`: the
    # default experiment=quickstart sets its own model's widths, which another model= does not take)
    cfg = cfg_factory([f"{group}={option}"] if group == "experiment" else ["~experiment", f"{group}={option}"])
    assert cfg.get(group) is not None or group in ("experiment", "debug", "logger")
    # every required value is either given or documented as required (???) in the data group only
    missing = OmegaConf.missing_keys(cfg)
    assert all(k.startswith("data.") for k in missing), f"required keys outside data: {missing}"
    if missing:
        return  # built by the data tests with their fixture folders
    if group in ("model", "loss", "experiment"):
        try:
            task = build_task(cfg)
        except TsbError as e:
            # a loss whose helper network is missing names the command that makes it; a model
            # and loss that do not belong together name the experiment that pairs them
            assert "experiment=" in str(e)
            return
        assert isinstance(task, Task)
        assert task.phases() and set(p.group for p in task.phases()) <= set(task.param_groups())
    if group in ("data", "experiment", "debug"):
        assert isinstance(instantiate(cfg.data), DataModule)
    if group == "logger":
        for node in cfg.logger.values():
            assert isinstance(instantiate(node), Logger)
    if group == "storage":
        assert isinstance(instantiate(cfg.storage), Storage)
    if group in ("optimizer", "trainer"):
        assert callable(instantiate(cfg.optimizer.default))
        assert cfg.trainer._target_ == "tsb.training.trainer.Trainer"


def test_wrong_group_option_gives_hydras_error(cfg_factory: Callable[..., DictConfig]) -> None:
    with pytest.raises(MissingConfigException, match="model/no_such_model"):
        cfg_factory(["model=no_such_model"])


def test_wrong_key_gives_hydras_error(cfg_factory: Callable[..., DictConfig]) -> None:
    with pytest.raises(ConfigCompositionException, match="no_such_key"):
        cfg_factory(["trainer.no_such_key=3"])


def test_cfg_job_prints_the_composed_config(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), "--cfg", "job", "trainer.max_steps=7"],
        capture_output=True, text=True, cwd=tmp_path, check=True,
    ).stdout
    cfg = OmegaConf.create(out)
    assert cfg.trainer.max_steps == 7
    assert set(GROUPS[:7]) <= set(cfg)
    assert cfg.model._target_ and cfg.data._target_


def test_split_presets_state_one_optimizer_schedule_and_monitor_and_differ_in_size(
    cfg_factory: Callable[..., DictConfig],
) -> None:
    """The split design's three presets, experiment=quickstart (what `python train.py` runs, CPU,
    minutes), stylebrush_bg (the CPU recipe) and stylebrush_bg_gpu, each state the same Adam,
    cosine schedule over their own steps and monitor in their own file; the quickstart is the
    narrowest and renders its pairs on the fly, the CPU recipe reads shards, the GPU recipe is
    the widest and runs on CUDA."""
    names = ("quickstart", "stylebrush_bg", "stylebrush_bg_gpu")
    quick, cpu, gpu = (cfg_factory([f"experiment={n}"]) for n in names)
    for cfg in (quick, cpu, gpu):
        assert cfg.model.net._target_.endswith("SplitBrushNet") and "source_mask" in cfg.loss
        assert list(cfg.optimizer.default.betas) == [0.9, 0.99] and cfg.optimizer.default.lr == 0.002
        sched = cfg.optimizer.scheduler.default
        assert sched._target_.endswith("CosineAnnealingLR") and sched.T_max == cfg.trainer.max_steps
        assert (cfg.trainer.monitor, cfg.trainer.monitor_mode) == ("val/psnr", "max")
    for name in names:  # stated in the preset itself, not composed in from elsewhere
        preset = OmegaConf.load(CONF / "experiment" / f"{name}.yaml")
        assert preset.optimizer.default.betas and preset.optimizer.scheduler.default and preset.trainer.monitor
    assert quick.data._target_.endswith("SynthData") and cpu.data._target_.endswith("ShardData")
    assert gpu.data._target_.endswith("SynthData")
    for branch in ("background", "text"):
        widths = [sum(c.model.net[branch].channels) for c in (quick, cpu, gpu)]
        assert widths == sorted(set(widths)), (branch, widths)
    assert (quick.trainer.device, cpu.trainer.device, gpu.trainer.device) == ("auto", "auto", "cuda")
    assert quick.trainer.max_steps < cpu.trainer.max_steps < gpu.trainer.max_steps


def _ablation_rows() -> dict[str, list[str]]:
    """The rows of benchmarks/split_ablation.sh: name -> the overrides it adds to the recipe."""
    import re

    script = (Path(__file__).resolve().parents[1] / "benchmarks" / "split_ablation.sh").read_text()
    block = script[script.index("declare -A extra=(") : script.index("\n)\n")]
    return {name: value.split() for name, value in re.findall(r'\[(\w+)\]="([^"]*)"', block)}


def test_every_ablation_row_composes_and_changes_what_it_names(cfg_factory: Callable[..., DictConfig]) -> None:
    """Each row of the ablation is the CPU recipe with its own overrides (a row that no longer
    composes would only fail after the recipe's shards were rendered, on a lent machine)."""
    rows = _ablation_rows()
    assert {"split", "no_bg_loss", "no_mask_loss", "no_src_mask_loss", "adversarial", "paper_gen"} <= set(rows)
    base = cfg_factory(["experiment=stylebrush_bg"])
    composed = {name: cfg_factory(["experiment=stylebrush_bg", *extra]) for name, extra in rows.items()}
    assert composed["split"] == base
    assert composed["no_mask_loss"].loss.mask.weight == 0 and base.loss.mask.weight > 0
    assert composed["no_src_mask_loss"].loss.source_mask.weight == 0 and base.loss.source_mask.weight > 0
    adv = composed["adversarial"]
    assert adv.loss.adversarial.weight > 0 and adv.loss.r1.weight > 0 and base.loss.adversarial.weight == 0
    for term in ("recognition", "perceptual"):  # the pretrained-network terms, off in the recipe
        assert composed[term].loss[term].weight == 1 and base.loss[term].weight == 0
    texture = composed["texture"].loss.texture  # the paper's Gram term, not in loss=split: the row adds it
    assert texture.weight == 500 and texture.reference == "style" and "texture" not in base.loss
    assert "background" not in composed["paper_gen"].model.net
    for name, cfg in composed.items():
        assert cfg.trainer.max_steps == base.trainer.max_steps, name  # the same budget
