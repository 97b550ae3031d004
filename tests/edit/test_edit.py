"""The edit command: sizes and modes kept, pixels outside the box unchanged, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.helpers.boxes import outside_mask
from tests.helpers.paths import REAL_WORDS
from tsb.edit import Edit, EditError, Editor, main, parse_box


def _real_words() -> list[Path]:
    if not REAL_WORDS.is_dir():
        pytest.skip(f"{REAL_WORDS} is not present")
    files = sorted(p for p in REAL_WORDS.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    assert files, f"no images in {REAL_WORDS}"
    return files


def test_every_real_word_whole_box(editor: Editor) -> None:
    for path in _real_words():
        img = Image.open(path)
        out, infos = editor.edit(img, [Edit(parse_box(f"0,0,{img.width},{img.height}"), "Hello")])
        assert out.size == img.size, path.name
        assert out.mode == ("RGBA" if img.mode == "RGBA" else "RGB"), path.name
        assert infos[0].size[1] == 64 and infos[0].size[0] % 16 == 0
        assert not np.array_equal(np.asarray(out.convert("RGB")), np.asarray(img.convert("RGB"))), path.name


@pytest.mark.parametrize("angle", [0, 12])
def test_smaller_box_leaves_outside_pixels_unchanged(editor: Editor, angle: int) -> None:
    for path in _real_words():
        img = Image.open(path)
        w, h = img.size
        k = 2 if angle == 0 else 3  # a tilted box needs more room to stay inside thin images
        bw, bh = max(8, w // k), max(8, h // k)
        box = f"{(w - bw) // 2},{(h - bh) // 2},{bw},{bh},{angle}"
        out, _ = editor.edit(img, [Edit(parse_box(box), "new")])
        assert out.size == img.size
        a, b = np.asarray(img.convert(out.mode)), np.asarray(out)
        outside = outside_mask(img.size, box)
        assert np.array_equal(a[outside], b[outside]), path.name
        assert not np.array_equal(a[~outside], b[~outside]), path.name  # the box did change
        if img.mode == "RGBA":  # transparency is kept everywhere
            assert np.array_equal(np.asarray(img)[..., 3], b[..., 3])


def test_cli_on_a_real_word(tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _real_words()[0]
    img = Image.open(src)
    out = tmp_path / "edited.png"
    rc = main(
        [
            "--ckpt",
            str(tiny_ckpt),
            "--image",
            str(src),
            "--box",
            f"0,0,{img.width},{img.height}",
            "--text",
            "new words",
            "--out",
            str(out),
            "--verbose",
        ]
    )
    assert rc == 0
    assert Image.open(out).size == img.size
    text = capsys.readouterr().out
    assert "'new words'" in text and "CPU latency" in text


def test_geometry_round_trip_with_echo_model(echo_ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that returns its style crop: pasting back must reproduce the photo inside a tilted box."""
    # the stand-in lives in tests/, outside the classes a checkpoint may build
    import tsb.utils.safe_config as safe

    monkeypatch.setattr(safe, "ALLOWED_PACKAGES", (*safe.ALLOWED_PACKAGES, "tests.helpers.standin."))
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:120, 0:200]
    arr = np.stack([xx * 1.2, yy * 2.0, (xx + yy) * 0.7], -1) % 255  # smooth, position-coded
    img = Image.fromarray((arr + rng.normal(0, 1, arr.shape)).clip(0, 255).astype(np.uint8))
    editor = Editor(echo_ckpt, "cpu", context=0.15, feather=0.0)
    box = "60,40,90,36,20"
    out, _ = editor.edit(img, [Edit(parse_box(box), "abc")])
    a, b = np.asarray(img).astype(float), np.asarray(out).astype(float)
    inside = ~outside_mask(img.size, box)
    assert (
        np.abs(a - b)[inside].mean() < 2.0
    )  # resampling twice blurs a little (about 0.4); a shift costs far more


