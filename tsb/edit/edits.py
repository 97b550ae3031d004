"""What to edit: :class:`Edit` (a box and its new text, or an erase), boxes as the command line
writes them, edits files, and ``--replace OLD=NEW`` / ``--erase WORD`` matched to detected words."""

from __future__ import annotations

import json
import math
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tsb.data.crop import Box
from tsb.detect import Word
from tsb.errors import EditError
from tsb.metrics.recognition import edit_distances
from tsb.utils.io import why_not_a_file

#: the shortest word matched to a reading a letter off (:func:`match_word`)
MIN_FUZZY = 4


@dataclass(frozen=True)
class Edit:
    """One word to replace: ``box`` = (xc, yc, w, h, angle) as in :mod:`tsb.data.crop`, ``text``."""

    box: Box
    text: str
    #: remove the word instead (the background branch's output only; ``text`` is ignored)
    erase: bool = False
    #: the word the box holds now, when known (else the editor reads it)
    source: str | None = None
    #: the part of ``box`` the new letters keep within (a detected word's ink; None: all of it)
    letters: Box | None = None


@dataclass
class EditInfo:
    text: str
    box: Box
    size: tuple[int, int]  # generated (W, H)
    seconds: float  # crop + render + generate + paste
    generate_seconds: float
    blend: str
    #: the font the new word was drawn in (matched to the old word; None: the content font)
    font: str | None = None


# --------------------------------------------------------------------------------------------------
# parsing


def parse_box(value: str | Sequence[float]) -> Box:
    """``"X,Y,W,H[,ANGLE]"`` (top-left corner of the unrotated box) -> (xc, yc, w, h, angle)."""
    try:
        nums = [float(v) for v in (value.split(",") if isinstance(value, str) else value)]
    except (TypeError, ValueError):
        raise EditError(
            f"box {value!r} is not X,Y,W,H or X,Y,W,H,ANGLE (numbers separated by commas)"
        ) from None
    if len(nums) not in (4, 5):
        raise EditError(f"box {value!r} has {len(nums)} numbers; give X,Y,W,H or X,Y,W,H,ANGLE")
    if not all(math.isfinite(v) for v in nums):
        raise EditError(f"box {value!r} holds a non-finite number")
    x, y, w, h = nums[:4]
    if w < 1 or h < 1:
        raise EditError(f"box {value!r} has width {w:g} and height {h:g}; both must be at least 1 pixel")
    angle = nums[4] if len(nums) == 5 else 0.0
    return (x + w / 2, y + h / 2, w, h, angle)


def format_box(box: Box) -> str:
    xc, yc, w, h, a = box
    return f"{xc - w / 2:g},{yc - h / 2:g},{w:g},{h:g}" + (f",{a:g}" if a else "")


