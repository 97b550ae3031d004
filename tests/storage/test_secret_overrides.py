"""A secret on the command line never reaches the run folder.

Hydra writes every override to ``.hydra/overrides.yaml`` and ``config.yaml`` before the task
runs, so the check must come first: ``tsb.utils.secrets.SecretGuard`` (a Hydra callback in
``conf/hydra/default.yaml``) stops the run with one message and exit status 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tsb.utils.secrets import SecretInConfigError, check_overrides

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "y0_AgAAAAB3xQsecretTOKENvalue"


def _train(tmp_path: Path, *overrides: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    flags = [o for o in overrides if o.startswith("-")]
    cmd = [sys.executable, str(ROOT / "train.py"), *flags, "debug=fast", *(o for o in overrides if o not in flags),
           f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'multi'}"]  # fmt: skip
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def _files_holding(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.mark.parametrize(
    ("overrides", "env", "named"),
    [
        ((f"+storage.token={TOKEN}",), {}, "storage.token"),
        (("storage=yadisk", f"storage.token_env={TOKEN}"), {}, "storage.token_env"),
        (("-m", f"+logger.wandb.api_key={TOKEN}"), {}, "logger.wandb.api_key"),
        ((f"+foo={TOKEN}",), {"YADISK_TOKEN": TOKEN}, "foo"),
    ],
)
def test_train_py_refuses_a_secret_on_the_command_line(
    tmp_path: Path, overrides: tuple[str, ...], env: dict[str, str], named: str
) -> None:
    res = _train(tmp_path, *overrides, env=env)
    out = res.stdout + res.stderr
    assert res.returncode == 2, out
    assert f"`{named}`" in out and "environment" in out and "Traceback" not in out
    assert TOKEN not in out  # the message never repeats the value
    assert not (tmp_path / "run").exists() and not (tmp_path / "multi").exists()
    assert _files_holding(tmp_path, TOKEN) == []


def test_variable_names_and_plain_overrides_pass() -> None:
    check_overrides(["storage=yadisk", "storage.token_env=MY_DISK_TOKEN", "logger.wandb.api_key_env=WANDB_API_KEY",
                     "+storage.token=null", "trainer.max_steps=10", "~storage.token"])  # fmt: skip


def test_the_error_is_a_config_error() -> None:
    from tsb.errors import ConfigError

    with pytest.raises(ConfigError):
        check_overrides([f"++storage.oauth_token={TOKEN}"])
    assert issubclass(SecretInConfigError, ValueError)  # callers that caught ValueError still do
