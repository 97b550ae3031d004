"""The SLURM launcher config composes into the submitit parameters a cluster job needs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import submitit
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from tests.conftest import CONF


def compose_hydra(overrides: list[str]):  # type: ignore[no-untyped-def]
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train.yaml", overrides=overrides, return_hydra_config=True)


def test_slurm_launcher_yields_one_task_per_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # submitit's SLURM executor looks for `srun` on PATH; a stand-in lets it render the sbatch file
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    cfg = compose_hydra(
        ["hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=4",
         f"hydra.sweep.dir={tmp_path}", "hydra.job.name=train"]
    )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.tasks_per_node == 4 and launcher.gpus_per_node == 4
    # what the plugin hands to submitit (same mapping as SlurmLauncher.launch), rendered to sbatch
    params = OmegaConf.to_container(launcher, resolve=True)
    assert isinstance(params, dict)
    for key in ("_target_", "submitit_folder", "max_num_timeout"):
        params.pop(key)
    base = {"timeout_min", "cpus_per_task", "gpus_per_node", "tasks_per_node", "mem_gb", "nodes", "name",
            "stderr_to_stdout"}
    executor = submitit.AutoExecutor(folder=tmp_path / "%j", cluster="slurm")
    executor.update_parameters(**{k if k in base else f"slurm_{k}": v for k, v in params.items()})
    text = executor._executor._make_submission_file_text("python train.py", "uid")  # type: ignore[attr-defined]
    assert "#SBATCH --partition=gpu" in text
    assert "#SBATCH --gpus-per-node=4" in text
    assert "#SBATCH --ntasks-per-node=4" in text
    assert "#SBATCH --cpus-per-task=8" in text
    assert "#SBATCH --mem=64GB" in text
    assert "#SBATCH --time=1440" in text


def test_local_launcher_composes() -> None:
    cfg = compose_hydra(["hydra/launcher=local", "hydra.job.name=train"])
    assert cfg.hydra.launcher._target_.endswith("submitit_launcher.LocalLauncher")
    assert cfg.hydra.launcher.tasks_per_node == 1
