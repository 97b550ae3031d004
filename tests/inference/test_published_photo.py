"""The published weights with their own photo steps (``inference=photo``, the default for them)."""

from __future__ import annotations

import pytest
import torch
from PIL import Image, ImageDraw

from tests.helpers.paths import REAL_WORDS
from tsb import published
from tsb.edit import Edit, Editor, parse_box
from tsb.inference.pipeline import build_pipeline
from tsb.utils.colour import rgb_to_lab
from tsb.utils.image import pil_to_tensor


def test_the_photo_steps_draw_toasts_3d_sides_under_bread() -> None:
    """The shipped weights on a real 3-D sign (white faces on navy sides, the sides running
    down-left): the new word gets dark sides below-left of its letters; with the ``extrusion``
    step switched off, the same pixels stay the light wall (docs/lab-notes.md, "Photos")."""
    entries = published.read_manifest()
    if published.DEFAULT not in entries or not (REAL_WORDS / "demo_5.png").is_file():
        pytest.skip("needs the published weights and shared/data/real-words")
    photo = Image.open(REAL_WORDS / "demo_5.png").convert("RGB")
    editor = Editor(None, "cpu", read_source=False)
    assert "extrusion" in editor.pipeline.steps  # the published weights' own preset: photo
    box = parse_box(f"0,0,{photo.width},{photo.height}")
    edits = [Edit(box, "BREAD", source="TOAST")]
    with_sides, _ = editor.edit(photo, edits)
    editor.pipeline = build_pipeline("photo", ["extrusion=null"])
    flat, _ = editor.edit(photo, edits)
    lab_sides = rgb_to_lab(pil_to_tensor(with_sides, "RGB")[None])[0, 0]
    lab_flat = rgb_to_lab(pil_to_tensor(flat, "RGB")[None])[0, 0]
    dark = (lab_sides < 50) & (lab_flat > 60)  # navy with the sides, the light wall without
    assert float(dark.float().mean()) > 0.03
    # the new letters: light pixels the edit drew where the photo was not as light
    lab = rgb_to_lab(torch.stack([pil_to_tensor(im, "RGB") for im in (flat, photo)]))
    letters = (lab[0, 0] > 70) & ((lab[0] - lab[1]).norm(dim=0) > 15)
    assert float(letters.float().mean()) > 0.03
    # the sides run down-left from them
    dy, dx = (torch.nonzero(m).float().mean(0) for m in (dark, letters))
    assert float(dy[0]) > float(dx[0]) and float(dy[1]) < float(dx[1])


def test_the_network_alone_differs_from_the_photo_pipeline_on_a_real_crop() -> None:
    """``--inference none`` is the network as trained: on a photo it is not what ``photo`` draws
    (the steps are on by default for the published weights, off for a run of one's own)."""
    if not (REAL_WORDS / "demo_1.png").is_file():
        pytest.skip("needs shared/data/real-words")
    photo = Image.open(REAL_WORDS / "demo_1.png").convert("RGB")
    box = parse_box(f"0,0,{photo.width},{photo.height}")
    edits = [Edit(box, "Welcome", source="Available")]
    photo_edit, _ = Editor(None, "cpu", read_source=False).edit(photo, edits)
    plain = Editor(None, "cpu", read_source=False, inference="none")
    assert plain.pipeline.steps == []
    plain_edit, _ = plain.edit(photo, edits)
    diff = (pil_to_tensor(photo_edit, "RGB") - pil_to_tensor(plain_edit, "RGB")).abs()
    assert float(diff.mean()) > 0.01


def test_an_unknown_preset_or_step_is_one_message() -> None:
    from tsb.errors import ConfigError

    with pytest.raises(ConfigError, match="no inference preset 'phot'"):
        build_pipeline("phot")
    with pytest.raises(ConfigError, match="does not build"):
        build_pipeline("photo", ["sparkle=1"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        build_pipeline("photo", ["extrusion"])


def test_a_pipeline_without_named_steps_is_a_copy_with_them_off() -> None:
    from tsb.errors import ConfigError

    photo = build_pipeline("photo")
    light = photo.without("ink_height")
    assert "ink_height" in photo.steps and "ink_height" not in light.steps
    assert [s for s in photo.steps if s != "ink_height"] == light.steps
    assert light.refine is photo.refine  # the other steps are the same objects
    assert photo.without("sharp_mask").effect_ring == 0 and photo.effect_ring > 0
    with pytest.raises(ConfigError, match="no inference step"):
        photo.without("sparkle")


def test_the_font_matcher_redraws_candidates_without_the_letter_height_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor's redrawing of font candidates leaves out ``FontMatch.redraw_without`` (the
    letter-height step, measured per candidate), and its output still uses the whole pipeline."""
    from tsb.inference.font_match import FontMatch

    editor = Editor(None, "cpu", read_source=False)
    editor.font_match = FontMatch(method="shortlist")
    seen: list[list[str]] = []
    original = type(editor.pipeline).generate

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(self.steps)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(editor.pipeline), "generate", spy)
    photo = Image.new("RGB", (160, 48), (240, 240, 240))
    ImageDraw.Draw(photo).text((10, 10), "Harbour", fill=(20, 20, 20))
    editor.edit(photo, [Edit(parse_box("0,0,160,48"), "Station", source="Harbour")])
    assert seen[0] == [s for s in editor.pipeline.steps if s != "ink_height"]  # the candidates
    assert seen[-1] == editor.pipeline.steps  # the output
