"""The browser demo (tsb.demo): its requests, limits and messages, and a real headless Chromium.

The browser test uploads the shared poster (``shared/data/scenes/english.png``), clicks the word
"soap", types a new word, presses Replace and downloads the result: same size, and only pixels
inside that word's box differ. It needs Debian's chromium (``apt-get install chromium``, done by
``.ci/run``) and the ``playwright`` package (the dev extra); without them it skips, saying so.
"""

from __future__ import annotations

import io
import json
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.helpers.paths import SCENE
from tests.helpers.tiny import make_split_checkpoint
from tsb.demo.server import DemoApp, DemoError, DemoServer, Limits
from tsb.detect import Word
from tsb.edit import Editor, pixels_inside

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Finder:
    """A stand-in detector: the same two words in every photo."""

    def __call__(self, image: Image.Image) -> list[Word]:
        return [
            Word("SALE", 0.99, (40.0, 30.0, 50.0, 20.0, 0.0), letters=(40.0, 30.0, 44.0, 20.0, 0.0)),
            Word("today", 0.9, (110.0, 30.0, 60.0, 20.0, 8.0)),
        ]


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> Editor:
    return Editor(make_split_checkpoint(tmp_path_factory.mktemp("demo") / "last.ckpt"), "cpu")


def _png(size: tuple[int, int] = (160, 60), mode: str = "RGB") -> bytes:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).convert(mode).save(buf, format="PNG")
    return buf.getvalue()


def _outside_equal(before: Image.Image, after: Image.Image, box: Any) -> bool:
    a, b = np.asarray(before.convert("RGB")), np.asarray(after.convert("RGB"))
    inside = pixels_inside(tuple(box), (0, 0), before.size).astype(bool)  # type: ignore[arg-type]
    return bool(np.array_equal(a[~inside], b[~inside]))


def test_upload_lists_the_words_with_their_corners(editor: Editor) -> None:
    app = DemoApp(editor, finder=_Finder())
    info = app.upload(_png(), "photo.png")
    assert (info["width"], info["height"]) == (160, 60)
    assert [w["text"] for w in info["words"]] == ["SALE", "today"]
    sale = info["words"][0]
    assert sale["arg"] == "15,20,50,20" and sale["corners"] == [[15, 20], [65, 20], [65, 40], [15, 40]]
    assert sale["letters"] == [40, 30, 44, 20, 0] and info["words"][1]["letters"] is None
    assert app.photo(info["id"]).size == (160, 60)


def test_upload_refuses_what_is_not_an_image_or_too_large(editor: Editor) -> None:
    app = DemoApp(editor, Limits(max_pixels=5000), finder=_Finder())
    with pytest.raises(DemoError, match=r"notes\.txt is not an image") as e:
        app.upload(b"hello, not a picture", "notes.txt")
    assert e.value.status == 415
    with pytest.raises(DemoError, match=r"160x60 pixels, over the limit of 0.005 megapixels") as e:
        app.upload(_png(), "big.png")
    assert e.value.status == 413


def test_edit_changes_only_the_box_and_chains_on_the_result(editor: Editor) -> None:
    app = DemoApp(editor, finder=_Finder())
    info = app.upload(_png(), "photo.png")
    box = info["words"][0]["box"]
    letters = info["words"][0]["letters"]
    png, result_id, seconds = app.edit({"id": info["id"], "box": box, "text": "OPEN", "letters": letters})
    out = Image.open(io.BytesIO(png))
    before = app.photo(info["id"])
    assert out.size == before.size and seconds > 0
    assert _outside_equal(before, out, box)
    assert not np.array_equal(np.asarray(out.convert("RGB")), np.asarray(before.convert("RGB")))
    # the next edit works on the result; erasing needs no text
    png2, _, _ = app.edit({"id": result_id, "box": info["words"][1]["box"], "erase": True})
    out2 = Image.open(io.BytesIO(png2))
    assert _outside_equal(out, out2, info["words"][1]["box"])


