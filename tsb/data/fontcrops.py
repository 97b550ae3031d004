"""Word crops by typeface, for the typeface encoder (``data=fontcrops``).

Every font of the chosen split draws ``words_per_font`` words (a fixed draw per font, the last
``val_words`` of them kept for validation) once, ink white on black at ``height`` x ``width``, the
word scaled to fill the height (or the width, if wider) and centred. The drawings are cached as one
``uint8`` array in ``$TSB_CACHE_DIR/fontcrops`` keyed by the fonts and settings, so the second run
starts at once.

Training samples are these drawings under cheap photometric and geometric changes that do not
change the typeface: ink and background grey levels (either polarity), scale and position in the
crop, blur and noise. The word's width is never stretched: width is part of a typeface.

Batch: ``style`` (B, 1, H, W) in [-1, 1], ``font_id`` (B,) (the font's id in
:func:`tsb.data.fonts.load_fonts`, the label of the typeface encoder) and ``text``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from torch.utils.data import Dataset

from tsb.data.base import DataModule
from tsb.data.fonts import DEFAULT_EXCLUDE, PACKAGES, FontInfo, cache_dir, get_font, load_fonts
from tsb.data.words import TextSampler
from tsb.errors import ConfigError
from tsb.utils.alphabets import resolve_alphabet


def draw_word(font: FontInfo, text: str, height: int, width: int, size: int = 48) -> np.ndarray:
    """``text`` in ``font``, white on black, scaled to fill ``height`` (or ``width``) and centred."""
    face = get_font(font.path, size)
    left, top, right, bottom = (int(v) for v in face.getbbox(text))
    w, h = max(1, right - left), max(1, bottom - top)
    image = Image.new("L", (w + 4, h + 4), 0)
    ImageDraw.Draw(image).text((2 - left, 2 - top), text, font=face, fill=255)
    scale = min((height - 2) / (h + 4), (width - 2) / (w + 4))
    sw, sh = max(1, round((w + 4) * scale)), max(1, round((h + 4) * scale))
    small = image.resize((sw, sh), Image.Resampling.LANCZOS)
    out = Image.new("L", (width, height), 0)
    out.paste(small, ((width - sw) // 2, (height - sh) // 2))
    return np.asarray(out, np.uint8)


def render_crops(
    fonts: Sequence[FontInfo], sampler: TextSampler, words_per_font: int, height: int, width: int, seed: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images (N, H, W) uint8, font ids (N,), texts): ``words_per_font`` words per font."""
    images = np.zeros((len(fonts) * words_per_font, height, width), np.uint8)
    labels = np.zeros(len(fonts) * words_per_font, np.int64)
    texts: list[str] = []
    for i, font in enumerate(fonts):
        rng = np.random.default_rng([seed, font.font_id])
        for j in range(words_per_font):
            text = sampler.sample(rng)
            for _ in range(20):
                if font.covers(text):
                    break
                text = sampler.sample(rng)
            k = i * words_per_font + j
            images[k] = draw_word(font, text, height, width)
            labels[k] = font.font_id
            texts.append(text)
    return images, labels, texts


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A drawing (uint8, ink 255) as a grey photo crop of it, float in [-1, 1]; same typeface."""
    h, w = image.shape
    pil = Image.fromarray(image)
    scale = rng.uniform(0.7, 1.0)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = Image.new("L", (w, h), 0)
    canvas.paste(pil.resize((sw, sh), Image.Resampling.BILINEAR),
                 (int(rng.integers(0, w - sw + 1)), int(rng.integers(0, h - sh + 1))))  # fmt: skip
    if rng.random() < 0.3:
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    ink = np.asarray(canvas, np.float32) / 255.0
    lo, hi = sorted(rng.uniform(-1.0, 1.0, 2))
    if hi - lo < 0.4:
        lo, hi = max(-1.0, lo - 0.2), min(1.0, hi + 0.2)
    fg, bg = (hi, lo) if rng.random() < 0.5 else (lo, hi)
    out = bg + (fg - bg) * ink
    if rng.random() < 0.5:
        out = out + rng.normal(0.0, rng.uniform(0.01, 0.08), out.shape).astype(np.float32)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


class FontCropDataset(Dataset):
    def __init__(self, images: np.ndarray, labels: np.ndarray, texts: list[str], seed: int, train: bool) -> None:
        self.images, self.labels, self.texts = images, labels, texts
        self.seed, self.train = seed, train
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.train:
            rng = np.random.default_rng([self.seed, index, int(torch.randint(0, 2**31 - 1, ()).item())])
        else:  # validation: a fixed draw per sample
            rng = np.random.default_rng([self.seed, 1, index])
        x = augment(self.images[index], rng)
        return {"style": torch.from_numpy(x)[None], "font_id": int(self.labels[index]), "text": self.texts[index]}


class FontCropData(DataModule):
    """Word crops by typeface (see the module doc).

    Args:
        font_split: the fonts drawn ("train": training fonts; "heldout", "all").
        words_per_font: words each font draws; the last ``val_words`` are the validation set.
        height, width: crop size.
        alphabet, lexicon, max_len: what the words are made of (see ``data=synth``).
        font_dirs, system_fonts, font_packages, font_exclude, min_coverage: where the fonts come
            from (see ``data=synth``; ``fontlib`` in ``font_packages`` adds the font library).
        limit_fonts: use only the first N fonts of the split (tests, quick runs); null = all.
    """

    def __init__(
        self,
        font_split: str = "train",
        words_per_font: int = 24,
        val_words: int = 4,
        height: int = 32,
        width: int = 128,
        alphabet: str = "latin",
        lexicon: str | None = "en",
        max_len: int = 10,
        font_dirs: Sequence[str] = (),
        system_fonts: bool = False,
        font_packages: Sequence[str] = (*PACKAGES, "fontlib"),
        font_exclude: Sequence[str] = DEFAULT_EXCLUDE,
        min_coverage: float = 0.9,
        limit_fonts: int | None = None,
        cache: bool = True,
        **loader: Any,
    ) -> None:
        super().__init__(**loader)
        if not 0 < val_words < words_per_font:
            raise ConfigError(f"need 0 < data.val_words < data.words_per_font, got {val_words}, {words_per_font}")
        self.font_split = font_split
        self.words_per_font, self.val_words = words_per_font, val_words
        self.height, self.width = height, width
        self.alphabet = resolve_alphabet(alphabet)
        self.sampler = TextSampler(self.alphabet, lexicon, p_random=0.1, min_len=3, max_len=max_len)
        self.font_kwargs: dict[str, Any] = {
            "font_dirs": tuple(font_dirs or ()),
            "system_fonts": system_fonts,
            "packages": tuple(font_packages),
            "exclude": tuple(font_exclude),
            "min_coverage": min_coverage,
        }
        self.limit_fonts = limit_fonts
        self.cache = cache
        self._arrays: tuple[np.ndarray, np.ndarray, list[str]] | None = None

    def fonts(self) -> list[FontInfo]:
        fonts = load_fonts(self.alphabet, **self.font_kwargs).split(self.font_split)
        return fonts[: self.limit_fonts] if self.limit_fonts else fonts

    def _key(self, fonts: Sequence[FontInfo]) -> str:
        desc = [self.words_per_font, self.height, self.width, self.seed, self.alphabet,
                self.sampler.max_len, [(f.path, f.font_id) for f in fonts]]  # fmt: skip
        return hashlib.sha256(json.dumps(desc).encode()).hexdigest()[:16]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """All drawings (rendered once, then read from the cache)."""
        if self._arrays is None:
            fonts = self.fonts()
            path = cache_dir() / "fontcrops" / f"{self._key(fonts)}.npz"
            if self.cache and path.is_file():
                with np.load(path) as z:
                    self._arrays = (z["images"], z["labels"], [str(t) for t in z["texts"]])
            else:
                self._arrays = render_crops(fonts, self.sampler, self.words_per_font, self.height, self.width, self.seed)
                if self.cache:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(".tmp.npz")
                    images, labels, texts = self._arrays
                    np.savez(tmp, images=images, labels=labels, texts=np.array(texts))
                    os.replace(tmp, path)
        return self._arrays

    def _part(self, val: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
        images, labels, texts = self.arrays()
        word = np.arange(len(images)) % self.words_per_font
        keep = word >= self.words_per_font - self.val_words if val else word < self.words_per_font - self.val_words
        idx = np.flatnonzero(keep)
        return images[idx], labels[idx], [texts[i] for i in idx]

    def train_dataset(self) -> Dataset:
        return FontCropDataset(*self._part(val=False), seed=self.seed, train=True)

    def val_dataset(self) -> Dataset | None:
        return FontCropDataset(*self._part(val=True), seed=self.seed, train=False)


def cache_path_hint() -> Path:
    """Where the drawings are cached (to delete them)."""
    return cache_dir() / "fontcrops"
