"""The font library: which fonts enter the manifest, licences, the held-out families, reading it back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib
import pytest
from fontTools.ttLib import TTFont

from tsb.data import fontlib
from tsb.data.fonts import _load_font_set, load_fonts
from tsb.errors import DataNotFoundError

MPL = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2010 Someone
License: OFL-1.1

Files: debian/*
Copyright: 2012 A Packager
License: GPL-2+

License: OFL-1.1
 SIL Open Font License, Version 1.1
"""


def _renamed(src: Path, dst: Path, family: str) -> None:
    """A copy of a font whose name table gives another family (the same drawings)."""
    font = TTFont(str(src))
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
    dst.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(dst))


def _package(root: Path, name: str, fonts: dict[str, Path]) -> None:
    folder = root / name / "usr/share/fonts/truetype" / name
    folder.mkdir(parents=True)
    for file_name, src in fonts.items():
        shutil.copy(src, folder / file_name)
    doc = root / name / "usr/share/doc" / name
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "fontlib"
    _package(root, "fonts-a", {"DejaVuSans.ttf": MPL / "DejaVuSans.ttf", "DejaVuSans-Bold.ttf": MPL / "DejaVuSans-Bold.ttf"})
    _package(root, "fonts-b", {
        "Same.ttf": MPL / "DejaVuSans.ttf",      # the same family and style again
        "Serif.ttf": MPL / "DejaVuSerif.ttf",    # a held-out family
        "cmex10.ttf": MPL / "cmex10.ttf",        # draws no letters
        "Mono.ttf": MPL / "DejaVuSansMono.ttf",  # a new font (handwriting by its package's kind)
    })  # fmt: skip
    _renamed(MPL / "DejaVuSans.ttf", root / "fonts-b/usr/share/fonts/truetype/fonts-b/Veranda.ttf", "Veranda")
    _renamed(MPL / "DejaVuSans.ttf", root / "fonts-c/usr/share/fonts/Nimbus.ttf", "Nimbus Sans")
    return root


def test_manifest_keeps_new_latin_fonts_and_says_why_the_rest_left(library: Path) -> None:
    kinds = {"fonts-a": "print", "fonts-b": "handwriting", "fonts-c": "print"}
    fonts = fontlib.build_manifest(library, kinds, {"fonts-a": "1.0-1"})
    assert [(f.family, f.style, f.package) for f in fonts] == [
        ("DejaVu Sans", "Bold", "fonts-a"),
        ("DejaVu Sans", "Book", "fonts-a"),
        ("DejaVu Sans Mono", "Book", "fonts-b"),
    ]
    assert fonts[2].kind == "handwriting" and fonts[0].package_version == "1.0-1"
    assert fonts[1].licence == "OFL-1.1"  # not the debian/* stanza's GPL
    assert len(fonts[0].sha256) == 64
    doc = json.loads((library / fontlib.MANIFEST).read_text())
    assert doc["excluded"] == {
        "same family and style": 1,
        "held-out family": 2,  # DejaVu Serif, and "Nimbus Sans" (URW base35)
        "does not draw the alphabet": 1,
        "copy of another font": 1,  # "Veranda": DejaVu Sans renamed
    }
    back = fontlib.load_manifest(library)
    assert [Path(f.path) for f in back] == [library / f.path for f in fonts]
    assert all(Path(f.path).is_file() for f in back)


def test_the_evaluation_families_are_never_in_the_library() -> None:
    for family in ("Nimbus Roman", "P052", "C059", "URW Bookman", "URW Gothic", "Z003", "TeX Gyre Termes",
                   "TeXGyreHeros", "FreeSerif", "FreeSans", "Lato", "Gentium Plus", "CMU Sans Serif"):  # fmt: skip
        assert fontlib.EXCLUDED_FAMILIES.search(family.lower()), family
    for family in ("Liberation Serif", "Open Sans", "Linux Libertine O", "Bebas Neue", "Kristi"):
        assert not fontlib.EXCLUDED_FAMILIES.search(family.lower()), family
    packages = fontlib.debian_packages()
    assert len(packages) >= 250
    assert not {"fonts-urw-base35", "fonts-texgyre", "fonts-freefont-ttf", "fonts-lato"} & set(packages)
    assert packages["fonts-dancingscript"] == "handwriting" and packages["fonts-liberation"] == "print"


def test_copies_are_found_by_their_drawings(tmp_path: Path) -> None:
    _renamed(MPL / "DejaVuSans.ttf", tmp_path / "a.ttf", "Other Name")
    paths = [MPL / "DejaVuSans.ttf", MPL / "DejaVuSerif.ttf", tmp_path / "a.ttf", MPL / "DejaVuSans-Bold.ttf"]
    assert fontlib.drop_copies(paths) == [0, 1, 3]


def test_prune_keeps_fonts_and_copyright_files(library: Path) -> None:
    fonts = fontlib.build_manifest(library, {"fonts-a": "print", "fonts-b": "print", "fonts-c": "print"})
    (library / "fonts-a/usr/share/doc/fonts-a/changelog.gz").write_bytes(b"x")
    fontlib.prune(library, fonts)
    left = sorted(str(p.relative_to(library)) for p in library.rglob("*") if p.is_file() and p.name != fontlib.MANIFEST)
    assert left == sorted([f.path for f in fonts] + [f"fonts-{x}/usr/share/doc/fonts-{x}/copyright" for x in "ab"])


def test_the_data_modules_read_the_library_through_the_cache_folder(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fontlib.build_manifest(library, {"fonts-a": "print", "fonts-b": "print", "fonts-c": "print"})
    monkeypatch.setenv("TSB_CACHE_DIR", str(library.parent))
    _load_font_set.cache_clear()
    try:
        fonts = load_fonts(packages=("fontlib",)).fonts
    finally:
        _load_font_set.cache_clear()
    assert [(f.family, f.source) for f in fonts] == [("DejaVu Sans", "fontlib"), ("DejaVu Sans", "fontlib"),
                                                     ("DejaVu Sans Mono", "fontlib")]  # fmt: skip


def test_a_missing_library_or_apt_says_how_to_fix_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataNotFoundError, match=r"python -m tsb\.data\.fontlib install"):
        fontlib.load_manifest(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get
    with pytest.raises(DataNotFoundError, match=r"apt-get is not on this system.*data\.font_dirs"):
        fontlib.download(["fonts-dejavu-core"], tmp_path / "debs")


def test_licence_names_skip_the_packaging_and_the_prose(tmp_path: Path) -> None:
    doc = tmp_path / "usr/share/doc/fonts-x"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT + "\nFiles: extra/*\nLicense: % a TeX comment, not a name\n")
    assert fontlib.package_licence(tmp_path) == "OFL-1.1"
    assert fontlib.package_licence(tmp_path / "nothing") == "see the package's copyright file"
