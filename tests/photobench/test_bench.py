"""The protocol on a tiny photo set drawn in the test, with the real judge (PP-OCRv6) and trivial
editors whose right answers are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.photos import draw_words
from tsb.data.content import render_content_array
from tsb.data.crop import Box
from tsb.detect import WordFinder
from tsb.errors import EditError
from tsb.photobench.bench import DONE, NOT_FOUND, REFUSED, run_bench
from tsb.photobench.editors import CopyEditor, FontEditor, ModelEditor
from tsb.photobench.edits import list_photos, load_requests
from tsb.photobench.judge import ink_rows
from tsb.photobench.report import summarise


def test_the_judge_reads_the_drawn_words(photo_folder: Path, judge: WordFinder) -> None:
    words = judge(Image.open(photo_folder / "shop.png"))
    assert [w.text for w in words] == ["OPEN", "BAKERY", "daily"]


def test_copying_the_source_keeps_the_old_word_and_a_plain_repaint_replaces_it(
    photo_folder: Path, judge: WordFinder
) -> None:
    run = run_bench(list_photos(photo_folder), [CopyEditor(), FontEditor()], judge, lpips=False)
    copies = [e for e in run.edits if e.method == "copy"]
    painted = [e for e in run.edits if e.method == "font"]
    assert len(copies) == len(painted) == 5  # every word of both photos, each edited once per editor
    assert [(e.photo, e.old) for e in copies] == [
        ("shop.png", "OPEN"),
        ("shop.png", "BAKERY"),
        ("shop.png", "daily"),
        ("street.jpg", "Market"),
        ("street.jpg", "Street"),
    ]
    for e in copies:
        assert e.status == DONE and e.read == e.old and not e.new_read and not e.old_gone
        assert e.neighbours_kept == e.neighbours and e.outside_change == 0.0 and e.seam is None
        assert e.round_trip_psnr == 100.0  # nothing changed: a perfect round trip
        assert e.ink_contrast == 1.0 and e.stroke_weight == 1.0  # the same ink
        assert e.background_change == 0.0
        # the old letters as they were, measured against the two words' plain shapes
        plain = [ink_rows(render_content_array(t, 64) < 128) for t in (e.old, e.new)]
        assert e.letter_size == pytest.approx(plain[0] / plain[1])
    for e in painted:
        assert e.status == DONE and e.new_read and e.old_gone, e
        assert e.neighbours_kept == e.neighbours and e.outside_change == 0.0
        assert e.round_trip_psnr is not None and 8 < e.round_trip_psnr < 60
        assert e.seam is not None and e.seconds is not None
        assert e.ink_contrast is not None and 0.8 < e.ink_contrast < 1.2, e  # painted in the old ink's colour
        assert e.background_change is not None and e.background_change < 20, e  # a pull-push fill, not a new plate
        assert e.stroke_weight is not None and 0.4 < e.stroke_weight < 2.5, e  # letters of another font
        assert e.letter_size is not None and 0.5 < e.letter_size < 2.0, e
    assert [e.new for e in copies] == [e.new for e in painted]  # one plan, every editor
    assert len(run.tiles) == 5 and all(set(t.after) == {"copy", "font"} for t in run.tiles)
    assert summarise(copies)["new_word_read"] == 0.0 and summarise(painted)["new_word_read"] == 1.0


class Spill(FontEditor):
    """A plain repaint that also paints a block over the photo's first word, outside the box."""

    name = "spill"

    def replace(
        self, photo: Image.Image, box: Box, old: str, new: str, letters: Box | None = None
    ) -> Image.Image:
        out = np.asarray(super().replace(photo, box, old, new)).copy()
        out[15:55, 15:90] = 0
        return Image.fromarray(out)


class Refuse:
    name = "refuse"

    def replace(
        self, photo: Image.Image, box: Box, old: str, new: str, letters: Box | None = None
    ) -> Image.Image:
        raise EditError(f"box of {old!r} reaches outside the image; give a box inside the image")


