"""The independent judge's checks of one edit: what PP-OCRv6 reads on the whole photo before and
after, and what the pixels say.

Words (:class:`tsb.detect.Word`) are compared by place, through the overlap of their rotated
boxes (:func:`overlap`: the intersection over the smaller of the two areas, so a word read in a
tighter or a wider box than the edited one still counts as at its place):

- :func:`read_at`: the words read at a box, joined in reading order along the box's axis;
- :func:`word_checks`: the new word read at the old word's place, the old word gone, and each
  other word of the photo read exactly as before (same text, same place).

Pixels (uint8 RGB arrays of one size):

- :func:`box_mask`: the pixels whose centre lies in a box;
- :func:`outside_change`: the share of the pixels outside the box that changed;
- :func:`psnr_in`: PSNR over the pixels of a mask (the round trip inside the word's box);
- :func:`seam`: the gradient energy on the border of the changed region, edited over original
  (1: the border looks as it did; above 1: an edge that was not there).
- :func:`background_change`: the mean change of the box's background, the pixels that are ink
  neither before nor after (0: left as it was; a repainted, tinted rectangle shows here), on the
  box cut out upright;
- :func:`ink_contrast`: how far the word's ink stands from its background after the edit, over
  before (1: as strong; under 1: washed out, white lettering come back grey), on the box cut
  out upright;
- :func:`stroke_weight`: the letters' stroke width after the edit over before (1: as heavy; above
  1: bolder, under 1: lighter), on the same crop: a typeface's weight, whatever the letters;
- :func:`letter_size`: the height of the word's ink after the edit over before, over the same ratio
  of the two words drawn plain in one font (1: letters as tall as the old ones; above 1: taller,
  running over the lines above and below), on the same crop.

Words are matched as :mod:`tsb.edit` matches ``--replace`` requests: case-insensitive, without
surrounding punctuation (:func:`normal`); neighbours must read exactly as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from tsb.data.content import render_content_array
from tsb.data.crop import Box, box_corners
from tsb.detect import Word
from tsb.edit.edits import normal_word
from tsb.edit.paste import pixels_inside
from tsb.utils.image import middle_line
from tsb.utils.image import stroke_width as width_of

#: overlap (intersection over the smaller area) from which two boxes are at the same place
SAME_PLACE = 0.5
#: a pixel changed when a channel moved by more than this (grey levels)
CHANGED = 2
#: added to both gradient energies of the seam score, so a flat border does not divide by ~0
SEAM_FLOOR = 4.0


#: ``text`` as words are matched (case-folded, without surrounding punctuation): as tsb.edit's --replace
normal = normal_word


def box_area(box: Box) -> float:
    return float(box[2] * box[3])


def overlap(a: Box, b: Box) -> float:
    """The area both rotated boxes cover, over the smaller box's area (0 .. 1)."""
    pa = box_corners(a).astype(np.float32)
    pb = box_corners(b).astype(np.float32)
    area, _ = cv2.intersectConvexConvex(pa, pb)
    smaller = min(box_area(a), box_area(b))
    return float(max(0.0, area) / smaller) if smaller > 0 else 0.0


def at_place(word: Word, box: Box) -> bool:
    return overlap(word.box, box) >= SAME_PLACE


def read_at(words: Sequence[Word], box: Box) -> tuple[list[Word], str]:
    """The words at ``box`` in reading order along the box's axis, and their texts joined by spaces."""
    hits = [w for w in words if at_place(w, box)]
    t = math.radians(box[4])
    axis = (math.cos(t), -math.sin(t))
    hits.sort(key=lambda w: w.box[0] * axis[0] + w.box[1] * axis[1])
    return hits, " ".join(w.text for w in hits)


@dataclass(frozen=True)
class WordChecks:
    """What the judge reads after one edit."""

    read: str  # the text read at the old word's place after the edit
    new_read: bool  # the new word is read there
    old_gone: bool  # the old word is not read there any more
    neighbours: int  # the other words of the photo before the edit
    neighbours_kept: int  # of those, read with the same text at the same place after it
    damaged: tuple[str, ...]  # the neighbours not read as before


