"""Odd inputs to the edit command: a message or a right result, never a silent wrong one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tsb.edit import Edit, EditError, Editor, load_edits, main, open_image, parse_box


def test_16_bit_grey_png_keeps_its_pixels_outside_the_box(editor: Editor, tmp_path: Path) -> None:
    yy, xx = np.mgrid[0:48, 0:160]
    wide = (xx * 300 + yy * 100 + 1000).astype(np.uint16)  # 1000..60000: not white when scaled
    Image.fromarray(wide).save(tmp_path / "grey16.png")
    img = open_image(tmp_path / "grey16.png")
    assert img.mode.startswith("I")
    out, _ = editor.edit(img, [Edit(parse_box("40,10,60,28"), "ab")])
    arr = np.asarray(out).astype(np.int64)
    assert out.size == img.size and arr.max() > 255  # still 16-bit
    inside = np.zeros(arr.shape, bool)
    inside[9:40, 39:102] = True  # the box and its edge pixels
    assert np.array_equal(arr[~inside], wide.astype(np.int64)[~inside])  # was 255*257 (white) before
    assert not np.array_equal(arr[inside], wide.astype(np.int64)[inside])


def test_null_text_in_edits_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "edits.json"
    path.write_text(json.dumps([{"box": "0,0,10,10", "text": None}]))
    with pytest.raises(EditError, match='"text" must be a string'):
        load_edits(path)


def test_text_far_longer_than_its_box_is_refused(editor: Editor) -> None:
    img = Image.new("RGB", (200, 60), "white")
    with pytest.raises(EditError, match=r"500 characters\) needs a box"):
        editor.edit(img, [Edit(parse_box("10,10,80,30"), "a" * 500)])
    editor.edit(img, [Edit(parse_box("10,10,80,30"), "abc")])  # a normal word still fits


def test_animated_gif_is_refused(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (40, 20), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(EditError, match="2 frames"):
        open_image(tmp_path / "anim.gif")


def test_edit_honours_hydra_full_error(tiny_ckpt: Path, tmp_path: Path) -> None:
    Image.new("RGB", (64, 32)).save(tmp_path / "in.png")
    args = ["--ckpt", str(tiny_ckpt), "--image", str(tmp_path / "in.png"), "--box", "2,2,40,20", "--text", "",
            "--out", str(tmp_path / "out.png")]  # fmt: skip
    assert main(args) == 2
    res = subprocess.run([sys.executable, "-m", "tsb.edit", *args], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HYDRA_FULL_ERROR": "1"})  # fmt: skip
    assert res.returncode == 1 and "Traceback" in res.stderr and "EditError" in res.stderr
