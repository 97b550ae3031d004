"""A real (tiny) training run with storage=yadisk (fake Disk) and logger=wandb (offline): every
file the run writes reaches the Disk intact, despite injected faults, and the token is in none."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from tests.helpers.toy import ToyData, ToyTask
from tsb.logger.jsonl import JsonlLogger
from tsb.logger.wandb import WandbLogger
from tsb.storage.yadisk import YaDiskStorage
from tsb.training.trainer import Trainer
from tsb.utils.seed import seed_everything

ADAM = OmegaConf.create({"default": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.01}})


def test_training_run_uploads_everything_and_leaks_no_token(
    fake_disk: Any,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    token = fake_disk.token
    clean_env.setenv("YADISK_TOKEN", token)
    for var in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        clean_env.setenv(var, str(tmp_path / "wandb_home" / var.lower()))
    clean_env.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    clean_env.setenv("WANDB_SILENT", "true")
    caplog.set_level(logging.DEBUG)

    fake_disk.fault("PUT", "/up/", "drop", times=2)
    fake_disk.fault("GET", "/v1/disk/resources/upload", "500", times=6)
    storage = YaDiskStorage(api_base=fake_disk.base, retries=1, backoff=0.001, backoff_max=0.01, timeout=5.0)
    run_dir = tmp_path / "outputs" / "run_a"
    seed_everything(0)
    trainer = Trainer(
        ToyTask(),
        ToyData(batch_size=8, seed=3),
        ADAM,
        run_dir,
        loggers=[JsonlLogger(), WandbLogger(mode="offline")],
        storage=storage,
        resolved_config={"task_name": "toy", "storage": {"token_env": "YADISK_TOKEN"}},
        max_steps=6,
        val_every_n_steps=3,
        limit_val_batches=1,
        log_every_n_steps=1,
        progress_bar=False,
        device="cpu",
    )
    trainer.run(None)
    storage.close()

    assert storage.pending == [] and all(f.times == 0 for f in fake_disk.faults)
    remote = {k.removeprefix("disk:/tsb/runs/run_a/"): v for k, v in fake_disk.files.items()}
    assert "checkpoints/last.ckpt" in remote and "metrics.jsonl" in remote
    assert any(k.startswith("samples/") for k in remote)
    for name, data in remote.items():  # every uploaded file equals its final local copy
        assert (run_dir / name).read_bytes() == data, name

    written = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any("wandb" in p.parts for p in written) and any(p.suffix == ".ckpt" for p in written)
    for p in written:
        assert token.encode() not in p.read_bytes(), p
    out, err = capfd.readouterr()
    assert token not in caplog.text and token not in out and token not in err