def _same_word(found: str, wanted: str) -> bool:
    """``found`` (words read at a place) reads ``wanted``: as one word, or spaces aside."""
    if not normal(wanted):
        return False
    parts = [normal(p) for p in found.split()]
    return normal(found) == normal(wanted) or "".join(parts) == normal(wanted).replace(" ", "")


def word_checks(
    before: Sequence[Word], after: Sequence[Word], target: Word, old: str, new: str
) -> WordChecks:
    """Compare what the judge read on the photo before (``before``, holding ``target``) and after
    replacing ``target`` (which reads ``old``) by ``new``."""
    hits, read = read_at(after, target.box)
    new_read = _same_word(read, new) or any(_same_word(w.text, new) for w in hits)
    old_gone = not (_same_word(read, old) or any(_same_word(w.text, old) for w in hits))
    others = [w for w in before if w is not target]
    damaged = tuple(w.text for w in others if not any(a.text == w.text and at_place(a, w.box) for a in after))
    return WordChecks(read, new_read, old_gone, len(others), len(others) - len(damaged), damaged)


# pixels ------------------------------------------------------------------------------------------
def box_mask(box: Box, size: tuple[int, int]) -> np.ndarray:
    """bool (H, W) of an image of ``size`` (W, H): the pixels whose centre lies in ``box`` (the
    pixels :func:`tsb.edit.paste.pixels_inside` lets the editor change)."""
    return pixels_inside(box, (0, 0), size).astype(bool)


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """bool (H, W): where any channel of the two uint8 images differs by more than :data:`CHANGED`."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return np.asarray(diff.reshape(*diff.shape[:2], -1).max(axis=-1) > CHANGED)


def outside_change(original: np.ndarray, edited: np.ndarray, inside: np.ndarray) -> float:
    """The share of the pixels outside ``inside`` (bool mask) that the edit changed."""
    outside = ~inside
    n = int(outside.sum())
    return float((changed(original, edited) & outside).sum() / n) if n else 0.0


def psnr_in(a: np.ndarray, b: np.ndarray, mask: np.ndarray, peak: float = 255.0) -> float | None:
    """PSNR (dB) between two uint8 images over the pixels of ``mask``; None for an empty mask;
    a perfect match is capped at 100 dB."""
    if not mask.any():
        return None
    d = a.astype(np.float64)[mask] - b.astype(np.float64)[mask]
    mse = float(np.mean(d * d))
    return 100.0 if mse <= peak * peak * 1e-10 else float(10 * math.log10(peak * peak / mse))


def gradient_energy(image: np.ndarray) -> np.ndarray:
    """Squared gradient magnitude (H, W) of an image's luminance (Sobel, grey levels per pixel)."""
    grey = image.astype(np.float32)
    if grey.ndim == 3:
        grey = grey[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3) / 8
    return np.asarray(gx * gx + gy * gy)


def border(region: np.ndarray) -> np.ndarray:
    """bool (H, W): the pixels on both sides of the outline of ``region`` (one pixel each way)."""
    r = region.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    return np.asarray(cv2.dilate(r, kernel).astype(bool) & ~cv2.erode(r, kernel).astype(bool))


def seam(original: np.ndarray, edited: np.ndarray) -> float | None:
    """The gradient energy on the border of the region the edit changed, in the edited photo over
    the same pixels of the original (``+`` :data:`SEAM_FLOOR` on both sides); None: nothing changed."""
    region = changed(original, edited)
    if not region.any():
        return None
    ring = border(region)
    before = float(gradient_energy(original)[ring].mean())
    after = float(gradient_energy(edited)[ring].mean())
    return (after + SEAM_FLOOR) / (before + SEAM_FLOOR)


