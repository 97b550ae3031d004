from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tsb.data import keys as K
from tsb.data.imageio import load_rgb
from tsb.data.paired import PairedData, PairedFolderDataset
from tsb.data.scene_folder import SceneFolderData, parse_icdar_line, read_word_folder
from tsb.data.synth import main as synth_main


def test_every_real_word_image_loads(real_words: Path) -> None:
    items = read_word_folder(real_words)
    assert len(items) == 10
    modes = {Image.open(it.path).mode for it in items}
    assert "RGBA" in modes and any(it.path.endswith(".jpg") for it in items)
    dm = SceneFolderData(root=str(real_words), seed=1, batch_size=2)
    ds = dm.train_dataset()
    for i in range(len(ds)):
        item = ds[i]
        assert item[K.STYLE].shape == (3, 64, 256)
        assert item[K.STYLE].min() >= -1 and item[K.STYLE].max() <= 1
        assert item[K.CONTENT_SRC].shape == (1, 64, 256)
        assert item[K.TEXT_SRC] == items[i].text
        assert isinstance(item[K.TEXT_TGT], str) and item[K.CONTENT_TGT].shape == (1, 64, 256)
        assert K.TARGET not in item and K.MASK_SRC not in item
    # self-supervised targets are a function of (seed, index)
    assert ds[3][K.TEXT_TGT] == dm.train_dataset()[3][K.TEXT_TGT]
    batch = next(iter(dm.train_loader()))
    assert batch[K.STYLE].shape == (2, 3, 64, 256)


def test_keep_aspect_width(real_words: Path) -> None:
    dm = SceneFolderData(root=str(real_words), width=None, self_supervised=False)
    ds = dm.val_dataset()
    for i in range(len(ds)):
        item = ds[i]
        w = item[K.STYLE].shape[-1]
        assert w % 16 == 0 and item[K.CONTENT_SRC].shape[-1] == w
        assert K.TEXT_TGT not in item
    assert dm.val_loader().batch_size == 1


def test_rgba_transparency_is_composited_on_white(tmp_path: Path) -> None:
    img = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    img.putpixel((5, 5), (0, 0, 255, 255))
    img.save(tmp_path / "t.png")
    rgb = np.asarray(load_rgb(tmp_path / "t.png"))
    assert rgb[0, 0].tolist() == [255, 255, 255] and rgb[5, 5].tolist() == [0, 0, 255]


def test_icdar_gt_layout(tmp_path: Path) -> None:
    for i, c in enumerate(["red", "green"]):
        Image.new("RGB", (40 + 10 * i, 20), c).save(tmp_path / f"word_{i + 1}.png")
    (tmp_path / "gt.txt").write_text(
        '\ufeffword_1.png, "Tiredness"\nword_2.png, "say \\"hi\\", ok"\n\n', encoding="utf-8"
    )
    items = read_word_folder(tmp_path)
    assert [it.text for it in items] == ["Tiredness", 'say "hi", ok']
    assert parse_icdar_line('word_9.png, "A,B"') == ("word_9.png", "A,B")
    ds = SceneFolderData(root=str(tmp_path), self_supervised=False).train_dataset()
    assert ds[1][K.NAME] == "word_2.png" and ds[0][K.STYLE].shape == (3, 64, 256)


def test_missing_labels_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"labels.tsv"):
        read_word_folder(tmp_path)


def make_tamper_like(root: Path) -> None:
    (root / "i_s").mkdir(parents=True)
    (root / "t_f").mkdir()
    for i, name in enumerate(["b.png", "a.jpg"]):
        Image.new("RGB", (100 + 20 * i, 30), (10 * i, 100, 200)).save(root / "i_s" / name)
        Image.new("RGB", (100 + 20 * i, 30), (200, 100, 10 * i)).save(root / "t_f" / name)
    Image.new("RGB", (90, 30)).save(root / "i_s" / "unlisted.png")
    (root / "i_t.txt").write_text("a.jpg New York\nb.png Sale\n", encoding="utf-8")


def test_paired_folder_tamper_layout(tmp_path: Path) -> None:
    make_tamper_like(tmp_path)
    dm = PairedData(root=str(tmp_path), batch_size=2)
    train, val = dm.train_dataset(), dm.val_dataset()
    assert len(train) == len(val) == 2  # every listed pair, in both
    item = val[0]
    assert item[K.NAME] == "a.jpg" and item[K.TEXT_TGT] == "New York"
    assert item[K.STYLE].shape == (3, 64, 256) and item[K.TARGET].shape == (3, 64, 256)
    assert item[K.CONTENT_TGT].shape == (1, 64, 256)
    assert K.TEXT_SRC not in item and K.MASK_SRC not in item  # not given
    batch = next(iter(dm.val_loader()))
    assert batch[K.TARGET].shape == (2, 3, 64, 256)


def test_paired_missing_source_is_a_clear_error(tmp_path: Path) -> None:
    make_tamper_like(tmp_path)
    (tmp_path / "i_t.txt").write_text("zzz.png Word\n")
    with pytest.raises(FileNotFoundError, match="missing"):
        PairedFolderDataset(tmp_path)
    with pytest.raises(FileNotFoundError, match="paired folder"):
        PairedFolderDataset(tmp_path / "i_s")


def test_render_cli_writes_the_paired_layout_and_it_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "set"
    assert synth_main(["render", "--n", "3", "--out", str(out), "--seed", "5"]) == 0
    for sub in ("i_s", "t_f", "mask_s", "mask_t"):
        assert len(list((out / sub).glob("*.png"))) == 3
    assert len((out / "i_s.txt").read_text().splitlines()) == 3
    ds = PairedFolderDataset(out)
    item = ds[0]
    assert {K.STYLE, K.TARGET, K.MASK_SRC, K.MASK_TGT, K.CONTENT_SRC, K.TEXT_SRC, K.TEXT_TGT} <= set(item)
    # the written images come back unchanged (PNG, same size)
    src = np.array(Image.open(out / "i_s" / "00000.png"))
    assert torch.allclose(item[K.STYLE], torch.from_numpy(src).permute(2, 0, 1).float() / 127.5 - 1)
    # drawn with held-out fonts by default
    fonts = (out / "font.txt").read_text().splitlines()
    assert len(fonts) == 3


def test_render_cli_shards(tmp_path: Path) -> None:
    from tsb.data.synth import ShardDataset

    assert (
        synth_main(
            [
                "render",
                "--n",
                "3",
                "--out",
                str(tmp_path),
                "--format",
                "shards",
                "--shard-size",
                "2",
                "--split",
                "train",
            ]
        )
        == 0
    )
    ds = ShardDataset(tmp_path)
    assert len(ds) == 3 and ds[2][K.STYLE].shape == (3, 64, 256) and ds[2][K.MASK_SRC].min() >= 0
