"""Real word images from a folder (``data=scene_folder``), and self-supervised real pairs.

Layouts read (detected from the files present in ``root``):

- ``labels.tsv``: tab-separated ``file<TAB>word`` lines (``shared/data/real-words/``), file names
  relative to ``root``; blank lines and ``#`` comments skipped;
- ICDAR 2013 / 2015 word recognition: ``gt.txt`` lines ``word_1.png, "Word"`` (a UTF-8 BOM and
  escaped quotes ``\\"`` are handled).

An item is the style image (the word photo, resized to ``height`` x ``width``, or to the aspect's
width when ``width`` is null), ``content_src`` and ``text_src`` from its label, and its ``name``.
With ``self_supervised`` on, a target string B is drawn per item from the word sampler (a pure
function of (seed, index)) and ``text_tgt`` + ``content_tgt`` are added: the real pairs of the
paper's self-supervised training. There is no ``target`` image and no mask (absent keys).

``train_dataset()`` is the whole folder; ``val_dataset()`` is ``val_root`` when given, else the
same folder.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from tsb.data import keys as K
from tsb.data.base import DataModule
from tsb.data.content import render_content
from tsb.data.imageio import check_width, fit_height, load_rgb
from tsb.data.words import TextSampler
from tsb.errors import ConfigError, DataNotFoundError
from tsb.utils.image import pil_to_tensor

TARGET_STREAM = 3  # seed stream of the sampled target strings (see tsb.data.synth for 0-2)


@dataclass(frozen=True)
class WordItem:
    """One real word image: its file, its transcription and a name for outputs."""

    path: str
    text: str
    name: str


def read_labels_tsv(root: Path, labels: str = "labels.tsv") -> list[WordItem]:
    path = root / labels
    items = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row or not row[0].strip() or row[0].startswith("#"):
                continue
            if len(row) < 2:
                raise ConfigError(f"{path}:{n}: expected 'file<TAB>word', got {row!r}")
            if n == 1 and row[0].strip().lower() in ("file", "filename", "file_name", "image"):
                continue  # a header line
            items.append(WordItem(str(root / row[0].strip()), row[1], row[0].strip()))
    return items


def parse_icdar_line(line: str) -> tuple[str, str] | None:
    """``word_1.png, "Word"`` -> ("word_1.png", "Word"); None for a blank line."""
    line = line.strip().lstrip("\ufeff")
    if not line:
        return None
    if "," not in line:
        raise ConfigError(f"expected 'file, \"word\"', got {line!r}")
    name, word = line.split(",", 1)
    word = word.strip()
    if len(word) >= 2 and word[0] == '"' and word[-1] == '"':
        word = word[1:-1]
    return name.strip(), word.replace('\\"', '"').replace("\\\\", "\\")


def read_icdar_gt(root: Path, gt: str = "gt.txt") -> list[WordItem]:
    items = []
    path = root / gt
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        try:
            parsed = parse_icdar_line(line)
        except ValueError as e:
            raise ConfigError(f"{path}:{n}: {e}") from None
        if parsed:
            items.append(WordItem(str(root / parsed[0]), parsed[1], parsed[0]))
    return items


def read_word_folder(root: str | Path, labels: str | None = None) -> list[WordItem]:
    """The items of a word folder, in file order; ``labels`` names the label file (auto if None)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataNotFoundError(f"word image folder {root} does not exist; set data.root")
    name = labels
    if name is None:
        name = next((n for n in ("labels.tsv", "gt.txt") if (root / n).is_file()), None)
        if name is None:
            raise DataNotFoundError(
                f"{root} has neither labels.tsv (file<TAB>word) nor gt.txt (ICDAR 'word_1.png, \"Word\"'); "
                "add one or set data.labels"
            )
    if not (root / name).is_file():
        raise DataNotFoundError(f"label file {root / name} does not exist; fix data.labels")
    items = read_icdar_gt(root, name) if name.endswith(".txt") else read_labels_tsv(root, name)
    missing = [it.path for it in items if not Path(it.path).is_file()]
    if missing:
        raise DataNotFoundError(f"{len(missing)} labelled images are missing in {root}, e.g. {missing[0]}")
    if not items:
        raise ConfigError(f"{root / name} lists no image")
    return items