def test_a_change_outside_the_box_and_a_damaged_neighbour_are_counted(
    photo_folder: Path, judge: WordFinder
) -> None:
    photos = [p for p in list_photos(photo_folder) if p.name == "shop.png"]
    run = run_bench(photos, [Spill()], judge, limit=2, lpips=False)
    first, second = run.edits
    assert first.old == "OPEN" and first.outside_change is not None and first.outside_change > 0
    assert second.old == "BAKERY" and second.outside_change is not None and second.outside_change > 0.02
    assert "OPEN" in second.damaged and second.neighbours_kept < second.neighbours


def test_refused_and_not_found_edits_are_failures_with_their_reason(
    photo_folder: Path, judge: WordFinder, tmp_path: Path
) -> None:
    photos = list_photos(photo_folder)
    edits = tmp_path / "edits.tsv"
    edits.write_text("shop.png\tBAKERY\tBREAD\nstreet.jpg\tAvenue\tRoad\n", encoding="utf-8")
    run = run_bench(photos, [Refuse()], judge, load_requests(edits, photos), lpips=False)
    refused, missing = run.edits
    assert (refused.status, refused.old, refused.new) == (REFUSED, "BAKERY", "BREAD")
    assert "reaches outside the image" in (refused.reason or "") and not refused.new_read
    assert missing.status == NOT_FOUND and "finds no word reading 'Avenue'" in (missing.reason or "")
    assert "'Market', 'Street'" in (missing.reason or "")  # what the judge did read
    summary = summarise(run.edits)
    assert summary["refused"] == 0.5 and summary["not_found"] == 0.5 and summary["new_word_read"] == 0.0
    assert [p.name for p in run.photos] == ["shop.png", "street.jpg"]


def test_a_box_past_the_image_edge_is_clipped_by_the_plain_editor_as_by_the_model() -> None:
    photo = draw_words([("EDGE", (2, 40))])
    edited = np.asarray(FontEditor().replace(photo, (10.0, 50.0, 40.0, 30.0, 0.0), "EDGE", "SIDE"))
    changed = np.nonzero(np.any(edited != np.asarray(photo.convert("RGB")), axis=2))
    assert changed[1].size > 0 and changed[1].max() <= 31  # inside the box's part in the image
    with pytest.raises(EditError, match="mostly outside"):
        FontEditor().replace(photo, (-10.0, 50.0, 40.0, 30.0, 0.0), "EDGE", "SIDE")


def test_the_model_editor_runs_the_protocol_and_changes_only_its_box(
    photo_folder: Path, judge: WordFinder, tiny_ckpt: Path
) -> None:
    photos = [p for p in list_photos(photo_folder) if p.name == "street.jpg"]
    editor = ModelEditor(tiny_ckpt, inference="none")
    run = run_bench(photos, [editor], judge, per_photo=1, lpips=False)
    (edit,) = run.edits
    assert edit.method == "model" and edit.status == DONE and edit.old == "Market"
    assert edit.outside_change == 0.0 and edit.round_trip_psnr is not None and edit.seconds is not None
    assert edit.neighbours == 1


def test_round_trip_lpips_is_measured_on_a_narrow_box() -> None:
    from tsb.photobench.bench import RoundTripLPIPS

    rng = np.random.default_rng(0)
    a = Image.fromarray(rng.integers(0, 255, (120, 120, 3), dtype=np.uint8))
    narrow: Box = (60.0, 60.0, 12.0, 80.0, 0.0)  # 12 wide, 80 high: a word written downwards
    score = RoundTripLPIPS()
    assert score(a, a, narrow) == pytest.approx(0.0, abs=1e-6)
    other = Image.fromarray(rng.integers(0, 255, (120, 120, 3), dtype=np.uint8))
    value = score(a, other, narrow)
    assert value is not None and value > 0.05
