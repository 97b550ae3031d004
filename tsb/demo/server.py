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
"""

from __future__ import annotations

import argparse
import io
import json
import math
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
from tsb.errors import DemoError, TsbError
from tsb.published import AUTO

LOCALHOST = "127.0.0.1"
PORT = 7860


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
                    "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in box_corners(w.box)],
                    "arg": format_box(w.box),
                }
                for w in words
            ],
        }

    def edit(self, request: dict[str, Any]) -> tuple[bytes, str, float]:
        """Apply one edit to a kept photo: (PNG bytes, the result's id, seconds)."""
        image = self.photo(str(request.get("id", "")))
        box = parse_request_box(request.get("box"))
        erase = bool(request.get("erase", False))
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
        t0 = time.perf_counter()
        with self._lock:
            try:
                result, _ = self.editor.edit(
                    image, [Edit(box, "" if erase else str(text), erase=erase, source=source or None)]
                )
            except EditError as e:
                raise DemoError(str(e), HTTPStatus.UNPROCESSABLE_ENTITY) from None
            photo_id = self._keep(result)
        seconds = time.perf_counter() - t0
        buf = io.BytesIO()
        result.save(buf, format="PNG")
        return buf.getvalue(), photo_id, seconds


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

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise DemoError("the request has no Content-Length", HTTPStatus.LENGTH_REQUIRED) from None
        limit = self.server.app.limits.max_bytes
        if length > limit:
            raise DemoError(
                f"the file is {length / 2**20:.1f} MB, over the limit of {limit / 2**20:g} MB",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        return self.rfile.read(length)

    def do_GET(self) -> None:
        if self.path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, page(), "text/html; charset=utf-8")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {self.path}"})

    def do_POST(self) -> None:
        app = self.server.app
        try:
            if self.path == "/api/photo":
                name = self.headers.get("X-File-Name") or "the upload"
                self._json(HTTPStatus.OK, app.upload(self._body(), name[:200]))
            elif self.path == "/api/edit":
                try:
                    request = json.loads(self._body())
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise DemoError("the edit request is not JSON") from None
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
        except TsbError as e:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(e)})
        except Exception as e:  # a bug: the page says so, the server keeps serving
            self._json(
                HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {type(e).__name__}: {e}"}
            )
            raise


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: DemoApp, verbose: bool = False) -> None:
        super().__init__(address, Handler)
        self.app = app
        self.verbose = verbose

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
) -> DemoServer:
    """Load the model (the published weights unless ``ckpt``) with its photo steps (``inference``, as
    ``tsb.edit --inference``) and bind; ``port=0`` picks a free one."""
    app = DemoApp(Editor(ckpt, device, inference=inference), limits)
    return DemoServer((host, port), app, verbose)


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
    p.add_argument("--verbose", action="store_true", help="log every request")
    args = p.parse_args(argv)
    limits = Limits(max_bytes=int(args.max_mb * 2**20), max_pixels=int(args.max_megapixels * 1e6))
    try:
        server = make_server(args.ckpt, args.host, args.port, limits, args.device, args.verbose, args.inference)
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
