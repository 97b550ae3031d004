"""Drawing strings from a per-process glyph cache (the renderer's hot path).

FreeType rasterises a glyph in 20-100 microseconds depending on the font; a synthetic pair needs
about 40 glyphs, so drawing each string from scratch with PIL would cost more than everything
else together. Here every (font file, size, stroke, character) is rasterised once per process
with PIL and then copied into place: pen positions follow the glyph advances plus the font's
kerning of each pair of neighbours (measured with PIL at 100 px and scaled; cached) plus optional extra
letter spacing; positions are rounded to whole pixels. Overlapping glyphs combine with max().

The caches are plain ``functools.lru_cache`` s, so DataLoader workers each fill their own.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image, ImageDraw

from tsb.data.fonts import get_font

Glyph = tuple[np.ndarray, int, int]  # bitmap (h, w) uint8, left and top offsets from the pen/baseline


@functools.lru_cache(maxsize=100_000)
def glyph(path: str, size: int, stroke: int, char: str) -> Glyph:
    """The bitmap of one character and its offsets relative to the pen on the baseline."""
    font = get_font(path, size)
    x0, y0, x1, y1 = (int(v) for v in font.getbbox(char, anchor="ls", stroke_width=stroke))
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return np.zeros((0, 0), np.uint8), 0, 0
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).text(
        (-x0, -y0), char, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255
    )
    return np.asarray(img), int(x0), int(y0)


INK_REFERENCE = "Hbdfhklgjpqy0"


@functools.lru_cache(maxsize=20_000)
def ink_metrics(path: str, size: int) -> tuple[int, int]:
    """(ascent, descent) of the ink of tall and descending letters, in pixels from the baseline.

    Used instead of the font's line metrics, which some fonts (TeX's cm*) set far from the
    glyphs; sizes and vertical centres then agree across fonts.
    """
    font = get_font(path, size)
    _, top, _, bottom = font.getbbox(INK_REFERENCE, anchor="ls")
    if top >= 0:  # nothing above the baseline: fall back to the line metrics
        return font.getmetrics()
    return -int(top), max(0, int(bottom))


@functools.lru_cache(maxsize=60_000)
def advance(path: str, size: int, char: str) -> float:
    return float(get_font(path, size).getlength(char))


KERN_REF_SIZE = 100


@functools.lru_cache(maxsize=200_000)
def _kerning_ref(path: str, pair: str) -> float:
    size = KERN_REF_SIZE
    return (
        float(get_font(path, size).getlength(pair))
        - advance(path, size, pair[0])
        - advance(path, size, pair[1])
    )


def kerning(path: str, size: int, pair: str) -> float:
    """Kerning of two neighbours (the pair's advance minus the single advances), measured at
    100 px and scaled, so the cache does not grow with the number of sizes."""
    return _kerning_ref(path, pair) * size / KERN_REF_SIZE


@functools.lru_cache(maxsize=8192)
def pen_positions(path: str, size: int, text: str, spacing: float = 0.0) -> tuple[tuple[float, ...], float]:
    """x of each character's pen position from the string's start, and the total advance."""
    xs, x = [], 0.0
    for i, c in enumerate(text):
        if i:
            x += spacing + kerning(path, size, text[i - 1 : i + 1])
        xs.append(x)
        x += advance(path, size, c)
    return tuple(xs), x


def text_width(path: str, size: int, text: str, spacing: float = 0.0) -> float:
    return pen_positions(path, size, text, spacing)[1]


def draw_text(
    canvas: np.ndarray,
    x: float,
    baseline: float,
    path: str,
    size: int,
    text: str,
    spacing: float = 0.0,
    stroke: int = 0,
) -> None:
    """Draw ``text`` into the uint8 ``canvas`` (H, W) in place, pen starting at (x, baseline).

    Parts falling outside the canvas are clipped.
    """
    H, W = canvas.shape
    xs, _ = pen_positions(path, size, text, spacing)
    by = math.floor(baseline + 0.5)
    for c, px in zip(text, xs):
        bm, left, top = glyph(path, size, stroke, c)
        if bm.size == 0:
            continue
        gx, gy = math.floor(x + px + 0.5) + left, by + top
        h, w = bm.shape
        x0, y0, x1, y1 = max(gx, 0), max(gy, 0), min(gx + w, W), min(gy + h, H)
        if x1 <= x0 or y1 <= y0:
            continue
        region = canvas[y0:y1, x0:x1]
        np.maximum(region, bm[y0 - gy : y1 - gy, x0 - gx : x1 - gx], out=region)
