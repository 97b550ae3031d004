"""The protocol: per photo, the judge reads the words once; per edit and editor, the edit, the
judge on the whole edited photo, the pixel checks and the round trip old -> new -> old.

One edit replaces one word of the original photo (edits are not stacked). An edit whose old word
the judge does not find is ``not found``; one the editor refuses is ``refused``, with the
editor's message; both count as failures in every share (nothing is skipped). The round trip
edits the edited photo back (new -> old, same box) and compares it with the original inside
the box: PSNR over the box's pixels and LPIPS (:class:`tsb.metrics.lpips.LPIPS`, AlexNet) on
the box cut out upright at 64 pixels high.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tsb.data.crop import Box, box_corners, crop_rotated
from tsb.detect import Word
from tsb.edit import as_rgb, decode_image, format_box, word_edits
from tsb.errors import EditError, MetricUnavailable, TsbError
from tsb.photobench.editors import PhotoEditor, erases
from tsb.photobench.edits import EVERY_WORD, Request, replacement
from tsb.photobench.judge import (
    background_change,
    box_mask,
    ink_contrast,
    letter_size,
    outside_change,
    psnr_in,
    seam,
    stroke_weight,
    word_checks,
)

Judge = Callable[[Image.Image], list[Word]]

DONE, REFUSED, NOT_FOUND = "done", "refused", "not found"


@dataclass
class EditResult:
    """One edit by one editor, as the judge measured it."""

    photo: str
    method: str
    old: str  # the word as the judge read it on the original (as asked, when not found)
    new: str  # empty: the old word erased (nothing written)
    box: str | None  # X,Y,W,H[,ANGLE] as tsb.edit's --box takes it
    status: str  # done | refused | not found
    reason: str | None = None
    read: str | None = None  # what the judge reads at the old word's place after the edit
    new_read: bool = False
    old_gone: bool = False
    neighbours: int = 0
    neighbours_kept: int = 0
    damaged: list[str] = field(default_factory=list)
    outside_change: float | None = None  # share of the pixels outside the box that changed
    seam: float | None = None
    background_change: float | None = None  # mean grey-level change of the box's background
    ink_contrast: float | None = None  # the new ink's contrast against its background over the old's
    stroke_weight: float | None = None  # the new letters' stroke width over the old's
    letter_size: float | None = None  # the new letters' height over the old's (the words' shapes aside)
    round_trip_psnr: float | None = None
    round_trip_lpips: float | None = None
    seconds: float | None = None  # the edit alone (old -> new)


@dataclass
class PhotoResult:
    name: str
    size: tuple[int, int] | None
    words: list[str]  # what the judge reads on the original
    detect_seconds: float | None
    error: str | None = None
    not_edited: list[str] = field(default_factory=list)  # words with no letter or digit


@dataclass
class Tile:
    """The sheet's crops of one edit: before, and after per editor (None: refused / not found)."""

    label: str
    before: Image.Image | None
    after: dict[str, Image.Image | None]
    results: dict[str, EditResult]


@dataclass
class Run:
    photos: list[PhotoResult] = field(default_factory=list)
    edits: list[EditResult] = field(default_factory=list)
    tiles: list[Tile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"photos": [asdict(p) for p in self.photos], "edits": [asdict(e) for e in self.edits]}


class RoundTripLPIPS:
    """LPIPS on the box cut out upright; built on first use; None when it cannot be computed."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.metric: Any = None
        self.why: str | None = None if enabled else "LPIPS off (--no-lpips)"

    def __call__(self, a: Image.Image, b: Image.Image, box: Box) -> float | None:
        if not self.enabled:
            return None
        if self.metric is None:
            try:
                from tsb.metrics.lpips import LPIPS

                self.metric = LPIPS()
            except MetricUnavailable as e:
                self.enabled, self.why = False, f"LPIPS unavailable: {e}"
                return None
        import torch

        # 64 rows, the width from the box's aspect, at least 64 (a narrow box, such as a word
        # written downwards, is stretched: LPIPS's network cannot pool a crop 16 pixels wide)
        size = (max(64, round(64 * box[2] / box[3])), 64)
        ta, tb = (
            torch.from_numpy(np.asarray(crop_rotated(x, box, size), np.float32) / 255).permute(2, 0, 1)[None]
            for x in (a, b)
        )
        return float(self.metric(ta, tb)[0])


def context_crop(photo: Image.Image, box: Box, margin: float = 0.5) -> Image.Image:
    """The axis-aligned window around ``box`` grown by ``margin`` x its height (clamped to the photo)."""
    corners = box_corners(box)
    m = margin * box[3]
    x0, y0 = (corners.min(axis=0) - m).tolist()
    x1, y1 = (corners.max(axis=0) + m).tolist()
    w, h = photo.size
    return photo.crop((max(0, int(x0)), max(0, int(y0)), min(w, int(x1) + 1), min(h, int(y1) + 1)))


def plan(
    words: Sequence[Word], photo: str, requests: Sequence[Request] | None, seed: int
) -> Iterator[tuple[Word | None, str, str, str | None]]:
    """(target word or None, old, new, why not found) for each edit of one photo: every word when
    ``requests`` is None or holds ``*``, else each word that reads a request's old word."""
    every = requests is None or any(r.old == EVERY_WORD for r in requests)
    if every:
        for i, w in enumerate(words):
            new = replacement(w.text, f"{photo}/{i}", seed)
            if new is not None:
                yield w, w.text, new, None
    for r in requests or ():
        if r.old == EVERY_WORD:
            continue
        try:
            hits = word_edits(words, [f"{r.old}={r.new}"], None)
        except EditError as err:
            yield None, r.old, r.new, f"the judge finds no word reading {r.old!r}: {err}"
            continue
        for hit in hits:
            target = next(w for w in words if w.box == hit.box)
            yield target, target.text, r.new, None


