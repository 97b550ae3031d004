"""tsb.storage.fetch.fetch against a local HTTP server (the fake Disk of conftest.py serves plain
files under /files/ too): resume, checksums, idempotence, local copies, archives, Disk links."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tsb.storage.fetch import ChecksumError, FetchError, fetch
from tsb.storage.yadisk import YaDiskTokenError

FAST = {"retries": 3, "backoff": 0.001, "backoff_max": 0.01, "timeout": 5.0}
DATA = random.Random(1).randbytes(2_500_000)  # > 2 chunks, so a drop lands mid-file
SHA = hashlib.sha256(DATA).hexdigest()
MD5 = hashlib.md5(DATA).hexdigest()


def gets(fake: Any, prefix: str) -> list[Any]:
    return [r for r in fake.requests if r.method == "GET" and r.path.startswith(prefix)]


def test_resumes_after_a_connection_dropped_midway(fake_disk: Any, clean_env: Any, tmp_path: Path) -> None:
    fake_disk.plain["data.bin"] = DATA
    fake_disk.fault("GET", "/files/data.bin", "midway")
    dest = tmp_path / "cache" / "data.bin"
    assert fetch(f"{fake_disk.base}/files/data.bin", dest, sha256=SHA, **FAST) == dest
    assert dest.read_bytes() == DATA
    assert not dest.with_name("data.bin.part").exists()
    first, second = gets(fake_disk, "/files/")
    assert first.range is None
    offset = int(second.range.removeprefix("bytes=").rstrip("-"))
    assert 0 < offset < len(DATA)  # continued from the bytes already received, not from zero


def test_resumes_across_calls_and_is_idempotent(fake_disk: Any, clean_env: Any, tmp_path: Path) -> None:
    fake_disk.plain["data.bin"] = DATA
    fake_disk.fault("GET", "/files/data.bin", "midway")
    dest = tmp_path / "data.bin"
    url = f"{fake_disk.base}/files/data.bin"
    with pytest.raises(FetchError, match="run again to resume") as err:
        fetch(url, dest, md5=MD5, **{**FAST, "retries": 0})
    part = dest.with_name("data.bin.part")
    kept = part.stat().st_size
    assert 0 < kept < len(DATA) and str(kept) in str(err.value) and not dest.exists()

    fetch(url, dest, md5=MD5, **FAST)  # a new process would do the same
    assert dest.read_bytes() == DATA
    assert gets(fake_disk, "/files/")[-1].range == f"bytes={kept}-"

    n = len(fake_disk.requests)
    fetch(url, dest, md5=MD5, **FAST)  # verified and present: no request
    assert len(fake_disk.requests) == n

    dest.write_bytes(b"corrupted")  # present but wrong: fetched again
    fetch(url, dest, md5=MD5, **FAST)
    assert dest.read_bytes() == DATA and len(fake_disk.requests) == n + 1


def test_concurrent_fetches_of_one_file_download_it_once(
    fake_disk: Any, clean_env: Any, tmp_path: Path
) -> None:
    fake_disk.plain["data.bin"] = DATA
    dest = tmp_path / "data.bin"
    with ThreadPoolExecutor(3) as pool:
        outs = list(
            pool.map(lambda _: fetch(f"{fake_disk.base}/files/data.bin", dest, sha256=SHA, **FAST), range(3))
        )
    assert outs == [dest] * 3 and dest.read_bytes() == DATA
    assert len(gets(fake_disk, "/files/")) == 1


def test_checksum_mismatch_deletes_the_part_and_says_so(
    fake_disk: Any, clean_env: Any, tmp_path: Path
) -> None:
    fake_disk.plain["data.bin"] = DATA
    dest = tmp_path / "data.bin"
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as err:
        fetch(f"{fake_disk.base}/files/data.bin", dest, sha256=wrong, **FAST)
    msg = str(err.value)
    assert "sha256 mismatch" in msg and wrong in msg and SHA in msg and "data.bin" in msg
    assert not dest.exists() and not dest.with_name("data.bin.part").exists()


def test_http_errors_are_clear(fake_disk: Any, clean_env: Any, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(f"{fake_disk.base}/files/missing.bin", tmp_path / "x", **FAST)
    fake_disk.plain["data.bin"] = DATA
    fake_disk.fault("GET", "/files/data.bin", "500", times=2)  # 5xx is retried
    fetch(f"{fake_disk.base}/files/data.bin", tmp_path / "y", sha256=SHA, **FAST)
    assert (tmp_path / "y").read_bytes() == DATA
    with pytest.raises(FetchError, match="ftp"):
        fetch("ftp://example.com/x", tmp_path / "z")


def test_local_path_copy_file_folder_and_file_url(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.bin").write_bytes(DATA[:1000])
    (src / "sub" / "b.txt").write_text("hello")
    out = fetch(str(src / "a.bin"), tmp_path / "c" / "a.bin", md5=hashlib.md5(DATA[:1000]).hexdigest())
    assert out.read_bytes() == DATA[:1000]
    out = fetch((src / "a.bin").as_uri(), tmp_path / "c" / "a2.bin")
    assert out.read_bytes() == DATA[:1000]
    folder = fetch(str(src), tmp_path / "c" / "copy")
    assert (folder / "sub" / "b.txt").read_text() == "hello" and (folder / "a.bin").stat().st_size == 1000
    with pytest.raises(ChecksumError, match="md5 mismatch"):
        fetch(str(src / "a.bin"), tmp_path / "c" / "bad.bin", md5="f" * 32)
    assert not (tmp_path / "c" / "bad.bin").exists() and not (tmp_path / "c" / "bad.bin.part").exists()
    with pytest.raises(FetchError, match="no such file"):
        fetch(str(tmp_path / "nope"), tmp_path / "c" / "nope")


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _targz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("pack", [_zip, _targz])
def test_extract_archives(fake_disk: Any, clean_env: Any, tmp_path: Path, pack: Any) -> None:
    members = {"images/a.png": b"A" * 100, "ann.json": b"{}"}
    blob = pack(members)
    fake_disk.plain["set.archive"] = blob
    dest = tmp_path / "set"
    fetch(
        f"{fake_disk.base}/files/set.archive",
        dest,
        sha256=hashlib.sha256(blob).hexdigest(),
        extract=True,
        **FAST,
    )
    assert {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == members
    # archive and temporaries are gone (only the hidden lock file stays next to the folder)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["set"]
    n = len(fake_disk.requests)
    fetch(f"{fake_disk.base}/files/set.archive", dest, extract=True, **FAST)
    assert len(fake_disk.requests) == n


def test_extract_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    evil.write_bytes(_zip({"../outside.txt": b"x"}))
    with pytest.raises(FetchError, match="outside"):
        fetch(str(evil), tmp_path / "out", extract=True)
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "out").exists()


def test_yadisk_public_file_link_resumes_and_checks_md5(
    fake_disk: Any, clean_env: Any, tmp_path: Path
) -> None:
    fake_disk.put_file("disk:/share/imgur5k.bin", DATA)
    link = "https://disk.yandex.ru/d/Imgur5kLink"
    fake_disk.public[link] = "disk:/share/imgur5k.bin"
    fake_disk.fault("GET", "/dl/", "midway")
    dest = fetch(link, tmp_path / "imgur5k.bin", api_base=fake_disk.base, **FAST)
    assert dest.read_bytes() == DATA
    dl = gets(fake_disk, "/dl/")
    assert len(dl) == 2 and dl[1].range is not None and dl[1].range != "bytes=0-"
    assert not any(r.authorized for r in fake_disk.requests)  # public links need no token

    fake_disk.fault("GET", "/v1/disk/public/resources", "401")
    with pytest.raises(FetchError, match="refused the public link"):
        fetch(link, tmp_path / "refused.bin", api_base=fake_disk.base, **FAST)
    other = tmp_path / "other.bin"
    with pytest.raises(ChecksumError, match="md5 mismatch"):
        fetch(link, other, md5="0" * 32, api_base=fake_disk.base, **FAST)
    assert not other.exists() and not other.with_name("other.bin.part").exists()


def test_yadisk_disk_path_needs_the_token(fake_disk: Any, clean_env: Any, tmp_path: Path) -> None:
    fake_disk.put_file("disk:/data/set.zip", _zip({"a.txt": b"a"}))
    with pytest.raises(YaDiskTokenError, match="YADISK_TOKEN"):
        fetch("disk:/data/set.zip", tmp_path / "set", extract=True, api_base=fake_disk.base, **FAST)
    clean_env.setenv("YADISK_TOKEN", "bad-token-value")
    with pytest.raises(YaDiskTokenError, match="invalid, expired") as err:
        fetch("disk:/data/set.zip", tmp_path / "set", extract=True, api_base=fake_disk.base, **FAST)
    assert "bad-token-value" not in str(err.value)
    clean_env.setenv("YADISK_TOKEN", fake_disk.token)
    out = fetch("disk:/data/set.zip", tmp_path / "set", extract=True, api_base=fake_disk.base, **FAST)
    assert (out / "a.txt").read_bytes() == b"a"
    with pytest.raises(FetchError, match=r"not found on Yandex\.Disk"):
        fetch("disk:/data/missing.zip", tmp_path / "m", api_base=fake_disk.base, **FAST)
