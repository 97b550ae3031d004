"""Synthetic paired samples: the default training data (``data=synth``).

A sample is a pure function of (seed, stream, index): the source string A, the target string B,
the font (one that draws every character of both), the style and all effects are drawn, in that
order, from ``numpy.random.default_rng([seed, stream, index])``. No global state is read or written, so
the data set pickles into DataLoader workers and gives identical samples there.

Streams: training samples use stream 0 with the ``font_split`` fonts (default: train fonts);
validation samples use stream 1 with ``val_font_split`` fonts (default: held-out typefaces, so
validation measures generalisation to unseen fonts); ``python -m tsb.data.synth render`` uses
stream 2 (a fixed benchmark set, default: held-out fonts).

Variable-width mode (``variable_width: true``): a pair's canvas width follows its longer string
(the content font's natural width, rounded up to ``width_multiple``, clipped to
``[min_width, max_width]``), and training batches are grouped by width
(:class:`BucketBatchSampler`, resumable like the base sampler). Validation then uses batch size 1
unless all widths agree.

Command line::

    python -m tsb.data.synth render --n 2000 --out DIR            # paired benchmark layout
    python -m tsb.data.synth render --n 50000 --out DIR --split train --format shards --workers 8
    python -m tsb.data.synth sheet --n 32 --out docs/data_sheet.png
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, Sampler

from tsb.data import keys as K
from tsb.data.base import DataModule, ResumableBatchSampler
from tsb.data.content import ContentFonts, natural_width, render_content
from tsb.data.fonts import DEFAULT_EXCLUDE, PACKAGES, FontInfo, FontSet, load_fonts
from tsb.data.render import EffectConfig, RenderedPair, render_pair, sample_style
from tsb.data.words import TextSampler
from tsb.errors import ConfigError, DataNotFoundError, TsbError
from tsb.utils.alphabets import resolve_alphabet

TRAIN_STREAM, VAL_STREAM, RENDER_STREAM = 0, 1, 2


def u8_to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> float (3, H, W) in [-1, 1]."""
    return torch.from_numpy(img).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


