from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tsb.data.crop import box_corners, clip_box, crop_rotated, expand_box, parse_box, paste_rotated


def rotated_word_image(box: tuple[float, float, float, float, float]) -> Image.Image:
    """White image; the box's left half black, right half grey (so 'upright' is testable)."""
    img = Image.new("RGB", (300, 240), "white")
    _xc, _yc, _w, _h, _a = box
    c = box_corners(box)
    left = [c[0], (c[0] + c[1]) / 2, (c[3] + c[2]) / 2, c[3]]
    right = [(c[0] + c[1]) / 2, c[1], c[2], (c[3] + c[2]) / 2]
    d = ImageDraw.Draw(img)
    d.polygon([tuple(p) for p in left], fill=(0, 0, 0))
    d.polygon([tuple(p) for p in right], fill=(128, 128, 128))
    return img


@pytest.mark.parametrize("angle", [0.0, 30.0, -50.0, 90.0])
def test_crop_rotated_box_comes_out_upright(angle: float) -> None:
    box = (150.0, 120.0, 120.0, 40.0, angle)
    crop = np.asarray(crop_rotated(rotated_word_image(box), box)).astype(float)
    assert crop.shape == (40, 120, 3)
    inner_left, inner_right = crop[6:-6, 6:54], crop[6:-6, 66:-6]
    assert inner_left.mean() < 20  # black half on the left
    assert abs(inner_right.mean() - 128) < 20  # grey half on the right


def test_ccw_convention_corners() -> None:
    # 90 degrees counter-clockwise: the box's x axis points up in the image
    c = box_corners((100, 100, 40, 10, 90))
    assert np.allclose(c[1] - c[0], [0, -40], atol=1e-6)


def test_paste_back_round_trip() -> None:
    box = (150.0, 120.0, 120.0, 40.0, 25.0)
    photo = rotated_word_image(box)
    patch = crop_rotated(photo, box)
    blank = Image.new("RGB", photo.size, "white")
    back = np.asarray(paste_rotated(blank, patch, box)).astype(float)
    ref = np.asarray(photo).astype(float)
    # compare well inside the box (edges are interpolated)
    inner = crop_rotated(Image.fromarray(np.abs(back - ref).astype(np.uint8)), expand_box(box, 0.8, 0.6))
    assert np.asarray(inner).mean() < 6
    # outside the box nothing changed
    assert np.asarray(back)[5, 5].tolist() == [255, 255, 255]


def test_parse_box() -> None:
    assert parse_box("[1.5, 2, 30, 10, -4.5]") == (1.5, 2.0, 30.0, 10.0, -4.5)
    for bad in ("[1, 2, 3, 4, 5", "1, 2, 3, 4, 5]", "[1, 2, 3, 4]", "[a, 2, 3, 4, 5]", "[1, 2, 0, 4, 5]"):
        with pytest.raises(ValueError, match="malformed box"):
            parse_box(bad)


@pytest.mark.parametrize("angle", [0.0, 10.0, -25.0])
def test_clip_box_keeps_the_part_inside_the_image(angle: float) -> None:
    inside = (50.0, 50.0, 40.0, 20.0, angle)
    assert clip_box(inside, (100, 100)) == inside  # nothing to clip: unchanged
    past = (10.0, 50.0, 60.0, 20.0, angle)  # reaches past the left edge
    clipped = clip_box(past, (100, 100), tolerance=0.0)
    corners = box_corners(clipped)
    assert (corners >= -0.5 - 1e-6).all() and (corners <= 99.5 + 1e-6).all()
    assert clipped[4] == angle and 0 < clipped[2] < past[2]
    # only the side past the edge moved: the right side stays where it was
    right = box_corners(past)[1:3].mean(axis=0)
    assert np.allclose(box_corners(clipped)[1:3].mean(axis=0), right, atol=1e-6)
    assert clip_box((-50.0, -50.0, 20.0, 20.0, angle), (100, 100))[2:4] == (0.0, 0.0)  # nothing inside
