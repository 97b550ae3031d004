"""Typeface retrieval: the index file round trip, the nearest installed font, the font matcher's method."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tsb.data.content import render_content
from tsb.data.fontcrops import draw_word
from tsb.data.fonts import load_fonts
from tsb.errors import CheckpointError
from tsb.inference.font_match import FontMatch
from tsb.inference.typeface import TypefaceIndex, fit_crop, font_key
from tsb.models.typeface_encoder import TypefaceEncoder


def _crop(font_path: str, text: str) -> torch.Tensor:
    font = next(f for f in load_fonts(packages=("matplotlib",)).fonts if f.path == font_path)
    x = torch.from_numpy(draw_word(font, text, 32, 128)).float().div(127.5).sub(1.0)
    return x[None, None].expand(1, 3, 32, 128)


@pytest.fixture(scope="module")
def index() -> TypefaceIndex:
    """An untrained encoder whose prototypes are the embeddings of one drawing per font."""
    torch.manual_seed(0)
    fonts = load_fonts(packages=("matplotlib",)).fonts[:6]
    encoder = TypefaceEncoder(num_classes=8, dim=32, channels=(8, 16, 16, 32)).eval()
    protos = torch.cat([encoder.embed(_crop(f.path, "Hamburg")) for f in fonts]).detach()
    return TypefaceIndex(encoder, [font_key(f) for f in fonts], protos)


def test_a_drawing_finds_its_own_font_first(index: TypefaceIndex) -> None:
    fonts = [f for f in index.fonts() if f is not None]
    assert len(fonts) == 6
    for font in fonts:
        top = index.search(_crop(font.path, "Hamburg"), "Hamburg", k=3)[0]
        assert top[0].font.path == font.path and top[0].similarity == pytest.approx(1.0, abs=1e-4)
        assert len(top) == 3 and top[0].similarity >= top[1].similarity >= top[2].similarity


def test_fonts_that_cannot_draw_the_word_or_are_excluded_are_skipped(index: TypefaceIndex) -> None:
    fonts = [f for f in index.fonts() if f is not None]
    query = _crop(fonts[0].path, "Hamburg")
    banned = index.search(query, "Hamburg", k=6, exclude_families=[fonts[0].family])[0]
    assert all(m.font.family != fonts[0].family for m in banned)
    assert index.search(query, "\u4e2d", k=3)[0] == []  # no Latin font draws a CJK character
    assert index.search(query, "Hamburg", k=3, sources=("fontlib",))[0] == []  # all six are matplotlib's
    assert len(index.search(query, "Hamburg", k=3, sources=("matplotlib",))[0]) == 3


def test_the_index_file_round_trips_and_refuses_bad_files(index: TypefaceIndex, tmp_path: Path) -> None:
    path = index.save(tmp_path / "index.safetensors")
    back = TypefaceIndex.load(path)
    assert back.keys == index.keys
    query = torch.rand(2, 3, 64, 256) * 2 - 1
    assert torch.allclose(back.embed(query), index.embed(query), atol=1e-5)
    assert torch.allclose(back.protos, index.protos, atol=2e-3)  # stored as float16
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a typeface index"):
        TypefaceIndex.load(tmp_path / "bad.safetensors")
    with pytest.raises(CheckpointError, match="does not exist"):
        TypefaceIndex.load(tmp_path / "missing.safetensors")
    bad = TypefaceIndex(index.encoder, index.keys, torch.full_like(index.protos, float("nan")))
    with pytest.raises(CheckpointError, match="NaN"):
        TypefaceIndex.load(bad.save(tmp_path / "nan.safetensors"))


def test_fit_crop_keeps_the_aspect() -> None:
    x = torch.zeros(1, 1, 64, 128)
    x[..., 16:48, 32:96] = 1.0  # ink 32 high, 64 wide
    y = fit_crop(x, (32, 128))  # half the size: the height fits, the width is padded
    assert y.shape == (1, 1, 32, 128)
    rows, cols = (y[0, 0] > 0.5).any(1).nonzero(), (y[0, 0] > 0.5).any(0).nonzero()
    assert (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)) == (16, 32)


def test_the_matcher_draws_both_words_in_the_retrieved_font(index: TypefaceIndex) -> None:
    fonts = [f for f in index.fonts() if f is not None]
    matcher = FontMatch(split="all", method="embedding")
    matcher._index = index
    style = _crop(fonts[2].path, "Hamburg")
    choice = matcher.choose(lambda *a: None, style, "Hamburg", "Berlin", height=32, width=128)  # type: ignore[arg-type,return-value]
    assert choice.font == fonts[2].path
    assert choice.content.shape == choice.source.shape == render_content("Berlin", 32, 128).shape
    assert torch.equal(choice.content, render_content("Berlin", 32, 128, fonts[2].path))
    assert choice.error == pytest.approx(0.0, abs=1e-4)


def test_a_card_beside_the_index_pins_its_hash(index: TypefaceIndex, tmp_path: Path) -> None:
    import json

    path = index.save(tmp_path / "index.safetensors")
    from tsb.utils.io import file_digest

    card = tmp_path / "index.json"
    card.write_text(json.dumps({"sha256": file_digest(path, "sha256")}))
    assert TypefaceIndex.load(path).keys == index.keys
    card.write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(CheckpointError, match="SHA-256"):
        TypefaceIndex.load(path)


def test_neighbours_are_other_families_nearest_first(index: TypefaceIndex) -> None:
    from tsb.inference.typeface import neighbours

    fonts = [f for f in index.fonts() if f is not None]
    table = neighbours(index, k=3, split="all")
    assert set(table) == {f.path for f in fonts}
    family = {f.path: f.family for f in fonts}
    row = {f.path: i for i, f in enumerate(fonts)}
    for path, near in table.items():
        others = [f for f in fonts if f.family != family[path]]
        assert len(near) == min(3, len(others))
        assert all(family[p] != family[path] for p in near)
        sims = [float(index.protos[row[path]] @ index.protos[row[p]]) for p in near]
        assert sims == sorted(sims, reverse=True)
        best = max(float(index.protos[row[path]] @ index.protos[row[f.path]]) for f in others)
        assert sims[0] == pytest.approx(best)


def test_the_shortlist_lets_the_model_choose_among_the_nearest_fonts(index: TypefaceIndex) -> None:
    from tsb.models.generator import GeneratorOutput

    fonts = [f for f in index.fonts() if f is not None]
    seen: list[int] = []

    def redraw(style: torch.Tensor, content: torch.Tensor, source: torch.Tensor | None) -> GeneratorOutput:
        """A model that redraws its source rendering as it is: the true font redraws exactly."""
        seen.append(content.shape[0])
        image = content.expand(-1, 3, -1, -1)
        return GeneratorOutput(image=image, mask=image[:, :1], masks=[image[:, :1]])

    target = fonts[3].path
    style = render_content("Hamburg", 32, 128, target)[None].expand(1, 3, 32, 128)
    matcher = FontMatch(split="all", method="shortlist", shortlist=len(fonts))
    matcher._index = index
    choice = matcher.choose(redraw, style, "Hamburg", "Berlin", height=32, width=128)
    assert choice.font == target and choice.error == pytest.approx(0.0, abs=1e-6)
    assert torch.equal(choice.content, render_content("Berlin", 32, 128, target))
    from tsb.data.content import content_font_path

    # the six fonts and the content font (one of them here), each once, nothing else
    assert sum(seen) == len({content_font_path(), *(f.path for f in fonts)})
    seen.clear()
    one = FontMatch(split="all", method="shortlist", shortlist=1)
    one._index = index
    one.choose(redraw, style, "Hamburg", "Berlin", height=32, width=128)
    assert sum(seen) <= 2  # the encoder's nearest font and the content font


def test_illegible_fonts_are_marked_kept_in_the_file_and_skipped(index: TypefaceIndex, tmp_path: Path) -> None:
    from tsb.inference.typeface import LEGIBILITY_WORDS, legibility

    calls: list[int] = []

    def reader(images: torch.Tensor) -> list[str]:
        """Reads every other font's words as capitals (a capitals-only face), with a stray mark."""
        calls.append(images.shape[0])
        words = [f"~{w}" for w in LEGIBILITY_WORDS[: images.shape[0]]]
        return words if len(calls) % 2 else [w.upper() for w in words]

    marks = legibility(index, reader)
    assert marks == [True, False, True, False, True, False]
    assert all(n == len(LEGIBILITY_WORDS) for n in calls)
    fonts = [f for f in index.fonts() if f is not None]
    marked = TypefaceIndex(index.encoder, index.keys, index.protos, marks)
    back = TypefaceIndex.load(marked.save(tmp_path / "marked.safetensors"))
    assert back.legible == marks
    query = _crop(fonts[1].path, "Hamburg")  # an illegible font's own drawing
    found = back.search(query, "Hamburg", k=6)[0]
    assert {m.font.path for m in found} == {f.path for f, ok in zip(fonts, marks, strict=True) if ok}
    assert back.search(query, "Hamburg", k=1, legible_only=False)[0][0].font.path == fonts[1].path
