"""Yandex.Disk storage: upload a run's files as they are written; download files and folders.

Remote layout: ``<remote_dir>/<run_name>/<name>``, e.g. ``disk:/tsb/runs/2024-05-01_12-00-00/
checkpoints/last.ckpt`` (``name`` is the relative name the trainer passes, sub-folders are
created on demand).

The OAuth token is read from the environment variable named by ``token_env`` (``YADISK_TOKEN``)
at :meth:`YaDiskStorage.setup`; the config only holds the variable's *name*. The token is sent as
an ``Authorization`` header and is never logged, printed or written (its value is also
registered with :mod:`tsb.utils.secrets` so redaction covers a custom ``token_env``).

Uploads (decisions, see the storage contract in ``tsb/storage/base.py``):

- :meth:`upload` only enqueues ``(name, local path)`` and returns; one background thread uploads
  in order (``background=False`` uploads inline). A name queued again before its upload started
  keeps its place and uploads the newest file (``last.ckpt`` is rewritten often).
- Each upload is retried on connection errors, timeouts, 5xx and 429 with exponential backoff
  (``backoff * 2**i`` seconds, capped at ``backoff_max``, ``retries`` times). A file that still
  fails stays in the run folder and in the pending list; :meth:`flush` retries the pending files
  and waits until the queue is empty. After one file exhausted its retries (an outage), later
  files are tried once each until an upload succeeds again, so a dead network costs one
  backoff cycle, not one per file.
- 401/403: one clear error message (token invalid, expired or lacking Disk access, and how to get
  one), logged once; the files stay pending. At :meth:`setup` the same condition raises
  :class:`YaDiskTokenError`, as does a missing token, so a misconfigured run fails before training.
- :meth:`upload` and :meth:`flush` never raise for network or server failures; files that could
  not be uploaded are listed by :attr:`pending` and in a warning at the end of :meth:`flush`.

Base address: yadisk builds every REST URL from the module global
``yadisk.settings.BASE_API_URL``. Rather than change that process-wide, ``api_base`` wraps the
client's HTTP session in :class:`RebasedSession`, which rewrites that prefix per client (tests point
it at a local server).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import posixpath
import re
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yadisk
import yadisk.settings
from yadisk import exceptions as yex
from yadisk._import_session import import_session
from yadisk._session import Response, Session

from tsb.errors import ConfigError, StorageError, YaDiskTokenError
from tsb.storage.base import Storage
from tsb.storage.retry import Backoff, retry_call
from tsb.utils.secrets import register_secret_env

log = logging.getLogger(__name__)

TOKEN_HELP = (
    "Get an OAuth token with Yandex.Disk access: open https://yandex.ru/dev/disk/poligon/ and press "
    "'Get OAuth token' (quick, for personal use), or register an app at "
    "https://oauth.yandex.ru/client/new with the cloud_api:disk.read/write permissions and open "
    "https://oauth.yandex.ru/authorize?response_type=token&client_id=<app id>. Then "
    "`export {env}=<token>` in the shell that runs training (never put the token in a config)."
)

_PUBLIC_LINK = re.compile(r"^https?://(yadi\.sk/|(?:disk\.)(?:360\.)?yandex\.[a-z.]+/(?:d|i|public)\b)", re.I)


def is_public_link(remote: str) -> bool:
    """True for a Yandex.Disk public link (``https://disk.yandex.ru/d/...``, ``https://yadi.sk/...``)."""
    return bool(_PUBLIC_LINK.match(remote.strip()))


def is_disk_path(remote: str) -> bool:
    """True for an absolute Yandex.Disk path with a scheme: ``disk:/...`` or ``app:/...``."""
    return remote.startswith(("disk:/", "app:/"))


def missing_token_message(token_env: str) -> str:
    return (
        f"Yandex.Disk needs an OAuth token in the environment variable {token_env}, which is not set. "
        + TOKEN_HELP.format(env=token_env)
    )


def auth_error_message(token_env: str, exc: BaseException, what: str = "") -> str:
    code = "403" if isinstance(exc, yex.ForbiddenError) else "401"
    where = f" for {what}" if what else ""
    return (
        f"Yandex.Disk rejected the token in ${token_env}{where} (HTTP {code}): it is invalid, expired, or "
        f"lacks Yandex.Disk read/write permission. " + TOKEN_HELP.format(env=token_env)
    )


def is_auth_error(exc: BaseException) -> bool:
    return isinstance(exc, (yex.UnauthorizedError, yex.ForbiddenError))


def is_retriable(exc: BaseException) -> bool:
    """Connection errors, timeouts, 5xx / unknown statuses and 429 are worth retrying."""
    return isinstance(exc, (yex.RequestError, yex.RetriableYaDiskError, yex.TooManyRequestsError))


def join_remote(base: str, *parts: str) -> str:
    """Join Yandex.Disk path parts, keeping the scheme: ``join_remote("disk:/a", "b/c")``."""
    if not is_disk_path(base):
        base = "disk:/" + base.lstrip("/")
    scheme, _, path = base.partition(":/")
    joined = posixpath.join("/" + path.strip("/"), *(p.strip("/") for p in parts if p.strip("/")))
    return f"{scheme}:{posixpath.normpath(joined)}".rstrip("/") if joined != "/" else f"{scheme}:/"


def check_name(name: str) -> str:
    """A relative name inside the run folder: no absolute paths, no ``..``."""
    clean = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if not clean or clean == "." or clean.startswith("../") or clean == "..":
        raise ValueError(f"storage name must be a relative path inside the run folder, got {name!r}")
    return clean


class RebasedSession(Session):
    """A yadisk session that sends requests for ``yadisk.settings.BASE_API_URL`` to ``api_base``.

    Links the server returns (upload / download hrefs) are used as they are.
    """

    def __init__(self, inner: Session, api_base: str) -> None:
        if not api_base.startswith(("http://", "https://")):
            raise ConfigError(f"storage.api_base must be an http(s) address, got {api_base!r}")
        self.inner = inner
        self.api_base = api_base.rstrip("/")

    def send_request(self, method: Any, url: str, **kwargs: Any) -> Response:
        default = yadisk.settings.BASE_API_URL.rstrip("/")
        if url.startswith(default):
            url = self.api_base + url[len(default) :]
        return self.inner.send_request(method, url, **kwargs)

    def close(self) -> None:
        self.inner.close()


@functools.lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """One TLS context for every client (loading the CA bundle costs ~0.1 s each time)."""
    return httpx.create_ssl_context()


def make_client(token: str | None, *, api_base: str | None = None, timeout: float = 60.0) -> yadisk.Client:
    """A yadisk client over httpx with yadisk's own retries off (callers use :func:`retry_call`)."""
    session_class: Any = import_session("httpx")  # yadisk's HTTPXSession: kwargs go to httpx.Client
    session: Session = session_class(verify=ssl_context())
    if api_base:
        session = RebasedSession(session, api_base)
    return yadisk.Client(
        token=token or "",
        session=session,
        default_args={"n_retries": 0, "retry_interval": 0.0, "timeout": (timeout, timeout)},
    )


@dataclass
class RemoteFile:
    """One file of a remote resource: its path relative to the resource ('' for a lone file)."""

    rel: str
    size: int | None
    md5: str | None
    sha256: str | None
    href: Callable[[], str]  # a fresh direct download link (links expire; asked once per attempt)


def list_remote(client: yadisk.Client, remote: str, policy: Backoff) -> tuple[str, list[RemoteFile]]:
    """``(type, files)`` of a disk path or public link; ``type`` is ``"file"`` or ``"dir"``.

    Folders are walked recursively (every file is listed with its size and hashes).
    """

    def call(fn: Callable[[], Any], what: str) -> Any:
        return retry_call(fn, policy=policy, is_retriable=is_retriable, what=what, logger=log)

    public = is_public_link(remote)
    if public:
        key = remote.strip()

        def meta(p: str | None) -> Any:
            return call(lambda: client.get_public_meta(key, path=p, limit=1), f"listing {remote}")

        def children(p: str) -> list[Any]:
            return call(lambda: list(client.public_listdir(key, path=p)), f"listing {remote}{p}")

        def link(p: str | None) -> Callable[[], str]:
            return lambda: call(lambda: client.get_public_download_link(key, path=p), f"link for {remote}")

        root = meta(None)
        base = root.path or "/"
    else:
        path = remote if is_disk_path(remote) else join_remote(remote)

        def meta(p: str | None) -> Any:
            return call(lambda: client.get_meta(p or path, limit=1), f"listing {remote}")

        def children(p: str) -> list[Any]:
            return call(lambda: list(client.listdir(p)), f"listing {p}")

        def link(p: str | None) -> Callable[[], str]:
            target = p or path
            return lambda: call(lambda: client.get_download_link(target), f"link for {target}")

        root = meta(None)
        base = root.path or path

    if root.type == "file":
        return "file", [RemoteFile("", root.size, root.md5, root.sha256, link(None if public else root.path))]
    files: list[RemoteFile] = []
    stack = [base]
    while stack:
        folder = stack.pop()
        for item in children(folder):
            item_path = item.path or posixpath.join(folder, item.name)
            if item.type == "dir":
                stack.append(item_path)
            else:
                rel = posixpath.relpath(_strip_scheme(item_path), _strip_scheme(base))
                files.append(RemoteFile(rel, item.size, item.md5, item.sha256, link(item_path)))
    files.sort(key=lambda f: f.rel)
    return "dir", files


def _strip_scheme(path: str) -> str:
    return "/" + path.split(":/", 1)[1].lstrip("/") if ":/" in path else path


class YaDiskStorage(Storage):
    """Upload a run's files to ``<remote_dir>/<run_name>/`` on Yandex.Disk; download from Disk.

    Args:
        remote_dir: Disk folder that holds the runs (``disk:/tsb/runs``; ``app:/...`` for an
            app folder token).
        token_env: name of the environment variable that holds the OAuth token.
        api_base: REST base address (``null``: the real one, https://cloud-api.yandex.net).
        retries / backoff / backoff_max: retry policy for each request (exponential, capped).
        timeout: seconds to wait for a connection or a response.
        background: upload in a background thread (``False``: inline, blocking the caller).
    """

    def __init__(
        self,
        remote_dir: str = "disk:/tsb/runs",
        token_env: str = "YADISK_TOKEN",
        api_base: str | None = None,
        retries: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 60.0,
        timeout: float = 60.0,
        background: bool = True,
    ) -> None:
        if not remote_dir or not (is_disk_path(remote_dir) or remote_dir.startswith("/")):
            raise ConfigError(
                f"storage.remote_dir must be a Disk path like 'disk:/tsb/runs', got {remote_dir!r}"
            )
        if not token_env or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token_env):
            raise ConfigError(
                "storage.token_env must be the NAME of an environment variable (e.g. YADISK_TOKEN), and the "
                "value given is not a variable name; the token itself never goes in the config"
            )
        if api_base is not None and not str(api_base).startswith(("http://", "https://")):
            raise ConfigError(f"storage.api_base must be an http(s) address or null, got {api_base!r}")
        self.remote_dir = join_remote(remote_dir)
        self.token_env = token_env
        self.api_base = api_base
        self.policy = Backoff(retries=retries, base=backoff, cap=backoff_max)
        self.timeout = timeout
        self.background = background
        register_secret_env(token_env)

        self.run_dir: Path | None = None
        self.run_remote: str | None = None
        self.uploaded: list[str] = []  # names uploaded, in order (for reports and tests)
        self._client: yadisk.Client | None = None
        self._cond = threading.Condition()
        self._queue: OrderedDict[str, Path] = OrderedDict()
        self._failed: OrderedDict[str, Path] = OrderedDict()
        self._busy = False
        self._closed = False
        self._outage = False
        self._auth_reported = False
        self._made_dirs: set[str] = set()
        self._worker: threading.Thread | None = None

    def __repr__(self) -> str:  # never shows the token
        return f"YaDiskStorage(remote_dir={self.remote_dir!r}, token_env={self.token_env!r})"

    # ---------------------------------------------------------------- setup
    def _token(self) -> str:
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise YaDiskTokenError(missing_token_message(self.token_env))
        return token

    def setup(self, run_dir: Path, run_name: str) -> None:
        """Check the token and create ``<remote_dir>/<run_name>`` (raises on a missing/bad token).

        A network failure here is not fatal: it is logged and the folder is created with the
        first upload that gets through.
        """
        self.run_dir = Path(run_dir)
        self.run_remote = join_remote(self.remote_dir, check_name(run_name))
        self._client = make_client(self._token(), api_base=self.api_base, timeout=self.timeout)
        try:
            self._makedirs(self.run_remote)
        except Exception as exc:
            if is_auth_error(exc):
                raise YaDiskTokenError(auth_error_message(self.token_env, exc, self.run_remote)) from None
            if not is_retriable(exc):
                raise StorageError(f"cannot create the Yandex.Disk folder {self.run_remote}: {exc}") from exc
            log.warning(
                "Yandex.Disk is unreachable (%s: %s); files stay in %s and are uploaded once it answers",
                type(exc).__name__,
                exc,
                self.run_dir,
            )
        log.info("uploading run files to Yandex.Disk folder %s", self.run_remote)
        if self.background:
            self._closed = False
            self._worker = threading.Thread(target=self._work, name="yadisk-upload", daemon=True)
            self._worker.start()
        atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        """A last flush when the process ends with files still queued (e.g. training crashed
        before the trainer's own flush); Ctrl-C skips it, the files are in the run folder."""
        if self.pending:
            log.warning("uploading %d pending file(s) to Yandex.Disk before exit", len(self.pending))
            with contextlib.suppress(KeyboardInterrupt):
                self.flush()

    def _call(self, fn: Callable[[], Any], what: str, policy: Backoff | None = None) -> Any:
        return retry_call(fn, policy=policy or self.policy, is_retriable=is_retriable, what=what, logger=log)

    def _makedirs(self, remote: str, policy: Backoff | None = None) -> None:
        if remote in self._made_dirs:
            return
        assert self._client is not None
        client = self._client

        def mk() -> None:
            with contextlib.suppress(yex.PathExistsError):  # DirectoryExistsError included
                client.makedirs(remote)

        self._call(mk, f"creating {remote}", policy)
        self._made_dirs.add(remote)

    # ---------------------------------------------------------------- uploads
    def upload(self, local_path: Path, name: str) -> None:
        """Queue ``local_path`` for upload as ``<run folder>/<name>`` (overwriting); returns at once."""
        if self.run_remote is None:
            raise RuntimeError("YaDiskStorage.upload() called before setup()")
        name = check_name(name)
        with self._cond:
            self._failed.pop(name, None)  # a newer copy supersedes a failed one
            self._queue[name] = Path(local_path)
            self._cond.notify_all()
        if not self.background:
            self._drain()

    @property
    def pending(self) -> list[str]:
        """Names not uploaded yet (queued, in progress or failed)."""
        with self._cond:
            return list(dict.fromkeys([*self._failed, *self._queue]))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the queue is empty and no upload runs (failed files stay pending, unlike
        :meth:`flush`); False if ``timeout`` seconds passed first."""
        if not (self.background and self._worker is not None and self._worker.is_alive()):
            self._drain()
            return True
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout=timeout)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed and not self._queue:
                    return
                name, path = self._queue.popitem(last=False)
                self._busy = True
            ok = False
            try:
                ok = self._upload_one(name, path)
            finally:
                with self._cond:
                    self._busy = False
                    if not ok and name not in self._queue:
                        self._failed[name] = path
                    self._cond.notify_all()

    def _drain(self) -> None:
        """Upload the queue in the calling thread (``background=False``)."""
        while True:
            with self._cond:
                if not self._queue:
                    return
                name, path = self._queue.popitem(last=False)
            ok = self._upload_one(name, path)
            if not ok:
                with self._cond:
                    if name not in self._queue:
                        self._failed[name] = path

    def _upload_one(self, name: str, path: Path) -> bool:
        """Upload one file with retries; True when done (or nothing left to upload)."""
        if not path.is_file():
            log.warning("not uploading %s: %s no longer exists", name, path)
            return True
        assert self._client is not None and self.run_remote is not None
        client = self._client
        remote = join_remote(self.run_remote, name)
        parent = posixpath.dirname(remote)
        policy = Backoff(0, 0.0, 0.0) if self._outage else self.policy

        def put() -> None:
            self._makedirs(parent, Backoff(0, 0.0, 0.0))
            try:
                client.upload(str(path), remote, overwrite=True)
            except yex.ParentNotFoundError:  # the folder was removed meanwhile
                self._made_dirs.discard(parent)
                self._makedirs(parent, Backoff(0, 0.0, 0.0))
                client.upload(str(path), remote, overwrite=True)

        try:
            self._call(put, f"upload of {name}", policy)
        except Exception as exc:
            if is_auth_error(exc):
                if not self._auth_reported:
                    log.error("%s Files stay in %s.", auth_error_message(self.token_env, exc), self.run_dir)
                    self._auth_reported = True
            elif is_retriable(exc):
                self._outage = True
                log.warning(
                    "upload of %s to Yandex.Disk failed after %d attempt(s) (%s: %s); kept at %s and "
                    "queued for flush()",
                    name,
                    policy.retries + 1,
                    type(exc).__name__,
                    exc,
                    path,
                )
            else:
                log.warning(
                    "upload of %s to Yandex.Disk failed (%s: %s); kept at %s and queued for flush()",
                    name,
                    type(exc).__name__,
                    exc,
                    path,
                )
            return False
        self._outage = False
        self._auth_reported = False
        with self._cond:
            self.uploaded.append(name)
        log.debug("uploaded %s to %s", name, remote)
        return True

    def flush(self) -> None:
        """Retry every pending upload and wait until the queue is empty; warn about leftovers."""
        if self.run_remote is None:
            return
        with self._cond:
            retry = OrderedDict(self._failed)
            for name, path in self._queue.items():
                retry.setdefault(name, path)
            self._failed.clear()
            self._queue = retry
            self._outage = False  # the first file gets the full backoff again
            self._cond.notify_all()
        self.wait()
        left = self.pending
        if left:
            log.warning(
                "%d file(s) could not be uploaded to Yandex.Disk and are only in the run folder %s: %s. "
                "They are retried by the next flush().",
                len(left),
                self.run_dir,
                ", ".join(left),
            )

    def close(self) -> None:
        """Flush, stop the upload thread and close the HTTP session."""
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=10)
            self._worker = None
        if self._client is not None:
            self._client.close()
            self._client = None
        atexit.unregister(self._at_exit)

    # ---------------------------------------------------------------- downloads
    def resolve(self, remote: str) -> str:
        """A public link or ``disk:/`` path as is; a relative name inside this run's folder
        (``checkpoints/last.ckpt``), or inside ``remote_dir`` before :meth:`setup`."""
        if is_public_link(remote) or is_disk_path(remote):
            return remote
        if remote.startswith("/"):
            return join_remote(remote)
        return join_remote(self.run_remote or self.remote_dir, check_name(remote))

    def download(self, remote: str, local_path: Path) -> Path:
        """Fetch a file or a folder (a Disk path, a name in this run, or a public link) to
        ``local_path``; resumable and verified against the Disk's md5 (see :func:`tsb.storage.fetch.fetch`).
        """
        from tsb.storage.fetch import fetch  # tsb.storage.fetch imports this module

        return fetch(
            self.resolve(remote),
            Path(local_path),
            api_base=self.api_base,
            token_env=self.token_env,
            retries=self.policy.retries,
            backoff=self.policy.base,
            backoff_max=self.policy.cap,
            timeout=self.timeout,
        )
