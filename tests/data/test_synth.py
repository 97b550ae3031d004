from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from tsb.data import keys as K
from tsb.data.base import collate
from tsb.data.synth import BucketBatchSampler, SynthData, SynthDataset

from .conftest import no_effects


def union_outside(m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
    return (m0 == 0) & (m1 == 0)


def test_pair_shares_every_background_pixel_outside_the_masks(
    synth_all: SynthData, synth_default: SynthData
) -> None:
    for dm in (synth_all, synth_default):
        ds = dm.train_dataset()
        for i in range(12):
            a, b, _, pair = ds.render(i)
            outside = union_outside(*pair.masks)
            assert outside.any()
            assert np.array_equal(pair.images[0][outside], pair.images[1][outside]), (i, a, b)
            # ... and those pixels are the shared background
            assert np.array_equal(pair.images[0][outside], pair.background[outside])
            # the two texts differ, so the images differ inside the masks
            if a != b:
                assert not np.array_equal(pair.images[0], pair.images[1])


def test_mask_covers_every_pixel_the_text_changed(synth_all: SynthData) -> None:
    ds = synth_all.train_dataset()
    for i in range(12):
        _, _, _, pair = ds.render(i)
        for img, mask in zip(pair.images, pair.masks):
            changed = np.any(img != pair.background, axis=2)
            assert changed.any()
            assert np.all(mask[changed] > 0)
            assert mask.min() >= 0.0 and mask.max() <= 1.0


def test_mask_is_the_glyphs_without_effects() -> None:
    dm = SynthData(seed=1, train_size=100, effects=no_effects(), p_random=0.0)
    ds = dm.train_dataset()
    for i in range(8):
        _, _, _, pair = ds.render(i)
        bg = pair.background[0, 0].astype(float)
        for img, mask in zip(pair.images, pair.masks):
            solid = mask > 0.99
            assert solid.sum() > 30
            # fully covered pixels have the fill colour: one colour, far from the background
            fill = img[solid].astype(float)
            assert fill.std(axis=0).max() < 2.0
            assert np.abs(fill.mean(axis=0) - bg).max() > 40
            # uncovered pixels are the background colour exactly
            assert np.all(img[mask == 0] == pair.background[mask == 0])


def test_item_keys_shapes_ranges(synth_default: SynthData) -> None:
    item = synth_default.train_dataset()[5]
    assert set(item) == {
        K.STYLE,
        K.TARGET,
        K.BACKGROUND,
        K.MASK_SRC,
        K.MASK_TGT,
        K.CONTENT_SRC,
        K.CONTENT_TGT,
        K.TEXT_SRC,
        K.TEXT_TGT,
        K.FONT_ID,
        K.NAME,
    }
    for k in K.IMAGE_KEYS:
        assert item[k].shape == (3, 64, 256) and item[k].dtype == torch.float32
        assert item[k].min() >= -1 and item[k].max() <= 1
    for k in K.GREY_KEYS:
        assert item[k].shape == (1, 64, 256) and item[k].min() >= -1 and item[k].max() <= 1
    for k in K.MASK_KEYS:
        assert item[k].shape == (1, 64, 256) and item[k].min() >= 0 and item[k].max() <= 1
    assert item[K.FONT_ID].dtype == torch.int64 and item[K.FONT_ID].ndim == 0
    font = synth_default.fonts.fonts[int(item[K.FONT_ID])]
    assert font.split == "train" and font.covers(item[K.TEXT_SRC] + item[K.TEXT_TGT])


def test_validation_uses_held_out_fonts(synth_default: SynthData) -> None:
    val = synth_default.val_dataset()
    assert val is not None and len(val) == 8
    ids = {int(val[i][K.FONT_ID]) for i in range(8)}
    assert all(synth_default.fonts.fonts[i].split == "heldout" for i in ids)


def _same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a)


def test_deterministic_in_main_process_and_in_workers(synth_all: SynthData) -> None:
    ds = synth_all.train_dataset()
    idx = [3, 17, 4, 999]
    main = [ds[i] for i in idx]
    again = [ds[i] for i in idx]
    assert all(_same(a, b) for a, b in zip(main, again))
    loader = DataLoader(ds, batch_size=None, sampler=idx, num_workers=2, collate_fn=lambda x: x)
    from_workers = list(loader)
    assert all(_same(a, b) for a, b in zip(main, from_workers))
    # other seed, other samples
    other = SynthData(seed=8, train_size=1000, effects=synth_all.effects.__dict__).train_dataset()
    assert not torch.equal(other[3][K.STYLE], main[0][K.STYLE])


