"""Training content drawn in a font near the pair's own, or in its own (``data.content_fonts``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tsb.data import keys as K
from tsb.data.content import ContentFonts, render_content
from tsb.data.fonts import load_fonts
from tsb.data.synth import RENDER_STREAM, ShardData, SynthData, write_shards
from tsb.errors import ConfigError


def _fonts() -> list[str]:
    return [str(f.path) for f in load_fonts().split("train")]


def _table(tmp_path: Path, paths: list[str]) -> Path:
    """Every font's neighbours: the next two fonts of the list."""
    table = {p: [paths[(i + 1) % len(paths)], paths[(i + 2) % len(paths)]] for i, p in enumerate(paths)}
    out = tmp_path / "neighbours.json"
    out.write_text(json.dumps(table), encoding="utf-8")
    return out


def test_choice_follows_the_shares_and_the_table(tmp_path: Path) -> None:
    paths = _fonts()
    table = _table(tmp_path, paths)
    rng = np.random.default_rng(0)
    assert ContentFonts(p_true=1.0).choose(paths[0], "Word", rng) == paths[0]
    assert ContentFonts().choose(paths[0], "Word", rng) is None
    near = ContentFonts(str(table), p_neighbour=1.0)
    picks = {near.choose(paths[0], "Word", rng) for _ in range(50)}
    assert picks == {paths[1], paths[2]}
    # a neighbour that cannot draw the strings is never chosen: none draws a CJK character
    assert near.choose(paths[0], "\u4e2d", rng) is None
    mixed = ContentFonts(str(table), p_neighbour=0.5, p_true=0.2)
    got = [mixed.choose(paths[0], "Word", rng) for _ in range(2000)]
    assert got.count(paths[0]) / 2000 == pytest.approx(0.2, abs=0.04)
    assert got.count(None) / 2000 == pytest.approx(0.3, abs=0.04)


def test_bad_settings_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neighbours"):
        ContentFonts(p_neighbour=0.5)
    with pytest.raises(ConfigError, match="does not exist"):
        ContentFonts(str(tmp_path / "missing.json"), p_neighbour=0.5)
    with pytest.raises(ConfigError, match="sum"):
        ContentFonts(p_true=0.8, p_neighbour=0.5, neighbours=str(_table(tmp_path, _fonts())))


def test_synthetic_training_pairs_draw_their_content_in_their_own_font() -> None:
    data = SynthData(seed=3, train_size=20, val_size=4, batch_size=2, content_fonts={"p_true": 1.0})
    plain = SynthData(seed=3, train_size=20, val_size=4, batch_size=2)
    train, val = data.train_dataset(), data.val_dataset()
    assert val is not None and plain.val_dataset() is not None
    changed = 0
    for i in range(6):
        item, ref = train[i], plain.train_dataset()[i]
        a, b, font = train.choose(i)
        h, w = item[K.CONTENT_TGT].shape[-2:]
        assert torch.equal(item[K.CONTENT_TGT], render_content(b, h, w, str(font.path)))
        assert torch.equal(item[K.CONTENT_SRC], render_content(a, h, w, str(font.path)))
        assert torch.equal(item[K.TARGET], ref[K.TARGET])  # only the content changes
        changed += int(not torch.equal(item[K.CONTENT_TGT], ref[K.CONTENT_TGT]))
    assert changed >= 5
    # validation measures what inference sees without a font choice: the content font
    assert torch.equal(val[0][K.CONTENT_TGT], plain.val_dataset()[0][K.CONTENT_TGT])  # type: ignore[index]


def test_shards_redraw_their_content_in_the_chosen_font(tmp_path: Path) -> None:
    ds = SynthData(seed=5, train_size=100, val_size=4, batch_size=2, width=128).dataset(
        4, RENDER_STREAM, "train"
    )
    write_shards(ds, 4, tmp_path / "train", shard_size=2)
    shards = ShardData(root=str(tmp_path / "train"), content_fonts={"p_true": 1.0}, batch_size=2)
    train = shards.train_dataset()
    paths = [str(f.path) for f in load_fonts().fonts]
    for i in range(4):
        _, b, font = ds.choose(i)
        item = train[i]
        assert paths[int(item[K.FONT_ID])] == str(font.path)
        assert torch.equal(item[K.CONTENT_TGT], render_content(b, 64, 128, str(font.path)))