class SynthDataset(Dataset):
    """``length`` virtual paired samples of one stream; see the module docstring."""

    def __init__(
        self,
        length: int,
        seed: int,
        stream: int,
        fonts: FontSet,
        font_split: str,
        texts: TextSampler,
        effects: EffectConfig,
        height: int = 64,
        width: int = 256,
        variable_width: bool = False,
        min_width: int = 64,
        max_width: int = 512,
        width_multiple: int = 32,
        p_same_text: float = 0.0,
        content_fonts: ContentFonts | None = None,
    ) -> None:
        if length < 1:
            raise ConfigError(f"synthetic data set length must be >= 1, got {length}")
        self.length = length
        self.seed = int(seed)
        self.stream = stream
        self.font_split = font_split
        self.font_set = fonts
        fonts.split(font_split)  # raises a clear error on an empty split
        self.texts = texts
        self.effects = effects
        self.height, self.width = height, width
        self.variable_width = variable_width
        self.min_width, self.max_width, self.width_multiple = min_width, max_width, width_multiple
        self.p_same_text = p_same_text
        self.content_fonts = content_fonts or ContentFonts()

    def __len__(self) -> int:
        return self.length

    def _rng(self, index: int) -> np.random.Generator:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} samples")
        return np.random.default_rng([self.seed, self.stream, index])

    def choose(self, index: int, rng: np.random.Generator | None = None) -> tuple[str, str, FontInfo]:
        """The strings and the font of sample ``index`` (cheap: no drawing).

        The style is drawn afterwards from the same generator (:meth:`render`).
        """
        rng = self._rng(index) if rng is None else rng
        for _ in range(50):
            a = self.texts.sample(rng)
            b = a if rng.random() < self.p_same_text else self.texts.sample(rng)
            cands = self.font_set.candidates(a + b, self.font_split)
            if cands:
                return a, b, cands[int(rng.integers(len(cands)))]
        raise ConfigError(
            f"no {self.font_split!r} font draws the sampled strings (last: {a!r}, {b!r}); "
            "check data.alphabet against the installed fonts (python -m tsb.data.fonts)"
        )

    def width_of(self, a: str, b: str) -> int:
        if not self.variable_width:
            return self.width
        nat = max(natural_width(a, self.height), natural_width(b, self.height))
        m = self.width_multiple
        return int(min(self.max_width, max(self.min_width, math.ceil(nat / m) * m)))

    def bucket_of(self, index: int) -> int:
        a, b, _ = self.choose(index)
        return self.width_of(a, b)

    def render(self, index: int) -> tuple[str, str, FontInfo, RenderedPair]:
        rng = self._rng(index)
        a, b, font = self.choose(index, rng)
        w = self.width_of(a, b)
        style = sample_style(
            rng, self.effects, font, self.height, w, words=self.texts.sample, fonts_for=self._fonts_for
        )
        return a, b, font, render_pair([a, b], style)

    def _fonts_for(self, text: str) -> list[FontInfo]:
        """Fonts of this stream's split that draw ``text`` (neighbouring lines in another font)."""
        return self.font_set.candidates(text, self.font_split)

    def __getitem__(self, index: int) -> dict[str, Any]:
        a, b, font, pair = self.render(int(index))
        w = pair.images[0].shape[1]
        drawn = None  # the content font, unless data.content_fonts draws the content in another
        if self.content_fonts.active:
            rng = np.random.default_rng([self.seed, self.stream, int(index), 1])
            drawn = self.content_fonts.choose(str(font.path), a + b, rng)
        return {
            K.STYLE: u8_to_tensor(pair.images[0]),
            K.TARGET: u8_to_tensor(pair.images[1]),
            K.BACKGROUND: u8_to_tensor(pair.background),
            K.MASK_SRC: torch.from_numpy(pair.masks[0])[None],
            K.MASK_TGT: torch.from_numpy(pair.masks[1])[None],
            K.CONTENT_SRC: render_content(a, self.height, w, drawn),
            K.CONTENT_TGT: render_content(b, self.height, w, drawn),
            K.TEXT_SRC: a,
            K.TEXT_TGT: b,
            K.FONT_ID: torch.tensor(font.font_id, dtype=torch.int64),
            K.NAME: f"synth{self.stream}_{int(index):08d}",
        }


