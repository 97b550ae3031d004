"""The content image: a string in one plain standard font, black on white, grey-scale.

This is what the content encoder reads, for synthetic data, real data, evaluation and the edit
command alike, so it lives in one place. The font is DejaVu Sans (shipped by matplotlib, which
covers Latin, Greek and Cyrillic). The text is drawn at a font size that puts the font's
ascender-to-descender height at ``1 - 2 * MARGIN`` of the image height, on a fixed baseline, so
the same letter sits at the same place in every content image. Without ``width`` the image width
is the text width plus margins, rounded up to a multiple of 16; with ``width`` the text is
centred, and squeezed horizontally when it does not fit.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import ImageFont

from tsb.data.fonts import get_font
from tsb.data.glyphs import draw_text, text_width
from tsb.errors import ConfigError

MARGIN = 0.1  # of the height, above, below, left and right
WIDTH_MULTIPLE = 16


@functools.lru_cache(maxsize=1)
def content_font_path() -> str:
    import matplotlib

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")


@functools.lru_cache(maxsize=512)
def _size_for_height(height: int, font: str) -> tuple[int, int]:
    """The size of ``font`` for ``height`` and the baseline's y coordinate."""
    ref = ImageFont.truetype(font, 100)
    ascent, descent = ref.getmetrics()
    size = max(1, int((1.0 - 2 * MARGIN) * height * 100 / (ascent + descent)))
    a, d = get_font(font, size).getmetrics()
    baseline = round((height - (a + d)) / 2 + a)
    return size, baseline


def natural_width(text: str, height: int = 64, font: str | None = None) -> int:
    """The width ``render_content`` picks for ``text`` when no width is given (a multiple of 16)."""
    path = font or content_font_path()
    size, _ = _size_for_height(height, path)
    w = text_width(path, size, text) + 2 * MARGIN * height
    return max(WIDTH_MULTIPLE, math.ceil(w / WIDTH_MULTIPLE) * WIDTH_MULTIPLE)


def render_content_array(
    text: str, height: int = 64, width: int | None = None, font: str | None = None
) -> np.ndarray:
    """Like :func:`render_content` but a uint8 array (height, W), 255 = white background."""
    if height < 4:
        raise ConfigError(f"content height must be >= 4 pixels, got {height}")
    path = font or content_font_path()
    size, baseline = _size_for_height(height, path)
    margin = round(MARGIN * height)
    text_w = math.ceil(text_width(path, size, text)) if text else 0
    out_w = natural_width(text, height, path) if width is None else int(width)
    if out_w < 1:
        raise ConfigError(f"content width must be >= 1, got {width}")
    room = max(1, out_w - 2 * margin)
    ink = np.zeros((height, out_w), np.uint8)
    if text_w <= room:
        draw_text(ink, (out_w - text_w) / 2, baseline, path, size, text)
    else:  # too wide: draw at the natural size, squeeze horizontally between the margins
        strip = np.zeros((height, text_w + 2), np.uint8)
        draw_text(strip, 1, baseline, path, size, text)
        x0 = (out_w - room) // 2
        ink[:, x0 : x0 + room] = cv2.resize(strip, (room, height), interpolation=cv2.INTER_AREA)
    return 255 - ink


def render_content(
    text: str, height: int = 64, width: int | None = None, font: str | None = None
) -> torch.Tensor:
    """Render ``text`` plain: float tensor (1, height, W) in [-1, 1], black (-1) text on white (1).

    ``font``: a font file to draw with instead of the content font, with the same conventions
    (ascender-to-descender height, baseline, centring): the typeface matched to a style image
    (:mod:`tsb.inference.font_match`).

    ``W`` is ``width`` when given (the text is squeezed horizontally if it does not fit), else
    a multiple of 16 that follows the text's length. Characters DejaVu Sans lacks render as its
    ".notdef" box; the data sets only draw strings of the configured alphabet.
    """
    arr = render_content_array(text, height, width, font)
    return torch.from_numpy(arr.astype(np.float32) / 127.5 - 1.0)[None]
