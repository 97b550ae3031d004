"""The end of a training run names the command that edits a photo with its weights, for the tasks
whose checkpoints ``tsb.edit`` loads, and that command works."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig

from tests.conftest import SHARED
from tsb.train import build_trainer, edit_command, train

FAST = ["debug=fast", "trainer.progress_bar=false", "data.num_workers=0", "data.persistent_workers=false"]


def test_a_stylebrush_run_ends_with_the_edit_commands(
    cfg_factory: Callable[..., DictConfig], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    cfg = cfg_factory(FAST)  # the default experiment=quickstart, a few steps
    with caplog.at_level(logging.INFO, logger="tsb.train"):
        train(cfg)
    said = [r.getMessage() for r in caplog.records if "tsb.edit" in r.getMessage()]
    assert len(said) == 1
    commands = [line.strip() for line in said[0].splitlines() if line.strip().startswith("python -m tsb.edit")]
    assert len(commands) == 2 and commands[0].endswith("--list") and "--replace" in commands[1]
    argv = shlex.split(commands[0])[3:]
    ckpt = Path(argv[argv.index("--ckpt") + 1]).resolve()  # printed relative to the working folder when near it
    assert ckpt == Path(cfg.paths.output_dir).resolve() / "checkpoints" / "best.ckpt" and ckpt.is_file()
    if not (SHARED / "data" / "scenes" / "english.png").is_file():
        pytest.skip("the shared scenes folder is not present: the command names PHOTO.jpg")
    from tsb.edit import main

    # the --replace line, run as printed (but writing into tmp_path): it finds the word and edits it
    argv = shlex.split(commands[1])[3:]
    argv[argv.index("--out") + 1] = str(tmp_path / "edited.png")
    assert main(argv) == 0 and (tmp_path / "edited.png").is_file()


def test_no_edit_command_for_a_helper_network(cfg_factory: Callable[..., DictConfig], tmp_path: Path) -> None:
    """A typeface classifier's checkpoint is no photo editor: nothing to print."""
    trainer = build_trainer(cfg_factory(["experiment=typeface", *FAST]), tmp_path / "run")
    assert edit_command(trainer) is None