class BucketBatchSampler(Sampler[list[int]]):
    """Endless, resumable batches whose items share a bucket (here: the canvas width).

    Epoch ``e`` walks the same permutation as :class:`ResumableBatchSampler` and emits a batch
    whenever a bucket has collected ``batch_size`` indices (leftovers are dropped at the epoch's
    end). The batch sequence is a pure function of (seed, epoch); resuming at ``start_batch``
    replays it and skips (bucket ids are cached, so skipping is cheap).
    """

    def __init__(
        self,
        length: int,
        batch_size: int,
        bucket_of: Callable[[int], int],
        seed: int = 0,
        shuffle: bool = True,
        start_batch: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.base = ResumableBatchSampler(length, batch_size, seed, shuffle, 0, 0, world_size)
        self.bucket_of = bucket_of
        self.start_batch, self.rank, self.world_size = start_batch, rank, world_size
        self._buckets: dict[int, int] = {}

    def _bucket(self, i: int) -> int:
        b = self._buckets.get(i)
        if b is None:
            b = self._buckets[i] = self.bucket_of(i)
        return b

    def _epoch(self, epoch: int) -> Iterator[list[int]]:
        pending: dict[int, list[int]] = {}
        bs = self.base.batch_size
        for i in self.base._order(epoch):
            lst = pending.setdefault(self._bucket(i), [])
            lst.append(i)
            if len(lst) == bs:
                yield lst
                pending[self._bucket(i)] = []

    def __iter__(self) -> Iterator[list[int]]:
        n, epoch = 0, 0
        while True:
            produced = False
            for batch in self._epoch(epoch):
                produced = True
                if n >= self.start_batch:
                    yield batch[self.rank :: self.world_size]
                n += 1
            if not produced:
                raise ConfigError(
                    "no width bucket collects a full batch; lower data.batch_size, raise "
                    "data.width_multiple or data.train_size"
                )
            epoch += 1

    def __len__(self) -> int:
        return len(self.base)


class SynthData(DataModule):
    """The synthetic paired data module (``conf/data/synth.yaml``).

    Its settings and their defaults are this signature (the structured config ``data/base_synth``,
    ``tsb/configs.py``); the presets of ``conf/data`` hold only what differs.

    - sizes: ``train_size`` is the virtual length of the deterministic training stream (one
      "epoch"); ``val_size`` samples form the validation set (stream 1, ``val_font_split`` fonts);
      ``height`` x ``width``, or with ``variable_width`` W follows the longer string (a multiple of
      ``width_multiple`` in [``min_width``, ``max_width``], batches grouped by width).
    - fonts: ``font_split`` / ``val_font_split`` train | heldout | all (``python -m tsb.data.fonts``
      lists them); ``alphabet`` latin | cyrillic | latin+cyrillic | the characters themselves;
      ``font_dirs`` extra font folders; ``system_fonts`` also the system's fonts (opt-in: they differ
      between machines); ``font_packages`` / ``font_exclude`` the pip packages fonts come from and
      the file patterns left out; ``min_coverage`` the share of the alphabet a font must draw.
    - strings: ``lexicon`` en | ru | a word-list file (one word a line); ``p_random`` random strings
      instead of words; ``min_len`` / ``max_len``; ``p_upper`` / ``p_lower`` / ``p_title`` letter
      case; ``p_digits`` a random string is all digits; ``p_same_text`` target string = source.
    - ``effects``: the probabilities and ranges of :class:`tsb.data.render.EffectConfig`.
    - ``content_fonts``: training pairs whose content is drawn in a font near the pair's own, or
      in its own (:class:`tsb.data.content.ContentFonts`: neighbours, p_neighbour, p_true, k).
    """

    def __init__(
        self,
        train_size: int = 100_000,
        val_size: int = 256,
        height: int = 64,
        width: int = 256,
        variable_width: bool = False,
        min_width: int = 64,
        max_width: int = 512,
        width_multiple: int = 32,
        font_split: str = "train",
        val_font_split: str = "heldout",
        alphabet: str = "latin",
        font_dirs: Sequence[str] = (),
        system_fonts: bool = False,
        font_packages: Sequence[str] = PACKAGES,
        font_exclude: Sequence[str] = DEFAULT_EXCLUDE,
        min_coverage: float = 0.9,
        lexicon: str | None = "en",
        p_random: float = 0.2,
        min_len: int = 1,
        max_len: int = 12,
        p_upper: float = 0.2,
        p_lower: float = 0.3,
        p_title: float = 0.2,
        p_digits: float = 0.1,
        p_same_text: float = 0.0,
        effects: dict[str, Any] | None = None,
        content_fonts: dict[str, Any] | None = None,
        **loader: Any,
    ) -> None:
        super().__init__(**loader)  # batch_size, num_workers, seed, ...: see DataModule
        if height < 16 or width < 16:
            raise ConfigError(f"data.height and data.width must be >= 16, got {height}x{width}")
        self.train_size, self.val_size = int(train_size), int(val_size)
        self.height, self.width = int(height), int(width)
        self.variable_width = bool(variable_width)
        self.min_width, self.max_width, self.width_multiple = (
            int(min_width),
            int(max_width),
            int(width_multiple),
        )
        self.font_split, self.val_font_split = font_split, val_font_split
        self.alphabet = resolve_alphabet(alphabet)
        self.font_kwargs = {
            "font_dirs": tuple(font_dirs or ()),
            "system_fonts": system_fonts,
            "packages": tuple(font_packages),
            "exclude": tuple(font_exclude),
            "min_coverage": min_coverage,
        }
        self.texts = TextSampler(
            self.alphabet, lexicon, p_random, min_len, max_len, p_upper, p_lower, p_title, p_digits
        )
        self.p_same_text = float(p_same_text)
        self.effects = EffectConfig.from_dict(effects)
        self.content_fonts = ContentFonts(**dict(content_fonts or {}))
        self._fonts: FontSet | None = None

    @property
    def fonts(self) -> FontSet:
        if self._fonts is None:
            self._fonts = load_fonts(self.alphabet, **self.font_kwargs)  # type: ignore[arg-type]
        return self._fonts

    def dataset(self, length: int, stream: int, font_split: str) -> SynthDataset:
        return SynthDataset(
            length,
            self.seed,
            stream,
            self.fonts,
            font_split,
            self.texts,
            self.effects,
            self.height,
            self.width,
            self.variable_width,
            self.min_width,
            self.max_width,
            self.width_multiple,
            self.p_same_text,
            self.content_fonts if stream == TRAIN_STREAM else None,
        )

    def train_dataset(self) -> SynthDataset:
        return self.dataset(self.train_size, TRAIN_STREAM, self.font_split)

    def val_dataset(self) -> SynthDataset | None:
        if self.val_size <= 0:
            return None
        return self.dataset(self.val_size, VAL_STREAM, self.val_font_split)

    def train_batch_sampler(self, dataset: Dataset, start_batch: int) -> Sampler[list[int]]:
        if not self.variable_width:
            return super().train_batch_sampler(dataset, start_batch)
        assert isinstance(dataset, SynthDataset)
        return BucketBatchSampler(
            len(dataset), self.batch_size, dataset.bucket_of, **self.order_args(start_batch)
        )

    def val_loader(self) -> Any:
        if self.variable_width:
            self.val_batch_size = 1  # widths differ between samples
        return super().val_loader()


# ------------------------------------------------------------------------------- writing to disk
def write_paired(ds: SynthDataset, n: int, out: Path) -> None:
    """The paired benchmark layout: i_s/, t_f/, t_b/ (clean background), mask_s/, mask_t/, i_s.txt, i_t.txt, font.txt."""
    for sub in ("i_s", "t_f", "t_b", "mask_s", "mask_t"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    lines_s, lines_t, lines_f = [], [], []
    for i in range(n):
        a, b, font, pair = ds.render(i)
        name = f"{i:05d}.png"
        Image.fromarray(pair.images[0]).save(out / "i_s" / name)
        Image.fromarray(pair.images[1]).save(out / "t_f" / name)
        Image.fromarray(pair.background).save(out / "t_b" / name)
        for sub, m in (("mask_s", pair.masks[0]), ("mask_t", pair.masks[1])):
            Image.fromarray((m * 255 + 0.5).astype(np.uint8)).save(out / sub / name)
        lines_s.append(f"{name} {a}")
        lines_t.append(f"{name} {b}")
        lines_f.append(f"{name} {font.font_id} {font.family} | {font.style}")
    (out / "i_s.txt").write_text("\n".join(lines_s) + "\n", encoding="utf-8")
    (out / "i_t.txt").write_text("\n".join(lines_t) + "\n", encoding="utf-8")
    (out / "font.txt").write_text("\n".join(lines_f) + "\n", encoding="utf-8")


def _shard(items: list[dict[str, Any]]) -> dict[str, Any]:
    """One shard's content from its samples: images and masks stacked as uint8, the rest as lists.

    Used as the loader's ``collate_fn``, so with ``workers`` it runs in the worker and a shard
    crosses the process boundary as a few large tensors (one file descriptor each), not as
    thousands of small ones (which exhausts the open-file limit).
    """
    shard: dict[str, Any] = {}
    for k in items[0]:
        vals = [it[k] for it in items]
        if k in (*K.IMAGE_KEYS, *K.GREY_KEYS, *K.MASK_KEYS):
            t = torch.stack(vals)
            t = (t + 1) * 127.5 if k not in K.MASK_KEYS else t * 255
            shard[k] = t.round().clamp(0, 255).to(torch.uint8)
        elif k == K.FONT_ID:
            shard[k] = torch.stack(vals)
        else:
            shard[k] = vals
    return shard


def write_shards(ds: SynthDataset, n: int, out: Path, shard_size: int = 1000, workers: int = 0) -> None:
    """``shard_XXXXX.pt`` files of up to ``shard_size`` samples, uint8 images (see ShardDataset).

    ``workers`` processes render the samples (a DataLoader over the index range, each worker
    building whole shards); each shard is written atomically (a temporary file, then a rename),
    so an interrupted run leaves whole shards.
    """
    if ds.variable_width:
        raise ConfigError("shards hold fixed-size images: render them with variable_width off (--data synth)")
    out.mkdir(parents=True, exist_ok=True)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(ds, range(n)), batch_size=shard_size, num_workers=workers, collate_fn=_shard
    )
    for number, shard in enumerate(loader):
        path = out / f"shard_{number:05d}.pt"
        tmp = path.with_suffix(".pt.tmp")
        torch.save(shard, tmp)
        tmp.replace(path)


class ShardDataset(Dataset):
    """Reads the shards of :func:`write_shards` and returns the usual items.

    The shards are memory-mapped (``torch.load(mmap=True)``): opening a set of any size is
    instant, the operating system pages images in as they are read, and DataLoader workers share
    those pages instead of holding copies.
    """

    def __init__(
        self, root: str | Path, content_fonts: ContentFonts | None = None, font_paths: Sequence[str] = ()
    ) -> None:
        files = sorted(Path(root).glob("shard_*.pt"))
        if not files:
            raise DataNotFoundError(
                f"no shard_*.pt in {root}; write them with "
                f"python -m tsb.data.synth render --format shards --split train --n 100000 --out {root}"
            )
        self.shards = [torch.load(f, weights_only=True, mmap=True) for f in files]
        self.index = [(s, j) for s, sh in enumerate(self.shards) for j in range(len(sh[K.NAME]))]
        self.content_fonts = content_fonts or ContentFonts()
        self.font_paths = list(font_paths)
        if self.content_fonts.active:
            top = max(int(sh[K.FONT_ID].max()) for sh in self.shards)
            if top >= len(self.font_paths):
                raise ConfigError(
                    f"the shards in {root} name font {top}, but the font set has {len(self.font_paths)} "
                    "fonts: render the shards with data=synth's font settings to use data.content_fonts"
                )

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, Any]:
        s, j = self.index[i]
        out: dict[str, Any] = {}
        for k, v in self.shards[s].items():
            x = v[j]
            if k in K.MASK_KEYS:
                x = x.float() / 255.0
            elif k in K.IMAGE_KEYS or k in K.GREY_KEYS:
                x = x.float() / 127.5 - 1.0
            out[k] = x
        if self.content_fonts.active:  # redraw the content in the font data.content_fonts chooses
            a, b = out[K.TEXT_SRC], out[K.TEXT_TGT]
            rng = np.random.default_rng([i, 1])
            drawn = self.content_fonts.choose(self.font_paths[int(out[K.FONT_ID])], a + b, rng)
            if drawn is not None:
                h, w = out[K.CONTENT_SRC].shape[-2:]
                out[K.CONTENT_SRC] = render_content(a, h, w, drawn)
                out[K.CONTENT_TGT] = render_content(b, h, w, drawn)
        return out