def ink_mask(crop: np.ndarray) -> np.ndarray:
    """bool (H, W) of an upright word crop (H, W, 3) uint8: Otsu's class of its luminance that is
    rarer on the crop's rim (the letters)."""
    grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    _, dark = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = np.asarray(dark, dtype=bool)
    rim = np.ones_like(ink)
    rim[2:-2, 2:-2] = False
    return ink if ink[rim].mean() <= 0.5 else ~ink


def contrast(crop: np.ndarray, far: float = 0.3) -> float | None:
    """How far a word's ink stands from its background in an upright crop (H, W, 3) uint8: the
    RGB distance between the background's median colour and the median colour of the ``far``
    share of the ink pixels farthest from it (the letters' cores, not their anti-aliased edges);
    None: no ink or no background."""
    ink = ink_mask(crop)
    if ink.sum() < 4 or (~ink).sum() < 4:
        return None
    pixels = crop.astype(np.float64)
    bg = np.median(pixels[~ink], axis=0)
    dist = np.linalg.norm(pixels[ink] - bg, axis=1)
    core = pixels[ink][dist >= np.quantile(dist, 1 - far)]
    return float(np.linalg.norm(np.median(core, axis=0) - bg))


def background_change(before: np.ndarray, after: np.ndarray, grow: int = 2) -> float | None:
    """The mean absolute change (grey levels, over the channels) of the background of an upright
    word crop (H, W, 3) uint8 before and after an edit: the pixels that are ink (:func:`ink_mask`)
    neither before nor after, nor within ``grow`` pixels of it. 0: the box around the words left as
    it was; None: no such pixel."""
    ink = ink_mask(before) | ink_mask(after)
    near = cv2.dilate(ink.astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)).astype(bool)
    if (~near).sum() < 4:
        return None
    diff = np.abs(before.astype(np.float64) - after.astype(np.float64)).mean(axis=-1)
    return float(diff[~near].mean())


def ink_contrast(before: np.ndarray, after: np.ndarray) -> float | None:
    """The edited word's :func:`contrast` over the old word's, both upright crops of its box
    (1: as strong as before; None: no ink found before)."""
    c0, c1 = contrast(before), contrast(after)
    if c0 is None or c0 < 1:
        return None
    return (c1 or 0.0) / c0


def stroke_width(crop: np.ndarray) -> float | None:
    """The mean stroke width, in pixels, of the ink in an upright word crop (H, W, 3) uint8
    (:func:`tsb.utils.image.stroke_width` of its :func:`ink_mask`); None: no ink."""
    ink = ink_mask(crop)
    if ink.sum() < 4:
        return None
    return float(width_of(torch.from_numpy(ink)[None, None])[0])


def stroke_weight(before: np.ndarray, after: np.ndarray) -> float | None:
    """The edited word's :func:`stroke_width` over the old word's, both upright crops of its box at
    one size (1: as heavy as before; None: no ink before or after)."""
    w0, w1 = stroke_width(before), stroke_width(after)
    if w0 is None or w1 is None:
        return None
    return w1 / w0


def ink_rows(ink: np.ndarray) -> int | None:
    """The height in rows of a word's ink (H, W) bool: of its connected parts that reach the middle
    row (:func:`tsb.utils.image.middle_line`: not the lines above and below that the crop cuts);
    None: no part reaches the middle row."""
    line = middle_line(ink)
    return None if line is None else line[2] - line[1] + 1


def letter_size(before: np.ndarray, after: np.ndarray, old: str, new: str) -> float | None:
    """How tall the new word's letters are against the old word's: the :func:`ink_rows` of the
    edited crop over the original's (upright crops of the box at one size), over the same ratio of
    ``new`` and ``old`` drawn plain in the standard font (its ascenders and descenders, so that
    "fox" for "at" is not counted as taller); None: no ink at the middle before or after."""
    h0, h1 = ink_rows(ink_mask(before)), ink_rows(ink_mask(after))
    plain = [ink_rows(render_content_array(text, 64) < 128) for text in (old, new)]
    if h0 is None or h1 is None or plain[0] is None or plain[1] is None:
        return None
    return (h1 / h0) / (plain[1] / plain[0])