@pytest.mark.parametrize(
    ("request_", "status", "message"),
    [
        ({"box": [40, 30, 50, 20, 0], "text": "x"}, 404, "upload it again"),
        ({"box": [40, 30, 50], "text": "x"}, 400, r"\[xc, yc, w, h, angle\]"),
        ({"box": [40, 30, -5, 20, 0], "text": "x"}, 400, "positive size"),
        ({"box": [40, 30, 50, 20, 0], "text": "  "}, 422, "type the new text"),
        ({"box": [40, 30, 50, 20, 0], "text": "x" * 65}, 422, "at most 64"),
        ({"box": [900, 30, 50, 20, 0], "text": "x"}, 422, "box"),
        ({"box": [40, 30, 50, 20, 0], "text": "x", "source": 3}, 400, '"source"'),
        ({"box": [40, 30, 50, 20, 0], "text": "x", "letters": [40, 30]}, 400, r"\[xc, yc, w, h, angle\]"),
    ],
)
def test_edit_refuses_bad_requests_with_a_message(
    editor: Editor, request_: dict[str, Any], status: int, message: str
) -> None:
    app = DemoApp(editor, finder=_Finder())
    photo_id = app.upload(_png(), "photo.png")["id"]
    if status != 404:
        request_ = {"id": photo_id, **request_}
    with pytest.raises(DemoError, match=message) as e:
        app.edit(request_)
    assert e.value.status == status


@pytest.fixture
def server(editor: Editor) -> Iterator[DemoServer]:
    srv = DemoServer(("127.0.0.1", 0), DemoApp(editor))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def test_http_serves_the_page_and_refuses_oversize_uploads_unread(server: DemoServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    with urllib.request.urlopen(server.url, timeout=30) as r:
        page = r.read().decode()
    assert r.headers["Content-Type"].startswith("text/html") and 'id="photo"' in page
    server.app.limits.max_bytes = 1000
    status, body, _ = _post(server.url + "api/photo", _png())
    assert status == 413 and "over the limit of" in json.loads(body)["error"]
    status, body, _ = _post(server.url + "api/edit", b"{not json")
    assert status == 400 and json.loads(body)["error"] == "the edit request is not JSON"
    status, body, _ = _post(server.url + "api/nothing", b"")
    assert status == 404


# --------------------------------------------------------------------------------------------------
# a real browser


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser test needs playwright (pip install -e '.[dev]')"
    )
    if CHROMIUM is None:
        pytest.skip("the browser test needs Chromium: apt-get install chromium (.ci/run does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.mark.browser
def test_browser_click_a_word_type_and_download(server: DemoServer, browser: Any, tmp_path: Path) -> None:
    if not SCENE.is_file():
        pytest.skip(f"{SCENE} is not present")
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    page.goto(server.url)
    # a file that is not an image: one message on the page
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    page.set_input_files("#photo", str(notes))
    page.wait_for_selector("#message.error", timeout=60_000)
    assert "notes.txt is not an image" in page.inner_text("#message")
    # the poster: words found, drawn, listed
    page.set_input_files("#photo", str(SCENE))
    page.wait_for_function(
        "document.querySelector('#message').textContent.startsWith('found')", timeout=120_000
    )
    words = page.evaluate("state.words")
    soap = next(w for w in words if w["text"].lower() == "soap")
    # click the middle of the word on the canvas (page pixels = image pixels x the canvas's scale)
    rect = page.eval_on_selector(
        "#canvas", "c => { const r = c.getBoundingClientRect(); return [r.x, r.y, r.width / c.width]; }"
    )
    x, y = rect[0] + soap["box"][0] * rect[2], rect[1] + soap["box"][1] * rect[2]
    page.mouse.click(x, y)
    assert page.input_value("#text") == soap["text"]
    page.fill("#text", "gel")
    page.click("#replace")
    page.wait_for_function(
        "document.querySelector('#message').textContent.startsWith('done')", timeout=120_000
    )
    with page.expect_download() as download:
        page.click("#download")
    path = tmp_path / "edited.png"
    download.value.save_as(path)
    before, after = Image.open(SCENE), Image.open(path)
    assert after.size == before.size
    assert _outside_equal(before, after, soap["box"])
    assert not np.array_equal(np.asarray(before.convert("RGB")), np.asarray(after.convert("RGB")))
    page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)


# --------------------------------------------------------------------------------------------------
# hostile start-up arguments and requests