class ShardData(DataModule):
    """Pre-rendered synthetic pairs (``data=synth_shards``): no rendering while training.

    For a GPU that the renderer's workers cannot keep busy. ``root`` (and optionally ``val_root``)
    hold the shards of ``python -m tsb.data.synth render --format shards``; the sample order,
    resuming and the DDP slices are those of every data module (:class:`DataModule`).
    ``content_fonts`` redraws the training pairs' content as ``data=synth``'s option does (the
    shards' font ids are read against data=synth's default font set).
    """

    def __init__(
        self,
        root: str,
        val_root: str | None = None,
        content_fonts: dict[str, Any] | None = None,
        **loader: Any,
    ) -> None:
        super().__init__(**loader)
        self.root, self.val_root = root, val_root
        self.content_fonts = ContentFonts(**dict(content_fonts or {}))
        self._opened: dict[str, ShardDataset] = {}

    def _open(self, root: str, train: bool = False) -> ShardDataset:
        if root not in self._opened:
            if train and self.content_fonts.active:
                paths = [str(f.path) for f in load_fonts().fonts]
                self._opened[root] = ShardDataset(root, self.content_fonts, paths)
            else:
                self._opened[root] = ShardDataset(root)
        return self._opened[root]

    def train_dataset(self) -> ShardDataset:
        return self._open(self.root, train=True)

    def val_dataset(self) -> ShardDataset | None:
        return self._open(self.val_root) if self.val_root else None


