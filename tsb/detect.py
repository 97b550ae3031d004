"""Find the words of a photo: PP-OCRv6 detection + recognition (rapidocr), one rotated box per word.

``find_words(image) -> list[Word]``: each word's text, confidence and box in ``tsb.edit``'s
``--box`` convention (:mod:`tsb.data.crop`: centre, size, degrees counter-clockwise on screen).
The detector finds text lines; rapidocr's word boxes (``return_word_box``) split them at the
spaces the recognizer reads. Both networks ship in the ``rapidocr`` wheel (hash-checked,
:mod:`tsb.pretrained.packages`); nothing is downloaded.

A detected box hugs the ink; :data:`PAD` of the box height is added on every side so the edit's
style crop sees the whole word, descenders and all.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from tsb.data.crop import Box
from tsb.pretrained.packages import PPOCR_DET, PPOCR_REC, PretrainedUnavailable

#: padding added to a detected word box on every side, as a fraction of its height
PAD = 0.12


@dataclass(frozen=True)
class Word:
    text: str
    score: float
    box: Box


def quad_to_box(quad: Sequence[Sequence[float]], pad: float = PAD) -> Box:
    """Four corners (top-left, top-right, bottom-right, bottom-left, in pixels) -> ``(xc, yc, w, h, angle)``."""
    p = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    top, bottom = p[1] - p[0], p[2] - p[3]
    w = (np.hypot(*top) + np.hypot(*bottom)) / 2
    h = (np.hypot(*(p[3] - p[0])) + np.hypot(*(p[2] - p[1]))) / 2
    direction = top + bottom
    angle = -math.degrees(math.atan2(direction[1], direction[0]))  # counter-clockwise on screen
    xc, yc = p.mean(axis=0)
    m = pad * h
    return (float(xc), float(yc), float(w + 2 * m), float(h + 2 * m), float(angle))


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

    def __call__(self, image: Image.Image) -> list[Word]:
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        out: Any = self.engine(bgr, use_cls=False, return_word_box=True)
        words = []
        for line in getattr(out, "word_results", None) or ():
            # a photo without text gives one flat ("", 1.0, None) entry instead of lines of words
            entries = [line] if len(line) == 3 and isinstance(line[0], str) else line
            for text, score, quad in entries:
                if str(text).strip() and quad is not None:
                    words.append(Word(str(text), float(score), quad_to_box(quad)))
        return words


_finder: WordFinder | None = None


def find_words(image: Image.Image) -> list[Word]:
    """The words of ``image`` in reading order (one shared engine per process)."""
    global _finder
    if _finder is None:
        _finder = WordFinder()
    return _finder(image)
