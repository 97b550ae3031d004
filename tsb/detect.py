"""Find the words of a photo: PP-OCRv6 detection + recognition (rapidocr), one rotated box per word.

``find_words(image) -> list[Word]``: each word's text, confidence and box in ``tsb.edit``'s
``--box`` convention (:mod:`tsb.data.crop`: centre, size, degrees counter-clockwise on screen).
The detector finds text lines; rapidocr's word boxes (``return_word_box``) split them at the
spaces the recognizer reads. Both networks ship in the ``rapidocr`` wheel (hash-checked,
:mod:`tsb.pretrained.packages`); nothing is downloaded.

A detected box hugs the ink; :data:`PAD` of the box height is added above and below so the edit's
style crop sees the whole word, descenders and all; at its ends it reaches halfway to the next
word on its line (:func:`word_reach`; :data:`PAD_X` where none follows), so that the old word's
outer strokes lie inside it; the new word keeps within :data:`LETTERS_PAD_X` (``Word.letters``),
so that the space before the next word stays.

Two things the detector does not do on its own:

- **Tight crops.** PP-OCR's detector is trained on scenes: text that fills the whole image (a photo
  that is one word) is often not found. The photo is extended by its own edge pixels by
  :data:`CONTEXT` x its shorter side before detection (a scene loses nothing: the margin holds no
  text; blurred, so that letters at the edge do not run on as streaks), and the boxes are mapped
  back (when the frame shows nothing, the photo as it is) and clipped to the photo
  (:func:`tsb.data.crop.clip_box`) but for their padding: a box reaches past the photo's edge by at
  most :data:`PAD` of its word's height, so that a word whose letters run to the edge (a tight
  crop of a tilted sign) keeps every letter the photo shows in its box, its corners included; the
  editor paints only inside the photo.
- **Letter-spaced words.** A sign's letters spaced apart (``H O T E L``) are found as one-letter
  words; :data:`MIN_SPACED` or more of them on one baseline are one word, read again as a whole.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from tsb.data.crop import Box, box_axes, clip_box, crop_rotated
from tsb.pretrained.packages import PPOCR_DET, PPOCR_REC, PretrainedUnavailable
from tsb.utils.image import pil_to_tensor

#: padding added to a detected word box above and below, as a fraction of its height
PAD = 0.12
#: padding at its ends where no word follows on its line (:func:`word_reach`; else half the space
#: to the next word): the detector's box often cuts the first or last letter's outer stroke, which
#: the eraser can only remove inside the box (the new word keeps within :data:`LETTERS_PAD_X`)
PAD_X = 0.12
#: the most a box reaches into the space to the next word on its line, x its height
MAX_REACH = 0.5
#: the part of the box the new word keeps within (``Word.letters``): the detector's box and a pixel
#: or so of anti-aliasing; wider, it hands the space before the next word to the new word, which
#: then runs into it ("Goldingyour" on the real-photo benchmark, docs/results.md)
LETTERS_PAD_X = 0.03
#: margin of edge pixels around the photo for the detector, as a fraction of its shorter side
CONTEXT = 0.5
#: a line of at least this many single letters is one letter-spaced word
MIN_SPACED = 3


@dataclass(frozen=True)
class Word:
    text: str
    score: float
    box: Box
    #: the part of ``box`` the new letters keep within (None: all of it)
    letters: Box | None = None


def quad_to_box(quad: Sequence[Sequence[float]] | np.ndarray, pad: float = PAD, pad_x: float = PAD_X) -> Box:
    """Four corners (top-left, top-right, bottom-right, bottom-left, in pixels) -> ``(xc, yc, w, h, angle)``."""
    p = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    top, bottom = p[1] - p[0], p[2] - p[3]
    w = (np.hypot(*top) + np.hypot(*bottom)) / 2
    h = (np.hypot(*(p[3] - p[0])) + np.hypot(*(p[2] - p[1]))) / 2
    direction = top + bottom
    angle = -math.degrees(math.atan2(direction[1], direction[0]))  # counter-clockwise on screen
    xc, yc = p.mean(axis=0)
    return (float(xc), float(yc), float(w + 2 * pad_x * h), float(h + 2 * pad * h), float(angle))


class WordFinder:
    """One rapidocr engine (detector + recognizer, orientation classifier off)."""

    def __init__(self, threads: int = 1) -> None:
        det, rec = PPOCR_DET.path(), PPOCR_REC.path()
        try:
            from rapidocr import RapidOCR
        except ImportError as e:
            raise PretrainedUnavailable(
                f"finding words needs rapidocr and onnxruntime ({e}); install them with `{PPOCR_DET.pip}`"
            ) from e
        self.engine = RapidOCR(
            params={
                "Global.log_level": "error",
                "Global.use_cls": False,
                "Det.model_path": str(det),
                "Rec.model_path": str(rec),
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self.threads = threads
        self._reader: Any = None

    def __call__(self, image: Image.Image) -> list[Word]:
        rgb = np.asarray(image.convert("RGB"))
        framed, m = _frame(rgb)
        # the photo as it is when the frame shows nothing
        return self._read(framed, m) or self._read(rgb, 0)

    def _read(self, rgb: np.ndarray, margin: int) -> list[Word]:
        """The words of ``rgb``, their boxes moved by ``-margin`` (the frame around the photo)."""
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        out: Any = self.engine(bgr, use_cls=False, return_word_box=True)
        found: list[tuple[str, float, np.ndarray]] = []
        for line in getattr(out, "word_results", None) or ():
            # a photo without text gives one flat ("", 1.0, None) entry instead of lines of words
            entries = [line] if len(line) == 3 and isinstance(line[0], str) else line
            found += [
                (str(text).strip(), float(score), np.asarray(quad, dtype=np.float64).reshape(4, 2))
                for text, score, quad in entries
                if str(text).strip() and quad is not None
            ]
        size = (rgb.shape[1] - 2 * margin, rgb.shape[0] - 2 * margin)
        joined = [group[0] if len(group) == 1 else self._join(rgb, group) for group in _spaced_groups(found)]
        quads = [quad - margin for _, _, quad in joined]
        words = []
        for (text, score, _), quad, reach in zip(joined, quads, word_reach(quads), strict=True):
            box = reach_box(quad, *reach)
            # in the photo but for its padding (PAD x the word's height; the box is 1 + 2 PAD of it):
            # the letters at the photo's edge stay inside it
            box = clip_box(box, size, tolerance=PAD * box[3] / (1 + 2 * PAD))
            letters = clip_box(quad_to_box(quad, pad_x=LETTERS_PAD_X), size, tolerance=0.0)
            if box[2] >= 1 and box[3] >= 1:
                words.append(Word(text, score, box, letters))
        return words

    def _join(
        self, rgb: np.ndarray, letters: list[tuple[str, float, np.ndarray]]
    ) -> tuple[str, float, np.ndarray]:
        """Single letters on one baseline as one word: the quad from the first letter's left edge to
        the last one's right edge, read again as a whole (a letter alone is read less surely: O or 0)."""
        first, last = letters[0][2], letters[-1][2]
        quad = np.stack([first[0], last[1], last[2], first[3]])
        box = quad_to_box(quad, pad=0.1)
        crop = crop_rotated(Image.fromarray(rgb), box)
        if self._reader is None:  # its own engine: a recognition-only call upsets the detector's engine
            from tsb.pretrained.ppocr import PPOCRReader

            self._reader = PPOCRReader(threads=self.threads)
        text = "".join(self._reader.read_one(pil_to_tensor(crop, "RGB")).split())
        joined = "".join(t for t, _, _ in letters)
        score = min(s for _, s, _ in letters)
        return (text if len(text) == len(joined) else joined), score, quad