class RealWordDataset(Dataset):
    """Real word images as style examples (+ sampled targets in self-supervised mode)."""

    def __init__(
        self,
        items: Sequence[WordItem],
        height: int = 64,
        width: int | None = 256,
        seed: int = 0,
        targets: TextSampler | None = None,
        max_width: int = 1024,
    ) -> None:
        check_width(width)
        self.items = list(items)
        self.height, self.width, self.max_width = height, width, max_width
        self.seed = int(seed)
        self.targets = targets

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        it = self.items[index]
        img = fit_height(load_rgb(it.path), self.height, self.width, max_width=self.max_width)
        w = img.size[0]
        out: dict[str, Any] = {
            K.STYLE: pil_to_tensor(img),
            K.CONTENT_SRC: render_content(it.text, self.height, w),
            K.TEXT_SRC: it.text,
            K.NAME: it.name,
        }
        if self.targets is not None:
            rng = np.random.default_rng([self.seed, TARGET_STREAM, int(index)])
            b = self.targets.sample(rng)
            out[K.TEXT_TGT] = b
            out[K.CONTENT_TGT] = render_content(b, self.height, w)
        return out


class RealWordData(DataModule):
    """Base of the real word-image data modules (``scene_folder``, ``imgur5k``): the options they
    share (image size, and the target strings of self-supervised pairs) and how they become a
    :class:`RealWordDataset`. Subclasses say where the words come from.

    Args:
        height, width: the style image size (``width`` null: follow each image's aspect).
        max_width: cap on the width when ``width`` is null.
        self_supervised: draw a target string per item (``text_tgt``, ``content_tgt``).
        alphabet, lexicon, p_random, min_len, max_len: the target-string sampler
            (:class:`tsb.data.words.TextSampler`).
        loader: ``DataModule`` options (batch_size, num_workers, seed, ...).
    """

    def __init__(
        self,
        height: int = 64,
        width: int | None = 256,
        max_width: int = 1024,
        self_supervised: bool = True,
        alphabet: str = "latin",
        lexicon: str | None = "en",
        p_random: float = 0.2,
        min_len: int = 1,
        max_len: int = 12,
        **loader: Any,
    ) -> None:
        super().__init__(**loader)  # batch_size, num_workers, seed, ...: see DataModule
        check_width(width)
        self.height, self.width, self.max_width = height, width, max_width
        self.targets: TextSampler | None = None
        if self_supervised:
            from tsb.utils.alphabets import resolve_alphabet

            self.targets = TextSampler(resolve_alphabet(alphabet), lexicon, p_random, min_len, max_len)

    def word_dataset(self, items: Sequence[WordItem]) -> RealWordDataset:
        return RealWordDataset(items, self.height, self.width, self.seed, self.targets, self.max_width)

    def val_loader(self) -> Any:
        if self.width is None:
            self.val_batch_size = 1  # widths follow each image
        return super().val_loader()


class SceneFolderData(RealWordData):
    """``data=scene_folder``: a folder of word photos with labels (see the module docstring).

    ``root``/``labels``: the training folder and its label file (found in ``root`` when null);
    ``val_root``/``val_labels``: the validation folder (``root`` when null). Every other option
    is :class:`RealWordData`'s.
    """

    def __init__(
        self,
        root: str,
        labels: str | None = None,
        val_root: str | None = None,
        val_labels: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.root, self.labels = root, labels
        self.val_root, self.val_labels = val_root, val_labels

    def _dataset(self, root: str, labels: str | None) -> RealWordDataset:
        return self.word_dataset(read_word_folder(root, labels))

    def train_dataset(self) -> RealWordDataset:
        return self._dataset(self.root, self.labels)

    def val_dataset(self) -> RealWordDataset:
        if self.val_root:
            return self._dataset(self.val_root, self.val_labels)
        return self._dataset(self.root, self.labels)
