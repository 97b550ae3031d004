"""The photo look of the synthetic pairs: sign plates, neighbouring text, lighting, camera
degradations and the packaged photo bank (tsb/data/scene.py, tsb/data/photos.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from tsb.data import keys as K
from tsb.data.photos import EXCLUDED, PACKAGED, bank_paths, packaged_photos
from tsb.data.render import EffectConfig, RenderedPair
from tsb.data.synth import SynthData, SynthDataset
from tsb.errors import ConfigError

from .conftest import no_effects

#: the probabilities of the photo look: each is off unless a config turns it on
PHOTO_LOOK = (
    "p_plate",
    "p_neighbour_line",
    "p_neighbour_word",
    "p_lighting",
    "p_specular",
    "p_motion_blur",
    "p_resample",
    "p_chroma",
)
#: the settings that only shape an effect that is on (probabilities of its variants, ranges)
SHAPING = {
    "plate_margin_x": (0.5, 0.6),
    "plate_margin_y": (0.0, 0.1),
    "p_plate_round": 1.0,
    "plate_radius": (0.3, 0.4),
    "p_plate_border": 0.0,
    "plate_border": (0.1, 0.2),
    "plate_border_inset": (0.1, 0.2),
    "p_plate_border2": 1.0,
    "neighbour_line_gap": (0.0, 0.1),
    "p_neighbour_both": 1.0,
    "p_neighbour_other": 0.0,
    "neighbour_size": (1.0, 1.1),
    "neighbour_word_gap": (0.3, 0.4),
    "lighting_strength": (0.4, 0.5),
    "p_light_tint": 1.0,
    "specular_strength": (0.5, 0.6),
    "motion_blur_px": (4.0, 5.0),
    "resample_factor": (2.0, 2.5),
    "chroma_factor": (3.0, 3.5),
}


def _dataset(effects: dict[str, Any], seed: int = 5, **kw: Any) -> SynthDataset:
    return SynthData(seed=seed, train_size=200, val_size=4, effects=effects, **kw).train_dataset()


def _plain(**on: Any) -> dict[str, Any]:
    """No style effect (solid text on a solid or gradient background), plus ``on``."""
    eff = no_effects()
    eff.update(background={"solid": 1.0, "gradient": 1.0})
    eff.update(on)
    return eff


def _pairs(ds: SynthDataset, n: int = 8) -> list[RenderedPair]:
    return [ds.render(i)[3] for i in range(n)]


def _outside(pair: RenderedPair) -> np.ndarray:
    return (pair.masks[0] == 0) & (pair.masks[1] == 0)


def _assert_pair_invariants(pair: RenderedPair) -> None:
    """Outside both masks the two images are the shared background; each mask covers every pixel
    its text changed."""
    out = _outside(pair)
    assert out.any()
    assert np.array_equal(pair.images[0][out], pair.images[1][out])
    assert np.array_equal(pair.images[0][out], pair.background[out])
    for img, mask in zip(pair.images, pair.masks):
        changed = np.any(img != pair.background, axis=2)
        assert changed.any() and np.all(mask[changed] > 0)


# ------------------------------------------------------------------------------ off by default
def test_the_photo_look_is_off_by_default() -> None:
    cfg = EffectConfig()
    for name in PHOTO_LOOK:
        assert getattr(cfg, name) == 0.0, name
    assert cfg.photo_bank == "matplotlib"  # the original two sample images
    names = {f.name for f in dataclasses.fields(EffectConfig)}
    assert set(PHOTO_LOOK) | set(SHAPING) | {"photo_bank"} <= names


@pytest.mark.parametrize("name", ["synth", "synth_simple", "synth_quickstart", "synth_cyrillic"])
def test_existing_presets_leave_it_off(cfg_factory, name: str) -> None:
    effects = instantiate(cfg_factory([f"data={name}"]).data).effects
    assert all(getattr(effects, p) == 0.0 for p in PHOTO_LOOK)
    assert effects.photo_bank == "matplotlib"


def test_an_effect_that_is_off_draws_nothing() -> None:
    """Its shaping settings change no sample: an effect at probability 0 takes no random number,
    so the samples of a config without the photo look are those rendered before it existed."""
    base = {"background": {"solid": 0.3, "gradient": 0.3, "texture": 0.2, "photo": 0.2}}
    a, b = _dataset(base), _dataset({**base, **SHAPING})
    for i in range(10):
        ia, ib = a[i], b[i]
        for k in ia:
            same = torch.equal(ia[k], ib[k]) if isinstance(ia[k], torch.Tensor) else ia[k] == ib[k]
            assert same, (i, k)


# ---------------------------------------------------------------------- background, not text
def _with_and_without(effect: str, n: int = 8, **extra: Any) -> list[tuple[RenderedPair, RenderedPair]]:
    """The same samples without and with ``effect`` (the photo look is drawn after everything
    else, so the strings, font, style and placement are the same)."""
    off, on = _dataset(_plain(**extra)), _dataset(_plain(**{effect: 1.0}, **extra))
    return [(off.render(i)[3], on.render(i)[3]) for i in range(n)]


@pytest.mark.parametrize("effect", ["p_plate", "p_neighbour_line", "p_neighbour_word"])
def test_plates_and_neighbours_are_background_shared_by_source_and_target(effect: str) -> None:
    extra = {"p_neighbour_other": 0.5, "neighbour_line_gap": (-0.1, 0.2)}
    if effect == "p_neighbour_word":
        extra["text_height"] = (0.3, 0.5)  # short words: room beside them
    drawn = 0
    for bare, pair in _with_and_without(effect, **extra):
        _assert_pair_invariants(pair)
        # the masks are the words' alone: the plate and the neighbours are not in them
        for m0, m1 in zip(bare.masks, pair.masks):
            assert np.array_equal(m0, m1)
        # the clean background holds them, and outside the words both images show them
        added = np.any(pair.background != bare.background, axis=2)
        drawn += int(added.sum())
        seen = added & _outside(pair)
        assert np.array_equal(pair.images[0][seen], pair.images[1][seen])
        assert np.array_equal(pair.images[0][seen], pair.background[seen])
    assert drawn > 0


def test_neighbour_ink_is_outside_the_word_masks() -> None:
    """Neighbouring text (another colour) shows where the masks are zero: the eraser must keep it."""
    extra = {"p_neighbour_other": 1.0, "neighbour_line_gap": (-0.05, 0.05), "text_height": (0.45, 0.6)}
    pairs = _with_and_without("p_neighbour_line", n=10, **extra)
    ink_outside = 0
    for bare, pair in pairs:
        added = np.abs(pair.background.astype(int) - bare.background.astype(int)).max(axis=2) > 40
        ink_outside += int((added & _outside(pair)).sum())
        union = (pair.masks[0] > 0) | (pair.masks[1] > 0)
        # what the masks hold is the word: the same as without neighbours
        assert np.array_equal(union, (bare.masks[0] > 0) | (bare.masks[1] > 0))
    assert ink_outside > 100


def test_lighting_changes_source_and_target_alike() -> None:
    """One multiplicative field over text and background: each image is its unlit self times the
    same gain (within the rounding to 8 bits), and the pair invariants hold."""
    for effect in ("p_lighting", "p_specular"):
        ratios = []
        for bare, pair in _with_and_without(effect, n=6):
            _assert_pair_invariants(pair)
            for m0, m1 in zip(bare.masks, pair.masks):
                assert np.array_equal(m0, m1)
            assert not np.array_equal(pair.background, bare.background)
            # the light falls on the letters as on the background: where both words fully cover
            # a pixel (the fill colour in both), the lit source and target agree there too
            both = (pair.masks[0] >= 1) & (pair.masks[1] >= 1)
            assert both.any() and np.array_equal(pair.images[0][both], pair.images[1][both])
            for k in range(2):
                text = pair.masks[k] >= 1
                if bare.images[k][text].mean() > 30:  # black stays black under any light
                    assert not np.array_equal(pair.images[k][text], bare.images[k][text])
                lit, unlit = pair.images[k].astype(float), bare.images[k].astype(float)
                ok = (unlit > 20) & (lit < 250)
                ratios.append(np.std(lit[ok] / unlit[ok]))
        assert max(ratios) > 0.02  # not a constant factor


@pytest.mark.parametrize("effect", ["p_motion_blur", "p_resample", "p_chroma", "p_lighting"])
def test_camera_and_light_keep_the_pair_invariants(effect: str) -> None:
    eff = _plain(**{effect: 1.0})
    eff.update(fill={"solid": 0.5, "gradient": 0.5}, background={"texture": 1.0, "photo": 1.0}, p_outline=0.5)
    for pair in _pairs(_dataset(eff)):
        _assert_pair_invariants(pair)


def test_camera_degradations_soften_the_text() -> None:
    for effect in ("p_motion_blur", "p_resample", "p_chroma"):
        for bare, pair in _with_and_without(effect, n=4):
            # sharp letters have fully covered pixels; degraded ones spread over more pixels
            assert (pair.masks[0] > 0).sum() > (bare.masks[0] > 0).sum(), effect


# ---------------------------------------------------------------------------- configs, seeds
def test_unknown_keys_and_banks_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown data\.effects keys \['p_plates'\]"):
        EffectConfig.from_dict({"p_plates": 1.0})
    with pytest.raises(ConfigError, match="photo_bank"):
        EffectConfig.from_dict({"photo_bank": "flickr"})


def test_deterministic_per_seed_and_index() -> None:
    eff = {p: 1.0 for p in PHOTO_LOOK} | {"photo_bank": "packages", "p_neighbour_other": 1.0}
    a, again, other = _dataset(eff, seed=11), _dataset(eff, seed=11), _dataset(eff, seed=12)
    for i in (0, 7, 3):
        x, y = a[i], again[i]
        assert all(torch.equal(x[k], y[k]) for k in K.IMAGE_KEYS + K.MASK_KEYS)
        assert x[K.TEXT_SRC] == y[K.TEXT_SRC]
    assert not torch.equal(a[0][K.STYLE], other[0][K.STYLE])


def test_the_photo_preset_turns_it_on(cfg_factory) -> None:
    cfg = cfg_factory(["data=synth_photo", "data.train_size=20", "data.val_size=4"])
    dm = instantiate(cfg.data)
    synth = instantiate(cfg_factory(["data=synth"]).data)
    assert all(getattr(dm.effects, p) > 0 for p in PHOTO_LOOK)
    assert dm.effects.photo_bank == "packages"
    assert (dm.height, dm.width) == (synth.height, synth.width) == (64, 256)  # the published model's data
    ds = dm.train_dataset()
    for i in range(6):
        _assert_pair_invariants(ds.render(i)[3])


# ------------------------------------------------------------------------------- photo bank
def test_packaged_photos_are_there_and_none_is_a_benchmark_photo() -> None:
    paths = packaged_photos()
    assert len(paths) >= 8, "scikit-image's sample photos are missing"
    assert paths == bank_paths("packages")
    names = {(p.parent.name, p.name) for p in paths}
    for _package, path in EXCLUDED:
        assert tuple(path.split("/")[-2:]) not in names, path
    from tsb.photobench import photoset

    benchmark = {src.locate() for src in photoset.PACKAGED} - {None}
    assert benchmark and not benchmark & set(paths)
    assert all(p.licence for p in PACKAGED)


def test_grey_packaged_photos_are_tinted_sometimes() -> None:
    eff = _plain(photo_bank="packages")
    eff["background"] = {"photo": 1.0}
    ds = _dataset(eff, seed=2)
    tinted = 0
    for pair in _pairs(ds, 24):
        bg = pair.background.astype(int)
        tinted += int(np.abs(bg[..., 0] - bg[..., 2]).mean() > 8)
    assert tinted >= 8  # colour photos and tinted grey ones
