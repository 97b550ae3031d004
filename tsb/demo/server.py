"""The browser demo: ``python -m tsb.demo`` serves one page on http://127.0.0.1:7860.

Upload a photo; the words found in it (:mod:`tsb.detect`, PP-OCRv6 from the ``rapidocr`` wheel)
are drawn on it; click one (or drag a box), type the new text and press *Replace* (or *Erase*),
see the result and download it. Each edit works on the last result, so several words can be
changed one after the other; *Start over* goes back to the upload. Offline, no account, no
JavaScript from anywhere else: the page is :file:`page.html` next to this module.

It is the command's code path (:mod:`tsb.edit`): :func:`~tsb.edit.decode_image`,
:func:`~tsb.detect.find_words`, :class:`~tsb.edit.Edit` and :meth:`~tsb.edit.Editor.edit`, with
the published weights unless ``--ckpt`` names a run of one's own. The server is the standard
library's threading HTTP server, bound to localhost unless ``--host`` says otherwise:

- ``GET /``: the page;
- ``POST /api/photo``, body = the file's bytes: ``{"id", "width", "height", "words": [{"text",
  "score", "box": [xc, yc, w, h, angle], "corners": [[x, y] x 4], "arg": "X,Y,W,H,A"}]}``;
- ``POST /api/edit``, body = ``{"id", "box": [xc, yc, w, h, angle], "text", "erase"}``: the
  edited photo as PNG, with headers ``X-Photo-Id`` (the result, to edit further) and
  ``X-Seconds`` (the edit's latency);
- errors: ``{"error": message}`` with 400 (bad request), 404 (unknown photo: upload it again),
  413 (over the size limits), 415 (not an image), 422 (the edit is refused: box, text), 500.

Uploads over ``--max-mb`` megabytes are refused before they are read, images over
``--max-megapixels`` from their header before they are decoded; files are never written.

What a hostile client or web page could try, and what it gets:

- a body whose ``Content-Length`` is not a plain byte count (``-1``, ``+5``, ``1e3``): 400 before
  anything is read; none: 411; over the limit: 413; the body is read to that length and no
  further, so the limit counts every byte sent (a small PNG with 40 MB after it is over it); a
  body that stalls: 408 after ``read_timeout`` seconds (30);
- an edit request that is not small, plain JSON (nested thousands deep, a 5,000-digit number,
  ``"erase": "false"``: only JSON's true and false are booleans): 400;
- a page elsewhere on the web: the ``Host`` header must name the address the demo is bound to
  (``127.0.0.1``, ``localhost``, ``[::1]`` for a loopback address; the address itself, else), so
  a DNS name rebound to this machine gets 403; a request whose ``Origin`` is not the demo's own
  (a cross-site POST) gets 403. Bound to every interface (``--host 0.0.0.0``), any Host is taken;
  the Origin check stays;
- many clients at once: up to ``max_active`` (16) are served at a time, the next ones wait in a
  queue of :data:`BACKLOG` connections or, past ``max_active``, get 503 at once (try again).
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import json
import math
import re
import socket
import sys
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import Image

from tsb.cli import report_error
from tsb.data.crop import Box, box_corners
from tsb.edit import Edit, EditError, Editor, ImageTooLarge, decode_image, format_box
from tsb.edit.cli import add_match_font_argument
from tsb.errors import ConfigError, DemoError, TsbError
from tsb.published import AUTO

LOCALHOST = "127.0.0.1"
PORT = 7860
#: connections the operating system queues while every handler is busy (the library's default: 5)
BACKLOG = 128
#: the largest edit request (a few hundred bytes of JSON in practice)
MAX_EDIT_REQUEST = 2**20
#: after a refusal, what is discarded of an unread body (so the client reads the answer rather
#: than a reset connection) before the connection is closed anyway
DRAIN_BYTES, DRAIN_SECONDS = 4 * 2**20, 2.0
_DIGITS = re.compile(r"[0-9]{1,15}")
#: a Host header: a name or an address ([...] for IPv6), then maybe a port
_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")


@dataclass
class Limits:
    """What the demo accepts: upload size, image size, photos kept in memory, text length."""

    max_bytes: int = 25 * 2**20
    max_pixels: int = 40_000_000
    max_photos: int = 16
    max_text: int = 64


class DemoApp:
    """The demo's state and logic, apart from HTTP: photos by id, the editor, the word finder."""

    def __init__(self, editor: Editor, limits: Limits | None = None, finder: Any = None) -> None:
        self.editor = editor
        self.limits = limits or Limits()
        self._finder = finder
        self._photos: OrderedDict[str, Image.Image] = OrderedDict()
        self._lock = threading.Lock()  # one model, one detector: requests take turns

    def find_words(self, image: Image.Image) -> list[Any]:
        if self._finder is None:
            from tsb.detect import WordFinder

            self._finder = WordFinder()
        return list(self._finder(image))

    def _keep(self, image: Image.Image) -> str:
        photo_id = uuid.uuid4().hex
        self._photos[photo_id] = image
        while len(self._photos) > self.limits.max_photos:
            self._photos.popitem(last=False)
        return photo_id

    def photo(self, photo_id: str) -> Image.Image:
        image = self._photos.get(photo_id)
        if image is None:
            raise DemoError("this photo is no longer on the server; upload it again", HTTPStatus.NOT_FOUND)
        self._photos.move_to_end(photo_id)
        return image

    def upload(self, data: bytes, name: str = "the upload") -> dict[str, Any]:
        """Decode an uploaded file, find its words; the page's JSON."""
        try:
            image = decode_image(io.BytesIO(data), name, max_pixels=self.limits.max_pixels)
        except ImageTooLarge as e:
            raise DemoError(str(e), HTTPStatus.REQUEST_ENTITY_TOO_LARGE) from None
        except EditError:
            raise DemoError(
                f"{name} is not an image this demo can read", HTTPStatus.UNSUPPORTED_MEDIA_TYPE
            ) from None
        with self._lock:
            words = self.find_words(image)
            photo_id = self._keep(image)
        return {
            "id": photo_id,
            "width": image.width,
            "height": image.height,
            "words": [
                {
                    "text": w.text,
                    "score": round(float(w.score), 3),
                    "box": [round(float(v), 2) for v in w.box],
                    "letters": None if w.letters is None else [round(float(v), 2) for v in w.letters],
                    "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in box_corners(w.box)],
                    "arg": format_box(w.box),
                }
                for w in words
            ],
        }

    def edit(self, request: dict[str, Any]) -> tuple[bytes, str, float]:
        """Apply one edit to a kept photo: (PNG bytes, the result's id, seconds)."""
        box = parse_request_box(request.get("box"))
        erase = request.get("erase", False)
        if not isinstance(erase, bool):
            raise DemoError(f'"erase" must be true or false (JSON booleans), got {erase!r}', HTTPStatus.BAD_REQUEST)
        text = request.get("text")
        source = request.get("source")
        if source is not None and not isinstance(source, str):
            raise DemoError('"source" (the word the box holds now) must be a string', HTTPStatus.BAD_REQUEST)
        if not erase:
            if not isinstance(text, str) or not text.strip():
                raise DemoError("type the new text first", HTTPStatus.UNPROCESSABLE_ENTITY)
            if len(text) > self.limits.max_text:
                raise DemoError(
                    f"the new text has {len(text)} characters; at most {self.limits.max_text}",
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                )
        letters = request.get("letters")
        letters_box = None if letters is None or erase else parse_request_box(letters)
        image = self.photo(str(request.get("id", "")))
        t0 = time.perf_counter()
        with self._lock:
            try:
                result, _ = self.editor.edit(
                    image,
                    [
                        Edit(
                            box,
                            "" if erase else str(text),
                            erase=erase,
                            source=source or None,
                            letters=letters_box,
                        )
                    ],
                )
            except EditError as e:
                raise DemoError(str(e), HTTPStatus.UNPROCESSABLE_ENTITY) from None
            photo_id = self._keep(result)
        seconds = time.perf_counter() - t0
        buf = io.BytesIO()
        result.save(buf, format="PNG")
        return buf.getvalue(), photo_id, seconds


