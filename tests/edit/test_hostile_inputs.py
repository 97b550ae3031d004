"""Photos, files and checkpoints that used to come out wrong without a word: float and 32-bit TIFFs,
an ``--out`` over the photo on a full disk, JPEG re-encoding, weights that are NaN, folders and
devices given as files, a Latin-1 edits file, conflicting edits, a bad ``--source-text``, angle 360.
"""

from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from tsb.edit import Edit, Editor, main, pixels_inside
from tsb.errors import CheckpointError, EditError

BOX = "10,10,60,30"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _outside(size: tuple[int, int], box: str = BOX) -> np.ndarray:
    from tsb.edit import parse_box

    inside = pixels_inside(parse_box(box), (0, 0), size).astype(bool)  # type: ignore[arg-type]
    return ~inside


# ----------------------------------------------------------------------------------- wide photos
def test_a_float_tiff_keeps_its_values_instead_of_going_black(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = np.tile(np.linspace(0.1, 0.9, 160, dtype=np.float32), (60, 1))
    src = tmp_path / "float.tif"
    Image.fromarray(values, mode="F").save(src)
    out = tmp_path / "edited.tif"
    code, _, err = _run(["--ckpt", str(tiny_ckpt), "--image", str(src), "--box", BOX, "--text", "ab",
                         "--no-read", "--out", str(out)], capsys)  # fmt: skip
    assert code == 0, err
    result = Image.open(out)
    assert result.mode == "F" and result.size == (160, 60)
    got = np.asarray(result)
    outside = _outside((160, 60))
    assert np.array_equal(got[outside], values[outside])  # untouched pixels are the photo's, not black
    assert got.min() >= 0 and got.max() <= 1 and got[~outside].mean() > 0.05


def test_a_float_tiff_to_png_is_refused_before_the_model_loads(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "float.tif"
    Image.fromarray(np.full((60, 160), 0.5, np.float32), mode="F").save(src)
    code, _, err = _run(["--ckpt", str(tiny_ckpt), "--image", str(src), "--box", BOX, "--text", "ab",
                         "--out", str(tmp_path / "o.png")], capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and ".tif" in err, err
    assert not (tmp_path / "o.png").exists()


def test_a_32_bit_tiff_above_16_bits_is_refused_not_wrapped(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "wide.tif"
    Image.fromarray(np.tile(np.linspace(0, 200_000, 160).astype(np.int32), (60, 1)), mode="I").save(src)
    out = tmp_path / "o.tif"
    code, _, err = _run(["--ckpt", str(tiny_ckpt), "--image", str(src), "--box", BOX, "--text", "ab",
                         "--out", str(out)], capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "200000" in err and "65535" in err, err
    assert not out.exists()


# ------------------------------------------------------------------------------- writing --out
def test_out_over_the_photo_on_a_full_disk_keeps_the_photo(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 160, 3), dtype=np.uint8)).save(photo)
    before = photo.read_bytes()

    def disk_full(self: Image.Image, fp: Any, format: Any = None, **params: Any) -> None:
        data = b"\x89PNG\r\n\x1a\n half a file"
        if isinstance(fp, (str, os.PathLike)):
            Path(fp).write_bytes(data)
        else:
            fp.write(data)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    code, _, err = _run(["--ckpt", str(tiny_ckpt), "--image", str(photo), "--box", BOX, "--text", "ab",
                         "--out", str(photo)], capsys)  # fmt: skip
    assert code != 0 and err.count("\n") == 1 and "No space left on device" in err, err
    assert ".png or .jpg" not in err and "unchanged" in err
    assert photo.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]  # no temporary left either


def test_a_jpeg_edited_in_place_keeps_its_quality_and_colour_profile(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import ImageCms

    rng = np.random.default_rng(1)
    smooth = np.cumsum(rng.normal(0, 3, (120, 320, 3)), axis=1)
    arr = np.clip(128 + smooth - smooth.mean(axis=1, keepdims=True), 0, 255).astype(np.uint8)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = tmp_path / "photo.jpg"
    Image.fromarray(arr).save(photo, quality=95, icc_profile=icc)
    original = np.asarray(Image.open(photo).convert("RGB")).astype(np.float64)
    code, _, err = _run(["--ckpt", str(tiny_ckpt), "--image", str(photo), "--box", BOX, "--text", "ab",
                         "--no-read", "--out", str(photo)], capsys)  # fmt: skip
    assert code == 0, err
    edited = Image.open(photo)
    assert edited.info.get("icc_profile") == icc
    after = np.asarray(edited.convert("RGB")).astype(np.float64)
    far = np.zeros(after.shape[:2], bool)
    far[:, 160:] = True  # well away from the box and the blocks it touches
    psnr = 10 * np.log10(255**2 / np.mean((after[far] - original[far]) ** 2))
    assert psnr > 37, psnr  # re-encoded at quality 75: 33 dB; with its own tables: 39 dB
    assert "JPEG" in err and ".png" in err  # said: a JPEG cannot keep the untouched pixels exactly


def test_a_16_bit_colour_photo_is_said_to_be_written_in_8_bits(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    photo = tmp_path / "deep.png"
    wide = np.tile(np.linspace(0, 65535, 160).astype(np.uint16)[None, :, None], (60, 1, 3))
    cv2.imwrite(str(photo), wide)
    code, out, err = _run(["--ckpt", str(tiny_ckpt), "--image", str(photo), "--box", BOX, "--text", "ab",
                           "--no-read", "--out", str(tmp_path / "o.png")], capsys)  # fmt: skip
    assert code == 0, err
    assert "16 bits" in out + err and "8 bits" in out + err


# ------------------------------------------------------------------------------ NaN checkpoints
def _nan_checkpoint(tiny_ckpt: Path, tmp_path: Path) -> Path:
    from tsb.training.checkpoint import load_checkpoint, save_checkpoint

    state = load_checkpoint(tiny_ckpt)
    key = next(k for k, v in state["task"].items() if v.is_floating_point() and v.numel() > 1)
    state["task"][key] = torch.full_like(state["task"][key], float("nan"))
    state.pop("format"), state.pop("version")
    return save_checkpoint(tmp_path / "diverged.ckpt", state)


def test_a_checkpoint_of_nan_weights_is_refused_at_load(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """tsb.edit pasted a black box with exit 0; evaluate.py crashed in the FID code."""
    from tsb.training.checkpoint import load_task

    bad = _nan_checkpoint(tiny_ckpt, tmp_path)
    with pytest.raises(CheckpointError, match=r"diverged\.ckpt holds weights that are NaN or infinite"):
        load_task(bad)
    Image.new("RGB", (160, 60), "white").save(tmp_path / "photo.png")
    code, _, err = _run(["--ckpt", str(bad), "--image", str(tmp_path / "photo.png"), "--box", BOX,
                         "--text", "ab", "--out", str(tmp_path / "o.png")], capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "NaN" in err, err
    assert not (tmp_path / "o.png").exists()


# --------------------------------------------------------------------------- files that are not
@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_folder_fifo_or_device_as_image_says_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = {"folder": tmp_path, "fifo": tmp_path / "pipe", "device": Path("/dev/zero")}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    code, _, err = _run(["--image", str(path), "--box", BOX, "--text", "ab", "--out", str(tmp_path / "o.png")],
                        capsys)  # fmt: skip
    said = {"folder": "is a folder", "fifo": "not a regular file", "device": "not a regular file"}[kind]
    assert code == 2 and err.count("\n") == 1 and said in err and "does not exist" not in err, err


def test_a_folder_as_checkpoint_says_so(tmp_path: Path) -> None:
    from tsb.training.checkpoint import load_checkpoint, load_weights

    with pytest.raises(CheckpointError, match=r"is a folder.*last\.ckpt"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="is a folder"):
        load_weights(tmp_path / ".")


# ------------------------------------------------------------------------------- edits and text
def test_a_latin_1_edits_file_is_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edits = tmp_path / "edits.json"
    edits.write_bytes(json.dumps([{"box": BOX, "text": "caf\u00e9"}], ensure_ascii=False).encode("latin-1"))
    Image.new("RGB", (160, 60)).save(tmp_path / "photo.png")
    code, _, err = _run(["--image", str(tmp_path / "photo.png"), "--edits", str(edits), "--out",
                         str(tmp_path / "o.png")], capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "UTF-8" in err and "edits.json" in err, err


@pytest.mark.parametrize(
    "second",
    [Edit((40.0, 25.0, 60.0, 30.0, 0.0), "cd"), Edit((41.0, 25.0, 60.0, 30.0, 0.0), "", erase=True)],
    ids=["replaced twice", "replaced and erased"],
)
def test_conflicting_edits_of_one_word_are_refused(editor: Editor, second: Edit) -> None:
    """The last one used to win silently."""
    image = Image.new("RGB", (160, 60), "white")
    with pytest.raises(EditError, match=r"edits 1 and 2 .*same word"):
        editor.edit(image, [Edit((40.0, 25.0, 60.0, 30.0, 0.0), "ab"), second])


@pytest.mark.parametrize(
    ("source", "said"), [("", "--source-text is empty"), ("h\u00e9\u2603", "--source-text")]
)
def test_source_text_is_checked_like_text(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, said: str
) -> None:
    Image.new("RGB", (160, 60), "white").save(tmp_path / "photo.png")
    code, _, err = _run(["--ckpt", str(tiny_ckpt), "--image", str(tmp_path / "photo.png"), "--box", BOX,
                         "--text", "ab", "--source-text", source, "--out", str(tmp_path / "o.png")],
                        capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and said in err, err
    assert not (tmp_path / "o.png").exists()


def test_angle_360_is_angle_0(editor: Editor) -> None:
    rng = np.random.default_rng(2)
    image = Image.fromarray(rng.integers(0, 255, (60, 160, 3), dtype=np.uint8))
    results = []
    for angle in (0.0, 360.0, -720.0):
        out, _ = editor.edit(image, [Edit((40.0, 25.0, 60.0, 30.0, angle), "ab", source="xy")])
        buf = io.BytesIO()
        out.save(buf, format="PNG")
        results.append(np.asarray(out))
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])