def contact_sheet(ds: SynthDataset, n: int, cols: int = 2) -> Image.Image:
    """``n`` pairs, each as a row strip: source | target | source mask | content A | content B."""
    tiles = []
    for i in range(n):
        a, b, _, pair = ds.render(i)
        h, w = pair.images[0].shape[:2]
        ca = np.asarray(render_content(a, h, w)[0].add(1).mul(127.5).round().to(torch.uint8))
        cb = np.asarray(render_content(b, h, w)[0].add(1).mul(127.5).round().to(torch.uint8))
        grey = [np.repeat(x[..., None], 3, axis=2) for x in (ca, cb)]
        masks = [np.repeat((m * 255 + 0.5).astype(np.uint8)[..., None], 3, axis=2) for m in pair.masks]
        sep = np.full((h, 4, 3), 255, np.uint8)
        row = np.concatenate(
            [pair.images[0], sep, pair.images[1], sep, masks[0], sep, masks[1], sep, grey[0], sep, grey[1]],
            axis=1,
        )
        tiles.append(row)
    rw = max(t.shape[1] for t in tiles)
    rh = tiles[0].shape[0]
    rows = math.ceil(n / cols)
    sheet = np.full((rows * (rh + 6), cols * (rw + 12), 3), 255, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * (rh + 6) : r * (rh + 6) + rh, c * (rw + 12) : c * (rw + 12) + t.shape[1]] = t
    return Image.fromarray(sheet)


