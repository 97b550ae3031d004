"""What the benchmark edits: the photos of a folder, and per photo the words to replace.

- :func:`list_photos`: the image files of a folder (not its subfolders), in natural order
  (``demo_2`` before ``demo_10``).
- :func:`load_requests`: an edits file, one replacement a line: tab-separated ``photo  old  new``
  (``#`` starts a comment), or JSON lines ``{"photo": ..., "old": ..., "new": ...}`` (a ``.json``
  file may also hold one list of such objects). ``photo  *`` (old ``*``, no new word) asks for
  every word of that photo, as a run without an edits file does for every photo.
- :func:`replacement`: the new word for an old one when none is given: a word of the shipped
  English list (:data:`tsb.data.words.BUILTIN`) of about the same length (one letter more or
  less), in the old word's case (UPPER, Title, lower), with its surrounding punctuation; digits
  are replaced by other digits. The choice is seeded by the photo, the word's place in the photo
  and the word itself, so a run is repeatable and adding a photo changes no other photo's words.
  Never the same word; a word with no letter or digit is not edited.
"""

from __future__ import annotations

import functools
import json
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path

from tsb.data.words import BUILTIN
from tsb.errors import BenchError
from tsb.photobench.judge import normal

#: the photo suffixes a folder is searched for
SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
#: ``old`` of an edits-file line that asks for every word of the photo
EVERY_WORD = "*"


@dataclass(frozen=True)
class Request:
    """One line of an edits file: replace the word that reads ``old`` in ``photo`` by ``new``
    (``old`` = :data:`EVERY_WORD`: every word, each by :func:`replacement`)."""

    photo: str
    old: str
    new: str = ""
    line: int = 0


def _natural(name: str) -> list[int | str]:
    return [int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", name)]


def list_photos(folder: str | Path) -> list[Path]:
    """The photos of ``folder``, in natural order; a missing or photo-less folder is one error."""
    root = Path(folder)
    if not root.exists():
        raise BenchError(f"the photo folder {root} does not exist; give a folder of photos (.png, .jpg, ...)")
    if not root.is_dir():
        raise BenchError(f"{root} is a file, not a folder; give the folder that holds the photos")
    photos = sorted(
        (p for p in root.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES),
        key=lambda p: _natural(p.name),
    )
    if not photos:
        raise BenchError(
            f"the folder {root} holds no photo ({', '.join(SUFFIXES)}); put the photos to edit in it"
        )
    return photos


def _check(req: Request, where: str, names: set[str]) -> Request:
    if req.photo not in names:
        raise BenchError(
            f"{where}: no photo {req.photo!r} in the folder; name a photo file of the folder "
            f"(e.g. {sorted(names)[0]!r})"
        )
    if req.old == EVERY_WORD:
        if req.new:
            raise BenchError(f"{where}: '*' (every word) takes no new word; write the photo and * alone")
        return req
    if not req.old.strip() or not req.new.strip():
        raise BenchError(f"{where}: give the photo, the old word and the new word (tab-separated)")
    if "=" in req.old:
        raise BenchError(f"{where}: the old word {req.old!r} holds '='; give the word as the photo prints it")
    if normal(req.old) == normal(req.new):
        raise BenchError(f"{where}: the new word {req.new!r} is the old one; give a different word")
    return req


def load_requests(path: str | Path, photos: list[Path]) -> list[Request]:
    """The requests of an edits file (TSV or JSON lines); each names a photo of ``photos``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchError(
            f"the edits file {p} does not exist; give a TSV or JSON-lines file (photo, old, new)"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise BenchError(f"cannot read the edits file {p} ({e}); give a UTF-8 text file") from None
    names = {ph.name for ph in photos}
    stripped = text.lstrip()
    requests: list[Request] = []
    if p.suffix.lower() in (".json", ".jsonl") or stripped.startswith(("{", "[")):
        items: list[tuple[int, object]]
        if stripped.startswith("["):
            try:
                items = list(enumerate(json.loads(text), start=1))
            except json.JSONDecodeError as e:
                raise BenchError(
                    f"the edits file {p} is not valid JSON ({e}); fix it or write one line per edit"
                ) from None
        else:
            items = []
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        items.append((n, json.loads(line)))
                    except json.JSONDecodeError as e:
                        raise BenchError(
                            f'{p} line {n} is not a JSON object ({e}); write {{"photo": ..., "old": ..., "new": ...}}'
                        ) from None
        for n, item in items:
            where = f"{p} line {n}" if not stripped.startswith("[") else f"{p} item {n}"
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("photo", "old")):
                raise BenchError(
                    f'{where}: write {{"photo": ..., "old": ..., "new": ...}} (strings), got {item!r}'
                )
            new = item.get("new", "")
            if not isinstance(new, str):
                raise BenchError(f'{where}: "new" must be a string, got {new!r}')
            requests.append(_check(Request(item["photo"], item["old"], new, n), where, names))
    else:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [f.strip() for f in line.rstrip("\r\n").split("\t")]
            where = f"{p} line {n}"
            if len(fields) == 2 and fields[1] == EVERY_WORD:
                fields.append("")
            if len(fields) != 3:
                raise BenchError(
                    f"{where} has {len(fields)} tab-separated fields; write photo<TAB>old<TAB>new "
                    "(or photo<TAB>* for every word)"
                )
            requests.append(_check(Request(fields[0], fields[1], fields[2], n), where, names))
    if not requests:
        raise BenchError(f"the edits file {p} holds no edit; write one line per edit: photo<TAB>old<TAB>new")
    return requests


# replacement words --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _word_list() -> dict[int, tuple[str, ...]]:
    words = BUILTIN["en"].read_text(encoding="utf-8").split()
    by_length: dict[int, list[str]] = {}
    for w in words:
        if w.isascii() and w.isalpha():
            by_length.setdefault(len(w), []).append(w.lower())
    return {n: tuple(sorted(set(ws))) for n, ws in by_length.items()}


def _cased(word: str, like: str) -> str:
    letters = [c for c in like if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 1:
        return word.upper()
    if letters and letters[0].isupper():
        return word[:1].upper() + word[1:]
    return word


def replacement(old: str, key: str, seed: int = 0) -> str | None:
    """A new word for ``old`` (see the module's doc); ``key`` names the word's place (photo and
    index); None when ``old`` has no letter or digit."""
    edge = string.punctuation + " "
    core = old.strip(edge)
    if not core:
        return None
    start = old.index(core)
    head, tail = old[:start], old[start + len(core) :]
    rng = random.Random(f"{seed}/{key}/{old}")
    if core.isdigit():
        for _ in range(100):
            new = "".join(rng.choice(string.digits) for _ in core)
            if new != core:
                return head + new + tail
        return head + str((int(core[-1]) + 1) % 10).rjust(len(core), "1") + tail
    lists = _word_list()
    n = len(core)
    pool = [w for k in (n - 1, n, n + 1) for w in lists.get(k, ()) if w != core.casefold()]
    if not pool:
        pool = [w for w in lists[max(lists)] if w != core.casefold()]
    return head + _cased(rng.choice(pool), core) + tail