def test_grey_exif_and_large_images(editor: Editor, tiny_ckpt: Path, tmp_path: Path) -> None:
    grey = Image.fromarray(np.tile(np.arange(160, dtype=np.uint8), (60, 1)), mode="L")
    out, _ = editor.edit(grey, [Edit(parse_box("20,10,80,30"), "grey")])
    assert out.mode == "L" and out.size == grey.size
    outside = outside_mask(grey.size, "20,10,80,30")
    assert np.array_equal(np.asarray(out)[outside], np.asarray(grey)[outside])

    # a JPEG stored 60 wide x 100 high, EXIF orientation 6 (rotate 90° clockwise to display)
    stored = Image.new("RGB", (60, 100), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    jpg = tmp_path / "rot.jpg"
    stored.save(jpg, exif=exif.tobytes())
    out_path = tmp_path / "rot_out.png"
    assert (
        main(
            [
                "--ckpt",
                str(tiny_ckpt),
                "--image",
                str(jpg),
                "--box",
                "10,10,60,30",
                "--text",
                "up",
                "--out",
                str(out_path),
            ]
        )
        == 0
    )
    assert Image.open(out_path).size == (100, 60)  # displayed orientation

    big = Image.new("RGB", (2400, 1600), (10, 120, 200))
    out, _ = editor.edit(big, [Edit(parse_box("1000,700,400,120,-5"), "large")])
    assert out.size == big.size
    assert np.array_equal(np.asarray(out)[:600], np.asarray(big)[:600])


def test_edits_file_applies_all(editor: Editor, tiny_ckpt: Path, tmp_path: Path) -> None:
    img = Image.new("RGB", (300, 100), (240, 240, 230))
    src = tmp_path / "in.png"
    img.save(src)
    edits = tmp_path / "edits.json"
    edits.write_text(
        json.dumps([{"box": "10,10,100,40", "text": "one"}, {"box": [150, 40, 120, 50, 8], "text": "two"}])
    )
    out = tmp_path / "out.png"
    assert (
        main(["--ckpt", str(tiny_ckpt), "--image", str(src), "--edits", str(edits), "--out", str(out)]) == 0
    )
    res = np.asarray(Image.open(out))
    assert not np.array_equal(res[10:50, 10:110], np.asarray(img)[10:50, 10:110])
    assert not np.array_equal(res[45:85, 160:260], np.asarray(img)[45:85, 160:260])
    assert np.array_equal(res[:, 285:], np.asarray(img)[:, 285:])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--box", "260,10,100,40", "--text", "far"], "lies mostly outside the 300x100 image"),
        (["--box=-50,-50,20,20", "--text", "far"], "lies mostly outside"),
        (["--box", "10,10,100,40", "--text", "   "], "text is empty"),
        (["--box", "10,10,100,40", "--text", "café"], "outside the model's alphabet"),
        (["--box", "10,10,100", "--text", "x"], "has 3 numbers"),
        (["--box", "a,b,c,d", "--text", "x"], "is not X,Y,W,H"),
        (["--box", "10,10,0,40", "--text", "x"], "at least 1 pixel"),
        (["--box", "10,10,100,40"], "go together"),
    ],
)
def test_errors_are_one_clear_message(
    tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    src = tmp_path / "in.png"
    Image.new("RGB", (300, 100), (255, 255, 255)).save(src)
    rc = main(["--ckpt", str(tiny_ckpt), "--image", str(src), "--out", str(tmp_path / "o.png"), *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_no_edits(editor: Editor) -> None:
    with pytest.raises(EditError, match="nothing to edit"):
        editor.edit(Image.new("RGB", (8, 8)), [])


def test_unreadable_inputs(tiny_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "not_an_image.jpg"
    bad.write_text("hello")
    base = ["--ckpt", str(tiny_ckpt), "--box", "0,0,5,5", "--text", "x", "--out", str(tmp_path / "o.png")]
    assert main([*base, "--image", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main([*base, "--image", str(tmp_path / "missing.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    good = tmp_path / "in.png"
    Image.new("RGB", (20, 20)).save(good)
    assert main([*base, "--image", str(good), "--ckpt", str(tmp_path / "none.ckpt")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    assert main([*base, "--image", str(good), "--edits", str(tmp_path / "none.json")]) == 2
    assert "cannot read the edits file" in capsys.readouterr().err


def test_poisson_blend_stays_in_the_box_and_falls_back_at_the_border(tiny_ckpt: Path) -> None:
    editor = Editor(tiny_ckpt, "cpu", blend="poisson")
    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 255, (80, 200, 3), dtype=np.uint8))
    box = "40,20,100,40,6"
    out, infos = editor.edit(img, [Edit(parse_box(box), "word")])
    assert infos[0].blend == "poisson"
    outside = outside_mask(img.size, box)
    assert np.array_equal(np.asarray(out)[outside], np.asarray(img)[outside])
    assert not np.array_equal(np.asarray(out)[~outside], np.asarray(img)[~outside])
    _, infos = editor.edit(img, [Edit(parse_box("0,0,200,80"), "word")])
    assert infos[0].blend.startswith("alpha")


def test_a_box_past_the_image_edge_is_clipped_to_it(tiny_ckpt: Path, tmp_path: Path) -> None:
    """A detected word at the photo's edge (its box padded past it) is edited inside the image."""
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (100, 300, 3), dtype=np.uint8))
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    img.save(src)
    # x from 220 to 320: a fifth of the box lies past the right edge
    assert main(["--ckpt", str(tiny_ckpt), "--image", str(src), "--box", "220,30,100,40", "--text", "far",
                 "--out", str(out)]) == 0  # fmt: skip
    before, after = np.asarray(img), np.asarray(Image.open(out))
    changed = np.nonzero(np.any(before != after, axis=2))
    assert changed[0].size > 0
    assert changed[1].min() >= 219 and changed[0].min() >= 29 and changed[0].max() <= 70  # in the box
    assert changed[1].max() >= 290  # up to the image's edge


@pytest.mark.parametrize("method", ["embedding", "shortlist"])
def test_match_font_by_the_encoder_draws_in_a_font_it_names(tiny_ckpt: Path, method: str) -> None:
    """embedding: the nearest package font; shortlist: one the model chose among the index's
    nearest legible fonts and the content font. --verbose prints the font's name."""
    from tsb.data.content import content_font_path
    from tsb.data.fonts import PACKAGES, load_fonts

    editor = Editor(tiny_ckpt, "cpu", match_font=method)
    assert editor.font_match is not None and editor.font_match.method == method
    img = Image.new("RGB", (160, 48), (240, 240, 240))
    ImageDraw.Draw(img).text((10, 10), "Hello", fill=(20, 20, 20))
    _, infos = editor.edit(img, [Edit(parse_box("4,4,100,36"), "World", source="Hello")])
    if method == "embedding":
        allowed = {str(f.path) for f in load_fonts(packages=PACKAGES).fonts}
    else:
        index = editor.font_match.index
        marks = index.legible or [True] * len(index.keys)
        allowed = {str(f.path) for f, ok in zip(index.fonts(), marks) if f and ok} | {content_font_path()}
    assert infos[0].font in allowed
