"""The typeface library: about 1,900 Latin font files from Debian's font packages, built once.

``python -m tsb.data.fontlib install`` downloads the packages named in ``fontlib_debian.txt`` with
``apt-get download`` (no root needed, nothing is installed system-wide), unpacks them with
``dpkg-deb -x`` into ``$TSB_CACHE_DIR/fontlib`` (default ``~/.cache/tsb/fontlib``) and writes
``manifest.json``: per font file its package and version, family, style, kind (``print`` or
``handwriting``), licence (from the package's ``copyright`` file, which is kept beside it) and
SHA-256. Everything after that runs offline; the data modules use the library with
``data.font_packages=[matplotlib,rendercv-fonts,pymupdf-fonts,fontlib]``.

What enters the manifest, in this order:

1. the font draws the Latin alphabet (the coverage check of :mod:`tsb.data.fonts`);
2. its family is not held out for evaluation (:data:`EXCLUDED_FAMILIES`: URW base35 and TeX Gyre,
   GNU FreeFont, which is drawn from URW's Nimbus, and copies of the project's own held-out
   families);
3. it is not a copy of a font already taken: every font draws a fixed line of text and one whose
   drawing correlates above :data:`DUPLICATE_CORRELATION` with a font before it (Arimo and
   Liberation Sans, DejaVu Sans and its renamed copies in script packages) is left out.

The split of each family is :func:`tsb.data.fonts.split_of` (a fifth of the families, by a hash of
the name, are held out of training), so benchmarks on the library hold out whole families.

``python -m tsb.data.fontlib list`` prints the counts by split, kind and licence.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tsb.data.fonts import (
    DEFAULT_ALPHABET,
    FONT_SUFFIXES,
    _font_facts,
    cache_dir,
    font_coverage,
    is_text_font,
    split_of,
)
from tsb.errors import DataNotFoundError
from tsb.utils.io import file_digest

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
PACKAGE_LIST = "fontlib_debian.txt"
#: families never in the library (evaluation only), matched on the lower-case family name
EXCLUDED_FAMILIES = re.compile(
    r"nimbus|\burw\b|urw |^p052|^c059|^z003|d050000l|standard symbols|tex ?gyre|texgyre"
    r"|^free ?(serif|sans|mono)$"  # GNU FreeFont: drawn from URW's Nimbus fonts
    r"|gentium|^lato\b|raleway|space mono|^dejavu serif|^cmu sans|^lm sans|latin modern sans|^cmss"
)
#: two fonts whose drawings of :data:`SIGNATURE_TEXT` correlate above this are copies
DUPLICATE_CORRELATION = 0.99
SIGNATURE_TEXT = "Hamburgefonstiv QRWag 0123"
# a licence's short name in a Debian copyright file ("OFL-1.1", "GPL-2+ with Font exception")
_LICENCE_NAME = re.compile(r"^[A-Za-z][\w.+ -]{1,59}$")


@dataclass(frozen=True)
class LibraryFont:
    """One font file of the library (a row of ``manifest.json``); ``path`` is relative to it."""

    path: str
    package: str
    package_version: str
    family: str
    style: str
    kind: str  # "print" | "handwriting"
    licence: str
    sha256: str
    split: str  # "train" | "heldout"


def library_dir() -> Path:
    """Where the library lives: ``$TSB_CACHE_DIR/fontlib`` (default ``~/.cache/tsb/fontlib``)."""
    return cache_dir() / "fontlib"


def debian_packages() -> dict[str, str]:
    """The packages of ``fontlib_debian.txt``: name -> kind ("print" or "handwriting")."""
    text = resources.files("tsb.data").joinpath(PACKAGE_LIST).read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, _, comment = line.partition("#")
        if name.strip():
            out[name.strip()] = "handwriting" if "handwriting" in comment else "print"
    return out


# ------------------------------------------------------------------------------------- install
def _run(cmd: list[str], cwd: Path) -> None:
    try:
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise DataNotFoundError(
            f"{cmd[0]} is not on this system: the font library is built from Debian's font "
            "packages (apt-get download, dpkg-deb); on another system put font files in a folder "
            "and pass it as data.font_dirs"
        ) from e
    except subprocess.CalledProcessError as e:
        last = (e.stderr or e.stdout or "").strip().splitlines()[-1:] or ["(no output)"]
        raise DataNotFoundError(
            f"{' '.join(cmd[:2])} failed: {last[0]}; check the network access to Debian's "
            "package servers (apt-get update) and run the install again"
        ) from e


def download(packages: Sequence[str], debs: Path) -> None:
    """``apt-get download`` each package into ``debs`` (skips the ones already there)."""
    debs.mkdir(parents=True, exist_ok=True)
    have = {p.name.split("_")[0] for p in debs.glob("*.deb")}
    todo = [p for p in packages if p not in have]
    if todo:
        _run(["apt-get", "download", *todo], cwd=debs)


def unpack(debs: Path, dest: Path) -> dict[str, str]:
    """Unpack every ``.deb`` of ``debs`` into ``dest/<package>``; returns package -> version."""
    versions: dict[str, str] = {}
    for deb in sorted(debs.glob("*.deb")):
        name, version = deb.name.split("_")[:2]
        target = dest / name
        if not target.is_dir():
            tmp = Path(tempfile.mkdtemp(dir=dest, prefix=f".{name}."))
            _run(["dpkg-deb", "-x", str(deb), str(tmp)], cwd=dest)
            os.replace(tmp, target)
        versions[name] = version.replace("%3a", ":")
    return versions


def package_licence(package_root: Path) -> str:
    """The licences a package's Debian ``copyright`` file names for its files (not ``debian/*``)."""
    found: list[str] = []
    for copyright_file in package_root.glob("usr/share/doc/*/copyright"):
        text = copyright_file.read_text(encoding="utf-8", errors="replace")
        for stanza in re.split(r"\n\s*\n", text):
            files = re.search(r"^Files:\s*(.*)$", stanza, re.M)
            if files and files.group(1).strip().startswith("debian/"):
                continue
            for lic in re.findall(r"^License:\s*(\S.*)$", stanza, re.M):
                lic = lic.strip()
                if _LICENCE_NAME.match(lic) and lic not in found:
                    found.append(lic)
    return " / ".join(found) if found else "see the package's copyright file"