def _module_from_config(name: str | None, seed: int, overrides: dict[str, Any]) -> SynthData:
    """SynthData from ``conf/data/<name>.yaml`` (composed with Hydra onto its structured config),
    or the class's defaults."""
    cfg: dict[str, Any] = {}
    if name:
        from omegaconf import OmegaConf, open_dict

        from tsb.data.schemas import register_data
        from tsb.utils.config import compose_conf

        register_data()
        composed = compose_conf([f"+data={name}", f"+seed={seed}", "+paths=default"])
        with open_dict(composed):
            composed.paths.output_dir = composed.paths.root_dir = "."
        node = OmegaConf.to_container(composed.data, resolve=True)
        assert isinstance(node, dict)
        node.pop("_target_", None)
        cfg = {str(k): v for k, v in node.items()}
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    cfg.update(seed=seed, num_workers=0, persistent_workers=False)
    return SynthData(**cfg)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tsb.data.synth", description="Write synthetic pairs to disk.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render", help="write a fixed set of pairs")
    r.add_argument("--n", type=int, required=True, help="number of pairs")
    r.add_argument("--out", type=Path, required=True, help="output folder")
    r.add_argument("--split", default="heldout", choices=["train", "heldout", "all"], help="font split")
    r.add_argument("--format", default="paired", choices=["paired", "shards"])
    r.add_argument("--shard-size", type=int, default=1000)
    r.add_argument("--workers", type=int, default=0, help="processes rendering shards (0: this one)")
    s = sub.add_parser("sheet", help="a PNG contact sheet of pairs")
    s.add_argument("--n", type=int, default=32)
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--split", default="all", choices=["train", "heldout", "all"])
    s.add_argument("--full-color", action="store_true", help="24-bit PNG instead of 256 colours")
    for q in (r, s):
        q.add_argument("--data", default=None, help="a data config of conf/data (synth, synth_simple, ...)")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--height", type=int, default=None)
        q.add_argument("--width", type=int, default=None)
        q.add_argument("--alphabet", default=None, help="latin | cyrillic | the characters")
        q.add_argument("--lexicon", default=None, help="en | ru | a word-list file")
        q.add_argument("--font-dir", action="append", default=None, metavar="DIR",
                       help="draw with the fonts of this folder too (repeat it; data.font_dirs)")  # fmt: skip
        q.add_argument("--font-packages", nargs="*", default=None, metavar="NAME",
                       help="the font packages to draw with (data.font_packages; none: only --font-dir)")  # fmt: skip
    args = p.parse_args(argv)
    try:
        _check_arguments(args)
        packages = None if args.font_packages is None else [n for n in args.font_packages if n != "none"]
        overrides = {"height": args.height, "width": args.width, "alphabet": args.alphabet}
        overrides.update(lexicon=args.lexicon, font_dirs=args.font_dir, font_packages=packages)
        dm = _module_from_config(args.data, args.seed, overrides)
        ds = dm.dataset(args.n, RENDER_STREAM, args.split)
        try:
            if args.cmd == "sheet":
                args.out.parent.mkdir(parents=True, exist_ok=True)
                sheet = contact_sheet(ds, args.n)
                if not args.full_color:  # 256 colours keep a docs PNG small (about 350 kB for 32 pairs)
                    sheet = sheet.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
                sheet.save(args.out, optimize=True)
            elif args.format == "paired":
                write_paired(ds, args.n, args.out)
            else:
                write_shards(ds, args.n, args.out, args.shard_size, args.workers)
        except OSError as e:  # a read-only folder, a full disk
            raise ConfigError(
                f"cannot write --out {args.out} ({e.strerror or e}: {e.filename or args.out}); give a "
                "folder you can write to, on a disk with room"
            ) from e
    except TsbError as e:  # one line, as the apps print it (tsb.cli is above this layer)
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    print(f"wrote {args.n} pairs to {args.out}")
    return 0