def load_edits(path: str | Path) -> list[Edit]:
    """Edits from a JSON file: a list (or ``{"edits": [...]}``) of ``{"box": ..., "text": ...}``
    (or ``{"box": ..., "erase": true}`` to remove a word)."""
    p = Path(path)
    problem = why_not_a_file(p)
    if problem is not None:
        raise EditError(f"cannot read the edits file {p}: it {problem}; give a JSON file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise EditError(f"cannot read the edits file {p}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise EditError(
            f"the edits file {p} is not UTF-8 text (byte {e.object[e.start]:#04x} at {e.start}); save it as UTF-8"
        ) from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise EditError(
            f"the edits file {p} is not valid JSON ({str(e)[:200] or type(e).__name__})"
        ) from None
    if isinstance(data, dict):
        data = data.get("edits")
    if not isinstance(data, list) or not data:
        raise EditError(
            f'{p} must hold a non-empty list of {{"box": "X,Y,W,H[,ANGLE]", "text": "..."}} objects'
        )
    edits = []
    for i, item in enumerate(data):
        if isinstance(item, dict) and "box" in item and item.get("erase") is True and "text" not in item:
            edits.append(Edit(parse_box(item["box"]), "", erase=True))
            continue
        if not isinstance(item, dict) or "box" not in item or "text" not in item:
            raise EditError(
                f'edit {i} in {p} needs "box" and "text" keys (or "box" and "erase": true), got {item!r}'
            )
        if not isinstance(item["text"], str):
            raise EditError(f'edit {i} in {p}: "text" must be a string, got {item["text"]!r}')
        source = item.get("source")
        if source is not None and not isinstance(source, str):
            raise EditError(
                f'edit {i} in {p}: "source" (the word the box holds now) must be a string, got {source!r}'
            )
        edits.append(Edit(parse_box(item["box"]), item["text"], source=source or None))
    return edits


def normal_word(text: str) -> str:
    """``text`` as words are matched: case-folded, without surrounding punctuation and spaces."""
    return text.strip(string.punctuation + " ").casefold()


def _normal(text: str, exact: bool) -> str:
    return text if exact else normal_word(text)


def misread_tolerance(word: str) -> int:
    """How many letters the recognizer may have misread in a word of this length and still be
    matched to it (:func:`match_word`): none under :data:`MIN_FUZZY` letters (``of`` is not
    ``or``), then one per five letters (at least one)."""
    return 0 if len(word) < MIN_FUZZY else max(1, len(word) // 5)


def match_word(words: Sequence[Word], old: str, exact: bool = False) -> tuple[list[Word], str | None]:
    """The detected ``words`` that read ``old`` (case-insensitive, without surrounding punctuation,
    unless ``exact``), and a note for the user when none reads it exactly but one reading is
    within :func:`misread_tolerance` letters of it (the recognizer misread a letter: ``MERRT`` for
    ``MERRY``): then every word with the nearest such reading. Two different readings equally
    near are ambiguous: an error naming both."""
    target = _normal(old, exact)
    hits = [w for w in words if _normal(w.text, exact) == target]
    tolerance = misread_tolerance(target)
    if hits or not tolerance or not words:
        return hits, None
    readings = sorted({_normal(w.text, exact) for w in words})
    distance = dict(zip(readings, edit_distances(readings, [target] * len(readings)), strict=True))
    best = min(distance.values())
    near = [r for r in readings if distance[r] == best]
    if best > tolerance:
        return [], None
    shown = ", ".join(repr(next(w.text for w in words if _normal(w.text, exact) == r)) for r in near)
    if len(near) > 1:
        raise EditError(f"no word reads {old!r} in the photo, and {shown} are equally near; name one of them")
    hits = [w for w in words if _normal(w.text, exact) == near[0]]
    return (
        hits,
        f"no word reads {old!r} exactly; editing {shown}, read {best} letter{'s' if best > 1 else ''} apart",
    )


def word_edits(
    words: Sequence[Word],
    replace: Sequence[str],
    erase: str | None,
    exact: bool = False,
    notes: list[str] | None = None,
) -> list[Edit]:
    """The edits that ``--replace OLD=NEW`` and ``--erase WORD`` ask for on the detected ``words``.

    A word is matched as read (:func:`match_word`: case-insensitive and without surrounding
    punctuation unless ``exact``; a reading a letter off when none matches, with a note appended
    to ``notes``, and the word as the user typed it as the old word's text); a request that
    matches nothing is one error listing what was found.
    """
    requests: list[tuple[str, str | None]] = []
    for item in replace:
        before, sep, after = item.partition("=")
        if not sep or not before.strip() or not after.strip():
            raise EditError(f"--replace {item!r}: write OLD=NEW, e.g. --replace SALE=OPEN")
        requests.append((before, after))
    if erase is not None:
        requests.append((erase, None))
    edits = []
    for old, new in requests:
        hits, note = match_word(words, old, exact)
        if not hits:
            found = ", ".join(repr(w.text) for w in words[:30]) + (" ..." if len(words) > 30 else "")
            raise EditError(
                f"no word reads {old!r} in the photo (found: {found or 'no words'}); "
                "check the spelling (--list shows what was read)"
            )
        if note is not None and notes is not None:
            notes.append(note)
        edits += [
            Edit(w.box, "", erase=True)
            if new is None
            else Edit(w.box, new, source=w.text if note is None else old.strip(), letters=w.letters)
            for w in hits
        ]
    return edits
