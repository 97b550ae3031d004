"""The clean background of every synthetic pair (``background``): the same pixels as the images off the text."""

from __future__ import annotations

from pathlib import Path

import torch

from tsb.data import keys as K
from tsb.data.paired import PairedFolderDataset
from tsb.data.synth import RENDER_STREAM, SynthData, write_paired


def small() -> SynthData:
    return SynthData(seed=3, train_size=50, val_size=4, batch_size=2, width=128)


def test_background_is_the_image_without_its_text() -> None:
    ds = small().dataset(6, RENDER_STREAM, "train")
    for i in range(6):
        item = ds[i]
        bg = item[K.BACKGROUND]
        assert bg.shape == item[K.STYLE].shape == (3, 64, 128)
        for image, mask in ((item[K.STYLE], item[K.MASK_SRC]), (item[K.TARGET], item[K.MASK_TGT])):
            off = (mask[0] == 0).expand(3, -1, -1)
            assert bool(off.any())
            torch.testing.assert_close(image[off], bg[off])  # off the text: exactly the background
            on = (mask[0] > 0.5).expand(3, -1, -1)
            if bool(on.any()):
                assert float((image[on] - bg[on]).abs().mean()) > 0.02  # the text is not in it


def test_paired_folders_carry_it_as_t_b(tmp_path: Path) -> None:
    ds = small().dataset(3, RENDER_STREAM, "heldout")
    write_paired(ds, 3, tmp_path)
    assert sorted(p.name for p in (tmp_path / "t_b").iterdir()) == ["00000.png", "00001.png", "00002.png"]
    read = PairedFolderDataset(tmp_path, height=64, width=128)
    item = read[0]
    assert item[K.BACKGROUND].shape == (3, 64, 128)
    torch.testing.assert_close(item[K.BACKGROUND], ds[0][K.BACKGROUND], atol=1 / 127.5, rtol=0)