def _check_arguments(args: argparse.Namespace) -> None:
    """The command's numbers and paths, each refused with one :class:`ConfigError` naming it."""
    if args.n < 1:
        raise ConfigError(f"--n {args.n}: give the number of pairs to write, 1 or more (e.g. --n 100)")
    if args.cmd == "render":
        if args.shard_size < 1:
            raise ConfigError(f"--shard-size {args.shard_size}: give 1 or more samples a shard (e.g. 1000)")
        if args.workers < 0:
            raise ConfigError(f"--workers {args.workers}: give 0 (render here) or more processes")
        if args.out.exists() and not args.out.is_dir():
            raise ConfigError(f"--out {args.out} is a file; give a folder (it is created if missing)")
    else:
        if args.out.is_dir():
            raise ConfigError(f"--out {args.out} is a folder; give the sheet's file name (e.g. sheet.png)")
        if args.out.suffix.lower() not in Image.registered_extensions():
            raise ConfigError(f"--out {args.out}: not an image file name; end it with .png (or .jpg)")
    if args.data is not None:
        from tsb.utils.config import CONF

        known = sorted(p.stem for p in (CONF / "data").glob("*.yaml"))
        if args.data not in known:
            raise ConfigError(f"--data {args.data}: no conf/data/{args.data}.yaml; one of {', '.join(known)}")


if __name__ == "__main__":
    raise SystemExit(main())
