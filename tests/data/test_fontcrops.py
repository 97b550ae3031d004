"""Word crops by typeface: the split into training and validation words, labels, the photometric changes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsb.data.fontcrops import FontCropData, augment, draw_word
from tsb.data.fonts import load_fonts
from tsb.errors import ConfigError


@pytest.fixture(scope="module")
def crops() -> FontCropData:
    return FontCropData(font_packages=("matplotlib",), limit_fonts=3, words_per_font=5, val_words=2,
                        cache=False, batch_size=4, seed=3)  # fmt: skip


def test_every_font_gives_its_training_and_validation_words(crops: FontCropData) -> None:
    train, val = crops.train_dataset(), crops.val_dataset()
    assert val is not None
    assert len(train) == 3 * 3 and len(val) == 3 * 2  # type: ignore[arg-type]
    ids = [f.font_id for f in crops.fonts()]
    assert sorted({train[i]["font_id"] for i in range(9)}) == sorted(ids)
    train_words = {(train[i]["font_id"], train[i]["text"]) for i in range(9)}
    val_words = {(val[i]["font_id"], val[i]["text"]) for i in range(6)}
    assert not train_words & val_words  # validation words are new words of the same fonts


def test_samples_are_grey_crops_in_range_and_validation_is_fixed(crops: FontCropData) -> None:
    val = crops.val_dataset()
    assert val is not None
    a, b = val[0]["style"], val[0]["style"]
    assert a.shape == (1, 32, 128) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert float(a.min()) >= -1.0 and float(a.max()) <= 1.0 and float(a.std()) > 0.05
    batch = next(iter(crops.train_loader()))
    assert batch["style"].shape == (4, 1, 32, 128) and batch["font_id"].shape == (4,)


def test_a_word_fills_the_crop_height_or_width_without_stretching() -> None:
    font = load_fonts(packages=("matplotlib",)).fonts[0]
    for text, axis in (("Hi", 0), ("wonderfully", 1)):
        ink = draw_word(font, text, 32, 128) > 64
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        extent = (rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
        assert extent[axis] >= (32, 128)[axis] - 8, (text, extent)
    tall, wide = draw_word(font, "Hi", 32, 128) > 64, draw_word(font, "HiHi", 32, 128) > 64
    # the same letters at the same size: twice the word is about twice as wide
    w1, w2 = (np.flatnonzero(x.any(0)) for x in (tall, wide))
    assert 1.7 < (w2[-1] - w2[0]) / (w1[-1] - w1[0]) < 2.3


def test_augment_keeps_the_ink_and_may_flip_polarity() -> None:
    image = np.zeros((32, 128), np.uint8)
    image[8:24, 20:100] = 255
    signs = set()
    for seed in range(12):
        out = augment(image, np.random.default_rng(seed))
        inside, outside = out[12:20, 40:80].mean(), out[:3].mean()
        assert abs(inside - outside) > 0.2  # the ink stays readable
        signs.add(bool(inside > outside))
    assert signs == {True, False}


def test_bad_split_of_words_is_refused() -> None:
    with pytest.raises(ConfigError, match="val_words"):
        FontCropData(words_per_font=4, val_words=4)