def signature(path: str | Path, text: str = SIGNATURE_TEXT) -> np.ndarray:
    """A font's drawing of ``text`` at 24x192, zero-mean, unit-norm (for finding copies)."""
    font = ImageFont.truetype(str(path), 40)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    image = Image.new("L", (max(1, right - left) + 4, max(1, bottom - top) + 4), 0)
    ImageDraw.Draw(image).text((2 - left, 2 - top), text, font=font, fill=255)
    a = np.asarray(image.resize((192, 24), Image.Resampling.BILINEAR), np.float32).ravel()
    a = a - a.mean()
    norm = float(np.linalg.norm(a))
    return a / norm if norm > 0 else a


def drop_copies(paths: Sequence[Path], threshold: float = DUPLICATE_CORRELATION) -> list[int]:
    """Indices of ``paths`` to keep: each font unless it draws like a font kept before it."""
    sigs = np.stack([signature(p) for p in paths]) if paths else np.zeros((0, 1), np.float32)
    keep: list[int] = []
    for i in range(len(paths)):
        if not keep or float((sigs[keep] @ sigs[i]).max()) <= threshold:
            keep.append(i)
    return keep


def build_manifest(
    root: Path,
    kinds: dict[str, str],
    versions: dict[str, str] | None = None,
    alphabet: str = DEFAULT_ALPHABET,
    min_coverage: float = 0.9,
) -> list[LibraryFont]:
    """Check, filter and de-duplicate the unpacked packages under ``root``; write the manifest."""
    versions = versions or {}
    candidates: list[tuple[Path, str, str, str]] = []  # path, package, family, style
    excluded: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    for package in sorted(kinds):
        folder = root / package
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.suffix in FONT_SUFFIXES and p.is_file()):
            facts = _font_facts(str(path), alphabet)
            if facts is None:
                excluded["unreadable"] += 1
                continue
            if EXCLUDED_FAMILIES.search(facts.family.strip().lower()):
                excluded["held-out family"] += 1
                continue
            key = (facts.family.lower(), facts.style.lower())
            if key in seen:
                excluded["same family and style"] += 1
                continue
            if not is_text_font(path, alphabet, font_coverage(path, alphabet), min_coverage):
                excluded["does not draw the alphabet"] += 1
                continue
            seen.add(key)
            candidates.append((path, package, facts.family, facts.style))
    keep = drop_copies([c[0] for c in candidates])
    excluded["copy of another font"] = len(candidates) - len(keep)
    licences = {p: package_licence(root / p) for p in {candidates[i][1] for i in keep}}
    fonts = [
        LibraryFont(
            path=str(path.relative_to(root)),
            package=package,
            package_version=versions.get(package, ""),
            family=family,
            style=style,
            kind=kinds[package],
            licence=licences[package],
            sha256=file_digest(path, "sha256"),
            split=split_of(family),
        )
        for path, package, family, style in (candidates[i] for i in keep)
    ]
    doc = {
        "version": MANIFEST_VERSION,
        "alphabet": alphabet,
        "source": "Debian bookworm font packages (apt-get download)",
        "excluded": dict(excluded),
        "fonts": [asdict(f) for f in fonts],
    }
    tmp = root / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, root / MANIFEST)
    return fonts


