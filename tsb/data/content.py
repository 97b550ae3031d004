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
import json
import math
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import ImageFont

from tsb.data.fonts import font_coverage, get_font
from tsb.data.glyphs import draw_text, text_width
from tsb.errors import ConfigError
from tsb.utils.alphabets import resolve_alphabet

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


# ------------------------------------------------------------------------------- training fonts
class ContentFonts:
    """Which font draws a training pair's content images (``data.content_fonts``).

    By default every pair's content is drawn in the content font. For a text branch that takes the
    typeface from its content (the new word drawn in the font retrieved for the old word,
    :mod:`tsb.inference.typeface`), the pairs can be drawn the way inference will draw them:

    - ``neighbours``: a JSON file mapping each training font's path to its nearest fonts of other
      families, nearest first (``python -m tsb.inference.typeface neighbours --out FILE``);
    - ``p_neighbour``: the share of pairs whose content is drawn in one of the ``k`` nearest of
      those (chosen at random among the ones that draw both strings): the retrieval's near miss,
      which the text branch learns to restyle toward the style image's own letters;
    - ``p_true``: the share drawn in the pair's own font (a retrieval that found it).

    The rest use the content font. A pair whose font has no neighbour that draws both strings
    keeps the content font.
    """

    def __init__(
        self, neighbours: str | None = None, p_neighbour: float = 0.0, p_true: float = 0.0, k: int = 8
    ) -> None:
        if min(p_neighbour, p_true) < 0 or p_neighbour + p_true > 1:
            raise ConfigError(
                f"data.content_fonts: p_neighbour ({p_neighbour}) and p_true ({p_true}) must be "
                ">= 0 with a sum <= 1"
            )
        if p_neighbour > 0 and not neighbours:
            raise ConfigError(
                "data.content_fonts.p_neighbour > 0 needs data.content_fonts.neighbours: write the file "
                "with `python -m tsb.inference.typeface neighbours --out data_cache/font_neighbours.json`"
            )
        self.p_neighbour, self.p_true, self.k = float(p_neighbour), float(p_true), int(k)
        self.table: dict[str, list[str]] = {}
        if neighbours:
            path = Path(neighbours).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"data.content_fonts.neighbours: {path} does not exist; write it with "
                    f"`python -m tsb.inference.typeface neighbours --out {path}`"
                )
            self.table = {str(k): [str(p) for p in v] for k, v in json.loads(path.read_text("utf-8")).items()}

    @property
    def active(self) -> bool:
        return self.p_neighbour > 0 or self.p_true > 0

    def choose(self, font: str, text: str, rng: np.random.Generator) -> str | None:
        """The font file that draws the content of a pair in ``font`` with strings ``text``
        (both strings joined); None: the content font."""
        u = rng.random()
        if u < self.p_true:
            return font
        if u < self.p_true + self.p_neighbour:
            near = [p for p in self.table.get(font, [])[: self.k] if _draws(p, text)]
            if near:
                return near[int(rng.integers(len(near)))]
        return None


def _draws(path: str, text: str) -> bool:
    """Whether the font at ``path`` draws every character of ``text`` (spaces aside)."""
    return frozenset(text) - {" "} <= _coverage(path)


@functools.lru_cache(maxsize=8192)
def _coverage(path: str) -> frozenset[str]:
    """The Latin and Cyrillic characters the font at ``path`` draws (once per font and process)."""
    return font_coverage(path, resolve_alphabet("latin+cyrillic"))
