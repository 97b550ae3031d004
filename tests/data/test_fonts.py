from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from tsb.data import fonts as F

MPL_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@pytest.fixture(scope="module")
def latin() -> F.FontSet:
    return F.load_fonts(F.LATIN)


def test_at_least_20_text_typefaces_from_the_packages(latin: F.FontSet) -> None:
    assert len(latin.families) >= 20
    assert {f.font_id for f in latin.fonts} == set(range(len(latin)))
    assert {"DejaVu Sans", "Roboto", "EB Garamond", "FiraGO"} <= set(latin.families)


def test_symbol_and_math_fonts_are_rejected(latin: F.FontSet) -> None:
    names = {Path(f.path).name for f in latin.fonts}
    for bad in (
        "cmsy10.ttf",
        "cmex10.ttf",
        "STIXSizOneSymReg.ttf",
        "STIXNonUni.ttf",
        "LastResortHE-Regular.ttf",
    ):
        assert bad not in names
    assert not any("Awesome" in f.family for f in latin.fonts)
    # the coverage check itself, not a name list: cmsy10 maps 'a' to a math symbol
    assert "a" not in F.font_coverage(MPL_FONTS / "cmsy10.ttf", "abc")
    assert "a" in F.font_coverage(MPL_FONTS / "cmr10.ttf", "abc")


def test_a_font_lacking_a_glyph_is_not_used_for_that_word(latin: F.FontSet) -> None:
    # Computer Modern (matplotlib's cmr10) has no Cyrillic; DejaVu Sans has it
    assert "Ж" not in F.font_coverage(MPL_FONTS / "cmr10.ttf", "aЖ")
    assert "Ж" in F.font_coverage(MPL_FONTS / "DejaVuSans.ttf", "aЖ")
    both = F.load_fonts(F.LATIN + "Ж", min_coverage=0.5)
    cands = {f.family for f in both.candidates("ЖAR")}
    assert "DejaVu Sans" in cands and "cmr10" not in cands
    assert "cmr10" in {f.family for f in both.candidates("AR")}


def test_fixed_split_by_family(latin: F.FontSet) -> None:
    held = latin.split("heldout")
    train = latin.split("train")
    assert held and train
    assert not {f.family for f in held} & {f.family for f in train}
    assert {f.family.lower() for f in held} <= F.HELD_OUT_FAMILIES
    assert F.split_of("Lato") == "heldout" and F.split_of("Roboto") == "train"
    assert F.split_of("Some Other Family") == F.split_of("some other family")


def test_cyrillic_fonts_cover_the_alphabet() -> None:
    cyr = F.load_fonts(F.CYRILLIC)
    assert len(cyr.families) >= 8
    assert all(f.covers("Съешь") for f in cyr.fonts)
    assert "cmr10" not in cyr.families


def test_cli_prints_one_line_per_font(capsys: pytest.CaptureFixture[str], latin: F.FontSet) -> None:
    assert F.main([]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(latin)
    path, family, style, split = lines[0].split("\t")
    assert Path(path).is_file() and family and style and split in ("train", "heldout")


def test_bad_font_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="font_dirs"):
        F.load_fonts(F.LATIN, font_dirs=[tmp_path / "nope"])


def test_font_checks_are_kept_on_disk_and_redone_for_a_changed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    font = tmp_path / "fonts" / "DejaVuSans.ttf"
    font.parent.mkdir()
    shutil.copy(MPL_FONTS / "DejaVuSans.ttf", font)
    store = tmp_path / "checks.json"
    first = F.FontChecks(store).check(font, "abc", 0.9)
    assert first is not None and first[0] == "DejaVu Sans" and first[2] == frozenset("abc")
    bad = F.FontChecks(store).check(MPL_FONTS / "cmsy10.ttf", "abc", 0.9)
    assert bad is None
    written = F.FontChecks(store)
    written.check(font, "abc", 0.9)
    written.check(MPL_FONTS / "cmsy10.ttf", "abc", 0.9)
    written.save()
    calls: list[Path] = []

    def counting(path: Path, alphabet: str, min_coverage: float) -> tuple[str, str, frozenset[str]] | None:
        calls.append(path)
        return None

    monkeypatch.setattr(F, "_check_font", counting)
    again = F.FontChecks(store)
    assert again.check(font, "abc", 0.9) == first  # from the file, not checked again
    assert again.check(MPL_FONTS / "cmsy10.ttf", "abc", 0.9) is None
    assert calls == []
    assert again.check(font, "abcd", 0.9) is None and calls == [font]  # another alphabet: checked
    font.write_bytes(font.read_bytes() + b"\0")  # a changed file is checked again
    assert again.check(font, "abc", 0.9) is None and calls[-1] == font


def test_an_unreadable_font_checks_file_is_ignored(tmp_path: Path) -> None:
    store = tmp_path / "checks.json"
    store.write_text("{not json", encoding="utf-8")
    checks = F.FontChecks(store)
    assert checks.check(MPL_FONTS / "DejaVuSans.ttf", "abc", 0.9) is not None
    checks.save()
    assert json_keys(store) == 1


def json_keys(path: Path) -> int:
    import json

    return len(json.loads(path.read_text(encoding="utf-8")))