def measure(
    editor: PhotoEditor,
    photo: Image.Image,
    name: str,
    words: Sequence[Word],
    target: Word,
    new: str,
    judge: Judge,
    lpips: RoundTripLPIPS,
) -> tuple[EditResult, Image.Image | None]:
    """One edit of ``photo`` (RGB) by ``editor``, measured; and the edited photo (None: refused).
    An eraser (:func:`~tsb.photobench.editors.erases`) writes no new word: its ``new`` is empty,
    nothing new is looked for and there is no round trip."""
    box, old = target.box, target.text
    removal = erases(editor)
    if removal:
        new = ""
    result = EditResult(name, editor.name, old, new, format_box(box), DONE)
    t0 = time.perf_counter()
    try:
        edited = editor.replace(photo, box, old, new, target.letters)
    except EditError as e:
        result.status, result.reason = REFUSED, str(e)
        return result, None
    result.seconds = time.perf_counter() - t0
    checks = word_checks(words, judge(edited), target, old, new)
    result.read, result.new_read, result.old_gone = checks.read, checks.new_read, checks.old_gone
    result.neighbours, result.neighbours_kept = checks.neighbours, checks.neighbours_kept
    result.damaged = list(checks.damaged)
    before, after = np.asarray(photo), np.asarray(edited)
    inside = box_mask(box, photo.size)
    result.outside_change = outside_change(before, after, inside)
    result.seam = seam(before, after)
    size = (max(16, round(64 * box[2] / box[3])), 64)
    upright = np.asarray(crop_rotated(photo, box, size)), np.asarray(crop_rotated(edited, box, size))
    result.ink_contrast = ink_contrast(*upright)
    result.background_change = background_change(*upright)
    if removal:
        return result, edited
    result.stroke_weight = stroke_weight(*upright)
    result.letter_size = letter_size(*upright, old, new)
    try:
        back = editor.replace(edited, box, new, old, target.letters)
    except EditError as e:
        result.reason = f"round trip refused: {e}"
    else:
        result.round_trip_psnr = psnr_in(before, np.asarray(back), inside)
        result.round_trip_lpips = lpips(photo, back, box)
    return result, edited


def run_bench(
    photos: Sequence[Path],
    editors: Sequence[PhotoEditor],
    judge: Judge,
    requests: Sequence[Request] | None = None,
    limit: int | None = None,
    per_photo: int | None = None,
    seed: int = 0,
    lpips: bool = True,
    log: Callable[[str], None] | None = None,
) -> Run:
    """The protocol over ``photos`` (see the module's doc); ``limit``: at most that many edits in
    all, ``per_photo``: per photo (the first in the judge's reading order)."""
    run = Run()
    metric = RoundTripLPIPS(lpips)
    by_photo: dict[str, list[Request]] = {}
    for r in requests or ():
        by_photo.setdefault(r.photo, []).append(r)
    count = 0
    for path in photos:
        if limit is not None and count >= limit:
            break
        if requests is not None and path.name not in by_photo:
            continue
        try:
            image = as_rgb(decode_image(path, path.name))
        except TsbError as e:
            run.photos.append(PhotoResult(path.name, None, [], None, error=str(e)))
            continue
        t0 = time.perf_counter()
        words = judge(image)
        record = PhotoResult(path.name, image.size, [w.text for w in words], time.perf_counter() - t0)
        run.photos.append(record)
        planned = list(
            plan(words, path.name, by_photo.get(path.name) if requests is not None else None, seed)
        )
        if requests is None or any(r.old == EVERY_WORD for r in by_photo.get(path.name, [])):
            record.not_edited = [w.text for w in words if replacement(w.text, "", seed) is None]
        for k, (target, old, new, missing) in enumerate(planned):
            if (limit is not None and count >= limit) or (per_photo is not None and k >= per_photo):
                break
            count += 1
            tile = Tile(f"{path.name}: {old} -> {new}", None, {}, {})
            run.tiles.append(tile)
            if target is None:
                tile.before = image  # no place to crop around: the whole photo
                for ed in editors:
                    res = EditResult(
                        path.name, ed.name, old, "" if erases(ed) else new, None, NOT_FOUND, reason=missing
                    )
                    run.edits.append(res)
                    tile.after[ed.name], tile.results[ed.name] = None, res
                    if log is not None:
                        log(_line(res))
                continue
            tile.before = context_crop(image, target.box)
            for ed in editors:
                res, edited = measure(ed, image, path.name, words, target, new, judge, metric)
                run.edits.append(res)
                tile.results[ed.name] = res
                tile.after[ed.name] = None if edited is None else context_crop(edited, target.box)
                if log is not None:
                    log(_line(res))
    if metric.why and lpips:
        run.notes.append(metric.why)
    return run


def _line(r: EditResult) -> str:
    if r.status != DONE:
        return f"{r.method:5} {r.photo}: {r.old} -> {r.new}: {r.status} ({r.reason})"
    return (
        f"{r.method:5} {r.photo}: {r.old} -> {r.new or '(erased)'}: read {r.read!r}, neighbours "
        f"{r.neighbours_kept}/{r.neighbours}, {r.seconds:.2f} s"
    )
