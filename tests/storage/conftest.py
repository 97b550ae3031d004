"""A local fake of the Yandex.Disk REST API (the calls yadisk makes), with injected faults.

Served by ``http.server`` on 127.0.0.1 in daemon threads; every request is logged and the total
is bounded (a runaway retry loop fails the test instead of hanging it).

Endpoints: ``GET/PUT /v1/disk/resources`` (meta + listing / mkdir), ``GET
/v1/disk/resources/upload`` (upload link) then ``PUT`` to the link, ``GET
/v1/disk/resources/download`` (download link) then ``GET`` the link (with Range), ``GET
/v1/disk/public/resources[/download]`` for public links, and ``GET /files/<name>`` plain HTTP
files (for ``fetch``). Faults: ``drop`` (close without answering), ``500``, ``401``, ``midway``
(send half of a body, then close), each matched by method + path prefix, for ``times`` requests.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

TOKEN = "y0_AgAAAAfakeTOKENvalue-1234567890abcdef"
MAX_REQUESTS = 2000


@dataclass
class Fault:
    method: str
    prefix: str
    kind: str  # drop | 500 | 401 | midway
    times: int = 1


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    range: str | None
    authorized: bool


@dataclass
class FakeDisk:
    token: str = TOKEN
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: {"disk:/"})
    public: dict[str, str] = field(default_factory=dict)  # public link -> disk path
    plain: dict[str, bytes] = field(default_factory=dict)  # /files/<name>
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    links: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (kind, path)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""
    overflow: bool = False

    # ---- helpers for tests
    def put_file(self, path: str, data: bytes) -> None:
        path = norm(path)
        parent = posixpath.dirname(path.split(":", 1)[1])
        while parent not in ("/", ""):
            self.dirs.add("disk:" + parent)
            parent = posixpath.dirname(parent)
        self.files[path] = data

    def fault(self, method: str, prefix: str, kind: str, times: int = 1) -> None:
        self.faults.append(Fault(method, prefix, kind, times))

    def take_fault(self, method: str, path: str) -> str | None:
        with self.lock:
            for f in self.faults:
                if f.method == method and path.startswith(f.prefix) and f.times > 0:
                    f.times -= 1
                    return f.kind
        return None

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path.startswith(prefix))


def norm(path: str) -> str:
    scheme, _, rest = path.partition(":/") if ":/" in path else ("disk", "", path)
    rest = posixpath.normpath("/" + rest.lstrip("/"))
    return f"{scheme}:{rest}"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def make_handler(disk: FakeDisk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10
        disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr
            pass

        # ---- plumbing
        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _send(
            self, status: int, payload: Any = None, raw: bytes | None = None, headers: dict | None = None
        ) -> None:
            body = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else b"")
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/json" if raw is None else "application/octet-stream"
            )
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, error: str, description: str = "") -> None:
            self._send(
                status, {"error": error, "description": description or error, "message": description or error}
            )

        def _meta(self, path: str, public_root: str | None = None, limit: int = 20, offset: int = 0) -> dict:
            shown = path
            if public_root is not None:  # public resources show paths relative to the shared root
                shown = "/" + posixpath.relpath(path.split(":", 1)[1], public_root.split(":", 1)[1]).lstrip(
                    "."
                )
                shown = posixpath.normpath(shown)
            name = posixpath.basename(path.split(":", 1)[1]) or "disk"
            if path in disk.files:
                data = disk.files[path]
                return {
                    "type": "file",
                    "name": name,
                    "path": shown,
                    "size": len(data),
                    "md5": md5(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "mime_type": "application/octet-stream",
                }
            prefix = path.rstrip("/") + "/"
            kids = sorted(
                {
                    p
                    for p in [*disk.files, *disk.dirs]
                    if p.startswith(prefix) and "/" not in p[len(prefix) :] and p != path
                }
            )
            items = [self._meta(k, public_root) for k in kids[offset : offset + limit]]
            for it in items:
                it.pop("_embedded", None)
            return {
                "type": "dir",
                "name": name,
                "path": shown,
                "_embedded": {
                    "items": items,
                    "limit": limit,
                    "offset": offset,
                    "total": len(kids),
                    "path": shown,
                },
            }

        def _serve_bytes(self, data: bytes, midway: bool) -> None:
            rng = self.headers.get("Range")
            start = 0
            status = 200
            headers = {"Accept-Ranges": "bytes"}
            if rng and rng.startswith("bytes="):
                first, _, last = rng[6:].partition("-")
                start = int(first)
                if start >= len(data):
                    self._send(416, raw=b"", headers={"Content-Range": f"bytes */{len(data)}"})
                    return
                end = int(last) if last else len(data) - 1
                total = len(data)
                data = data[start : end + 1]
                status = 206
                headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{total}"
            if midway:
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self._send(status, raw=data, headers=headers)

        # ---- dispatch
        def _handle(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            auth = self.headers.get("Authorization", "")
            with disk.lock:
                disk.requests.append(
                    Request(self.command, url.path, query, self.headers.get("Range"), bool(auth))
                )
                too_many = len(disk.requests) > MAX_REQUESTS
                if too_many:
                    disk.overflow = True
            body = self._body() if self.command in ("PUT", "POST") else b""
            if too_many:
                self._error(503, "TooManyRequestsInTest")
                return
            fault = disk.take_fault(self.command, url.path)
            if fault == "drop":
                self.close_connection = True
                return
            if fault == "500":
                self._error(500, "InternalServerError", "Internal server error")
                return
            if fault == "401":
                self._error(401, "UnauthorizedError", "Unauthorized")
                return
            p = url.path
            if p.startswith("/v1/disk/public/"):
                key = query.get("public_key", "")
                root = disk.public.get(key)
                if root is None:
                    self._error(404, "DiskNotFoundError", "Resource not found.")
                    return
                target = norm(root + "/" + query.get("path", "/").lstrip("/"))
                if target not in disk.files and target not in disk.dirs:
                    self._error(404, "DiskNotFoundError", "Resource not found.")
                    return
                if p == "/v1/disk/public/resources":
                    meta = self._meta(target, root, int(query.get("limit", 20)), int(query.get("offset", 0)))
                    meta["public_key"] = key
                    self._send(200, meta)
                elif p == "/v1/disk/public/resources/download":
                    self._send(200, {"href": self._link("dl", target), "method": "GET", "templated": False})
                else:
                    self._error(404, "NotFound")
                return
            if p.startswith("/v1/"):
                if auth != f"OAuth {disk.token}":
                    self._error(401, "UnauthorizedError", "Unauthorized")
                    return
                path = norm(query.get("path", "disk:/"))
                scheme, rest = path.split(":", 1)
                parent = f"{scheme}:{posixpath.dirname(rest)}"
                if p == "/v1/disk/resources" and self.command == "GET":
                    if path not in disk.files and path not in disk.dirs:
                        self._error(404, "DiskNotFoundError", "Resource not found.")
                    else:
                        self._send(
                            200,
                            self._meta(path, None, int(query.get("limit", 20)), int(query.get("offset", 0))),
                        )
                elif p == "/v1/disk/resources" and self.command == "PUT":
                    if path in disk.dirs:
                        self._error(409, "DiskPathPointsToExistentDirectoryError", "Directory exists.")
                    elif path in disk.files:
                        self._error(409, "DiskResourceAlreadyExistsError", "Resource exists.")
                    elif parent not in disk.dirs:
                        self._error(409, "DiskPathDoesntExistsError", "Parent does not exist.")
                    else:
                        disk.dirs.add(path)
                        self._send(
                            201,
                            {
                                "href": f"{disk.base}/v1/disk/resources?path={path}",
                                "method": "GET",
                                "templated": False,
                            },
                        )
                elif p == "/v1/disk/resources/upload":
                    if parent not in disk.dirs:
                        self._error(409, "DiskPathDoesntExistsError", "Parent does not exist.")
                    elif path in disk.files and query.get("overwrite") != "true":
                        self._error(409, "DiskResourceAlreadyExistsError", "Resource exists.")
                    else:
                        self._send(
                            200,
                            {
                                "operation_id": "op",
                                "href": self._link("up", path),
                                "method": "PUT",
                                "templated": False,
                            },
                        )
                elif p == "/v1/disk/resources/download":
                    if path not in disk.files and path not in disk.dirs:
                        self._error(404, "DiskNotFoundError", "Resource not found.")
                    else:
                        self._send(200, {"href": self._link("dl", path), "method": "GET", "templated": False})
                else:
                    self._error(404, "NotFound")
                return
            if p.startswith("/up/") and self.command == "PUT":
                kind, path = disk.links.get(p[4:], ("", ""))
                if kind != "up":
                    self._error(404, "NotFound")
                    return
                disk.files[path] = body
                self._send(201)
                return
            if p.startswith("/dl/") and self.command == "GET":
                kind, path = disk.links.get(p[4:], ("", ""))
                if kind != "dl" or path not in disk.files:
                    self._error(404, "NotFound")
                    return
                self._serve_bytes(disk.files[path], fault == "midway")
                return
            if p.startswith("/files/") and self.command == "GET":
                data = disk.plain.get(p[7:])
                if data is None:
                    self._error(404, "NotFound")
                    return
                self._serve_bytes(data, fault == "midway")
                return
            self._error(404, "NotFound")

        def _link(self, kind: str, path: str) -> str:
            lid = uuid.uuid4().hex
            disk.links[lid] = (kind, path)
            return f"{disk.base}/{kind}/{lid}"

        do_GET = _handle
        do_PUT = _handle
        do_POST = _handle

    return Handler


@pytest.fixture
def fake_disk() -> Iterator[FakeDisk]:
    """A running fake Yandex.Disk; ``fake_disk.base`` is its address (``api_base``)."""
    disk = FakeDisk()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(disk))
    server.daemon_threads = True
    disk.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield disk
    finally:
        server.shutdown()
        server.server_close()
        assert not disk.overflow, f"more than {MAX_REQUESTS} requests: a retry loop ran away"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No real token or W&B key leaks into a test; YADISK_TOKEN unset."""
    for var in (
        "YADISK_TOKEN",
        "WANDB_API_KEY",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return monkeypatch
