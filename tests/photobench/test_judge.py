"""The judge's per-edit checks, on word lists and pixel arrays made in the test."""

from __future__ import annotations

import numpy as np
import pytest

from tsb.detect import Word
from tsb.photobench.judge import (
    box_mask,
    outside_change,
    overlap,
    psnr_in,
    read_at,
    seam,
    word_checks,
)


def _photo_words() -> list[Word]:
    return [
        Word("OPEN", 0.99, (50.0, 30.0, 60.0, 24.0, 0.0)),
        Word("BAKERY", 0.98, (150.0, 30.0, 90.0, 24.0, 0.0)),
        Word("daily", 0.97, (80.0, 80.0, 70.0, 24.0, 0.0)),
    ]


def test_overlap_is_the_shared_area_over_the_smaller_box() -> None:
    a = (50.0, 30.0, 60.0, 20.0, 0.0)
    assert overlap(a, a) == pytest.approx(1.0)
    assert overlap(a, (50.0, 30.0, 30.0, 10.0, 0.0)) == pytest.approx(1.0)  # inside: all of the smaller
    assert overlap(a, (80.0, 30.0, 60.0, 20.0, 0.0)) == pytest.approx(0.5)
    assert overlap(a, (300.0, 30.0, 60.0, 20.0, 0.0)) == 0.0
    assert overlap(a, (50.0, 30.0, 60.0, 20.0, 90.0)) == pytest.approx(20 * 20 / (60 * 20))


def test_an_editor_that_changes_nothing_keeps_the_old_word_and_reads_no_new_one() -> None:
    before = _photo_words()
    checks = word_checks(before, list(before), before[0], "OPEN", "SHUT")
    assert checks.read == "OPEN" and not checks.new_read and not checks.old_gone
    assert (checks.neighbours, checks.neighbours_kept, checks.damaged) == (2, 2, ())


def test_a_good_edit_reads_the_new_word_at_the_old_place_and_keeps_the_neighbours() -> None:
    before = _photo_words()
    # read in a slightly wider box than the old word's, as a longer new word would be
    after = [Word("SHUTS", 0.9, (52.0, 31.0, 70.0, 22.0, 0.0)), before[1], before[2]]
    checks = word_checks(before, after, before[0], "OPEN", "shuts")  # matched as --replace matches
    assert checks.new_read and checks.old_gone and checks.neighbours_kept == 2


def test_a_new_word_read_in_two_pieces_still_counts_and_a_damaged_neighbour_is_named() -> None:
    before = _photo_words()
    after = [
        Word("BAKE", 0.9, (135.0, 30.0, 50.0, 24.0, 0.0)),
        Word("SHOP", 0.9, (175.0, 30.0, 40.0, 24.0, 0.0)),
        Word("OPEN", 0.9, (50.0, 30.0, 60.0, 24.0, 0.0)),
        Word("dally", 0.9, (80.0, 80.0, 70.0, 24.0, 0.0)),  # the neighbour misread after the edit
    ]
    hits, read = read_at(after, before[1].box)
    assert [w.text for w in hits] == ["BAKE", "SHOP"] and read == "BAKE SHOP"
    checks = word_checks(before, after, before[1], "BAKERY", "BAKESHOP")
    assert checks.new_read and checks.old_gone
    assert checks.neighbours == 2 and checks.neighbours_kept == 1 and checks.damaged == ("daily",)


def test_a_neighbour_read_elsewhere_is_not_as_before() -> None:
    before = _photo_words()
    moved = [before[0], Word("BAKERY", 0.9, (150.0, 100.0, 90.0, 24.0, 0.0)), before[2]]
    assert word_checks(before, moved, before[2], "daily", "weekly").damaged == ("BAKERY",)


def _image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (60, 120, 3), dtype=np.uint8)


def test_a_change_painted_outside_the_box_counts_as_outside_change() -> None:
    box = (60.5, 30.5, 40.0, 20.0, 0.0)  # pixel centres 41..80 x 21..40
    inside = box_mask(box, (120, 60))
    assert inside.sum() == 40 * 20 and inside[21, 41] and inside[40, 80] and not inside[30, 40]
    original = _image()
    inside_only = original.copy()
    inside_only[inside] = 0
    assert outside_change(original, inside_only, inside) == 0.0
    spill = inside_only.copy()
    spill[0:10, 0:10] = 255 - spill[0:10, 0:10]
    assert outside_change(original, spill, inside) == pytest.approx(100 / (120 * 60 - 800))