def test_train_loader_batches(synth_default: SynthData) -> None:
    batch = next(iter(synth_default.train_loader()))
    assert batch[K.STYLE].shape == (4, 3, 64, 256) and len(batch[K.TEXT_TGT]) == 4


def test_variable_width_buckets() -> None:
    dm = SynthData(seed=0, train_size=64, batch_size=4, variable_width=True, width_multiple=64, max_width=384)
    ds = dm.train_dataset()
    sampler = dm.train_batch_sampler(ds, 0)
    assert isinstance(sampler, BucketBatchSampler)
    it = iter(sampler)
    batches = [next(it) for _ in range(6)]
    for b in batches:
        widths = {ds.bucket_of(i) for i in b}
        assert len(widths) == 1
    # the batch's items really have that width, following the strings
    items = collate([ds[i] for i in batches[0]])
    w = items[K.STYLE].shape[-1]
    assert w % 64 == 0 and items[K.CONTENT_TGT].shape[-1] == w
    # resuming at batch 3 replays the same batches
    resumed = iter(dm.train_batch_sampler(ds, 3))
    assert [next(resumed) for _ in range(3)] == batches[3:]
    # the longer the string, the wider
    _a, b, _ = ds.choose(0)
    assert ds.width_of("ab", "cd") <= ds.width_of("a much longer one", "x")
    assert math.isclose(ds.width_of("ab", "cd") % 64, 0)


def test_cyrillic_alphabet() -> None:
    dm = SynthData(seed=0, train_size=50, alphabet="cyrillic", lexicon="ru", val_size=4)
    ds = dm.train_dataset()
    for i in range(4):
        item = ds[i]
        text = item[K.TEXT_SRC] + item[K.TEXT_TGT]
        assert any("а" <= c.lower() <= "я" or c in "ёЁ" for c in text)
        assert dm.fonts.fonts[int(item[K.FONT_ID])].covers(text)


def test_bad_config_values_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown data\.effects keys"):
        SynthData(effects={"p_blurr": 0.5})
    with pytest.raises(ValueError, match="fill"):
        SynthData(effects={"fill": {"plaid": 1.0}})
    with pytest.raises(FileNotFoundError, match="word list"):
        SynthData(lexicon="/no/such/list.txt")
    with pytest.raises(IndexError):
        SynthData(train_size=5).train_dataset()[5]


def test_dataset_pickles(synth_default: SynthData) -> None:
    import pickle

    ds = synth_default.train_dataset()
    ds2 = pickle.loads(pickle.dumps(ds))
    assert isinstance(ds2, SynthDataset) and _same(ds[1], ds2[1])


# ------------------------------------------------------------------------- python -m tsb.data.synth
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--n", "0"], "--n 0"),
        (["--n", "-3"], "--n -3"),
        (["--height", "0"], "data.height"),
        (["--lexicon", "no_such_words.txt"], "no_such_words.txt"),
        (["--format", "shards", "--shard-size", "0"], "--shard-size 0"),
        (["--format", "shards", "--workers", "-1"], "--workers -1"),
        (["--data", "no_such_preset"], "--data no_such_preset"),
    ],
)
def test_render_command_mistakes_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    from tsb.data.synth import main

    out = tmp_path / "pairs"
    argv = ["render", "--out", str(out), *(["--n", "2"] if "--n" not in args else []), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and named in err, err
    assert not out.exists()


def test_render_into_a_file_or_an_unwritable_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsb.data import synth

    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    assert synth.main(["render", "--n", "2", "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notes.txt is a file" in err, err
    assert a_file.read_text() == "not a folder"

    def denied(*args: object, **kwargs: object) -> None:  # a read-only folder (tests may run as root)
        raise PermissionError(13, "Permission denied", str(tmp_path / "ro" / "i_s"))

    monkeypatch.setattr(Path, "mkdir", denied)
    assert synth.main(["render", "--n", "2", "--out", str(tmp_path / "ro")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "Permission denied" in err, err


def test_a_sheet_with_an_unknown_image_suffix_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tsb.data.synth import main

    assert main(["sheet", "--n", "2", "--out", str(tmp_path / "sheet.xyz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sheet.xyz" in err and ".png" in err, err
    assert not (tmp_path / "sheet.xyz").exists()
