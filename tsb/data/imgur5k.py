"""IMGUR5K handwriting (``data=imgur5k``): annotations, download, cached word crops.

Files under ``root`` (the layout of the IMGUR5K repository; flat also works)::

    root/dataset_info/imgur5k_annotations_{train,val,test}.json   (or root/imgur5k_annotations_*.json)
    root/images/<index_id>.jpg                                     (any depth; found by file stem)

Annotation format (as released): ``index_id`` (image id -> ``image_url``, ``image_path``,
``image_hash`` = md5 of the file), ``index_to_ann_map`` (image id -> annotation ids) and
``ann_id`` (annotation id -> ``word`` and ``bounding_box``, the string "[xc, yc, w, h, angle]",
angle in degrees counter-clockwise). :func:`read_annotations` keeps a word unless it is skipped,
and counts each reason (:class:`Imgur5kStats`):

- ``dot``: the word "." (not annotated), or an empty word;
- ``bad_box``: a malformed box string (a released file has one missing its closing bracket) or a
  box without area;
- ``hash_mismatch``: the image's md5 differs from ``image_hash`` (deleted images come back from
  the host as a placeholder); ``missing_image``: the image file is absent.

``download(remote, local)`` fetches the image archive or folder (a Yandex.Disk public link or
folder, an http(s) URL, or a local path) into the local cache with :func:`tsb.storage.fetch.fetch`
(resumable, verified by ``remote_md5`` / ``remote_sha256``); ``preprocess()`` then cuts every kept
word once, upright (:func:`tsb.data.crop.crop_rotated`), into ``cache_dir/words/<ann_id>.png`` and a
context crop (the box grown by ``context``) into ``cache_dir/context/<ann_id>.png``, and writes
``index_<split>.tsv`` and ``stats_<split>.json``. The data sets read the cached crops; they run
``preprocess()`` themselves when the cache of their split is missing.

Items are real word images as in :mod:`tsb.data.scene_folder`: ``style`` (the word crop, or the
context crop with ``style_from: context``), ``content_src``, ``text_src``, ``name`` and, in
self-supervised mode, a sampled ``text_tgt`` + ``content_tgt``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tsb.data.crop import Box, crop_rotated, expand_box, parse_box
from tsb.data.imageio import ImageReadError, load_rgb
from tsb.data.scene_folder import RealWordData, RealWordDataset, WordItem
from tsb.errors import ConfigError, DataNotFoundError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")


@dataclass(frozen=True)
class WordRecord:
    """One kept annotation: the image file, the rotated box, the word and its annotation id."""

    image: str
    box: Box
    word: str
    ann_id: str


@dataclass
class Imgur5kStats:
    """How many annotations were read, kept, and skipped for each reason."""

    words: int = 0
    kept: int = 0
    dot: int = 0
    bad_box: int = 0
    hash_mismatch: int = 0
    missing_image: int = 0
    images: int = 0
    images_hash_mismatch: int = 0
    images_missing: int = 0


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def image_index(images_dir: Path) -> dict[str, Path]:
    """File stem -> path for every image below ``images_dir`` (any depth)."""
    if not images_dir.is_dir():
        return {}
    return {p.stem: p for p in sorted(images_dir.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES}


def find_annotation_file(root: Path, split: str) -> Path:
    name = f"imgur5k_annotations_{split}.json"
    for p in (root / "dataset_info" / name, root / name):
        if p.is_file():
            return p
    raise DataNotFoundError(
        f"IMGUR5K annotations {name} not found in {root / 'dataset_info'} or {root}; "
        "copy the dataset_info/ folder of the IMGUR5K release there (or set data.annotations_remote)"
    )


def read_annotations(
    annotation_file: str | Path, images_dir: str | Path, check_hash: bool = True
) -> tuple[list[WordRecord], Imgur5kStats]:
    """The kept word records of one annotation file and the counts of what was skipped."""
    data = json.loads(Path(annotation_file).read_text(encoding="utf-8"))
    for key in ("index_id", "index_to_ann_map", "ann_id"):
        if key not in data:
            raise ConfigError(f"{annotation_file} is not an IMGUR5K annotation file: no {key!r}")
    index = image_index(Path(images_dir))
    stats = Imgur5kStats()
    records: list[WordRecord] = []
    for image_id, ann_ids in data["index_to_ann_map"].items():
        stats.images += 1
        stats.words += len(ann_ids)
        meta = data["index_id"].get(image_id, {})
        path = index.get(image_id)
        if path is None and meta.get("image_path"):
            path = index.get(Path(meta["image_path"]).stem)
        if path is None:
            stats.images_missing += 1
            stats.missing_image += len(ann_ids)
            continue
        if check_hash and meta.get("image_hash") and md5_of(path) != meta["image_hash"]:
            stats.images_hash_mismatch += 1
            stats.hash_mismatch += len(ann_ids)
            continue
        for ann_id in ann_ids:
            ann = data["ann_id"].get(ann_id)
            if ann is None:
                stats.bad_box += 1
                continue
            word = str(ann.get("word", ""))
            if word in (".", ""):
                stats.dot += 1
                continue
            try:
                box = parse_box(str(ann.get("bounding_box", "")))
            except ValueError:
                stats.bad_box += 1
                continue
            records.append(WordRecord(str(path), box, word, str(ann_id)))
    stats.kept = len(records)
    return records, stats


def cut_crops(records: list[WordRecord], out: Path, context: tuple[float, float]) -> list[WordRecord]:
    """Write ``words/<ann_id>.png`` and ``context/<ann_id>.png``; returns the records cut."""
    (out / "words").mkdir(parents=True, exist_ok=True)
    (out / "context").mkdir(parents=True, exist_ok=True)
    by_image: dict[str, list[WordRecord]] = defaultdict(list)
    for r in records:
        by_image[r.image].append(r)
    done = []
    for image, recs in by_image.items():
        try:
            img = load_rgb(image)
        except ImageReadError as e:
            log.warning("skipping %s", e)
            continue
        for r in recs:
            crop_rotated(img, r.box).save(out / "words" / f"{r.ann_id}.png")
            crop_rotated(img, expand_box(r.box, *context)).save(out / "context" / f"{r.ann_id}.png")
            done.append(r)
    return done


class IMGUR5KData(RealWordData):
    """``data=imgur5k data.root=DIR`` (see the module docstring)."""

    def __init__(
        self,
        root: str,
        images_dir: str | None = None,
        cache_dir: str | None = None,
        remote: str | None = None,
        remote_md5: str | None = None,
        remote_sha256: str | None = None,
        annotations_remote: str | None = None,
        check_hash: bool = True,
        train_split: str = "train",
        val_split: str = "val",
        context: tuple[float, float] = (1.5, 2.5),
        style_from: str = "word",
        **options: Any,
    ) -> None:
        super().__init__(**options)  # height, width, self-supervised targets, loader: RealWordData
        if style_from not in ("word", "context"):
            raise ConfigError(f"data.style_from must be 'word' or 'context', got {style_from!r}")
        for split in (train_split, val_split):
            if split not in SPLITS:
                raise ConfigError(f"IMGUR5K split must be one of {SPLITS}, got {split!r}")
        self.root = Path(root).expanduser()
        self.images_dir = Path(images_dir).expanduser() if images_dir else self.root / "images"
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else self.root / "cache"
        self.remote, self.remote_md5, self.remote_sha256 = remote, remote_md5, remote_sha256
        self.annotations_remote = annotations_remote
        self.check_hash = check_hash
        self.train_split, self.val_split = train_split, val_split
        self.context = (float(context[0]), float(context[1]))
        self.style_from = style_from

    # ------------------------------------------------------------------- download / preprocess
    def download(self, remote: str | None = None, local: str | Path | None = None) -> Path:
        """Fetch the images (archive or folder) from ``remote`` into ``local`` (resumable, verified).

        Defaults: ``data.remote`` into ``images_dir``. An archive (.zip/.tar*) is extracted.
        Nothing is fetched when ``local`` already holds images.
        """
        from tsb.storage.fetch import fetch

        src = remote or self.remote
        dest = Path(local).expanduser() if local else self.images_dir
        if image_index(dest):
            return dest
        if not src:
            raise DataNotFoundError(
                f"no IMGUR5K images in {dest} and no data.remote to fetch them from; set data.remote "
                "(a Yandex.Disk public link, an http(s) URL or a local path) or data.images_dir"
            )
        name = src.rstrip("/").split("/")[-1].split("?")[0].lower()
        archive = name.endswith((".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))
        return fetch(src, dest, md5=self.remote_md5, sha256=self.remote_sha256, extract=archive)

    def _annotations(self, split: str) -> Path:
        try:
            return find_annotation_file(self.root, split)
        except FileNotFoundError:
            if not self.annotations_remote:
                raise
            from tsb.storage.fetch import fetch

            fetch(self.annotations_remote, self.root / "dataset_info")
            return find_annotation_file(self.root, split)

    def preprocess(self, split: str) -> Path:
        """Cut and cache the crops of ``split`` once; returns its index file."""
        index = self.cache_dir / f"index_{split}.tsv"
        if index.is_file():
            return index
        ann = self._annotations(split)
        self.download()
        records, stats = read_annotations(ann, self.images_dir, self.check_hash)
        done = cut_crops(records, self.cache_dir, self.context)
        (self.cache_dir / f"stats_{split}.json").write_text(json.dumps(asdict(stats), indent=1) + "\n")
        tmp = index.with_suffix(".tmp")
        tmp.write_text("".join(f"{r.ann_id}\t{r.word}\n" for r in done), encoding="utf-8")
        os.replace(tmp, index)
        log.info("IMGUR5K %s: %s", split, stats)
        return index

    def stats(self, split: str) -> Imgur5kStats:
        self.preprocess(split)
        return Imgur5kStats(**json.loads((self.cache_dir / f"stats_{split}.json").read_text()))

    def _dataset(self, split: str) -> RealWordDataset:
        index = self.preprocess(split)
        sub = "words" if self.style_from == "word" else "context"
        items = []
        for line in index.read_text(encoding="utf-8").splitlines():
            ann_id, word = line.split("\t", 1)
            items.append(WordItem(str(self.cache_dir / sub / f"{ann_id}.png"), word, ann_id))
        if not items:
            raise ConfigError(f"IMGUR5K {split}: no usable word (see {self.cache_dir}/stats_{split}.json)")
        return self.word_dataset(items)

    def train_dataset(self) -> RealWordDataset:
        return self._dataset(self.train_split)

    def val_dataset(self) -> RealWordDataset:
        return self._dataset(self.val_split)
