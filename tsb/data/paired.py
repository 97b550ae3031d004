"""Paired benchmark folders (``data=paired``): the layout of Tamper-Syn2k and ScenePair.

::

    root/
      i_s/        source images (the style examples)
      t_f/        ground-truth targets, same file names (optional: only when known)
      t_b/        the clean backgrounds (no text), same file names (optional; SRNet's name)
      i_t.txt     lines "file_name target_word"
      i_s.txt     lines "file_name source_word" (optional)
      mask_s/     source foreground masks (optional; written by our renderer)
      mask_t/     target foreground masks (optional)

A line's first white-space separated field is the file name, the rest of the line is the word
(so words may hold spaces). Files of ``i_s/`` without a line in ``i_t.txt`` are ignored; a line
whose image is missing is an error. Items carry ``style``, ``content_tgt``, ``text_tgt``, ``name``
and, when available, ``target``, ``text_src`` + ``content_src``, ``mask_src``, ``mask_tgt``, ``background``.

Evaluation iterates ``val_dataset()``; for a paired folder both ``train_dataset()`` and
``val_dataset()`` return all pairs, in file-name order.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch.utils.data import Dataset

from tsb.data import keys as K
from tsb.data.base import DataModule
from tsb.data.content import render_content
from tsb.data.imageio import check_width, fit_height, load_rgb
from tsb.errors import ConfigError, DataNotFoundError
from tsb.utils.image import pil_to_tensor

log = logging.getLogger(__name__)


def read_word_lines(path: Path) -> dict[str, str]:
    """``file_name word`` lines -> {file_name: word}; a clear error for a malformed line."""
    out: dict[str, str] = {}
    first: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {e.start}: {e.reason}); save it as UTF-8"
        ) from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=1)
        if len(parts) != 2:
            raise ConfigError(f"{path}:{n}: expected 'file_name word', got {line!r}")
        if parts[0] in first:
            raise ConfigError(
                f"{path}:{n}: {parts[0]} is listed again (first on line {first[parts[0]]}); keep one line a file"
            )
        first[parts[0]] = n
        out[parts[0]] = parts[1]
    return out


class PairedFolderDataset(Dataset):
    """One item per line of ``i_t.txt`` (see the module docstring)."""

    def __init__(
        self, root: str | Path, height: int = 64, width: int | None = 256, max_width: int = 1024
    ) -> None:
        check_width(width)
        self.root = Path(root).expanduser()
        if not (self.root / "i_s").is_dir() or not (self.root / "i_t.txt").is_file():
            raise DataNotFoundError(
                f"{self.root} is not a paired folder: it needs i_s/ and i_t.txt "
                "(Tamper-Syn2k / ScenePair layout); set data.root"
            )
        self.height, self.width, self.max_width = height, width, max_width
        targets = read_word_lines(self.root / "i_t.txt")
        sources = read_word_lines(self.root / "i_s.txt") if (self.root / "i_s.txt").is_file() else {}
        self.names = sorted(targets)
        missing = [n for n in self.names if not (self.root / "i_s" / n).is_file()]
        if missing:
            raise DataNotFoundError(
                f"{len(missing)} sources listed in i_t.txt are missing in {self.root / 'i_s'}, e.g. {missing[0]}"
            )
        self.targets, self.sources = targets, sources
        self.has = {d: (self.root / d).is_dir() for d in ("t_f", "t_b", "mask_s", "mask_t")}
        # a folder holds a file for every pair or none (batches and metrics need the same keys)
        for d, present in self.has.items():
            lacking = [n for n in self.names if present and not (self.root / d / n).is_file()]
            if lacking:
                raise DataNotFoundError(
                    f"{self.root / d} has no file for {len(lacking)} of the {len(self.names)} pairs in "
                    f"i_t.txt, e.g. {lacking[0]}; give every pair one (same file name as in i_s/) or "
                    f"remove {d}/"
                )
        if not self.has["t_f"]:
            log.warning(
                "%s has no t_f/ folder (no ground-truth targets): evaluation runs in scene mode, where "
                "only the recognition metrics mean anything; add t_f/ for the image metrics", self.root
            )

    def __len__(self) -> int:
        return len(self.names)

    def _mask(self, path: Path, w: int) -> torch.Tensor:
        m = Image.open(path).convert("L").resize((w, self.height), Image.Resampling.BILINEAR)
        return (pil_to_tensor(m, "L") + 1.0) * 0.5

    def __getitem__(self, index: int) -> dict[str, Any]:
        name = self.names[index]
        style_img = fit_height(
            load_rgb(self.root / "i_s" / name), self.height, self.width, max_width=self.max_width
        )
        w = style_img.size[0]
        b = self.targets[name]
        out: dict[str, Any] = {
            K.STYLE: pil_to_tensor(style_img),
            K.CONTENT_TGT: render_content(b, self.height, w),
            K.TEXT_TGT: b,
            K.NAME: name,
        }
        if name in self.sources:
            out[K.TEXT_SRC] = self.sources[name]
            out[K.CONTENT_SRC] = render_content(self.sources[name], self.height, w)
        for key, sub in ((K.TARGET, "t_f"), (K.BACKGROUND, "t_b")):
            p = self.root / sub / name
            if self.has[sub] and p.is_file():
                out[key] = pil_to_tensor(load_rgb(p).resize((w, self.height), Image.Resampling.BICUBIC))
        for key, sub in ((K.MASK_SRC, "mask_s"), (K.MASK_TGT, "mask_t")):
            p = self.root / sub / name
            if self.has[sub] and p.is_file():
                out[key] = self._mask(p, w)
        return out


class PairedData(DataModule):
    """``data=paired data.root=DIR``: a paired benchmark folder for evaluation (or fine-tuning)."""

    def __init__(
        self,
        root: str,
        height: int = 64,
        width: int | None = 256,
        max_width: int = 1024,
        **loader: Any,
    ) -> None:
        super().__init__(**loader)  # batch_size, num_workers, seed, ...: see DataModule
        check_width(width)
        self.root, self.height, self.width, self.max_width = root, height, width, max_width

    def train_dataset(self) -> PairedFolderDataset:
        return PairedFolderDataset(self.root, self.height, self.width, self.max_width)

    def val_dataset(self) -> PairedFolderDataset:
        return PairedFolderDataset(self.root, self.height, self.width, self.max_width)

    def val_loader(self) -> Any:
        if self.width is None:
            self.val_batch_size = 1
        return super().val_loader()