def install(dest: Path | None = None, packages: dict[str, str] | None = None) -> list[LibraryFont]:
    """Download, unpack and check the library into ``dest`` (default :func:`library_dir`)."""
    dest = dest or library_dir()
    packages = packages if packages is not None else debian_packages()
    dest.mkdir(parents=True, exist_ok=True)
    debs = dest / ".debs"
    download(sorted(packages), debs)
    versions = unpack(debs, dest)
    fonts = build_manifest(dest, packages, versions)
    shutil.rmtree(debs, ignore_errors=True)
    prune(dest, fonts)
    return fonts


def prune(root: Path, fonts: Sequence[LibraryFont]) -> None:
    """Delete what the library does not use: every file but its fonts and the copyright files."""
    keep = {root / f.path for f in fonts}
    for package in {f.package for f in fonts} | {p.name for p in root.iterdir() if p.is_dir()}:
        folder = root / package
        if not folder.is_dir() or package.startswith("."):
            continue
        for path in list(folder.rglob("*")):
            if (path.is_file() or path.is_symlink()) and path not in keep and path.name != "copyright":
                path.unlink()


# ------------------------------------------------------------------------------------- reading
def load_manifest(root: Path | None = None) -> list[LibraryFont]:
    """The library's fonts (paths made absolute); an error that says how to install it."""
    root = root or library_dir()
    path = root / MANIFEST
    if not path.is_file():
        raise DataNotFoundError(
            f"the font library is not installed ({path} is missing); install it once with "
            "`python -m tsb.data.fontlib install` (about 180 MB from Debian's package servers)"
        )
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("version") != MANIFEST_VERSION:
        raise DataNotFoundError(
            f"{path} is from another version of tsb; run `python -m tsb.data.fontlib install` again"
        )
    fields = LibraryFont.__dataclass_fields__
    return [
        LibraryFont(**{k: (str(root / v) if k == "path" else v) for k, v in row.items() if k in fields})
        for row in doc["fonts"]
    ]


def library_font_files(root: Path | None = None) -> list[Path]:
    """The library's font files, for :func:`tsb.data.fonts.discover_font_files`."""
    return [Path(f.path) for f in load_manifest(root)]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tsb.data.fontlib", description=__doc__.split("\n")[0])
    p.add_argument("command", choices=["install", "list"], help="install the library, or count it")
    p.add_argument("--dest", type=Path, default=None, help=f"folder (default {library_dir()})")
    args = p.parse_args(argv)
    try:
        if args.command == "install":
            print(f"downloading {len(debian_packages())} Debian font packages into {args.dest or library_dir()} ...")
            fonts = install(args.dest)
        else:
            fonts = load_manifest(args.dest)
    except DataNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    families = {f.family for f in fonts}
    print(f"{len(fonts)} font files, {len(families)} families, from {len({f.package for f in fonts})} packages")
    for split in ("train", "heldout"):
        sub = [f for f in fonts if f.split == split]
        hand = [f for f in sub if f.kind == "handwriting"]
        print(f"  {split}: {len(sub)} files, {len({f.family for f in sub})} families "
              f"({len({f.family for f in hand})} handwriting / script)")  # fmt: skip
    for lic, n in Counter(f.licence for f in fonts).most_common(8):
        print(f"  {n:5d}  {lic}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
