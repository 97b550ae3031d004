"""Every user mistake is one message naming the thing and the fix.

Config checks in networks, losses, data and storage raise :class:`tsb.errors.ConfigError` (a
``TsbError``, exit status 2), which ``build_trainer`` unwraps from Hydra's
``InstantiationException`` so ``train.py`` prints it without a traceback.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from tests.helpers.tiny import TINY_MODEL, make_paired_folder
from tests.helpers.toy import PairTask
from tests.training.test_trainer import make_trainer
from tsb.errors import CheckpointError, ConfigError, DataNotFoundError, TsbError
from tsb.train import build, build_trainer

ROOT = Path(__file__).resolve().parents[1]
# the paper-style quickstart's groups and settings (the default experiment=quickstart is the split design)
TINY = ["experiment=quickstart_paper", "model=stylebrush_small", *(f"model.{o}" for o in TINY_MODEL)]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (["model.net.generator.channels=[8]"], "generator.channels"),
        (["loss.mask.kind=xyz"], "loss.mask.kind"),
        (["loss.r1.interval=0"], "loss.r1.interval"),
        (["data.batch_size=0"], "batch_size"),
        (["trainer.ema_decay=2"], "trainer.ema_decay"),
        (["storage=yadisk", "storage.api_base=ftp://x"], "storage.api_base"),
        (["+loss.bogus={_target_: torch.nn.Identity}"], "loss.bogus"),
    ],
)
def test_config_mistakes_are_tsb_errors(
    cfg_factory: Callable[..., DictConfig], overrides: list[str], named: str, tmp_path: Path
) -> None:
    cfg = cfg_factory([*TINY, *overrides])
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")) as e:
        build_trainer(cfg, tmp_path / "run", storage=build(cfg.storage))
    assert e.value.exit_code == 2


def test_a_loss_without_generator_terms_is_one_message(cfg_factory: Callable[..., DictConfig], tmp_path: Path) -> None:
    cfg = cfg_factory([*TINY, "loss.supervised.weight=0", "loss.reconstruction.weight=0", "loss.mask.weight=0"])
    trainer = build_trainer(cfg, tmp_path / "run")
    with pytest.raises(ConfigError, match="no active generator term"):
        trainer.setup()


def test_train_py_prints_one_message_and_honours_hydra_full_error(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "train.py"), "debug=fast", "loss.mask.kind=xyz", f"hydra.run.dir={tmp_path / 'r'}"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = res.stdout + res.stderr
    assert res.returncode == 2 and "loss.mask.kind must be 'l1' or 'bce'" in out and "Traceback" not in out, out
    full = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HYDRA_FULL_ERROR": "1"})  # fmt: skip
    assert full.returncode == 1 and "Traceback" in full.stderr


# ---------------------------------------------------------------------------------- paired folders
def test_paired_folder_with_missing_targets_names_the_folder(tmp_path: Path) -> None:
    from tsb.data.paired import PairedFolderDataset

    root = make_paired_folder(tmp_path / "pairs")
    (root / "t_f" / "b.png").unlink()
    with pytest.raises(DataNotFoundError, match=r"t_f has no file for 1 of the 4 pairs.*b\.png"):
        PairedFolderDataset(root)


def test_paired_folder_with_non_utf8_labels_names_the_file(tmp_path: Path) -> None:
    from tsb.data.paired import PairedFolderDataset

    root = make_paired_folder(tmp_path / "pairs")
    (root / "i_t.txt").write_bytes("a.png caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"i_t\.txt is not UTF-8 text"):
        PairedFolderDataset(root)


def test_paired_folder_without_targets_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import shutil

    from tsb.data.paired import PairedFolderDataset

    root = make_paired_folder(tmp_path / "pairs")
    shutil.rmtree(root / "t_f")
    with caplog.at_level(logging.WARNING):
        PairedFolderDataset(root)
    assert "no t_f/ folder" in caplog.text and "scene mode" in caplog.text


# ---------------------------------------------------------------------------------- resuming
def test_resume_from_another_model_names_the_model_it_was_trained_with(tmp_path: Path) -> None:
    first = make_trainer(tmp_path, max_steps=2)
    first.config = {"choices": {"model": "toy"}}
    first.run()
    other = make_trainer(tmp_path, task=PairTask(), max_steps=4)  # type: ignore[arg-type]
    other.config = {"choices": {"model": "pair"}}
    with pytest.raises(CheckpointError, match=r"trained with model=toy \(this run: model=pair\).*ckpt_path=null"):
        other.setup("auto")


def test_stored_choices_travel_in_the_checkpoint(tmp_path: Path) -> None:
    from tsb.training.checkpoint import load_checkpoint

    trainer = make_trainer(tmp_path, max_steps=1)
    trainer.config = {"choices": {"model": "toy"}}
    trainer.run()
    stored = OmegaConf.create(load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["config"])
    assert stored.choices.model == "toy"


def test_tsb_errors_keep_their_builtin_types() -> None:
    assert issubclass(ConfigError, ValueError) and issubclass(DataNotFoundError, FileNotFoundError)
    assert issubclass(ConfigError, TsbError)


# ---------------------------------------------------------------------------------- config checks
def _bad_typeface_source() -> None:
    from tsb.losses.typeface import TypefacePerceptual

    TypefacePerceptual(network="imagenet_vgg16", source="bogus")


def _bad_lpips_reference() -> None:
    from tsb.losses.lpips_loss import LPIPSLoss

    LPIPSLoss(reference="bogus", pretrained_backbone=False)


def _bad_wandb_mode() -> None:
    from tsb.logger.wandb import WandbLogger

    WandbLogger(mode="bogus")


def _bad_content_height() -> None:
    from tsb.data.content import render_content

    render_content("a", 2)


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (_bad_typeface_source, "source must be one of"),
        (_bad_lpips_reference, "loss.lpips.reference"),
        (_bad_wandb_mode, "logger.wandb.mode"),
        (_bad_content_height, "content height"),
    ],
)
def test_constructor_checks_are_config_errors(make: Callable[[], None], named: str) -> None:
    with pytest.raises(ConfigError, match=named) as e:
        make()
    assert e.value.exit_code == 2


def test_a_helper_checkpoint_naming_a_foreign_class_is_refused() -> None:
    from tsb.pretrained.helpers import HelperCheckpointError, _build

    with pytest.raises(HelperCheckpointError, match="not a tsb network class"):
        _build({"_target_": "builtins.open", "file": "/tmp/x"})
    with pytest.raises(HelperCheckpointError, match="may not name further classes"):
        _build({"_target_": "tsb.models.unet.UNet", "in_channels": {"_target_": "builtins.open"}})
