from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tsb.data import keys as K
from tsb.data.crop import box_corners
from tsb.data.imgur5k import IMGUR5KData, read_annotations

BOX = (120.0, 90.0, 100.0, 30.0, 30.0)


def page(path: Path, color: str = "white") -> str:
    """A 'handwriting page' with one rotated word box: left half black, right half grey."""
    img = Image.new("RGB", (240, 180), color)
    c = box_corners(BOX)
    d = ImageDraw.Draw(img)
    d.polygon([tuple(p) for p in [c[0], (c[0] + c[1]) / 2, (c[3] + c[2]) / 2, c[3]]], fill=(0, 0, 0))
    d.polygon([tuple(p) for p in [(c[0] + c[1]) / 2, c[1], c[2], (c[3] + c[2]) / 2]], fill=(128, 128, 128))
    img.save(path, quality=95)
    return hashlib.md5(path.read_bytes()).hexdigest()


def make_release(root: Path, images: Path) -> None:
    """Annotation files in the released format, with the released defects."""
    images.mkdir(parents=True)
    good = page(images / "AbC12.jpg")
    page(images / "GoNe9.jpg", "pink")  # a 'deleted' image: the file differs from its hash
    data = {
        "index_id": {
            "AbC12": {
                "image_url": "https://i.imgur.com/AbC12.jpg",
                "image_path": "images/AbC12.jpg",
                "image_hash": good,
            },
            "GoNe9": {
                "image_url": "https://i.imgur.com/GoNe9.jpg",
                "image_path": "images/GoNe9.jpg",
                "image_hash": "d835884373f4d6c8f24742ceabe74946",
            },
        },
        "index_to_ann_map": {"AbC12": ["AbC12_0", "AbC12_1", "AbC12_2"], "GoNe9": ["GoNe9_0"]},
        "ann_id": {
            "AbC12_0": {"word": "hello", "bounding_box": "[120.0, 90.0, 100.0, 30.0, 30.0]"},
            "AbC12_1": {"word": ".", "bounding_box": "[20.0, 20.0, 10.0, 10.0, 0.0]"},
            "AbC12_2": {"word": "broken", "bounding_box": "[50.0, 40.0, 30.0, 12.0, 0.0"},
            "GoNe9_0": {"word": "gone", "bounding_box": "[120.0, 90.0, 100.0, 30.0, 30.0]"},
        },
    }
    (root / "dataset_info").mkdir(parents=True)
    for split in ("train", "val"):
        (root / "dataset_info" / f"imgur5k_annotations_{split}.json").write_text(json.dumps(data))


def test_read_annotations_counts_every_defect(tmp_path: Path) -> None:
    make_release(tmp_path, tmp_path / "images")
    records, stats = read_annotations(
        tmp_path / "dataset_info" / "imgur5k_annotations_train.json", tmp_path / "images"
    )
    assert [r.word for r in records] == ["hello"]
    assert records[0].box == BOX
    assert (stats.words, stats.kept, stats.dot, stats.bad_box, stats.hash_mismatch) == (4, 1, 1, 1, 1)
    assert stats.images == 2 and stats.images_hash_mismatch == 1
    _, no_check = read_annotations(
        tmp_path / "dataset_info" / "imgur5k_annotations_train.json", tmp_path / "images", check_hash=False
    )
    assert no_check.kept == 2 and no_check.hash_mismatch == 0


def test_data_module_crops_upright_and_caches(tmp_path: Path) -> None:
    make_release(tmp_path, tmp_path / "images")
    dm = IMGUR5KData(root=str(tmp_path), batch_size=1, seed=2)
    ds = dm.train_dataset()
    assert len(ds) == 1
    crop = np.asarray(Image.open(tmp_path / "cache" / "words" / "AbC12_0.png")).astype(float)
    assert crop.shape == (30, 100, 3)
    assert crop[5:-5, 5:45].mean() < 25 and abs(crop[5:-5, 55:-5].mean() - 128) < 25  # upright
    assert (tmp_path / "cache" / "context" / "AbC12_0.png").is_file()
    item = ds[0]
    assert item[K.TEXT_SRC] == "hello" and item[K.STYLE].shape == (3, 64, 256) and K.TEXT_TGT in item
    assert dm.stats("train").hash_mismatch == 1
    # cached: a second module does not need the images any more
    shutil.rmtree(tmp_path / "images")
    assert len(IMGUR5KData(root=str(tmp_path)).train_dataset()) == 1


def test_download_from_a_local_archive(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_release(tmp_path / "root", src / "imgs")
    archive = shutil.make_archive(str(tmp_path / "imgur5k_images"), "zip", src)
    dm = IMGUR5KData(root=str(tmp_path / "root"), remote=archive, images_dir=str(tmp_path / "root" / "dl"))
    assert len(dm.val_dataset()) == 1  # downloaded (extracted), verified by hash, cropped
    assert any((tmp_path / "root" / "dl").rglob("AbC12.jpg"))


def test_download_calls_fetch_with_the_checksums(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tsb.storage.fetch as remote

    calls = []

    def fake_fetch(
        src: str, dest: Path, *, md5: str | None = None, sha256: str | None = None, extract: bool = False
    ) -> Path:
        calls.append((src, dest, md5, sha256, extract))
        dest.mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(dest / "x.jpg")
        return dest

    monkeypatch.setattr(remote, "fetch", fake_fetch)
    dm = IMGUR5KData(
        root=str(tmp_path), remote="https://disk.yandex.ru/d/abc/imgur5k.tar.gz", remote_md5="0" * 32
    )
    assert dm.download() == tmp_path / "images"
    assert calls == [
        ("https://disk.yandex.ru/d/abc/imgur5k.tar.gz", tmp_path / "images", "0" * 32, None, True)
    ]
    dm.download()  # images present: nothing fetched
    assert len(calls) == 1


def test_missing_annotations_and_images_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"imgur5k_annotations_train\.json"):
        IMGUR5KData(root=str(tmp_path)).train_dataset()
    make_release(tmp_path, tmp_path / "elsewhere")
    with pytest.raises(FileNotFoundError, match=r"data\.remote"):
        IMGUR5KData(root=str(tmp_path)).train_dataset()
