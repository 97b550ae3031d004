"""The README grid on real photos: each crop of ``shared/data/real-words`` edited to a new word
and erased, by the published weights (or ``--ckpt``), with ``tsb.edit``'s own code path.

    python benchmarks/real_grid.py [--ckpt CKPT] [--out docs/results/real_grid.png] [--match-font]
        [--inference photo] [--set extrusion=null ...]

Rows: one per crop; columns: the photo | the new word written in its style | the word erased
(``--erase``, needs a model with a background branch). The box is the whole crop (the crops are
cut around one word). Prints the judge's (PP-OCRv6) reading of every edited crop, and of every erased crop with its
likeness to the old word (1 - normalised edit distance: a trace the judge still reads).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from tsb.edit import Edit, Editor, open_image, parse_box
from tsb.inference.pipeline import build_pipeline
from tsb.metrics.recognition import normalized_edit_distance
from tsb.published import AUTO, default_inference, resolve_checkpoint
from tsb.utils.image import pil_to_tensor

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT.parent / "shared" / "data" / "real-words"
#: a new word per crop, in the source word's letter case
NEW_WORDS = {
    "demo_1.png": "Welcome",
    "demo_2.jpg": "BURGERBAR",
    "demo_3.png": "Paris",
    "demo_4.png": "Riverside",
    "demo_5.png": "BREAD",
    "demo_6.png": "HAPPY",
    "demo_7.png": "overground",
    "demo_8.jpg": "MESSI",
    "demo_9.jpg": "CASINO",
    "demo_10.jpg": "COLLEGE",
}
ROW_H = 72
#: the words the crops hold (the folder's labels)
OLD_WORDS = dict(
    line.split("\t")[:2] for line in (FOLDER / "labels.tsv").read_text().splitlines() if "\t" in line
)


def _fit(img: Image.Image, h: int = ROW_H) -> Image.Image:
    w = max(1, round(img.width * h / img.height))
    return img.convert("RGB").resize((w, h), Image.Resampling.LANCZOS)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", default=None, help="checkpoint (default: the published weights)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "real_grid.png")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--match-font", action="store_true", help="as tsb.edit --match-font")
    p.add_argument("--inference", default=AUTO, help="as tsb.edit --inference (conf/inference)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a step of --inference")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    preset = default_inference(resolve_checkpoint(args.ckpt)) if args.inference == AUTO else args.inference
    editor = Editor(args.ckpt, "cpu", match_font=args.match_font, inference=build_pipeline(preset, args.set))
    from tsb.pretrained.registry import judge

    reader = judge("ppocr")
    rows = []
    for name, word in NEW_WORDS.items():
        photo = open_image(FOLDER / name)
        w, h = photo.size
        box = parse_box(f"0,0,{w},{h}")
        edited, _ = editor.edit(photo, [Edit(box, word)])
        cells = [photo, edited]
        if editor.can_erase:
            erased, _ = editor.edit(photo, [Edit(box, "", erase=True)])
            cells.append(erased)
        read = reader.read(pil_to_tensor(edited, "RGB")[None])[0]
        line = f"{name}: {word!r} -> judge reads {read!r}"
        if editor.can_erase:
            # a trace of the old word in the erased crop: what the judge still reads there
            left = reader.read(pil_to_tensor(erased, "RGB")[None])[0]
            old = OLD_WORDS.get(name, "")
            sim = 1 - normalized_edit_distance(left.upper(), old.upper()) if left and old else 0.0
            line += f"; erased: reads {left!r} ({100 * sim:.0f}% like {old!r})"
        print(line)
        rows.append([_fit(c) for c in cells])
    widths = [max(r[i].width for r in rows) for i in range(len(rows[0]))]
    pad = 6
    grid = Image.new("RGB", (sum(widths) + pad * (len(widths) + 1), len(rows) * (ROW_H + pad) + pad + 18), "white")
    draw = ImageDraw.Draw(grid)
    x = pad
    for title, wcol in zip(["photo", "new word", "erased"], widths):
        draw.text((x, 3), title, fill="black")
        x += wcol + pad
    for j, r in enumerate(rows):
        x = pad
        for cell, wcol in zip(r, widths):
            grid.paste(cell, (x, 18 + pad + j * (ROW_H + pad)))
            x += wcol + pad
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    print(f"wrote {args.out} ({grid.width}x{grid.height}); {np.mean([len(r) for r in rows]):.0f} columns")


if __name__ == "__main__":
    main()
