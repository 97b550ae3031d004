"""Font discovery, glyph coverage and the fixed train / held-out split.

Fonts come from Python packages the project depends on, so that a fresh ``pip install`` gives
the same set everywhere:

- ``matplotlib``: DejaVu Sans / Sans Mono / Serif, STIX General, Computer Modern (cm*);
- ``rendercv-fonts``: EB Garamond, Fontin, Gentium Book Plus, Lato, Mukta, Noto Sans, Open Sans,
  Open Sauce Sans, Poppins, Raleway, Roboto, Source Sans 3, Ubuntu, XCharter (+ Font Awesome,
  rejected by the coverage check);
- ``pymupdf-fonts``: Cascadia Mono, FiraGO, Fira Mono, Space Mono, Ubuntu Mono (+ duplicates of
  Noto Sans / Ubuntu, and symbol fonts that the coverage check rejects). These ship as compressed
  Python modules; they are written once as ``.ttf`` files into the cache folder
  (``$TSB_CACHE_DIR`` or ``~/.cache/tsb``) with an atomic rename.

plus, opt-in, the font library (``fontlib``: about 1,900 Latin fonts from Debian's font
packages, installed once by ``python -m tsb.data.fontlib install``; :mod:`tsb.data.fontlib`), font
folders named in the config and the system's fonts (fontconfig folders).

Coverage: a font *covers* a character when its cmap maps the character to a real glyph (not
``.notdef``), the glyph has ink (except white space), and, for letters and digits, the glyph's
PostScript name does not name a different character (this is what rejects TeX's ``cmsy10`` /
``cmex10``, whose cmap maps ``a`` to ``turnstileright``, and the Last Resort font). A font is
*usable* for an alphabet when it covers at least ``min_coverage`` of the alphabet's letters with
distinct glyphs; a usable font is still only used for words whose every character it covers
(:meth:`FontSet.candidates`).

Split: by family, so every style of a held-out family is held out. The families in
:data:`HELD_OUT_FAMILIES` (chosen by hand to span serif, sans, mono and display shapes) are
held out; any other family (user folders, system fonts) is held out when
``crc32(family.lower()) % 5 == 0``. The split never depends on which other fonts are installed.

Font ids: the position of the font in the *usable* list (train and held-out together) sorted by
(source, path). They label the typeface classifier; they change only when the installed font
set or the alphabet changes.

``python -m tsb.data.fonts`` prints one line per usable font: path, family, style, split.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import re
import sys
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ImageFont

from tsb.errors import ConfigError, DataNotFoundError
from tsb.utils.alphabets import CYRILLIC, LATIN
from tsb.utils.io import cache_dir, read_json_cache, write_cache_file

DEFAULT_ALPHABET = LATIN

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".TTF", ".OTF", ".TTC")
PACKAGES = ("matplotlib", "rendercv-fonts", "pymupdf-fonts")

# Families held out of training (every style of each). Chosen to span serif, sans, mono, display.
HELD_OUT_FAMILIES = frozenset(
    {
        "dejavu serif",
        "lato",
        "gentium book plus",
        "space mono",
        "raleway",
        "cmss10",
        # handwriting and script faces of the font library (python -m tsb.data.fontlib)
        "kristi",
        "dancing script",
        "comic neue",
    }
)
# File name patterns skipped by default, all duplicates of a face already in the set: the CJK
# variants of Noto Sans (10 MB each, Latin glyphs of Source Sans), Noto Sans Math / Symbols
# (their Latin is Noto Sans), and matplotlib's tiny "Display" subsets of DejaVu.
DEFAULT_EXCLUDE = (
    "NotoSansJP-*",
    "NotoSansKR-*",
    "NotoSansSC-*",
    "NotoSansMath*",
    "NotoSansSymbols*",
    "NotoMusic*",
    "*Display.ttf",
)


@dataclass(frozen=True)
class FontInfo:
    """One usable font file. ``font_id`` is its index in :attr:`FontSet.fonts`."""

    path: str
    family: str
    style: str
    source: str
    split: str  # "train" | "heldout"
    font_id: int = -1
    chars: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def covers(self, text: str) -> bool:
        return all(c in self.chars or c.isspace() for c in text)


def split_of(family: str) -> str:
    """The fixed split of a font family: "train" or "heldout" (see the module docstring)."""
    key = family.strip().lower()
    if key in HELD_OUT_FAMILIES:
        return "heldout"
    if _is_known_package_family(key):
        return "train"
    return "heldout" if zlib.crc32(key.encode("utf-8")) % 5 == 0 else "train"


_PACKAGE_FAMILIES = frozenset(
    {
        "dejavu sans",
        "dejavu sans mono",
        "stixgeneral",
        "cmr10",
        "cmb10",
        "cmti10",
        "cmtt10",
        "cmmi10",
        "eb garamond",
        "fontin",
        "mukta",
        "noto sans",
        "open sans",
        "open sauce sans",
        "poppins",
        "roboto",
        "source sans 3",
        "ubuntu",
        "xcharter",
        "cascadia mono",
        "firago",
        "fira mono",
        "ubuntu mono",
    }
)


def _is_known_package_family(key: str) -> bool:
    return key in _PACKAGE_FAMILIES


# ------------------------------------------------------------------------------------ discovery
def _matplotlib_fonts() -> list[Path]:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return sorted(p for p in folder.iterdir() if p.suffix in FONT_SUFFIXES)


def _rendercv_fonts() -> list[Path]:
    try:
        import rendercv_fonts
    except ImportError:
        return []
    root = Path(rendercv_fonts.__file__).parent
    return sorted(p for p in root.rglob("*") if p.suffix in FONT_SUFFIXES)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pymupdf_fonts() -> list[Path]:
    """Write pymupdf-fonts' embedded fonts to the cache once; return the file paths."""
    try:
        import importlib.metadata as md

        import pymupdf_fonts
    except ImportError:
        return []
    version = md.version("pymupdf-fonts")
    pkg = Path(pymupdf_fonts.__file__).parent
    out = cache_dir() / "fonts" / f"pymupdf-fonts-{version}"
    paths = []
    for mod in sorted(m for m in pkg.glob("*_*.py") if not m.stem.startswith("_")):
        target = out / f"{mod.stem}.ttf"
        if not target.exists():
            import importlib

            buf = importlib.import_module(f"pymupdf_fonts.{mod.stem}").fontbuffer
            _atomic_write(target, bytes(buf))
        paths.append(target)
    return paths