def _frame(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """``rgb`` in a margin of :data:`CONTEXT` x its shorter side: its edge pixels, blurred so that
    letters touching the edge do not run on as streaks; and the margin."""
    m = round(CONTEXT * min(rgb.shape[:2]))
    if m == 0:
        return rgb, 0
    padded = np.pad(rgb, ((m, m), (m, m), (0, 0)), mode="edge")
    # the blur (sigma m / 2) at an eighth of the size: the same smear of the edge pixels, without
    # a kernel hundreds of pixels wide over the whole framed photo (seconds on a large photo)
    step = max(1, m // 8)
    h, w = padded.shape[:2]
    small = cv2.resize(padded, (max(1, w // step), max(1, h // step)), interpolation=cv2.INTER_AREA)
    framed = cv2.resize(
        cv2.GaussianBlur(small, (0, 0), sigmaX=m / 2 / step), (w, h), interpolation=cv2.INTER_LINEAR
    )
    framed[m : m + rgb.shape[0], m : m + rgb.shape[1]] = rgb
    return framed, m


def _spaced_groups(found: list[tuple[str, float, np.ndarray]]) -> list[list[tuple[str, float, np.ndarray]]]:
    """The detected words in reading order, each alone, except runs of :data:`MIN_SPACED` or more
    single letters on one baseline (centres within a quarter of their height, heights within 1.6x,
    gaps under 2 heights), which come as one group where their first letter was."""
    letters = sorted(
        (k for k, w in enumerate(found) if len(w[0]) == 1), key=lambda k: float(found[k][2][:, 0].mean())
    )
    runs: list[list[int]] = []
    for k in letters:
        if runs and _same_line(found[runs[-1][-1]][2], found[k][2]):
            runs[-1].append(k)
        else:
            runs.append([k])
    run_of = {k: run for run in runs if len(run) >= MIN_SPACED for k in run}
    out: list[list[tuple[str, float, np.ndarray]]] = []
    for k, w in enumerate(found):
        run = run_of.get(k)
        if run is None:
            out.append([w])
        elif k == min(run):
            out.append([found[i] for i in run])
    return out


def word_reach(quads: Sequence[np.ndarray]) -> list[tuple[float, float]]:
    """For each word's quad, how far (pixels) its box reaches past the quad at the start and at the
    end of its line: half the gap to the nearest word on the same line on that side (at most
    :data:`MAX_REACH` x its height), else :data:`PAD_X` x its height. The words of a line share
    its spaces: the old word's outer strokes, which the detector's box often cuts, are inside its
    box, and no box reaches into a neighbour's."""
    boxes = [quad_to_box(q, pad=0.0, pad_x=0.0) for q in quads]
    out = []
    for i, (xc, yc, w, h, a) in enumerate(boxes):
        u, v = box_axes(a)
        gaps: dict[int, float] = {}  # -1: before the word, 1: after it
        for j, (xj, yj, wj, hj, _) in enumerate(boxes):
            tall, short = max(h, hj), max(min(h, hj), 1.0)
            offset = np.array([xj - xc, yj - yc])
            along, across = float(u @ offset), float(v @ offset)
            if j == i or abs(across) > 0.25 * tall or tall > 1.6 * short or along == 0:
                continue
            side = 1 if along > 0 else -1
            gap = max(0.0, abs(along) - wj / 2 - w / 2)
            gaps[side] = min(gaps.get(side, gap), gap)
        before, after = (
            min(gaps[side] / 2, MAX_REACH * h) if side in gaps else PAD_X * h for side in (-1, 1)
        )
        out.append((before, after))
    return out


def reach_box(quad: np.ndarray, before: float, after: float, pad: float = PAD) -> Box:
    """The box of ``quad`` padded ``pad`` x its height above and below, and ``before`` / ``after``
    pixels at the start and the end of its line."""
    xc, yc, w, h, a = quad_to_box(quad, pad=pad, pad_x=0.0)
    centre = np.array([xc, yc]) + box_axes(a)[0] * (after - before) / 2
    return (float(centre[0]), float(centre[1]), w + before + after, h, a)


def _same_line(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether quad ``b`` is the next letter after quad ``a`` on one baseline."""
    ha, hb = float(np.ptp(a[:, 1])), float(np.ptp(b[:, 1]))
    h = max(ha, hb, 1.0)
    level = abs(float(a[:, 1].mean()) - float(b[:, 1].mean())) < 0.25 * h
    gap = float(b[:, 0].min()) - float(a[:, 0].max())
    return level and max(ha, hb) < 1.6 * max(min(ha, hb), 1.0) and -0.5 * h < gap < 2.0 * h


_finder: WordFinder | None = None


def find_words(image: Image.Image) -> list[Word]:
    """The words of ``image`` in reading order (one shared engine per process)."""
    global _finder
    if _finder is None:
        _finder = WordFinder()
    return _finder(image)