def test_a_rotated_box_mask_covers_the_rotated_rectangle() -> None:
    mask = box_mask((60.0, 30.0, 40.0, 10.0, 90.0), (120, 60))
    ys, xs = np.nonzero(mask)
    assert xs.max() - xs.min() < 12 and ys.max() - ys.min() > 35  # stood up: tall and thin


def test_a_perfect_round_trip_scores_a_high_psnr_and_a_repainted_box_a_low_one() -> None:
    box = (60.0, 30.0, 40.0, 20.0, 0.0)
    inside = box_mask(box, (120, 60))
    original = _image()
    assert psnr_in(original, original.copy(), inside) == 100.0
    near = original.astype(np.int16)
    near[inside] += 1
    assert psnr_in(original, np.clip(near, 0, 255).astype(np.uint8), inside) > 45
    repainted = original.copy()
    repainted[inside] = 128
    assert psnr_in(original, repainted, inside) < 12
    assert psnr_in(original, original, np.zeros_like(inside)) is None


def _grain(seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 12, (60, 120, 1))
    return np.clip(120 + noise, 0, 255).astype(np.uint8).repeat(3, axis=2)


def test_the_seam_score_sees_an_edge_that_was_not_there() -> None:
    wall = _grain(0)
    plain = wall.copy()
    plain[20:40, 40:80] = 200  # a flat lighter patch: a hard edge all round
    hard = seam(wall, plain)
    assert hard is not None and hard > 3
    regrained = wall.copy()
    regrained[20:40, 40:80] = _grain(1)[20:40, 40:80]  # the same grain drawn anew: no border to see
    soft = seam(wall, regrained)
    assert soft is not None and soft == pytest.approx(1.0, abs=0.25)
    assert seam(wall, wall.copy()) is None


def test_ink_contrast_is_one_for_the_same_word_and_less_for_a_washed_out_one() -> None:
    from tsb.photobench.judge import contrast, ink_contrast

    crop = np.full((64, 160, 3), (20, 90, 160), np.uint8)  # a blue plate
    crop[20:44, 20:140:12] = 255  # white strokes
    crop[20:44, 21:141:12] = 255
    crop[20:44, 22:142:12] = 255
    grey = crop.copy()
    grey[crop[..., 0] == 255] = (150, 170, 200)  # the same strokes, washed out towards the plate
    assert ink_contrast(crop, crop) == pytest.approx(1.0)
    full = contrast(crop)
    assert full is not None and full == pytest.approx(float(np.linalg.norm([235, 165, 95])), rel=1e-6)
    washed = ink_contrast(crop, grey)
    assert washed is not None and washed == pytest.approx(np.linalg.norm([130, 80, 40]) / np.linalg.norm([235, 165, 95]), rel=1e-6)
    plate = np.full_like(crop, (20, 90, 160))
    assert ink_contrast(crop, plate) == 0.0  # erased: no ink left
    assert ink_contrast(plate, crop) is None  # no old ink to compare with


def test_background_change_sees_a_tinted_box_but_not_new_letters() -> None:
    from tsb.photobench.judge import background_change

    crop = np.full((64, 160, 3), (20, 90, 160), np.uint8)  # a blue plate with white strokes
    crop[20:44, 20:60:6] = 255
    rewritten = np.full_like(crop, (20, 90, 160))
    rewritten[20:44, 90:140:6] = 255  # other letters elsewhere on the same plate
    assert background_change(crop, crop) == 0.0
    assert background_change(crop, rewritten) == 0.0  # the letters moved, the plate untouched
    tinted = rewritten.copy()
    tinted[rewritten[..., 0] != 255] += np.array([6, 4, 3], np.uint8)  # the plate a little lighter
    change = background_change(crop, tinted)
    assert change is not None and change == pytest.approx((6 + 4 + 3) / 3, rel=1e-6)
    dense = np.full_like(crop, (20, 90, 160))
    dense[:, ::3] = 255  # strokes every third column: no pixel is two pixels from ink
    assert background_change(dense, dense) is None


