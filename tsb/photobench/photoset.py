"""The project's own real-photo set: ``python -m tsb.photobench.photoset DIR [--shared PATH]``
writes the photos, an edits file and their sources into ``DIR``; then
``python -m tsb.photobench DIR --edits DIR/edits.tsv``.

The set (:data:`PACKAGED`, :func:`shared_sources`), each photo with where it comes from and its
licence (``DIR/SOURCES.md``):

- the shared photos (``shared/data/``, beside the repository): the ten word crops of
  ``real-words/`` (deep-text-recognition-benchmark's demo images, Apache-2.0), each edited by the
  word its ``labels.tsv`` names, and the scene ``scenes/english.png`` (EasyOCR's example,
  Apache-2.0), every word. The project's photo steps were tuned on these: they say whether a
  fix holds, not how the project generalises;
- photos that the installed packages carry, loaded from the package at run time (no copy is
  kept in the repository), every word: :data:`PACKAGED`.

Held out, never to be used by the project or its tuning (the photos on which generalisation is
checked): the sample photos of OpenCV (Debian's ``opencv-doc``), EasyOCR's example photos other
than the shared one, and the URW base35 / TeX Gyre fonts.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tsb.cli import report_error
from tsb.errors import BenchError, TsbError
from tsb.photobench.edits import EVERY_WORD, replacement

#: the shared data folder beside the repository (as the tests find it)
DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@dataclass(frozen=True)
class Source:
    """One photo of the set: its file name in the set, where it comes from, its licence, and the
    old word to replace (:data:`EVERY_WORD`: every word the judge finds)."""

    name: str
    origin: str
    licence: str
    locate: Callable[[], Path | None]
    old: str = EVERY_WORD


def _package_file(package: str, *parts: str) -> Callable[[], Path | None]:
    def locate() -> Path | None:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
        return path if path.is_file() else None

    return locate


def _fixed(path: Path) -> Callable[[], Path | None]:
    return lambda: path


#: photos with real text that installed packages carry (not matplotlib's sample photos: the
#: synthetic data draws its backgrounds from them, so the model has seen them)
PACKAGED: tuple[Source, ...] = (
    Source(
        "skimage_page.png",
        "scikit-image's sample data, `skimage.data.page()`: a scanned page of printed text, unevenly lit",
        "shipped in the scikit-image wheel (BSD-3-Clause); no other licence stated for the image",
        _package_file("skimage", "data", "page.png"),
    ),
    Source(
        "skimage_motorcycle.png",
        "scikit-image's sample data, `skimage.data.stereo_motorcycle()` (left view): a motorcycle with "
        "its maker's name on the tank, from the Middlebury 2014 stereo data set (Scharstein et al.)",
        "shipped in the scikit-image wheel (BSD-3-Clause); the Middlebury data set asks to cite its paper",
        _package_file("skimage", "data", "motorcycle_left.png"),
    ),
    Source(
        "skimage_text.png",
        "scikit-image's sample data, `skimage.data.text()`: handwritten formulas on lined paper",
        "public domain (Wikipedia's File:Corner.png, as scikit-image's docstring says)",
        _package_file("skimage", "data", "text.png"),
    ),
)


def shared_sources(shared: Path) -> list[Source]:
    """The shared photos: the word crops (each by its label) and the scene (every word)."""
    sources: list[Source] = []
    crops = shared / "data" / "real-words"
    labels = crops / "labels.tsv"
    if labels.is_file():
        for line in labels.read_text(encoding="utf-8").splitlines():
            name, _, word = line.partition("\t")
            if name.strip() and word.strip() and (crops / name.strip()).is_file():
                path = crops / name.strip()
                sources.append(
                    Source(
                        name.strip(),
                        "shared/data/real-words: a word crop from deep-text-recognition-benchmark's demo images",
                        "Apache-2.0",
                        _fixed(path),
                        word.strip(),
                    )
                )
    scenes = shared / "data" / "scenes"
    for path in sorted(scenes.glob("*.png")) if scenes.is_dir() else []:
        sources.append(
            Source(
                f"scene_{path.name}",
                f"shared/data/scenes/{path.name}: an example photo of EasyOCR",
                "Apache-2.0",
                _fixed(path),
            )
        )
    return sources


def collect(folder: Path, shared: Path | None = DEFAULT_SHARED, seed: int = 0) -> list[Source]:
    """Write the set into ``folder`` (photos, ``edits.tsv``, ``SOURCES.md``); the sources written."""
    sources = [*(shared_sources(shared) if shared is not None else []), *PACKAGED]
    found = [(s, s.locate()) for s in sources]
    written = [(s, p) for s, p in found if p is not None]
    if not written:
        raise BenchError(
            f"no photo of the set is on this machine (shared data at {shared}: missing; scikit-image and "
            "matplotlib: not installed); give --shared PATH or install them"
        )
    folder.mkdir(parents=True, exist_ok=True)
    edits, table = ["# photo\told\tnew (photo<TAB>*: every word the judge finds)"], []
    for s, path in written:
        shutil.copyfile(path, folder / s.name)
        if s.old == EVERY_WORD:
            edits.append(f"{s.name}\t{EVERY_WORD}")
        else:
            edits.append(f"{s.name}\t{s.old}\t{replacement(s.old, s.name, seed)}")
        table.append(f"| {s.name} | {s.origin} | {s.licence} |")
    (folder / "edits.tsv").write_text("\n".join(edits) + "\n", encoding="utf-8")
    missing = [s.name for s, p in found if p is None]
    (folder / "SOURCES.md").write_text(
        "# The project's real-photo set\n\n| file | from | licence |\n|---|---|---|\n"
        + "\n".join(table)
        + ("\n\nNot on this machine: " + ", ".join(missing) if missing else "")
        + "\n",
        encoding="utf-8",
    )
    return [s for s, _ in written]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tsb.photobench.photoset",
        description="Write the project's real-photo set (photos, edits.tsv, SOURCES.md) into a folder.",
        epilog="then: python -m tsb.photobench DIR --edits DIR/edits.tsv",
    )
    p.add_argument("folder", help="where to write the set")
    p.add_argument(
        "--shared", default=str(DEFAULT_SHARED), help=f"the shared data folder (default {DEFAULT_SHARED})"
    )
    p.add_argument("--no-shared", action="store_true", help="only the photos the packages carry")
    args = p.parse_args(argv)
    try:
        sources = collect(Path(args.folder), None if args.no_shared else Path(args.shared))
    except TsbError as e:
        return report_error(e)
    print(f"wrote {len(sources)} photos, edits.tsv and SOURCES.md into {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
