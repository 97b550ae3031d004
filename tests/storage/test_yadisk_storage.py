"""YaDiskStorage against a local fake of the Yandex.Disk REST API (see conftest.py)."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path
from typing import Any

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tsb.storage.retry import Backoff, retry_call
from tsb.storage.yadisk import (
    YaDiskStorage,
    YaDiskTokenError,
    check_name,
    is_public_link,
    join_remote,
)
from tsb.utils.secrets import assert_no_secrets_in_config

CONF = Path(__file__).resolve().parents[2] / "conf"
RUN = "disk:/tsb/runs/run1"


def make_run_files(run_dir: Path) -> dict[str, bytes]:
    """A few run files of different sizes (one empty, one > 1 MiB chunk), written locally."""
    rng = random.Random(0)
    files = {
        "checkpoints/last.ckpt": rng.randbytes(300_000),
        "samples/step_000010.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40,
        "metrics.jsonl": b'{"step": 1, "loss": 0.5}\n',
        "empty.txt": b"",
    }
    for name, data in files.items():
        p = run_dir / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def storage_for(fake: Any, **kw: object) -> YaDiskStorage:
    opts: dict = {"api_base": fake.base, "retries": 3, "backoff": 0.001, "backoff_max": 0.01, "timeout": 5.0}
    opts.update(kw)
    return YaDiskStorage(remote_dir="disk:/tsb/runs", **opts)


# ------------------------------------------------------------------ helpers
def test_remote_paths_and_links() -> None:
    assert (
        join_remote("disk:/tsb/runs", "r1", "checkpoints/last.ckpt")
        == "disk:/tsb/runs/r1/checkpoints/last.ckpt"
    )
    assert join_remote("/tsb/runs/") == "disk:/tsb/runs"
    assert join_remote("app:/", "x") == "app:/x"
    assert check_name("samples\\a.png") == "samples/a.png"
    for bad in ("../x", "/..", "", "a/../../b"):
        with pytest.raises(ValueError, match="relative path"):
            check_name(bad)
    assert is_public_link("https://disk.yandex.ru/d/AbC123")
    assert is_public_link("https://yadi.sk/d/AbC123")
    assert is_public_link("https://disk.360.yandex.ru/i/xyz")
    assert not is_public_link("https://example.com/d/x")
    assert not is_public_link("disk:/tsb/runs")


def test_backoff_is_exponential_with_cap_and_retries_only_retriable() -> None:
    assert list(Backoff(retries=6, base=0.5, cap=4.0).delays()) == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    slept: list[float] = []
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("boom")
        return "ok"

    policy = Backoff(retries=5, base=1.0, cap=10.0)
    assert (
        retry_call(
            flaky, policy=policy, is_retriable=lambda e: isinstance(e, ConnectionError), sleep=slept.append
        )
        == "ok"
    )
    assert calls["n"] == 3 and slept == [1.0, 2.0]

    calls["n"] = -100  # always fails
    slept.clear()
    with pytest.raises(ConnectionError):
        retry_call(flaky, policy=Backoff(2, 1.0, 1.5), is_retriable=lambda e: True, sleep=slept.append)
    assert slept == [1.0, 1.5]

    with pytest.raises(ValueError):  # not retriable: raised at once
        retry_call(lambda: int("x"), policy=policy, is_retriable=lambda e: False, sleep=slept.append)


# ------------------------------------------------------------------ round trip
def test_round_trip_upload_then_download(
    fake_disk: Any, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("YADISK_TOKEN", fake_disk.token)
    run_dir = tmp_path / "run1"
    files = make_run_files(run_dir)
    st = storage_for(fake_disk)
    st.setup(run_dir, "run1")
    assert RUN in fake_disk.dirs  # the run folder was created remotely
    for name in files:
        st.upload(run_dir / name, name)
    st.upload(run_dir / "metrics.jsonl", "metrics.jsonl")  # queued again: uploaded once more, still fine
    st.flush()
    assert st.pending == []
    for name, data in files.items():
        assert fake_disk.files[f"{RUN}/{name}"] == data, name
        assert (run_dir / name).read_bytes() == data  # the local copy is kept

    # a checkpoint back by its name in this run, and a whole folder by disk path
    ckpt = st.download("checkpoints/last.ckpt", tmp_path / "back" / "last.ckpt")
    assert ckpt.read_bytes() == files["checkpoints/last.ckpt"]
    folder = st.download(RUN, tmp_path / "back" / "run1")
    got = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert got == files

    # a public link to the run folder, without any token
    clean_env.delenv("YADISK_TOKEN")
    fake_disk.public["https://disk.yandex.ru/d/RunOne"] = RUN
    pub = st.download("https://disk.yandex.ru/d/RunOne", tmp_path / "public" / "run1")
    got = {p.relative_to(pub).as_posix(): p.read_bytes() for p in pub.rglob("*") if p.is_file()}
    assert got == files

    # idempotent: fetching the same checkpoint again sends no request
    n = len(fake_disk.requests)
    assert st.download("checkpoints/last.ckpt", tmp_path / "back" / "last.ckpt") == ckpt
    assert len(fake_disk.requests) == n
    st.close()


def test_inline_mode_uploads_before_returning(
    fake_disk: Any, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("YADISK_TOKEN", fake_disk.token)
    files = make_run_files(tmp_path)
    st = storage_for(fake_disk, background=False)
    st.setup(tmp_path, "run1")
    st.upload(tmp_path / "metrics.jsonl", "metrics.jsonl")
    assert fake_disk.files[f"{RUN}/metrics.jsonl"] == files["metrics.jsonl"]


# ------------------------------------------------------------------ faults
def test_faults_are_retried_then_queued_and_flushed(
    fake_disk: Any, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("YADISK_TOKEN", fake_disk.token)
    run_dir = tmp_path / "run1"
    files = make_run_files(run_dir)
    names = list(files)

    # transient faults: a dropped upload, a 500 on the upload link, a dropped mkdir -> retried
    fake_disk.fault("PUT", "/up/", "drop")
    fake_disk.fault("GET", "/v1/disk/resources/upload", "500")
    fake_disk.fault("PUT", "/v1/disk/resources", "drop")
    st = storage_for(fake_disk, retries=3)
    st.setup(run_dir, "run1")
    st.upload(run_dir / names[0], names[0])
    st.upload(run_dir / names[1], names[1])
    st.wait(timeout=30)
    assert st.pending == []
    assert all(f.times == 0 for f in fake_disk.faults)
    assert fake_disk.files[f"{RUN}/{names[0]}"] == files[names[0]]
    assert fake_disk.files[f"{RUN}/{names[1]}"] == files[names[1]]

    # an outage longer than the retries: the files stay local and queued ...
    fake_disk.faults.clear()
    fake_disk.fault("GET", "/v1/disk/resources/upload", "500", times=3)
    fake_disk.fault("PUT", "/up/", "drop", times=1)
    st.policy = Backoff(retries=1, base=0.001, cap=0.01)
    st.upload(run_dir / names[2], names[2])
    st.upload(run_dir / names[3], names[3])
    st.upload(run_dir / names[0], names[0])  # a new version of an uploaded file
    assert st.wait(timeout=30)
    # names[2]: 1 + 1 retry (500, 500); then one try each: names[3] (500), names[0] (upload dropped)
    assert sorted(st.pending) == sorted([names[2], names[3], names[0]])
    for name in st.pending:
        assert (run_dir / name).read_bytes() == files[name]  # the local copy is kept
    # ... and flush() sends them once the server answers again: nothing is lost
    remaining = sum(f.times for f in fake_disk.faults)
    st.policy = Backoff(retries=remaining + 1, base=0.001, cap=0.01)
    st.flush()
    assert st.pending == []
    for name, data in files.items():
        assert fake_disk.files[f"{RUN}/{name}"] == data, name
    st.close()


def test_outage_costs_one_backoff_cycle_not_one_per_file(
    fake_disk: Any, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("YADISK_TOKEN", fake_disk.token)
    files = make_run_files(tmp_path)
    st = storage_for(fake_disk, retries=3)
    st.setup(tmp_path, "run1")
    fake_disk.fault("GET", "/v1/disk/resources/upload", "500", times=1000)
    for name in files:
        st.upload(tmp_path / name, name)
    st.wait(timeout=30)
    attempts = fake_disk.count("GET", "/v1/disk/resources/upload")
    assert attempts == 4 + (len(files) - 1)  # first file: 1 + 3 retries; the others: one try each
    assert sorted(st.pending) == sorted(files)
    fake_disk.faults.clear()
    st.flush()
    assert st.pending == [] and all(fake_disk.files[f"{RUN}/{n}"] == d for n, d in files.items())


# ------------------------------------------------------------------ token
def test_missing_token_names_the_variable(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    st = YaDiskStorage(api_base="http://127.0.0.1:9", retries=0)
    with pytest.raises(YaDiskTokenError, match="YADISK_TOKEN") as err:
        st.setup(tmp_path, "run1")
    assert "not set" in str(err.value)


def test_401_gives_one_clear_message_without_the_token(
    fake_disk: Any, clean_env: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a wrong token: setup fails before training starts
    clean_env.setenv("YADISK_TOKEN", "wrong-" + fake_disk.token[::-1])
    with pytest.raises(YaDiskTokenError) as err:
        storage_for(fake_disk).setup(tmp_path, "run1")
    msg = str(err.value)
    assert "YADISK_TOKEN" in msg and "invalid, expired" in msg and "HTTP 401" in msg
    assert "oauth.yandex.ru" in msg or "poligon" in msg  # how to get a new one
    assert fake_disk.token[::-1] not in msg

    # the token expires during training: one error message, files kept and pending, flushed later
    clean_env.setenv("YADISK_TOKEN", fake_disk.token)
    files = make_run_files(tmp_path / "run1")
    st = storage_for(fake_disk)
    st.setup(tmp_path / "run1", "run1")
    fake_disk.fault("GET", "/v1/disk/resources/upload", "401", times=len(files))
    caplog.set_level(logging.INFO)
    for name in files:
        st.upload(tmp_path / "run1" / name, name)
    st.wait(timeout=30)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "YADISK_TOKEN" in errors[0].getMessage() and "expired" in errors[0].getMessage()
    assert sorted(st.pending) == sorted(files)
    assert fake_disk.count("GET", "/v1/disk/resources/upload") == len(files)  # 401 is not retried
    st.flush()
    assert st.pending == []
    assert all(fake_disk.files[f"{RUN}/{n}"] == d for n, d in files.items())


def test_token_is_absent_from_run_files_logs_and_output(
    fake_disk: Any,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    clean_env.setenv("YADISK_TOKEN", fake_disk.token)
    caplog.set_level(logging.DEBUG)  # yadisk, httpx, httpcore and tsb at their chattiest
    run_dir = tmp_path / "run1"
    files = make_run_files(run_dir)
    cfg = OmegaConf.load(CONF / "storage" / "yadisk.yaml")
    cfg.api_base, cfg.backoff, cfg.backoff_max, cfg.retries = fake_disk.base, 0.001, 0.01, 1
    assert_no_secrets_in_config(cfg)  # the shipped config names the variable only
    (run_dir / ".hydra").mkdir()
    (run_dir / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create({"storage": cfg})))
    st = instantiate(cfg)
    assert isinstance(st, YaDiskStorage) and fake_disk.token not in repr(st)
    st.setup(run_dir, "run1")
    fake_disk.fault("PUT", "/up/", "drop")
    fake_disk.fault("GET", "/v1/disk/resources/upload", "500", times=3)
    fake_disk.fault("GET", "/v1/disk/resources/upload", "401", times=2)
    for name in [*files, ".hydra/config.yaml"]:
        st.upload(run_dir / name, name)
    st.flush()
    st.flush()
    assert st.pending == []
    st.download(RUN, run_dir / "downloaded")
    st.close()

    assert any(r.name.startswith("yadisk") or r.name.startswith("httpx") for r in caplog.records)
    out, err = capfd.readouterr()
    assert fake_disk.token not in caplog.text and fake_disk.token not in out and fake_disk.token not in err
    written = [p for p in run_dir.rglob("*") if p.is_file()]
    assert len(written) >= 2 * len(files)
    for p in written:
        assert fake_disk.token.encode() not in p.read_bytes(), p
    for data in fake_disk.files.values():
        assert fake_disk.token.encode() not in data
    assert all(r.authorized for r in fake_disk.requests if r.path.startswith("/v1/disk/resources"))
    assert os.environ["YADISK_TOKEN"] == fake_disk.token  # nothing above changed the environment