def _strokes(width: int) -> np.ndarray:
    """White vertical strokes ``width`` pixels wide and 30 long on a blue plate (64, 160, 3)."""
    crop = np.full((64, 160, 3), (20, 90, 160), np.uint8)
    for x0 in range(16, 140, 16):
        crop[17:47, x0 : x0 + width] = 255
    return crop


def test_stroke_width_is_the_strokes_width_and_the_weight_its_ratio() -> None:
    from tsb.photobench.judge import stroke_weight, stroke_width

    for width in (2, 4, 6):
        measured = stroke_width(_strokes(width))
        assert measured == pytest.approx(width * 30 / (30 + width), rel=1e-6)  # ends count as outline
    assert stroke_weight(_strokes(3), _strokes(3)) == pytest.approx(1.0)
    bolder = stroke_weight(_strokes(3), _strokes(6))
    assert bolder is not None and 1.8 < bolder < 2.0
    plate = np.full((64, 160, 3), (20, 90, 160), np.uint8)
    assert stroke_weight(plate, _strokes(3)) is None and stroke_weight(_strokes(3), plate) is None


def test_stroke_weight_tells_bold_from_regular_lettering_whatever_the_word() -> None:
    from PIL import Image, ImageDraw, ImageFont

    from tsb.data.content import content_font_path
    from tsb.photobench.judge import stroke_weight

    font = ImageFont.truetype(content_font_path(), 36)

    def word(text: str, stroke: int) -> np.ndarray:
        """``text`` in the standard font, dark on light, grown by a ``stroke`` of its own colour."""
        img = Image.new("RGB", (320, 64), (240, 240, 235))
        ink = (20, 20, 20)
        ImageDraw.Draw(img).text((10, 10), text, font=font, fill=ink, stroke_width=stroke, stroke_fill=ink)
        return np.asarray(img)

    same = stroke_weight(word("Market", 0), word("Bakery", 0))
    assert same is not None and 0.85 < same < 1.15  # another word in the same weight
    bold = stroke_weight(word("Market", 0), word("Bakery", 2))
    assert bold is not None and bold > 1.5


def _drawn(text: str, size: int, lines: bool = False) -> np.ndarray:
    """``text`` dark on light in the standard font at ``size`` points, centred in a (64, 320, 3)
    crop; with ``lines``, the bottom of a line above and the top of a line below, cut by the crop."""
    from PIL import Image, ImageDraw, ImageFont

    from tsb.data.content import content_font_path

    img = Image.new("RGB", (320, 64), (240, 240, 235))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(content_font_path(), size)
    draw.text((160, 32), text, font=font, fill=(20, 20, 20), anchor="mm")
    if lines:
        other = ImageFont.truetype(content_font_path(), 30)
        draw.text((160, -8), "Held below", font=other, fill=(20, 20, 20), anchor="mm")
        draw.text((160, 72), "quite lying", font=other, fill=(20, 20, 20), anchor="mm")
    return np.asarray(img)


def test_letter_size_is_one_for_another_word_at_the_same_size_whatever_its_ascenders() -> None:
    from tsb.photobench.judge import letter_size

    for old, new in (("at", "fox"), ("Market", "sauce"), ("mum", "Holy")):
        same = letter_size(_drawn(old, 28), _drawn(new, 28), old, new)
        assert same is not None and 0.9 < same < 1.1, (old, new, same)
        taller = letter_size(_drawn(old, 28), _drawn(new, 40), old, new)
        assert taller is not None and 1.3 < taller < 1.55, (old, new, taller)  # 40 / 28 = 1.43


def test_letter_size_leaves_the_lines_cut_by_the_crop_out() -> None:
    from tsb.photobench.judge import ink_mask, ink_rows, letter_size

    alone, crowded = _drawn("market", 24), _drawn("market", 24, lines=True)
    assert ink_rows(ink_mask(crowded)) == ink_rows(ink_mask(alone))
    same = letter_size(crowded, _drawn("sauce", 24, lines=True), "market", "sauce")
    assert same is not None and 0.9 < same < 1.1
    plate = np.full((64, 320, 3), 240, np.uint8)
    assert letter_size(plate, crowded, "", "market") is None
