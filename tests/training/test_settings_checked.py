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

ROOT = Path(__file__).resolve().parents[2]


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


# ------------------------------------------------------------------------------- the run folder
def test_a_run_folder_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    """Hydra's mkdir raised FileExistsError with a traceback hint; now one message, exit 2."""
    import subprocess
    import sys

    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    cmd = [sys.executable, str(ROOT / "train.py"), "debug=fast", f"hydra.run.dir={a_file}"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 2 and "Traceback" not in out and "HYDRA_FULL_ERROR" not in out, out
    assert out.count("\n") == 0 and "hydra.run.dir" in out and "is a file" in out, out
    assert a_file.read_text() == "not a folder"


def test_a_run_folder_inside_a_file_or_read_only_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from tsb.utils.run_folder import check_run_folder

    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match=r"is inside .*f, which is a file"):
        check_run_folder(tmp_path / "f" / "run")
    check_run_folder(tmp_path / "new" / "run")  # missing folders are made by Hydra: fine
    assert not (tmp_path / "new").exists()
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # read-only (tests may run as root)
    with pytest.raises(ConfigError, match=r"cannot write there .*read-only"):
        check_run_folder(tmp_path / "new" / "run")


def test_a_full_disk_at_a_checkpoint_is_one_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from tsb.errors import RunWriteError
    from tsb.training import checkpoint

    trainer = make_trainer(tmp_path, max_steps=10)
    real = checkpoint.atomic_torch_save
    calls = []

    def full_after_first(path: Path, obj: Any) -> Path:
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, obj)

    monkeypatch.setattr(checkpoint, "atomic_torch_save", full_after_first)
    with pytest.raises(
        RunWriteError, match=r"last\.ckpt at step 10 \(No space left on device\); the previous"
    ) as e:
        trainer.run()
    assert "\n" not in str(e.value)
    assert checkpoint.load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["step"] == 5


@pytest.mark.parametrize(
    ("override", "named"), [("data.height=63", "data.height=63"), ("data.width=255", "data.width=255")]
)
def test_a_word_size_the_networks_cannot_take_names_the_setting(
    cfg_factory: Callable[..., DictConfig], tmp_path: Path, override: str, named: str
) -> None:
    """It was the content encoder's "content image must be (B, 1, 64, W)" at the first step."""
    from tests.test_error_contract import TINY
    from tsb.train import build_trainer

    cfg = cfg_factory([*TINY, "debug=fast", override])
    with pytest.raises(ConfigError, match=rf"{named}: .*multiples of 16; e\.g\. data\.") as e:
        build_trainer(cfg, tmp_path / "run")
    assert e.value.exit_code == 2


def test_a_misspelt_key_says_did_you_mean(tmp_path: Path) -> None:
    """Hydra's own message suggested adding the misspelt key (``+trainer.max_stpes=3``)."""
    import subprocess
    import sys

    cmd = [
        sys.executable,
        str(ROOT / "train.py"),
        "debug=fast",
        "trainer.max_stpes=3",
        f"hydra.run.dir={tmp_path / 'r'}",
    ]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 2 and out.count("\n") == 0, out
    assert "did you mean trainer.max_steps" in out and "+trainer.max_stpes" not in out, out
    assert not (tmp_path / "r").exists()