def parse_edit_request(body: bytes) -> Any:
    """The JSON of an edit request; anything the reader refuses (not UTF-8, not JSON, nested
    past the recursion limit, an integer of thousands of digits) is one 400."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError: ValueErrors
        raise DemoError("the edit request is not JSON") from None


def parse_request_box(value: Any) -> Box:
    """``[xc, yc, w, h, angle]`` of five finite numbers, with a positive size."""
    if not isinstance(value, list | tuple) or len(value) != 5:
        raise DemoError("a box is [xc, yc, w, h, angle]: click a word or drag a box first")
    try:
        box = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise DemoError(f"a box is five numbers, got {value!r}") from None
    if not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
        raise DemoError(f"a box needs finite numbers and a positive size, got {value!r}")
    return box  # type: ignore[return-value]


def page() -> bytes:
    return resources.files("tsb.demo").joinpath("page.html").read_bytes()


class Handler(BaseHTTPRequestHandler):
    server: DemoServer
    server_version = "tsb-demo"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(
        self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.read_timeout)  # a stalled body: TimeoutError, not a held thread

    def _body(self, limit: int | None = None) -> bytes:
        """The request's body: exactly ``Content-Length`` bytes (a plain byte count, at most
        ``limit``, default the upload limit), refused before anything is read otherwise."""
        limit = self.server.app.limits.max_bytes if limit is None else limit
        given = self.headers.get_all("Content-Length") or []
        if not given:
            raise DemoError("the request has no Content-Length", HTTPStatus.LENGTH_REQUIRED)
        if len(given) > 1 or not _DIGITS.fullmatch(given[0]):
            raise DemoError(
                f"Content-Length {', '.join(given)[:40]!r} is not a byte count", HTTPStatus.BAD_REQUEST
            )
        length = int(given[0])
        if length > limit:
            raise DemoError(
                f"the file is {length / 2**20:.1f} MB, over the limit of {limit / 2**20:g} MB",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            data = self.rfile.read(length)
        except TimeoutError:
            raise DemoError(
                f"the upload stalled: nothing arrived for {self.server.read_timeout:g} s",
                HTTPStatus.REQUEST_TIMEOUT,
            ) from None
        if len(data) < length:
            raise DemoError(
                f"the upload ended after {len(data)} of its {length} bytes; send it again",
                HTTPStatus.BAD_REQUEST,
            )
        return data

    def _drain(self) -> None:
        """Close our side, then discard what the client still sends (up to :data:`DRAIN_BYTES`, for
        at most :data:`DRAIN_SECONDS`): closing with unread bytes would reset the connection, and
        the client would see that instead of the answer."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(DRAIN_SECONDS)
            drained = 0
            while drained < DRAIN_BYTES and (chunk := self.connection.recv(65536)):
                drained += len(chunk)
        except OSError:
            pass

    def _check_origin(self) -> None:
        """Refuse a request that names another host (DNS rebinding) or comes from another site's
        page (a cross-site POST): 403."""
        host = self.headers.get("Host", "")
        if not self.server.host_allowed(host):
            raise DemoError(
                f"refused: this demo answers to {self.server.url} (the request names host {host[:80]!r})",
                HTTPStatus.FORBIDDEN,
            )
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{host}":
            raise DemoError(
                f"refused: a page of {origin[:80]!r} may not use this demo; open {self.server.url}",
                HTTPStatus.FORBIDDEN,
            )
        if self.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
            raise DemoError(f"refused: only the demo's own page may use it; open {self.server.url}", HTTPStatus.FORBIDDEN)

    def do_GET(self) -> None:
        try:
            self._check_origin()
        except DemoError as e:
            self.close_connection = True
            self._json(e.status, {"error": str(e)})
            return
        if self.path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, page(), "text/html; charset=utf-8")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {self.path}"})

    def do_POST(self) -> None:
        app = self.server.app
        try:
            self._check_origin()
            if self.path == "/api/photo":
                name = self.headers.get("X-File-Name") or "the upload"
                self._json(HTTPStatus.OK, app.upload(self._body(), name[:200]))
            elif self.path == "/api/edit":
                request = parse_edit_request(self._body(MAX_EDIT_REQUEST))
                if not isinstance(request, dict):
                    raise DemoError("the edit request is a JSON object")
                png, photo_id, seconds = app.edit(request)
                headers = {"X-Photo-Id": photo_id, "X-Seconds": f"{seconds:.3f}"}
                self._send(HTTPStatus.OK, png, "image/png", headers)
            else:
                raise DemoError(f"no endpoint {self.path}", HTTPStatus.NOT_FOUND)
        except DemoError as e:
            self.close_connection = True  # an unread body must not be taken for the next request
            self._json(e.status, {"error": str(e)})
            self._drain()
        except TsbError as e:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(e)})
        except Exception as e:  # a bug: the page says so, the server keeps serving
            self._json(
                HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {type(e).__name__}: {e}"}
            )
            raise


