"""Fetch data sets and checkpoints into a local cache: resumable, verified, idempotent.

The storages (:meth:`tsb.storage.base.Storage.download`) and the data sets both use it; it lives
here, below :mod:`tsb.data`, so that no storage imports a data module. :mod:`tsb.data.remote`
re-exports it under its older name (``python -m tsb.data.remote`` still works).

``fetch(remote, dest)`` understands

- a local path (or ``file://`` URL): a file is copied, a folder copied as a whole;
- an ``http(s)://`` URL: downloaded with HTTP ``Range`` resume on ``<dest>.part``;
- a Yandex.Disk public link (``https://disk.yandex.ru/d/...``, ``https://yadi.sk/...``) or a
  ``disk:/...`` path (token from ``$YADISK_TOKEN``): a file is downloaded like a URL and checked
  against the md5 the Disk reports; a folder is walked and every file downloaded and checked.

Guarantees (decisions documented here, used by the data sets):

- A file appears at ``dest`` only complete and verified (``.part`` + checks + rename). A folder
  (a copied or downloaded folder, or an extracted archive) is assembled next to ``dest`` and
  renamed into place only when complete, so an existing ``dest`` folder is taken as complete.
- Resumable: a connection dropped midway is retried with exponential backoff and the download
  continues from the bytes already in ``.part``; an interrupted process resumes on the next call.
  Folder downloads keep finished files across calls.
- Verified: ``md5`` / ``sha256`` (hex) when given (and the Disk's own md5 for Disk files); on a
  mismatch the part file is deleted and :class:`ChecksumError` names the file and both digests.
- Idempotent: an existing ``dest`` file that passes the given checksums (or any existing file
  when none is given) is returned without touching the network. Concurrent calls for one
  ``dest`` (DDP ranks, DataLoader workers) serialise on a lock file ``.<name>.lock`` beside it,
  so the bytes are fetched once.
- ``extract=True`` unpacks a .zip or .tar(.gz/.bz2/.xz) archive (format sniffed from the bytes)
  into the folder ``dest``; paths escaping the folder are refused; the archive is deleted after
  a successful extraction. Archives are not flattened: members keep their paths.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tarfile
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from yadisk import exceptions as yex

from tsb.errors import ChecksumError, FetchError
from tsb.storage.retry import Backoff, retry_call
from tsb.storage.yadisk import (
    RemoteFile,
    YaDiskTokenError,
    auth_error_message,
    is_auth_error,
    is_disk_path,
    is_public_link,
    list_remote,
    make_client,
    missing_token_message,
    ssl_context,
)
from tsb.utils.io import CHUNK, file_digest

log = logging.getLogger(__name__)


class _RetriableHTTP(FetchError):
    """A 5xx / 429 answer or a body shorter than announced: worth another attempt."""


def _is_retriable(exc: BaseException) -> bool:
    return isinstance(exc, (httpx.TransportError, _RetriableHTTP))


def _checks(md5: str | None, sha256: str | None) -> dict[str, str]:
    return {k: v.strip().lower() for k, v in (("md5", md5), ("sha256", sha256)) if v}


def verify(
    path: Path, *, md5: str | None = None, sha256: str | None = None, source: str = "", name: str = ""
) -> None:
    """Raise :class:`ChecksumError` if ``path`` does not match the given digests (``name``: the
    file name to report, e.g. the final name of a ``.part`` file)."""
    for algo, expected in _checks(md5, sha256).items():
        got = file_digest(path, algo)
        if got != expected:
            src = f" (from {source})" if source else ""
            raise ChecksumError(
                f"{algo} mismatch for {name or path.name}{src}: expected {expected}, got {got}. The file was deleted; "
                f"check the checksum in the config or the source, then run again."
            )


def _passes(path: Path, md5: str | None, sha256: str | None) -> bool:
    try:
        verify(path, md5=md5, sha256=sha256)
    except ChecksumError:
        return False
    return True


def download_url(
    get_url: Callable[[], str],
    target: Path,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
    policy: Backoff | None = None,
    timeout: float = 60.0,
    source: str = "",
) -> Path:
    """Download to ``target`` through ``<target>.part`` with Range resume, retries and checks.

    ``get_url`` is called once per attempt (direct links of Yandex.Disk expire).
    """
    policy = policy or Backoff()
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    source = source or "URL"

    def attempt(client: httpx.Client) -> None:
        offset = part.stat().st_size if part.exists() else 0
        if size is not None and offset > size:
            part.unlink()
            offset = 0
        if size is not None and offset == size and offset > 0:
            return  # complete from an earlier attempt; verified below
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        with client.stream("GET", get_url(), headers=headers) as r:
            if r.status_code == 416 and offset:
                return  # nothing left to send: the part is complete (or wrong: the checks decide)
            if r.status_code >= 500 or r.status_code == 429:
                raise _RetriableHTTP(f"HTTP {r.status_code} from {source}")
            if r.status_code >= 400:
                raise FetchError(f"cannot download {source}: HTTP {r.status_code} {r.reason_phrase}")
            if offset and r.status_code == 206:
                start = r.headers.get("content-range", "").partition(" ")[2].partition("-")[0]
                if start != str(offset):
                    raise _RetriableHTTP(f"unexpected Content-Range {r.headers.get('content-range')!r}")
                mode = "ab"
            else:  # 200: the server ignored Range (or a fresh start)
                offset, mode = 0, "wb"
            announced = r.headers.get("content-length")
            written = 0
            with open(part, mode) as f:
                for chunk in r.iter_bytes(CHUNK):
                    f.write(chunk)
                    written += len(chunk)
            if announced is not None and written < int(announced):
                raise _RetriableHTTP(f"connection closed after {offset + written} bytes")

    log.info("downloading %s -> %s", source, target)
    with httpx.Client(follow_redirects=True, timeout=timeout, verify=ssl_context()) as client:
        try:
            retry_call(
                lambda: attempt(client),
                policy=policy,
                is_retriable=_is_retriable,
                what=f"download of {source}",
                logger=log,
            )
        except (httpx.TransportError, _RetriableHTTP) as exc:
            kept = part.stat().st_size if part.exists() else 0
            raise FetchError(
                f"download of {source} failed after {policy.retries + 1} attempt(s): {type(exc).__name__}: {exc}. "
                f"{kept} bytes are kept in {part}; run again to resume."
            ) from exc
    if size is not None and part.stat().st_size != size:
        got = part.stat().st_size
        part.unlink()
        raise ChecksumError(
            f"size mismatch for {target.name} (from {source}): expected {size} bytes, got {got}"
        )
    try:
        verify(part, md5=md5, sha256=sha256, source=source, name=target.name)
    except ChecksumError:
        part.unlink(missing_ok=True)
        raise
    part.replace(target)
    return target


# ------------------------------------------------------------------ archives
def _safe_member(root: Path, name: str) -> Path:
    out = (root / name).resolve()
    if not out.is_relative_to(root.resolve()):
        raise FetchError(f"refusing to extract {name!r}: it points outside {root}")
    return out


def extract_archive(archive: Path, dest: Path) -> Path:
    """Unpack a zip or tar archive into the folder ``dest`` (assembled aside, then renamed)."""
    tmp = dest.with_name(dest.name + ".extracting")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    _safe_member(tmp, name)
                zf.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(tmp, filter="data")
                else:  # pragma: no cover - Python < 3.10.12 / 3.11.4
                    for member in tf.getmembers():
                        _safe_member(tmp, member.name)
                        if member.issym() or member.islnk():
                            raise FetchError(f"refusing to extract link {member.name!r} from {archive.name}")
                    tf.extractall(tmp)
        else:
            raise FetchError(f"cannot extract {archive.name}: not a zip or tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FetchError(f"cannot extract {archive.name}: {exc}") from exc
    except FetchError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.replace(dest)
    return dest


# ------------------------------------------------------------------ sources
def _local_source(remote: str) -> Path | None:
    if remote.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(remote).path))
    if "://" in remote or is_disk_path(remote):
        return None
    return Path(remote).expanduser()


def _fetch_local(src: Path, dest: Path, md5: str | None, sha256: str | None, extract: bool) -> Path:
    if not src.exists():
        raise FetchError(f"cannot fetch {src}: no such file or folder")
    if src.is_dir():
        if _checks(md5, sha256) or extract:
            raise FetchError(f"{src} is a folder: md5/sha256/extract apply to a single file")
        tmp = dest.with_name(dest.name + ".partdir")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp)
        tmp.replace(dest)
        return dest
    if extract:
        verify(src, md5=md5, sha256=sha256, source=str(src))
        return extract_archive(src, dest)
    part = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, part)
    try:
        verify(part, md5=md5, sha256=sha256, source=str(src), name=dest.name)
    except ChecksumError:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    return dest


def _fetch_yadisk(
    remote: str,
    dest: Path,
    md5: str | None,
    sha256: str | None,
    extract: bool,
    *,
    api_base: str | None,
    token_env: str,
    policy: Backoff,
    timeout: float,
) -> Path:
    token = None
    if not is_public_link(remote):
        token = os.environ.get(token_env, "").strip()
        if not token:
            raise YaDiskTokenError(missing_token_message(token_env))
    client = make_client(token, api_base=api_base, timeout=timeout)
    try:
        try:
            kind, files = list_remote(client, remote, policy)
        except Exception as exc:
            if is_auth_error(exc) and token is None:  # a public link: no token involved
                raise FetchError(
                    f"Yandex.Disk refused the public link {remote} ({type(exc).__name__}): it may be "
                    "password-protected, unpublished or mistyped"
                ) from None
            if is_auth_error(exc):
                raise YaDiskTokenError(auth_error_message(token_env, exc, remote)) from None
            if isinstance(exc, yex.NotFoundError):
                raise FetchError(f"not found on Yandex.Disk: {remote}") from None
            raise
        if kind == "file":
            f = files[0]
            target = dest.with_name(dest.name + ".archive") if extract else dest
            download_url(
                f.href,
                target,
                md5=md5 or f.md5,
                sha256=sha256,
                size=f.size,
                policy=policy,
                timeout=timeout,
                source=remote,
            )
            if extract:
                extract_archive(target, dest)
                target.unlink()
            return dest
        if _checks(md5, sha256) or extract:
            raise FetchError(f"{remote} is a folder: md5/sha256/extract apply to a single file")
        tmp = dest.with_name(dest.name + ".partdir")
        for f in files:
            _fetch_remote_file(f, tmp, policy, timeout, remote)
        tmp.mkdir(parents=True, exist_ok=True)  # an empty folder is still a folder
        tmp.replace(dest)
        return dest
    finally:
        client.close()


def _fetch_remote_file(f: RemoteFile, root: Path, policy: Backoff, timeout: float, remote: str) -> None:
    target = root / f.rel
    if target.is_file() and (f.size is None or target.stat().st_size == f.size):
        return  # finished by an earlier call (files appear only after their checks)
    download_url(
        f.href,
        target,
        md5=f.md5,
        sha256=None if f.md5 else f.sha256,
        size=f.size,
        policy=policy,
        timeout=timeout,
        source=f"{remote.rstrip('/')}/{f.rel}",
    )


def fetch(
    remote: str,
    dest: Path,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    extract: bool = False,
    api_base: str | None = None,
    token_env: str = "YADISK_TOKEN",
    retries: int = 5,
    backoff: float = 1.0,
    backoff_max: float = 60.0,
    timeout: float = 60.0,
) -> Path:
    """Fetch ``remote`` into ``dest`` (the final file, or folder for folders and ``extract``).

    See the module docstring for the sources and guarantees. ``api_base`` redirects Yandex.Disk
    REST calls (tests); ``retries`` / ``backoff`` / ``backoff_max`` / ``timeout`` set the
    retry policy. Returns ``dest``.
    """
    dest = Path(dest).expanduser()
    if dest.is_dir():  # folders are renamed into place only when complete
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _lock(dest):  # one fetch per destination at a time (DDP ranks, DataLoader workers)
        return _fetch(
            str(remote),
            dest,
            md5,
            sha256,
            extract,
            api_base=api_base,
            token_env=token_env,
            policy=Backoff(retries=retries, base=backoff, cap=backoff_max),
            timeout=timeout,
        )


@contextlib.contextmanager
def _lock(dest: Path) -> Iterator[None]:
    """An exclusive lock on ``.<name>.lock`` next to ``dest`` (POSIX; no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(dest.with_name(f".{dest.name}.lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fetch(
    remote: str,
    dest: Path,
    md5: str | None,
    sha256: str | None,
    extract: bool,
    *,
    api_base: str | None,
    token_env: str,
    policy: Backoff,
    timeout: float,
) -> Path:
    if dest.is_dir():  # another process finished it while we waited for the lock
        return dest
    if dest.is_file():
        if extract:
            raise FetchError(f"cannot extract {remote} into {dest}: a file is in the way")
        if _passes(dest, md5, sha256):
            return dest
        log.warning("%s does not match its checksum; fetching it again", dest)
        dest.unlink()

    local = _local_source(remote)
    if local is not None:
        return _fetch_local(local, dest, md5, sha256, extract)
    if is_public_link(remote) or is_disk_path(remote):
        return _fetch_yadisk(
            remote,
            dest,
            md5,
            sha256,
            extract,
            api_base=api_base,
            token_env=token_env,
            policy=policy,
            timeout=timeout,
        )
    scheme = urllib.parse.urlparse(remote).scheme
    if scheme not in ("http", "https"):
        raise FetchError(
            f"cannot fetch {remote!r}: use a local path, an http(s) URL, a Yandex.Disk link or disk:/path"
        )
    target = dest.with_name(dest.name + ".archive") if extract else dest
    download_url(
        lambda: remote, target, md5=md5, sha256=sha256, policy=policy, timeout=timeout, source=remote
    )
    if extract:
        extract_archive(target, dest)
        target.unlink()
    return dest


def _cli(argv: list[str] | None = None) -> Any:  # pragma: no cover - thin wrapper
    import argparse

    p = argparse.ArgumentParser(description="Fetch a file or folder into a local cache.")
    p.add_argument("remote")
    p.add_argument("dest", type=Path)
    p.add_argument("--md5")
    p.add_argument("--sha256")
    p.add_argument("--extract", action="store_true")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(fetch(a.remote, a.dest, md5=a.md5, sha256=a.sha256, extract=a.extract))


if __name__ == "__main__":  # pragma: no cover
    _cli()
