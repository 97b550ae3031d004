"""A tiny photo set for the photo benchmark's tests: words drawn with PIL on a textured background."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tsb.data.content import content_font_path

#: (file, words, each at (x, y) with the font size in pixels)
PHOTOS: list[tuple[str, list[tuple[str, tuple[int, int]]]]] = [
    ("shop.png", [("OPEN", (20, 18)), ("BAKERY", (120, 18)), ("daily", (40, 78))]),
    ("street.jpg", [("Market", (24, 30)), ("Street", (150, 30))]),
]
SIZE = (280, 128)
FONT_PX = 30


def textured(size: tuple[int, int], seed: int) -> np.ndarray:
    """(H, W, 3) uint8: a soft colour gradient with a little grain (a wall, a plate)."""
    rng = np.random.default_rng(seed)
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([200 + 30 * xs / w, 190 + 20 * ys / h, 160 + 25 * (xs + ys) / (w + h)], axis=-1)
    grain = rng.normal(0, 4, (h, w, 1)).astype(np.float32)
    return np.clip(base + grain, 0, 255).astype(np.uint8)


def draw_words(
    words: list[tuple[str, tuple[int, int]]], seed: int = 0, size: tuple[int, int] = SIZE
) -> Image.Image:
    image = Image.fromarray(textured(size, seed))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(content_font_path(), FONT_PX)
    for text, xy in words:
        draw.text(xy, text, fill=(30, 35, 90), font=font)
    return image


def make_photo_folder(root: Path) -> Path:
    """The photos of :data:`PHOTOS` in ``root`` (a PNG and a JPEG)."""
    root.mkdir(parents=True, exist_ok=True)
    for i, (name, words) in enumerate(PHOTOS):
        draw_words(words, seed=i).save(root / name, quality=95)
    return root
