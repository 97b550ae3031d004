"""``python -m tsb.photobench``: the report files, one row per edit, and one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.paths import ROOT, SHARED
from tsb.photobench import main
from tsb.photobench.photoset import PACKAGED, collect


def _rows(markdown: str, header: str) -> list[str]:
    """The body rows of the markdown table that follows ``## header``."""
    section = markdown.split(f"## {header}\n", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    return table[2:]


def test_the_report_sheet_and_json_hold_every_edit(
    photo_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    args = [
        str(photo_folder),
        "--method",
        "copy,font",
        "--no-lpips",
        "--limit",
        "3",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| copy | 3 |" in printed and "| font | 3 |" in printed and "report.md" in printed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert len(report["edits"]) == 6 and [p["name"] for p in report["photos"]] == ["shop.png"]
    assert (
        report["summary"]["copy"]["new_word_read"] == 0.0
        and report["summary"]["font"]["new_word_read"] == 1.0
    )
    assert report["summary"]["copy"]["round_trip_psnr"] == 100.0
    assert report["settings"]["methods"] == "copy,font" and report["settings"]["checkpoint"] is None
    md = (out / "report.md").read_text(encoding="utf-8")
    edits = _rows(md, "Edits")
    assert len(edits) == 6 and edits[0].startswith("| 1 | shop.png | OPEN -> ")
    assert [r.split("|")[1].strip() for r in _rows(md, "Summary")] == ["copy", "font"]
    assert "![every edit" in md and "sheet.png" in md
    sheet = Image.open(out / "sheet.png")
    assert sheet.width > 3 * 200 and sheet.height > 2 * 72  # 3 cells of before | copy | font


def test_limit_and_an_edits_file_choose_the_edits(photo_folder: Path, tmp_path: Path) -> None:
    edits = tmp_path / "edits.tsv"
    edits.write_text("street.jpg\tStreet\tRoad\nshop.png\t*\n", encoding="utf-8")
    out = tmp_path / "r"
    assert main([str(photo_folder), "--edits", str(edits), "--method", "copy", "--no-lpips",
                 "--limit", "2", "--out", str(out), "--quiet"]) == 0  # fmt: skip
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(e["photo"], e["old"]) for e in report["edits"]] == [("shop.png", "OPEN"), ("shop.png", "BAKERY")]
    assert main([str(photo_folder), "--edits", str(edits), "--method", "copy", "--no-lpips",
                 "--per-photo", "1", "--out", str(out), "--quiet"]) == 0  # fmt: skip
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(e["photo"], e["old"], e["new"]) for e in report["edits"]] == [
        ("shop.png", "OPEN", report["edits"][0]["new"]),
        ("street.jpg", "Street", "Road"),
    ]


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (None, ["--method", "copy"], r"photos does not exist; give a folder of photos"),
        ("empty", ["--method", "copy"], r"holds no photo .*put the photos to edit in it"),
        ("photos", ["--method", "magic"], r"--method 'magic': give editors from model, font, copy"),
        ("photos", ["--limit", "0"], r"--limit must be at least 1"),
        ("photos", ["--edits", "EDITS"], r"edits\.tsv line 1 has 2 tab-separated fields"),
        ("photos", ["--edits", "nowhere.tsv"], r"nowhere\.tsv does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str | None, args: list[str], message: str
) -> None:
    folder = tmp_path / "photos"
    if make == "empty":
        folder.mkdir()
        (folder / "notes.txt").write_text("no photo here", encoding="utf-8")
    elif make == "photos":
        folder.mkdir()
        Image.new("RGB", (40, 20), (200, 200, 200)).save(folder / "a.png")
    (tmp_path / "edits.tsv").write_text("a.png\tOPEN\n", encoding="utf-8")
    args = [
        str(tmp_path / "edits.tsv") if a == "EDITS" else str(tmp_path / a) if a.endswith(".tsv") else a
        for a in args
    ]
    assert main([str(folder), "--out", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    assert re.search(message, err), err
    assert not (tmp_path / "out").exists()


def test_photos_without_any_word_are_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "blank"
    folder.mkdir()
    Image.new("RGB", (64, 48), (120, 160, 200)).save(folder / "sky.png")
    assert main([str(folder), "--method", "copy", "--no-lpips", "--out", str(tmp_path / "o")]) == 2
    assert "the judge found no word" in capsys.readouterr().err


def test_the_module_runs_as_a_command(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "tsb.photobench", str(tmp_path / "missing")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert res.returncode == 2 and res.stderr.strip().startswith("error: ") and res.stderr.count("\n") == 1


def test_the_project_photo_set_is_written_with_its_sources(tmp_path: Path) -> None:
    shared = SHARED if SHARED.is_dir() else None
    written = collect(tmp_path / "set", shared)
    names = {s.name for s in written}
    assert names, "no photo of the set is on this machine"
    edits = (tmp_path / "set" / "edits.tsv").read_text(encoding="utf-8").splitlines()
    assert {line.split("\t")[0] for line in edits if not line.startswith("#")} == names
    sources = (tmp_path / "set" / "SOURCES.md").read_text(encoding="utf-8")
    assert all(s.name in sources and s.licence in sources for s in written)
    if shared is not None:
        assert "demo_1.png\tAvailable\t" in "\n".join(edits) and "scene_english.png\t*" in edits
    assert all((tmp_path / "set" / n).stat().st_size > 0 for n in names)
    assert {s.name for s in PACKAGED if s.locate() is not None} <= names


@pytest.mark.slow
def test_the_published_weights_on_the_shared_photos(tmp_path: Path) -> None:
    """The documented run, cut short: the published model and the plain font on the project's set."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present")
    folder = tmp_path / "set"
    collect(folder, SHARED)
    out = tmp_path / "report"
    assert (
        main([str(folder), "--edits", str(folder / "edits.tsv"), "--per-photo", "1", "--out", str(out)]) == 0
    )
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    model = report["summary"]["model"]
    assert model["edits"] == report["summary"]["font"]["edits"] >= 11
    assert report["settings"]["checkpoint"].endswith(".safetensors")
    for key in ("refused", "new_word_read", "old_word_gone", "neighbours_as_before"):
        assert model[key] is None or 0.0 <= model[key] <= 1.0
    assert model["outside_change"] == 0.0  # the editor changes nothing outside the old word's box