class DemoServer(ThreadingHTTPServer):
    """The standard library's threading server with a longer queue, at most ``max_active``
    requests served at a time (503 past that), a read timeout and the allowed Host names."""

    daemon_threads = True
    request_queue_size = BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        app: DemoApp,
        verbose: bool = False,
        read_timeout: float = 30.0,
        max_active: int = 16,
    ) -> None:
        super().__init__(address, Handler)
        self.app = app
        self.verbose = verbose
        self.read_timeout = read_timeout
        self._slots = threading.BoundedSemaphore(max_active)

    def host_allowed(self, host: str) -> bool:
        """Whether a request's ``Host`` header names this server: a loopback name for a loopback
        address, the bound address itself otherwise; any for a server bound to every interface."""
        bound, port = str(self.server_address[0]), int(self.server_address[1])
        parts = _HOST.fullmatch(host)
        if parts is None or (parts["port"] is not None and int(parts["port"]) != port):
            return False
        name = parts["name"].strip("[]").lower()
        address = ipaddress.ip_address(bound)
        if address.is_unspecified:
            return True
        if address.is_loopback:
            return name in ("localhost", "127.0.0.1", "::1") or name == bound
        return name == bound

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve in a thread when a slot is free, else answer 503 at once and close."""
        if not self._slots.acquire(blocking=False):
            body = json.dumps({"error": "the demo is busy; try again in a moment"}).encode()
            try:
                request.settimeout(5)
                request.sendall(
                    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                request.shutdown(socket.SHUT_WR)
                while request.recv(65536):  # drain what the client sent, so closing does not reset it
                    pass
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"


def make_server(
    ckpt: str | Path | None = None,
    host: str = LOCALHOST,
    port: int = PORT,
    limits: Limits | None = None,
    device: str = "cpu",
    verbose: bool = False,
    inference: str = AUTO,
    match_font: str | None = None,
) -> DemoServer:
    """Load the model (the published weights unless ``ckpt``) with its photo steps (``inference``, as
    ``tsb.edit --inference``) and font matching (``match_font``, as ``tsb.edit --match-font``; None:
    the content font) and bind; ``port=0`` picks a free one."""
    app = DemoApp(Editor(ckpt, device, inference=inference, match_font=match_font or False), limits)
    return DemoServer((host, port), app, verbose)


def check_arguments(args: argparse.Namespace) -> None:
    """The start-up options a server can run with, else :class:`ConfigError` naming the option."""
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: a port is 1 to 65535 (0 picks a free one); e.g. --port {PORT}")
    for option, value, unit in (("--max-mb", args.max_mb, "megabytes"), ("--max-megapixels", args.max_megapixels, "megapixels")):
        if not (math.isfinite(value) and value > 0) or value > 1e6:
            raise ConfigError(f"{option} {value:g}: give a positive number of {unit} (e.g. {option} 25)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tsb.demo", description="Edit the text in a photo in the browser."
    )
    p.add_argument("--ckpt", default=None, help="model checkpoint; default: the published weights")
    p.add_argument("--host", default=LOCALHOST, help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=PORT, help=f"port (default {PORT}; 0 picks a free one)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, ...")
    p.add_argument("--max-mb", type=float, default=Limits.max_bytes / 2**20, help="largest upload, megabytes")
    p.add_argument(
        "--max-megapixels", type=float, default=Limits.max_pixels / 1e6, help="largest image, megapixels"
    )
    p.add_argument(
        "--inference", default=AUTO, help="photo steps (conf/inference: photo, none); default: as tsb.edit"
    )
    add_match_font_argument(p)
    p.add_argument("--verbose", action="store_true", help="log every request")
    args = p.parse_args(argv)
    try:
        check_arguments(args)
    except TsbError as e:
        return report_error(e)
    limits = Limits(max_bytes=int(args.max_mb * 2**20), max_pixels=int(args.max_megapixels * 1e6))
    try:
        server = make_server(
            args.ckpt, args.host, args.port, limits, args.device, args.verbose, args.inference, args.match_font
        )
    except TsbError as e:
        return report_error(e)
    except OSError as e:
        print(
            f"error: cannot listen on {args.host}:{args.port} ({e}); choose another --port", file=sys.stderr
        )
        return 2
    if args.host not in (LOCALHOST, "localhost", "::1"):
        print(f"warning: listening on {args.host}: anyone who can reach this machine can use the demo")
    print(f"tsb demo on {server.url} (model {server.app.editor.ckpt_path}); Ctrl+C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0
