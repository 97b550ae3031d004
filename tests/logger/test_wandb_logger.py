"""WandbLogger offline: the run folder inside the run dir holds the logged scalars and config.

The environment is isolated: every W&B folder points into tmp_path, no API key, and the server
address is an unroutable local port, so nothing can reach the network.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image

from tsb.logger.wandb import WandbLogger

CONF = Path(__file__).resolve().parents[2] / "conf"
SECRET = "y0_wandbTestSecretToken_987654321"


def read_wandb_records(path: Path) -> list[Any]:
    """Parse a ``.wandb`` file: a leveldb-style log (32 KiB blocks, 7-byte record headers) of
    ``wandb_internal_pb2.Record`` protobufs after a 7-byte ``:W&B`` header."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    ident, magic, _version = struct.unpack("<4sHB", data[:7])
    assert ident == b":W&B" and magic == 0xBEE1
    block, pos, buf, out = 32768, 7, b"", []
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # block trailer padding
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        payload, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind == 1:  # full
            out.append(payload)
        elif kind == 2:  # first
            buf = payload
        elif kind == 3:  # middle
            buf += payload
        elif kind == 4:  # last
            out.append(buf + payload)
    records = []
    for payload in out:
        rec = pb.Record()
        rec.ParseFromString(payload)
        records.append(rec)
    return records


def history(records: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        if r.WhichOneof("record_type") == "history":
            rows.append({(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in r.history.item})
    return rows


@pytest.fixture
def wandb_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for var, sub in {
        "WANDB_DIR": "wandb_dir",
        "WANDB_CONFIG_DIR": "wandb_config",
        "WANDB_CACHE_DIR": "wandb_cache",
        "WANDB_DATA_DIR": "wandb_data",
        "WANDB_ARTIFACT_DIR": "wandb_artifacts",
    }.items():
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("YADISK_TOKEN", SECRET)
    return tmp_path / "run_2024"


def test_offline_run_folder_holds_scalars_config_and_images(wandb_env: Path) -> None:
    run_dir = wandb_env
    run_dir.mkdir()
    grid = run_dir / "samples" / "step_000005.png"
    grid.parent.mkdir()
    Image.new("RGB", (32, 8), (200, 10, 10)).save(grid)

    cfg = OmegaConf.load(CONF / "logger" / "wandb.yaml")
    lg = instantiate(cfg.wandb)
    assert isinstance(lg, WandbLogger) and lg.mode == "offline"
    config = {"seed": 7, "storage": {"token_env": "YADISK_TOKEN"}}
    lg.setup(run_dir, config)
    lg.log_metrics({"train/loss": 1.0, "val/l1": 0.25}, step=0)
    lg.log_metrics({"train/loss": 0.5}, step=1)
    lg.log_image("samples", grid, step=5)
    lg.log_metrics({"train/loss": 0.125}, step=5)
    lg.finish()

    runs = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and lg.run_path == runs[0]
    (wandb_file,) = runs[0].glob("run-*.wandb")
    records = read_wandb_records(wandb_file)
    rows = history(records)
    losses = {row["_step"]: row["train/loss"] for row in rows if "train/loss" in row}
    assert losses == {0: 1.0, 1: 0.5, 5: 0.125}
    assert [row["val/l1"] for row in rows if "val/l1" in row] == [0.25]
    (image_row,) = [row for row in rows if "samples/_type" in row]
    assert image_row["_step"] == 5 and image_row["samples/_type"] == "image-file"
    with Image.open(runs[0] / "files" / image_row["samples/path"]) as logged:
        assert logged.size == (32, 8) and logged.convert("RGB").getpixel((0, 0)) == (200, 10, 10)

    (run_rec,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run_rec.display_name == "run_2024" and run_rec.project == "tsb"
    logged_config = {i.key: json.loads(i.value_json) for i in run_rec.config.update}
    assert logged_config["seed"] == 7 and logged_config["storage"] == {"token_env": "YADISK_TOKEN"}

    for p in run_dir.rglob("*"):  # the token never lands in the W&B folder
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), p


def test_refuses_secret_config_and_bad_mode(wandb_env: Path) -> None:
    with pytest.raises(ValueError, match="offline, online, disabled"):
        WandbLogger(mode="offlne")
    lg = WandbLogger()
    with pytest.raises(ValueError, match=r"storage\.token"):
        lg.setup(wandb_env, {"storage": {"token": SECRET}})
    assert not (wandb_env / "wandb").exists()
