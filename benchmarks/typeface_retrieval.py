"""Typeface retrieval over the font library: accuracy, nearest-family quality, speed.

    python benchmarks/typeface_retrieval.py [--index tsb/weights/typeface_index.safetensors] [--fonts 300]

Needs the font library (``python -m tsb.data.fontlib install``). Prints three tables:

1. **Known fonts, new words**: fonts of the library's training split draw two words that are not
   prototype words, as grey photo-like crops (:func:`tsb.data.fontcrops.augment`: grey levels,
   polarity, scale, position, blur, noise); top-1 / top-5 = the font itself among the nearest.
2. **Held-out families** (the library's held-out split: families the encoder never trained on,
   whose prototypes are left out of the search): each font draws an old word, retrieval picks a
   training font from it, and that font draws a *new* word; the score is how alike the new word
   looks in the retrieved font and in the true font (IoU of the ink at 32x128, and the PSNR of the
   drawings), beside the content font (DejaVu Sans) and a random training font that draws it.
3. **Speed**: milliseconds per word (embedding + search over every prototype), one thread.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from tsb.data.content import content_font_path
from tsb.data.fontcrops import augment, draw_word
from tsb.data.fonts import FontInfo
from tsb.inference.typeface import PROTOTYPE_WORDS, TypefaceIndex, default_index_path

OLD_WORDS = ("Garden", "STATION", "market", "Coffee", "hotel", "Bakery", "EXIT", "Pharmacy")
NEW_WORDS = ("Welcome", "OPEN", "bread", "Library", "museum", "TAXI", "Square", "pizza")


def _crop(font: FontInfo, text: str, rng: np.random.Generator | None) -> torch.Tensor:
    drawn = draw_word(font, text, 32, 128)
    x = augment(drawn, rng) if rng is not None else drawn.astype(np.float32) / 127.5 - 1.0
    return torch.from_numpy(np.ascontiguousarray(x))[None, None]


def _alike(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(IoU of the ink, PSNR in dB) of two drawings (uint8, ink 255)."""
    ia, ib = a > 127, b > 127
    iou = float((ia & ib).sum() / max(1, (ia | ib).sum()))
    mse = float(((a.astype(np.float32) - b.astype(np.float32)) / 255.0).__pow__(2).mean())
    return iou, 10 * np.log10(1.0 / max(mse, 1e-10))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", type=Path, default=default_index_path())
    p.add_argument("--fonts", type=int, default=300, help="fonts per table (a fixed sample)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(1)
    index = TypefaceIndex.load(args.index)
    fonts = [f for f in index.fonts() if f is not None]
    library = [f for f in fonts if f.source == "fontlib"]
    if not library:
        raise SystemExit("the font library is not installed: python -m tsb.data.fontlib install")
    rng = np.random.default_rng(args.seed)
    assert not set(PROTOTYPE_WORDS) & set(OLD_WORDS + NEW_WORDS)

    # 1. known fonts, new words -------------------------------------------------------------------
    train = [f for f in library if f.split == "train"]
    sample = [train[i] for i in rng.choice(len(train), min(args.fonts, len(train)), replace=False)]
    top1 = top5 = n = 0
    for font in sample:
        for text in rng.choice([w for w in OLD_WORDS if font.covers(w)] or ["Garden"], 2, replace=False):
            found = index.search(_crop(font, str(text), rng), str(text), k=5)[0]
            paths = [m.font.path for m in found]
            top1 += int(paths[:1] == [font.path])
            top5 += int(font.path in paths)
            n += 1
    print(f"known fonts, new words: {len(sample)} fonts, {n} crops: top-1 {top1 / n:.1%}, top-5 {top5 / n:.1%} "
          f"(among {len(fonts)} fonts)")  # fmt: skip

    # 2. held-out families ------------------------------------------------------------------------
    held = [f for f in library if f.split == "heldout"]
    held = [held[i] for i in rng.choice(len(held), min(args.fonts, len(held)), replace=False)]
    content = next((f for f in fonts if f.path == content_font_path()), None)
    rows: dict[str, list[tuple[float, float]]] = {"retrieved": [], "content font": [], "random font": []}
    for font in held:
        old = str(rng.choice([w for w in OLD_WORDS if font.covers(w)] or ["Garden"]))
        new = str(rng.choice([w for w in NEW_WORDS if font.covers(w)] or ["Welcome"]))
        found = index.search(_crop(font, old, rng), old + new, k=1, split="train")[0]
        if not found:
            continue
        truth = draw_word(font, new, 32, 128)
        rows["retrieved"].append(_alike(draw_word(found[0].font, new, 32, 128), truth))
        if content is not None:
            rows["content font"].append(_alike(draw_word(content, new, 32, 128), truth))
        other = [f for f in train if f.covers(new)]
        rows["random font"].append(_alike(draw_word(other[int(rng.integers(len(other)))], new, 32, 128), truth))
    print(f"held-out families ({len({f.family for f in held})} families, {len(held)} fonts): the new word "
          "drawn in the chosen font against the true font")  # fmt: skip
    print("| font | ink IoU | PSNR (dB) |\n|---|---|---|")
    for name, vals in rows.items():
        if vals:
            arr = np.array(vals)
            print(f"| {name} | {arr[:, 0].mean():.3f} | {arr[:, 1].mean():.2f} |")

    # 3. speed --------------------------------------------------------------------------------------
    crop = torch.rand(1, 3, 64, 256) * 2 - 1
    index.search(crop, "Welcome", k=1)
    t0 = time.perf_counter()
    for _ in range(50):
        index.search(crop, "Welcome", k=1)
    print(f"speed: {(time.perf_counter() - t0) / 50 * 1000:.1f} ms per word (one thread, {len(index.keys)} prototypes)")


if __name__ == "__main__":
    main()
