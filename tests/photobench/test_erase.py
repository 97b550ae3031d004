"""The eraser measured by the benchmark (``--method erase`` / ``--erase``): the old word removed
and nothing written, judged by the same independent OCR on the whole photo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import Tensor

from tsb.detect import WordFinder
from tsb.photobench import main
from tsb.photobench.bench import DONE, run_bench
from tsb.photobench.editors import EraseEditor, FontEditor, ModelEditor, build_editor
from tsb.photobench.edits import list_photos
from tsb.photobench.report import summarise


def _dark_ink_eraser(editor: EraseEditor) -> None:
    """Stand in for the tiny network's untrained eraser: the old word's mask is the crop's dark
    pixels (the test photos' words are dark blue on a light wall); the branch's own fill (pull-push
    from the rest of the crop) repaints them."""
    bg = editor.editor.task.net.background

    def segment(style: Tensor) -> tuple[Tensor, Tensor]:
        dark = (style.mean(dim=1, keepdim=True) < 0.0).to(style.dtype)
        return torch.zeros_like(style), dark

    bg.segment = segment


def test_an_eraser_that_removes_the_ink_is_measured_gone_with_its_neighbours_kept(
    photo_folder: Path, judge: WordFinder, split_ckpt: Path
) -> None:
    eraser = EraseEditor(split_ckpt, inference="none")
    _dark_ink_eraser(eraser)
    run = run_bench(list_photos(photo_folder), [eraser], judge, lpips=False)
    assert [(e.photo, e.old) for e in run.edits] == [
        ("shop.png", "OPEN"),
        ("shop.png", "BAKERY"),
        ("shop.png", "daily"),
        ("street.jpg", "Market"),
        ("street.jpg", "Street"),
    ]
    for e in run.edits:
        assert e.method == "erase" and e.status == DONE and e.new == "", e
        assert e.old_gone and e.read == "" and not e.new_read, e  # nothing read at its place
        assert e.neighbours_kept == e.neighbours and e.outside_change == 0.0, e
        assert e.seam is not None and e.seam < 1.5, e  # the repaint fades into the wall
        assert e.round_trip_psnr is None and e.round_trip_lpips is None  # nothing to write back
    summary = summarise(run.edits)
    assert summary["new_word_read"] is None  # an eraser writes no word
    assert summary["old_word_gone"] == 1.0 and summary["nothing_read"] == 1.0
    assert summary["edits_with_all_neighbours"] == 1.0


def test_an_eraser_that_leaves_the_word_is_measured_as_such(
    photo_folder: Path, judge: WordFinder, split_ckpt: Path
) -> None:
    eraser = EraseEditor(split_ckpt, inference="none")
    bg = eraser.editor.task.net.background
    bg.segment = lambda style: (torch.zeros_like(style), torch.zeros_like(style[:, :1]))  # finds nothing
    photos = [p for p in list_photos(photo_folder) if p.name == "street.jpg"]
    (e,) = run_bench(photos, [eraser], judge, per_photo=1, lpips=False).edits
    assert e.status == DONE and e.old == "Market" and e.read == "Market"
    assert not e.old_gone and summarise([e])["nothing_read"] == 0.0


def test_erase_shares_the_model_rows_network_and_refuses_a_network_without_an_eraser(
    split_ckpt: Path, tiny_ckpt: Path
) -> None:
    model = build_editor("model", str(split_ckpt), "none")
    eraser = build_editor("erase", str(split_ckpt), "none", loaded=[model])
    assert isinstance(model, ModelEditor) and isinstance(eraser, EraseEditor)
    assert eraser.editor is model.editor
    from tsb.errors import BenchError

    with pytest.raises(BenchError, match="background branch"):
        build_editor("erase", str(tiny_ckpt), "none")


def test_the_model_row_takes_the_font_choice_of_tsb_edit(split_ckpt: Path) -> None:
    plain = build_editor("model", str(split_ckpt), "none")
    matched = build_editor("model", str(split_ckpt), "none", match_font="shortlist")
    assert isinstance(plain, ModelEditor) and isinstance(matched, ModelEditor)
    assert plain.editor.font_match is None
    assert matched.editor.font_match is not None and matched.editor.font_match.method == "shortlist"


def test_the_erase_flag_adds_an_erase_row_to_the_report(
    photo_folder: Path, split_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    args = [str(photo_folder), "--method", "font", "--erase", "--ckpt", str(split_ckpt), "--inference", "none"]
    assert main([*args, "--no-lpips", "--limit", "2", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "| font | 2 |" in printed and "| erase | 2 |" in printed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["settings"]["methods"] == "font,erase"
    erased = [e for e in report["edits"] if e["method"] == "erase"]
    assert [e["new"] for e in erased] == ["", ""] and all(e["round_trip_psnr"] is None for e in erased)
    assert report["summary"]["erase"]["new_word_read"] is None
    assert report["summary"]["font"]["new_word_read"] == 1.0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| 2 | shop.png | OPEN -> (erased) | erase |" in md
    assert report["summary"]["erase"]["outside_change"] == 0.0


def test_erase_with_a_network_without_an_eraser_is_one_line(
    photo_folder: Path, tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(photo_folder), "--method", "erase", "--ckpt", str(tiny_ckpt), "--out", str(tmp_path / "r")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "needs a model with a background branch" in err and "Traceback" not in err


def test_font_editor_is_not_an_eraser() -> None:
    from tsb.photobench.editors import erases

    assert not erases(FontEditor())
