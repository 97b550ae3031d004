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
            Word("SALE", 0.99, (40.0, 30.0, 50.0, 20.0, 0.0)),
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
    png, result_id, seconds = app.edit({"id": info["id"], "box": box, "text": "OPEN"})
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
