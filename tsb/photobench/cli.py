"""``python -m tsb.photobench DIR``: the real-photo benchmark over a folder of photos."""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tsb.cli import report_error
from tsb.errors import BenchError, TsbError
from tsb.photobench.bench import run_bench
from tsb.photobench.editors import METHODS, PhotoEditor, build_editor
from tsb.photobench.edits import list_photos, load_requests
from tsb.photobench.report import contact_sheet, markdown, save_sheet, summaries, write_json

JUDGE = "PP-OCRv6 detection + recognition (rapidocr, tsb.detect.WordFinder) on the whole photo"


def parse_methods(value: str) -> list[str]:
    methods = [m.strip() for m in value.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if not methods or bad:
        raise BenchError(
            f"--method {value!r}: give editors from {', '.join(METHODS)}, separated by commas (e.g. model,font)"
        )
    return list(dict.fromkeys(methods))


def _shown(path: str | None) -> str | None:
    """``path`` relative to the working folder when it lies in it (reports stay portable)."""
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def _positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise BenchError(f"{name} must be at least 1, got {value}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tsb.photobench",
        description="Replace words in a folder of photos and let an independent OCR judge the edits.",
        epilog="example: python -m tsb.photobench photos/ --edits edits.tsv --out report/  "
        "(edits.tsv: photo<TAB>old word<TAB>new word per line; without it every word found is replaced)",
    )
    p.add_argument("folder", help="the folder of photos (.png, .jpg, ...; its subfolders are not read)")
    p.add_argument(
        "--edits",
        help="TSV (photo<TAB>old<TAB>new; photo<TAB>* for every word) or JSON lines "
        '({"photo": ..., "old": ..., "new": ...}); default: every word the judge finds, replaced by a '
        "word of similar length",
    )
    p.add_argument(
        "--method",
        default="model,font",
        help=f"editors to run, separated by commas, from {', '.join(METHODS)} (default model,font: the "
        "model and the trivial standard-font row)",
    )
    p.add_argument(
        "--erase",
        action="store_true",
        help="also run the model's eraser alone (method erase, as tsb.edit --erase): the old word removed, "
        "measured by the same judge (old word gone, nothing read there, neighbours, outside change, seam)",
    )
    p.add_argument("--ckpt", default=None, help="model checkpoint; default: the published weights")
    p.add_argument(
        "--inference",
        default="auto",
        help="photo steps around the network, as tsb.edit takes them (auto, photo, none)",
    )
    p.add_argument(
        "--match-font",
        default=None,
        choices=["model", "embedding", "shortlist"],
        help="the model row draws the new word in a matched font, as tsb.edit --match-font does",
    )
    p.add_argument("--device", default="cpu", help="the model's device: cpu (default), cuda, ...")
    p.add_argument(
        "--out", default="outputs/photobench", help="the report folder (default outputs/photobench)"
    )
    p.add_argument("--limit", type=int, default=None, help="at most N edits in all")
    p.add_argument("--per-photo", type=int, default=None, help="at most N edits per photo")
    p.add_argument(
        "--threads", type=int, default=1, help="CPU threads for the model and the judge (default 1)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the replacement words (default 0)")
    p.add_argument(
        "--no-lpips", action="store_true", help="skip the round trip's LPIPS (saves ~7 s of loading)"
    )
    p.add_argument(
        "--sheet-colours", type=int, default=None, help="reduce the sheet to N colours (a small PNG for docs)"
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    args = p.parse_args(argv)
    try:
        methods = parse_methods(args.method + (",erase" if args.erase else ""))
        _positive("--limit", args.limit)
        _positive("--per-photo", args.per_photo)
        _positive("--threads", args.threads)
        if args.sheet_colours is not None and not 2 <= args.sheet_colours <= 256:
            raise BenchError(f"--sheet-colours must be between 2 and 256, got {args.sheet_colours}")
        photos = list_photos(args.folder)
        requests = load_requests(args.edits, photos) if args.edits else None
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise BenchError(f"--out {out} is a file; give a folder for the report")
        import torch

        from tsb.detect import WordFinder

        torch.set_num_threads(args.threads)
        judge = WordFinder(threads=args.threads)
        editors: list[PhotoEditor] = []
        for m in methods:
            editors.append(build_editor(m, args.ckpt, args.inference, args.device, editors, args.match_font))
        t0 = time.perf_counter()
        run = run_bench(
            photos,
            editors,
            judge,
            requests,
            limit=args.limit,
            per_photo=args.per_photo,
            seed=args.seed,
            lpips=not args.no_lpips,
            log=None if args.quiet else print,
        )
        if not run.edits:
            raise BenchError(
                f"no edit to measure in {args.folder}: the judge found no word"
                + (" the edits file names" if requests else "")
                + "; give photos with text, or an edits file naming the words"
            )
        model = next((e for e in editors if e.name in ("model", "erase")), None)
        settings = {
            "command": "python -m tsb.photobench " + shlex.join(sys.argv[1:] if argv is None else list(argv)),
            "date": datetime.date.today().isoformat(),
            "folder": str(args.folder),
            "edits": args.edits or "every word the judge finds, replaced by a word of similar length",
            "methods": ",".join(methods),
            "checkpoint": _shown(getattr(model, "ckpt", None)),
            "inference": args.inference,
            "match_font": args.match_font,
            "judge": JUDGE,
            "seed": args.seed,
            "limit": args.limit,
            "per_photo": args.per_photo,
            "threads": args.threads,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        out.mkdir(parents=True, exist_ok=True)
        summary = summaries(run, methods)
        save_sheet(contact_sheet(run.tiles, methods), out / "sheet.png", args.sheet_colours)
        write_json(out / "report.json", run, settings, summary)
        (out / "report.md").write_text(markdown(run, settings, summary, "sheet.png"), encoding="utf-8")
    except TsbError as e:
        return report_error(e)
    from tsb.photobench.report import summary_table

    print("\n".join(summary_table(summary)))
    print(f"wrote {out / 'report.md'}, {out / 'report.json'}, {out / 'sheet.png'}")
    return 0