def test_a_checkpoint_whose_config_explodes_is_refused_before_binding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stored config of YAML aliases (10^9 entries from 600 bytes) kept the demo from ever
    binding its port; it is refused at once with one line."""
    from tests.helpers.hostile import bomb_checkpoint, deadline
    from tsb.demo.server import main

    ckpt = bomb_checkpoint(tmp_path / "bomb.ckpt")
    with deadline(20):
        code = main(["--ckpt", str(ckpt), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "bomb.ckpt" in err and "expands to more than" in err.replace(str(tmp_path), "TMP")


def _raw(server: DemoServer, head: str, body: bytes = b"", timeout: float = 30) -> tuple[int, dict[str, Any]]:
    """Send ``head`` (request line and headers, CRLF-separated, no blank line) and ``body`` on a
    plain socket; the status and the JSON answer (the socket is closed after the body is sent)."""
    import socket

    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
            s.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed before taking it all: read the answer
            pass
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload) if payload.startswith(b"{") else {}


def _host(server: DemoServer) -> str:
    return "{}:{}".format(*server.server_address[:2])


@pytest.mark.parametrize("length", ["-1", "+5", "1e3", "abc", "1_000", "99999999999999999999999"])
def test_a_content_length_that_is_not_a_byte_count_is_refused_unread(server: DemoServer, length: str) -> None:
    """``Content-Length: -1`` read the whole body to the end, past the upload limit."""
    server.app.limits.max_bytes = 1000
    status, answer = _raw(
        server,
        f"POST /api/photo HTTP/1.1\r\nHost: {_host(server)}\r\nContent-Length: {length}",
        _png() + b"\0" * 200_000,
    )
    assert status in (400, 413) and "Content-Length" in answer["error"], answer


def test_the_upload_limit_applies_to_the_bytes_sent(server: DemoServer) -> None:
    """A small PNG with padding after it: the limit counts every byte of the body."""
    png = _png()
    server.app.limits.max_bytes = len(png) + 1000
    padded = png + b"\0" * 50_000
    status, body, _ = _post(server.url + "api/photo", padded)
    assert status == 413 and "over the limit" in json.loads(body)["error"]
    status, answer = _raw(server, f"POST /api/photo HTTP/1.1\r\nHost: {_host(server)}\r\nContent-Length: -1", padded)
    assert status == 400, answer
    assert _post(server.url + "api/photo", png)[0] == 200  # the photo alone is under the limit


def test_a_missing_content_length_is_refused(server: DemoServer) -> None:
    status, answer = _raw(server, f"POST /api/photo HTTP/1.1\r\nHost: {_host(server)}", _png())
    assert status == 411 and "Content-Length" in answer["error"]


@pytest.mark.parametrize("erase", ["false", "true", 0, 1, None, [], {}])
def test_erase_must_be_a_json_boolean(editor: Editor, erase: Any) -> None:
    """``"erase": "false"`` (a string) was taken as true: the word was erased."""
    app = DemoApp(editor, finder=_Finder())
    photo_id = app.upload(_png(), "photo.png")["id"]
    with pytest.raises(DemoError, match='"erase" must be true or false') as e:
        app.edit({"id": photo_id, "box": [40, 30, 50, 20, 0], "text": "OPEN", "erase": erase})
    assert e.value.status == 400


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "x", "box": [' + b"9" * 5000 + b', 1, 1, 1, 0], "text": "a"}',
        b'{"id": "x", "box": [1e999, 1, 1, 1, 0], "text": "a"}',
        b"\xff\xfe not utf-8",
    ],
    ids=["nested 100,000 deep", "a 5,000-digit number", "an infinite number", "not UTF-8"],
)
def test_an_edit_request_the_json_reader_refuses_is_400_not_500(server: DemoServer, body: bytes) -> None:
    status, answer, _ = _post(server.url + "api/edit", body)
    assert status == 400, answer
    assert "internal error" not in json.loads(answer)["error"]


@pytest.mark.parametrize(
    ("host", "origin", "status"),
    [
        ("evil.example:{port}", None, 403),  # DNS rebinding: the page's name now points here
        ("{host}:{port}", "http://evil.example", 403),  # a cross-site POST
        ("{host}:{port}", "null", 403),
        ("localhost:{port}", "http://localhost:{port}", 200),
        ("{host}:{port}", "http://{host}:{port}", 200),
        ("{host}:{port}", None, 200),  # curl, scripts: no Origin
    ],
)
def test_only_this_machine_s_pages_may_drive_the_demo(
    server: DemoServer, host: str, origin: str | None, status: int
) -> None:
    bound, port = server.server_address[:2]
    fill = {"host": bound, "port": port}
    headers = {"Host": host.format(**fill), "Content-Type": "application/octet-stream"}
    if origin is not None:
        headers["Origin"] = origin.format(**fill)
    got, body, _ = _post(server.url + "api/photo", _png(), headers)
    assert got == status, body
    if status == 403:
        assert "refused" in json.loads(body)["error"]
    # the page itself: refused under a foreign name (a rebound DNS name), served under ours
    get = urllib.request.Request(server.url, headers={"Host": headers["Host"]})
    try:
        with urllib.request.urlopen(get, timeout=30) as r:
            page_status = r.status
    except urllib.error.HTTPError as e:
        page_status = e.code
    assert page_status == (403 if headers["Host"].startswith("evil") else 200)


def test_a_stalled_upload_times_out(editor: Editor) -> None:
    """A Content-Length larger than the body held a thread for ever."""
    srv = DemoServer(("127.0.0.1", 0), DemoApp(editor, finder=_Finder()), read_timeout=1.0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        import socket

        with socket.create_connection(srv.server_address[:2], timeout=30) as s:
            s.sendall(f"POST /api/photo HTTP/1.1\r\nHost: {_host(srv)}\r\nContent-Length: 5000\r\n\r\n".encode())
            s.sendall(b"x" * 100)  # and nothing more, the socket left open
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        assert data.split()[1] == b"408" and b"the upload stalled" in data
    finally:
        srv.shutdown()
        srv.server_close()


def test_many_clients_at_once_are_answered_not_reset(editor: Editor, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 clients at once: each gets an answer (the work, or 503 busy), none a reset connection."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    app = DemoApp(editor, finder=_Finder())
    slow = app.upload

    def upload(data: bytes, name: str = "the upload") -> dict[str, Any]:
        time.sleep(0.5)
        return slow(data, name)

    monkeypatch.setattr(app, "upload", upload)
    srv = DemoServer(("127.0.0.1", 0), app, max_active=4)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        png = _png()
        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(lambda _: _post(srv.url + "api/photo", png)[0], range(30)))
    finally:
        srv.shutdown()
        srv.server_close()
    assert set(statuses) <= {200, 503} and 200 in statuses and 503 in statuses, statuses


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--max-mb", "nan"], "--max-mb"),
        (["--max-mb", "-1"], "--max-mb"),
        (["--max-mb", "0"], "--max-mb"),
        (["--max-mb", "inf"], "--max-mb"),
        (["--max-megapixels", "nan"], "--max-megapixels"),
    ],
)
def test_start_up_arguments_are_checked_in_one_line(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked before the model loads: nothing else is built."""
    from tsb.demo import server as demo

    monkeypatch.setattr(demo, "Editor", lambda *a, **k: pytest.fail("the model was loaded"))
    assert demo.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and named in err, err


@pytest.mark.parametrize(("args", "method"), [([], None), (["--match-font", "shortlist"], "shortlist"), (["--match-font"], "model")])
def test_the_demo_matches_fonts_as_tsb_edit_does(
    args: list[str], method: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``--match-font`` reaches the editor the server edits with (off by default, as tsb.edit)."""
    from tsb.demo import server as demo

    built: dict[str, Any] = {}

    class _Stop(Exception):
        pass

    def fake_make_server(*a: Any) -> Any:
        built["server"] = real_make_server(make_split_checkpoint(tmp_path / "last.ckpt"), port=0, match_font=a[-1])
        raise _Stop

    real_make_server = demo.make_server
    monkeypatch.setattr(demo, "make_server", fake_make_server)
    with pytest.raises(_Stop):
        demo.main(["--port", "0", *args])
    server = built["server"]
    try:
        font_match = server.app.editor.font_match
        assert (font_match.method if font_match is not None else None) == method
    finally:
        server.server_close()
