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
    """The rows of benchmarks/split_ablation.sh: name -> its overrides (what it starts from, the
    recipe unless the row names another start, then what it adds)."""
    import re

    script = (Path(__file__).resolve().parents[1] / "benchmarks" / "split_ablation.sh").read_text()

    def table(name: str) -> dict[str, list[str]]:
        block = script[script.index(f"declare -A {name}=(") :]
        block = block[: block.index("\n)\n")]
        return {row: value.replace("\\$", "$").split() for row, value in re.findall(r'\[(\w+)\]="([^"]*)"', block)}

    recipe = re.search(r"^recipe=(\S+)$", script, re.M)
    assert recipe is not None
    starts = table("base")
    return {row: [*starts.get(row, [recipe.group(1)]), *extra] for row, extra in table("extra").items()}


def test_every_ablation_row_composes_and_changes_what_it_names(cfg_factory: Callable[..., DictConfig]) -> None:
    """Each row of the ablation is the CPU recipe with its own overrides (a row that no longer
    composes would only fail after the recipe's shards were rendered, on a lent machine)."""
    rows = _ablation_rows()
    assert {"split", "no_bg_loss", "no_mask_loss", "no_src_mask_loss", "adversarial", "paper_gen"} <= set(rows)
    common = [f"trainer.{k}=400" for k in ("max_steps", "val_every_n_steps", "checkpoint_every_n_steps")]
    base = cfg_factory(["experiment=stylebrush_bg", *common])
    composed = {name: cfg_factory([*extra[:1], *common, *extra[1:]]) for name, extra in rows.items()}
    assert composed["split"] == base
    assert composed["no_mask_loss"].loss.mask.weight == 0 and base.loss.mask.weight > 0
    assert composed["no_src_mask_loss"].loss.source_mask.weight == 0 and base.loss.source_mask.weight > 0
    adv = composed["adversarial"]
    assert adv.loss.adversarial.weight > 0 and adv.loss.r1.weight > 0 and base.loss.adversarial.weight == 0
    for term in ("recognition", "perceptual"):  # the pretrained-network terms, off in the recipe
        assert composed[term].loss[term].weight == 1 and base.loss[term].weight == 0
    texture = composed["texture"].loss.texture  # the paper's Gram term, not in loss=split: the row adds it
    assert texture.weight == 500 and texture.reference == "style" and "texture" not in base.loss
    paper_gen = composed["paper_gen"]  # the paper's generator and its pixel losses, the recipe's data and trainer
    assert paper_gen.model.net._target_ == "tsb.models.stylebrush.StyleBrushNet" and "source_mask" not in paper_gen.loss
    for group in ("data", "optimizer", "trainer"):
        assert paper_gen[group] == base[group], group
    for name, cfg in composed.items():
        assert cfg.trainer.max_steps == base.trainer.max_steps, name  # the same budget


# --------------------------------------------------------------- structured model and loss presets
@pytest.mark.parametrize(
    ("override", "named"),
    [("model.net.widht=2", "widht"), ("model.net.background.dilaet=2", "dilaet"), ("loss.mask.wieght=1", "wieght"),
     ("model.net.background.dilate=abc", "model.net.background.dilate"),
     ("loss.supervised.weight=heavy", "loss.supervised.weight")],
)  # fmt: skip
def test_a_wrong_model_or_loss_setting_is_refused_when_composing(
    cfg_factory: Callable[..., DictConfig], override: str, named: str
) -> None:
    """The networks and the loss terms are their classes' structured configs: a misspelt key or a
    value of the wrong type is refused before anything is built."""
    with pytest.raises(ConfigCompositionException, match=named):
        cfg_factory([override])


def test_a_misspelt_model_key_says_did_you_mean() -> None:
    from tsb.cli import unknown_key

    problem = unknown_key(["model.net.background.chanels=[8,8,8,8,8]"], "train")
    assert problem is not None and "did you mean model.net.background.channels" in str(problem)


def test_a_preset_file_with_a_misspelt_key_is_refused(cfg_factory: Callable[..., DictConfig]) -> None:
    """What a preset file (conf/model, conf/experiment) sets is merged into the typed nodes: a key
    the class does not take is refused at composition, not at the first step."""
    from omegaconf.errors import ConfigKeyError

    model = cfg_factory([]).model
    with pytest.raises(ConfigKeyError, match="chanels"):
        OmegaConf.merge(model, {"net": {"background": {"chanels": [8, 8, 8, 8, 8]}}})
    # another network's settings
    with pytest.raises(ConfigKeyError, match="'style_encoder' not in 'SplitBrushNetSettings'"):
        OmegaConf.merge(model, {"net": {"style_encoder": {"widths": [8, 8, 8, 8]}}})


def test_the_loss_set_is_open_and_its_terms_are_typed(cfg_factory: Callable[..., DictConfig]) -> None:
    """``~loss.NAME`` drops a term and ``+loss.NAME=...`` adds one; each term has every setting of
    its class, the defaults filled in."""
    cfg = cfg_factory(["~loss.mask", "+loss.texture={_target_: tsb.losses.typeface.TypefaceTexture, weight: 500}"])
    assert "mask" not in cfg.loss and cfg.loss.texture.weight == 500
    assert cfg.loss.layout.pool == 4 and cfg.loss.supervised.fg_weight == 1.0  # the classes' defaults


def _schema_classes() -> set[object]:
    from tsb.configs import LOSS_SCHEMAS, NETWORK_SCHEMAS

    return {*NETWORK_SCHEMAS.values(), *LOSS_SCHEMAS.values()}


def _restated_defaults(raw: object, composed: object, where: str, classes: set[object]) -> list[str]:
    """Keys of a preset file (``raw``) that state their class's own default."""
    import inspect

    from hydra.utils import get_class

    if not isinstance(raw, DictConfig) or not isinstance(composed, dict):
        return []
    out: list[str] = []
    cls = get_class(str(composed["_target_"])) if "_target_" in composed else None
    params = inspect.signature(cls).parameters if cls in classes else {}
    for key, value in raw.items_ex(resolve=False):
        if key == "defaults":
            continue
        path = f"{where}.{key}" if where else str(key)
        child = composed.get(str(key))
        if isinstance(value, DictConfig):
            out += _restated_defaults(value, child, path, classes)
        elif key in params and not OmegaConf.is_interpolation(raw, str(key)):
            default = params[str(key)].default
            if default is not inspect.Parameter.empty and child == (list(default) if isinstance(default, tuple) else default):
                out.append(f"{path}: {child!r}")
    return out


@pytest.mark.parametrize(("group", "option"), [(g, o) for g in ("model", "loss") for o in options(g)])
def test_a_preset_states_no_default_of_its_classes(group: str, option: str) -> None:
    """One source per setting: a model or loss preset holds only what differs from its classes'
    constructor defaults (the structured configs give the rest)."""
    from tsb.configs import compose_preset

    raw = OmegaConf.load(CONF / group / f"{option}.yaml")
    composed = OmegaConf.to_container(compose_preset(group, option))
    assert _restated_defaults(raw, composed, "", _schema_classes()) == []
