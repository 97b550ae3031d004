"""``python -m tsb.edit``: the command line (boxes, edits files, ``--list``, ``--replace``, ``--erase``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from tsb.cli import report_error
from tsb.data.crop import box_corners
from tsb.detect import Word
from tsb.edit.editor import Editor
from tsb.edit.edits import Edit, format_box, load_edits, parse_box, word_edits
from tsb.edit.image_io import WIDE_COLOUR, as_rgb, open_image, output_format, save_image, working_mode
from tsb.errors import EditError, TsbError
from tsb.published import AUTO


def add_match_font_argument(p: argparse.ArgumentParser) -> None:
    """``--match-font [METHOD]``, as tsb.edit and the demo take it (off by default: on the project's
    photo set no method reads more new words than the content font, docs/results.md)."""
    p.add_argument(
        "--match-font",
        nargs="?",
        const="model",
        default=None,
        choices=["model", "embedding", "shortlist"],
        help="draw the new word in a matched font instead of the content font: 'model' (default) the "
        "training font whose rendering of the old word the model redraws best (about 2 s per word on a "
        "CPU); 'embedding' the typeface encoder's nearest package font (milliseconds); 'shortlist' the "
        "one of the encoder's 4 nearest fonts (font library included) the model redraws best "
        "(--verbose names the font)",
    )


def print_words(words: Sequence[Word]) -> None:
    if not words:
        print("no words found")
    for i, w in enumerate(words, start=1):
        box = tuple(round(v, 1) for v in w.box)
        print(f"{i:3d}  {w.text!r:24}  confidence {w.score:.2f}  --box={format_box(box)}")  # type: ignore[arg-type]


def preview(image: Image.Image, words: Sequence[Word]) -> Image.Image:
    """The photo with each word's box drawn and numbered as ``--list`` prints them."""
    from PIL import ImageDraw

    out = as_rgb(image).copy()
    draw = ImageDraw.Draw(out)
    for i, w in enumerate(words, start=1):
        corners = [tuple(map(float, c)) for c in box_corners(w.box)]
        draw.polygon(corners, outline=(255, 0, 0), width=2)
        x, y = corners[0]
        draw.text((x + 2, max(0.0, y - 12)), str(i), fill=(255, 0, 0))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tsb.edit",
        description="Replace words in a photo with new text in the same style.",
        epilog='example: python -m tsb.edit --image photo.jpg --box 120,40,200,60,5 --text "new words" --out edited.png',
    )
    p.add_argument(
        "--ckpt",
        default=None,
        help="model checkpoint (RUN/checkpoints/last.ckpt); default: the published weights",
    )
    p.add_argument("--image", required=True, help="the photo (RGB, RGBA, grey; EXIF rotation is applied)")
    p.add_argument(
        "--box",
        help="X,Y,W,H[,ANGLE]: top-left corner, size, degrees counter-clockwise (write --box=X,... when X is negative)",
    )
    p.add_argument("--text", help="the new text")
    p.add_argument(
        "--source-text",
        help="with --box: the word the box holds now (default: read by the packaged PP-OCRv6 recognizer); "
        "the model draws the new word in its width and on its baseline",
    )
    p.add_argument(
        "--no-read", action="store_true", help="do not read the old word: place the new one by the box alone"
    )
    add_match_font_argument(p)
    p.add_argument(
        "--erase",
        nargs="?",
        const=True,
        default=None,
        metavar="WORD",
        help="remove a word instead: the one in --box, or every detected word that reads WORD "
        "(needs a model with a background branch: model=stylebrush_bg)",
    )
    p.add_argument(
        "--list", action="store_true", help="print the words found in the photo (text, confidence, --box)"
    )
    p.add_argument("--preview", help="with --list: write the photo with numbered word boxes here")
    p.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="replace every detected word that reads OLD by NEW (repeatable; case-insensitive unless --exact)",
    )
    p.add_argument(
        "--exact", action="store_true", help="--replace / --erase WORD match case and punctuation exactly"
    )
    p.add_argument("--edits", help='JSON file: [{"box": "X,Y,W,H[,ANGLE]", "text": "..."}, ...]')
    p.add_argument("--out", help="where to write the edited image (.png, .jpg); not needed for --list alone")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, ...")
    p.add_argument("--blend", default="alpha", choices=["alpha", "poisson"], help="paste-back blending")
    p.add_argument("--context", type=float, default=0.15, help="style context around the box, x box height")
    p.add_argument(
        "--inference",
        default=AUTO,
        help="photo steps around the network (conf/inference: photo, none); default auto: the published "
        "weights' own (photo), none for a checkpoint of your own",
    )
    p.add_argument("--verbose", action="store_true", help="print each word's latency")
    args = p.parse_args(argv)
    try:
        edits: list[Edit] = load_edits(args.edits) if args.edits else []
        by_box = args.erase is True
        if by_box:
            if args.box is None or args.text is not None:
                raise EditError("--erase takes --box (the word to remove) and no --text; or --erase WORD")
            edits.append(Edit(parse_box(args.box), "", erase=True))
        elif (args.box is None) != (args.text is None):
            raise EditError("--box and --text go together: give both (or neither with --edits FILE)")
        elif args.box is not None:
            edits.append(Edit(parse_box(args.box), args.text, source=args.source_text))
        if args.source_text is not None and (args.box is None or by_box):
            raise EditError("--source-text goes with --box and --text (the word that box holds now)")
        if args.source_text is not None and not args.source_text.strip():
            raise EditError(
                "--source-text is empty; give the word the box holds now, or leave it out (it is read)"
            )
        given = list(edits)  # their sources were typed: checked against the model's alphabet
        if args.preview and not args.list:
            raise EditError("--preview goes with --list")
        image = open_image(args.image)
        words = None
        if args.list or args.replace or isinstance(args.erase, str):
            from tsb.detect import find_words

            t0 = time.perf_counter()
            words = find_words(image)
            t_detect = time.perf_counter() - t0
            if args.verbose:
                print(f"found {len(words)} words in {t_detect:.2f} s")
        if args.list:
            assert words is not None
            print_words(words)
            if args.preview:
                save_image(preview(image, words), args.preview)
                print(f"wrote {args.preview}")
        if words is not None:
            notes: list[str] = []
            edits += word_edits(
                words, args.replace, args.erase if isinstance(args.erase, str) else None, args.exact, notes
            )
            for note in notes:
                print(f"note: {note}", file=sys.stderr)
        if not edits:
            if args.list:
                return 0
            raise EditError(
                "nothing to edit: give --box and --text, --replace OLD=NEW, --erase (WORD, or with --box), "
                "or --edits FILE"
            )
        if not args.out:
            raise EditError("give --out: where to write the edited image")
        output_format(args.out, working_mode(image))  # a name this editor cannot write: before the model
        if Path(args.out).suffix.lower() in (".jpg", ".jpeg"):
            print(
                f"note: {args.out} is a JPEG, re-encoded (with the photo's own quantization tables when it is "
                "one): pixels outside the boxes change slightly; write a .png to keep them exactly",
                file=sys.stderr,
            )
        if image.info.get(WIDE_COLOUR):
            print(
                f"note: {args.image} has 16 bits per colour channel; it is edited and written with 8 bits",
                file=sys.stderr,
            )
        t0 = time.perf_counter()
        editor = Editor(
            args.ckpt,
            args.device,
            context=args.context,
            blend=args.blend,
            read_source=not args.no_read,
            match_font=args.match_font,
            inference=args.inference,
        )
        t_load = time.perf_counter() - t0
        for e in given:
            if e.source is not None:
                editor.check_text(e.source, "--source-text" if args.source_text is not None else '"source"')
        result, infos = editor.edit(image, edits)
        save_image(result, args.out, like=image)
    except TsbError as e:
        return report_error(e)
    if args.verbose:
        dev = "CPU" if editor.device.type == "cpu" else str(editor.device)
        print(f"model loaded in {t_load:.2f} s; image {image.width}x{image.height} {image.mode}")
        for i in infos:
            print(
                f"{i.text!r} box {format_box(i.box)}: generated {i.size[0]}x{i.size[1]}, "
                f"{dev} latency {i.seconds:.3f} s (generate {i.generate_seconds:.3f} s), blend {i.blend}"
                + (f", font {Path(i.font).stem}" if i.font else "")
            )
    print(f"wrote {args.out}")
    return 0
