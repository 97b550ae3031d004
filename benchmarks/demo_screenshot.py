"""A screenshot of the browser demo for the README, by the demo itself in headless Chromium.

    python benchmarks/demo_screenshot.py [--ckpt CKPT] [--image PHOTO] [--word soap] [--text gel]
        [--out docs/results/demo.png]

Starts ``tsb.demo``'s server on a free localhost port (the published weights unless ``--ckpt``),
uploads the photo (default: ``shared/data/scenes/english.png``), clicks the word, types the new
text, presses Replace, waits for the result and saves a screenshot of the whole page. Prints the
edit's latency as the page reports it. Needs Debian's chromium and the ``playwright`` package (the
dev extra), as the browser test does.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tsb.demo.server import make_server  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", default=None)
    p.add_argument("--image", default=str(ROOT.parent / "shared" / "data" / "scenes" / "english.png"))
    p.add_argument("--word", default="soap", help="the word to click (as the detector reads it, any case)")
    p.add_argument("--text", default="gel")
    p.add_argument("--out", default=str(ROOT / "docs" / "results" / "demo.png"))
    p.add_argument("--width", type=int, default=1100, help="browser window width")
    args = p.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("needs Chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    server = make_server(args.ckpt, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.goto(server.url)
            page.set_input_files("#photo", args.image)
            page.wait_for_function("document.querySelector('#message').textContent.startsWith('found')", timeout=300_000)
            words = page.evaluate("state.words")
            hit = [w for w in words if w["text"].lower().strip(".,!?") == args.word.lower()]
            if not hit:
                sys.exit(f"no word reads {args.word!r}; found: {', '.join(w['text'] for w in words)}")
            box = hit[0]["box"]
            x, y, scale = page.eval_on_selector(
                "#canvas", "c => { const r = c.getBoundingClientRect(); return [r.x, r.y, r.width / c.width]; }"
            )
            page.mouse.click(x + box[0] * scale, y + box[1] * scale)
            page.fill("#text", args.text)
            page.click("#replace")
            page.wait_for_function(
                "['done', 'error'].some(s => document.querySelector('#message').textContent.startsWith(s)) "
                "|| document.querySelector('#message').className === 'error'",
                timeout=300_000,
            )
            print(page.inner_text("#message"))
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out, full_page=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