def _library_fonts() -> list[Path]:
    from tsb.data.fontlib import library_font_files  # fontlib builds on this module

    return library_font_files()


def system_font_dirs() -> list[Path]:
    """The usual system font folders (used only when ``system_fonts`` is on)."""
    dirs = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]
    dirs += [Path.home() / ".local/share/fonts", Path("/Library/Fonts"), Path("C:/Windows/Fonts")]
    return [d for d in dirs if d.is_dir()]


def _folder_fonts(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DataNotFoundError(f"font folder {folder} does not exist; fix data.font_dirs")
    return sorted(p for p in folder.rglob("*") if p.suffix in FONT_SUFFIXES)


def discover_font_files(
    font_dirs: Sequence[str | Path] = (),
    system_fonts: bool = False,
    packages: Sequence[str] = PACKAGES,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
) -> list[tuple[str, Path]]:
    """All candidate font files as (source, path), in a fixed order, before the coverage check."""
    found: list[tuple[str, Path]] = []
    getters = {
        "matplotlib": _matplotlib_fonts,
        "rendercv-fonts": _rendercv_fonts,
        "pymupdf-fonts": _pymupdf_fonts,
        "fontlib": _library_fonts,
    }
    for name in packages:
        if name not in getters:
            raise ConfigError(f"unknown font package {name!r}; choose from {sorted(getters)}")
        found += [(name, p) for p in getters[name]()]
    for d in font_dirs:
        found += [("folder", p) for p in _folder_fonts(Path(d).expanduser())]
    if system_fonts:
        for d in system_font_dirs():
            found += [("system", p) for p in _folder_fonts(d)]
    return [(s, p) for s, p in found if not any(p.match(pat) for pat in exclude)]


# ------------------------------------------------------------------------------------- coverage
@dataclass(frozen=True)
class _FontFacts:
    family: str
    style: str
    glyph_of: dict[str, str]  # character -> glyph name, for characters the cmap maps


@functools.lru_cache(maxsize=4096)
def _font_file(path: str) -> tuple[str, str, dict[int, str]] | None:
    """(family, style, cmap) of a font file, parsed once per process; None when unreadable."""
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # warnings about odd tables, not errors
    try:
        tt = TTFont(path, lazy=True, fontNumber=0)
        name = tt["name"]
        family = name.getDebugName(16) or name.getDebugName(1) or Path(path).stem
        style = name.getDebugName(17) or name.getDebugName(2) or "Regular"
        cmap = dict(tt.getBestCmap() or {})
    except Exception:  # broken or unsupported font file: not usable
        return None
    return str(family), str(style), cmap


@functools.lru_cache(maxsize=4096)
def _font_facts(path: str, alphabet: str) -> _FontFacts | None:
    parsed = _font_file(path)
    if parsed is None:
        return None
    family, style, cmap = parsed
    glyph_of = {c: cmap[ord(c)] for c in alphabet if ord(c) in cmap and cmap[ord(c)] != ".notdef"}
    return _FontFacts(family=family, style=style, glyph_of=glyph_of)


_GENERIC_GLYPH_NAME = re.compile(r"^(glyph|gid|cid|index|g|afii|uni|u)?[._]?[0-9A-Fa-f]+$")


def _name_contradicts(char: str, glyph_name: str) -> bool:
    """True when a letter's/digit's glyph name does not name that character.

    Names that say nothing (``glyph00042``) pass; names of other characters (``turnstileright``
    for ``a`` in cmsy10, ``coproductdisplay`` in cmex10) and unknown words fail. Suffixes such as
    ``a.alt`` / ``a.sc`` count as the base letter, and case is ignored (small caps pass).
    """
    if not char.isalnum():
        return False
    from fontTools import agl

    named = agl.toUnicode(glyph_name.split(".")[0])
    if named:
        return named.casefold() != char.casefold()
    return _GENERIC_GLYPH_NAME.match(glyph_name) is None


def font_coverage(path: str | Path, alphabet: str) -> frozenset[str]:
    """The characters of ``alphabet`` that the font at ``path`` really draws (see module doc)."""
    facts = _font_facts(str(path), alphabet)
    if facts is None:
        return frozenset()
    try:
        font = ImageFont.truetype(str(path), 32)
    except OSError:
        return frozenset()
    covered = set()
    for c, gname in facts.glyph_of.items():
        if _name_contradicts(c, gname):
            continue
        if not c.isspace():
            box = font.getbbox(c)
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
        covered.add(c)
    return frozenset(covered)


def is_text_font(path: str | Path, alphabet: str, chars: frozenset[str], min_coverage: float) -> bool:
    """Usable: covers ``min_coverage`` of the alphabet's letters, with distinct glyphs."""
    letters = [c for c in dict.fromkeys(alphabet) if c.isalpha()] or list(dict.fromkeys(alphabet))
    have = [c for c in letters if c in chars]
    if len(have) < min_coverage * len(letters):
        return False
    facts = _font_facts(str(path), alphabet)
    assert facts is not None
    distinct = {facts.glyph_of[c] for c in have}
    return len(distinct) >= 0.9 * len(have)  # rejects fonts drawing one box for everything


# ---------------------------------------------------------------------------------------- FontSet
class FontSet:
    """The usable fonts for one alphabet, with their split and per-character coverage.

    Pickle-able (plain data); FreeType objects are opened lazily per process by :func:`get_font`.
    """

    def __init__(self, fonts: list[FontInfo], alphabet: str) -> None:
        if not fonts:
            raise ConfigError(
                "no usable font covers the configured alphabet; install the font packages "
                "(pip install rendercv-fonts pymupdf-fonts), add data.font_dirs, or fix data.alphabet"
            )
        self.fonts = fonts
        self.alphabet = alphabet
        self._table: dict[str, dict[str, int]] = {}

    def _bits(self, split: str) -> dict[str, int]:
        """Per character, a bit mask over ``self.split(split)``: bit i set = font i draws it."""
        table = self._table.get(split)
        if table is None:
            table = {}
            for i, f in enumerate(self.split(split)):
                for c in f.chars:
                    table[c] = table.get(c, 0) | (1 << i)
            self._table[split] = table
        return table

    def __len__(self) -> int:
        return len(self.fonts)

    def split(self, split: str) -> list[FontInfo]:
        """Fonts of one split: "train", "heldout" or "all"."""
        if split == "all":
            return list(self.fonts)
        if split not in ("train", "heldout"):
            raise ConfigError(f"font split must be 'train', 'heldout' or 'all', got {split!r}")
        out = [f for f in self.fonts if f.split == split]
        if not out:
            raise ConfigError(f"no usable font in the {split!r} split for this alphabet")
        return out

    def candidates(self, text: str, split: str = "all") -> list[FontInfo]:
        """Fonts of ``split`` that draw every character of ``text`` (white space is always drawn)."""
        fonts = self.split(split)
        table = self._bits(split)
        bits = (1 << len(fonts)) - 1
        for c in set(text):
            if not c.isspace():
                bits &= table.get(c, 0)
        return [f for i, f in enumerate(fonts) if bits >> i & 1]

    @property
    def families(self) -> list[str]:
        return sorted({f.family for f in self.fonts})


#: the version of :class:`FontChecks`' file: raise it when what a check decides changes
CHECKS_VERSION = 1


class FontChecks:
    """What the checks of :func:`_load_font_set` found for each font file, kept on disk.

    Parsing 2,000 font files and drawing their glyphs takes about half a minute (the font
    library); the outcome depends only on the file and the alphabet, so it is kept in
    ``$TSB_CACHE_DIR/fonts/checks-v{CHECKS_VERSION}.json``, keyed by the file's path, size and
    modification time and the alphabet: a changed or replaced file is checked again. The file holds
    plain data (JSON) and is replaced atomically; an unreadable one is ignored and rewritten.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / "fonts" / f"checks-v{CHECKS_VERSION}.json"
        self.entries: dict[str, list[str] | None] = read_json_cache(self.path)
        self.changed = False

    @staticmethod
    def key(path: Path, alphabet: str, min_coverage: float) -> str | None:
        try:
            st = path.stat()
        except OSError:
            return None
        digest = zlib.crc32(alphabet.encode("utf-8"))
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{digest:08x}|{min_coverage}"

    def check(self, path: Path, alphabet: str, min_coverage: float) -> tuple[str, str, frozenset[str]] | None:
        """(family, style, covered characters) of a usable font, None for an unusable one."""
        key = self.key(path, alphabet, min_coverage)
        if key is not None and key in self.entries:
            found = self.entries[key]
            return None if found is None else (found[0], found[1], frozenset(found[2]))
        result = _check_font(path, alphabet, min_coverage)
        if key is not None:
            self.entries[key] = None if result is None else [result[0], result[1], "".join(sorted(result[2]))]
            self.changed = True
        return result

    def save(self) -> None:
        """Write the file if anything was checked anew (atomically; a read-only cache is skipped)."""
        if self.changed and write_cache_file(self.path, json.dumps(self.entries).encode("utf-8")):
            self.changed = False


def _check_font(path: Path, alphabet: str, min_coverage: float) -> tuple[str, str, frozenset[str]] | None:
    """(family, style, covered characters) when the font is usable for ``alphabet``, else None."""
    facts = _font_facts(str(path), alphabet)
    if facts is None:
        return None
    chars = font_coverage(path, alphabet)
    if not is_text_font(path, alphabet, chars, min_coverage):
        return None
    return facts.family, facts.style, chars


@functools.lru_cache(maxsize=16)
def _load_font_set(
    alphabet: str,
    font_dirs: tuple[str, ...],
    system_fonts: bool,
    packages: tuple[str, ...],
    exclude: tuple[str, ...],
    min_coverage: float,
) -> FontSet:
    seen: set[tuple[str, str]] = set()
    fonts: list[FontInfo] = []
    checks = FontChecks()
    for source, path in discover_font_files(font_dirs, system_fonts, packages, exclude):
        checked = checks.check(Path(path), alphabet, min_coverage)
        if checked is None:
            continue
        family, style, chars = checked
        key = (family.lower(), style.lower())
        if key in seen:  # the same face from two packages (Noto Sans, Ubuntu): keep the first
            continue
        seen.add(key)
        fonts.append(
            FontInfo(
                path=str(path),
                family=family,
                style=style,
                source=source,
                split=split_of(family),
                font_id=len(fonts),
                chars=chars,
            )
        )
    checks.save()
    return FontSet(fonts, alphabet)


def load_fonts(
    alphabet: str = DEFAULT_ALPHABET,
    font_dirs: Iterable[str | Path] = (),
    system_fonts: bool = False,
    packages: Iterable[str] = PACKAGES,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    min_coverage: float = 0.9,
) -> FontSet:
    """Discover, check and split the fonts (cached per process)."""
    return _load_font_set(
        alphabet,
        tuple(str(d) for d in font_dirs),
        bool(system_fonts),
        tuple(packages),
        tuple(exclude),
        float(min_coverage),
    )


@functools.lru_cache(maxsize=512)
def get_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A FreeType font object, cached per process (safe in DataLoader workers)."""
    return ImageFont.truetype(path, size)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tsb.data.fonts", description=__doc__.split("\n")[0])
    p.add_argument("--alphabet", default="latin", help="'latin', 'cyrillic' or the characters")
    p.add_argument("--font-dir", action="append", default=[], help="extra font folder (repeat)")
    p.add_argument("--system", action="store_true", help="also use the system's fonts")
    args = p.parse_args(argv)
    alphabet = {"latin": LATIN, "cyrillic": CYRILLIC}.get(args.alphabet, args.alphabet)
    fs = load_fonts(alphabet, args.font_dir, args.system)
    for f in fs.fonts:
        print(f"{f.path}\t{f.family}\t{f.style}\t{f.split}")
    n_train = len({f.family for f in fs.fonts if f.split == "train"})
    n_held = len({f.family for f in fs.fonts if f.split == "heldout"})
    print(
        f"# {len(fs)} font files, {len(fs.families)} families ({n_train} train, {n_held} held-out)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
