"""The independent judge that reads the generated words (PP-OCRv6 by default; never a training loss).

The reference rows (the ground truth, the source copied, the target in the standard font) are the
same images on every evaluation of one benchmark: :class:`Readings` keeps a packaged judge's
readings of them on disk (``$TSB_CACHE_DIR/judge/<judge>-<version>.json``, keyed by the 8-bit
image's digest), so a second run reads only the model's outputs.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from tsb.errors import CheckpointError
from tsb.pretrained.packages import PretrainedUnavailable
from tsb.utils.image import pixel_digest, to_unit
from tsb.utils.io import cache_dir, read_json_cache, write_cache_file

#: the packages whose pinned version names a packaged judge's networks
JUDGE_PACKAGES = {"ppocr": "rapidocr", "easyocr": "easyocr"}


def load_judge(spec: str | None, device: torch.device) -> tuple[Any, str | None]:
    """The judge (``read(images) -> list[str]``) that ``judge`` names, or (None, reason).

    ``ppocr`` (PP-OCRv6, the default), ``easyocr``, or a CRNN checkpoint trained here; see
    :mod:`tsb.pretrained.registry`. A judge is never a training loss (docs/evaluation.md).
    """
    if not spec:
        return None, "no judge configured (judge=null)"
    from tsb.pretrained.registry import judge

    try:
        reader = judge(str(spec))
    except (PretrainedUnavailable, CheckpointError) as e:  # not on this machine: say so in the report
        return None, str(e)
    if isinstance(reader, torch.nn.Module):
        reader = reader.to(device)
    return reader, None


def recognizer_alphabet(recognizer: Any) -> str | None:
    alpha = getattr(recognizer, "alphabet", None)
    chars = getattr(alpha, "chars", alpha)
    return chars if isinstance(chars, str) else None


def read_words(recognizer: Any, images: Tensor) -> list[str]:
    with torch.no_grad():
        return list(recognizer.read(images))


class Readings:
    """What a judge read in images it has read before, kept in a JSON file (plain data; written
    atomically by :meth:`save`; an unreadable file is read again from scratch)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.entries: dict[str, str] = {str(k): str(v) for k, v in read_json_cache(self.path).items()}
        self.changed = False

    @classmethod
    def for_judge(cls, spec: str | None) -> Readings | None:
        """The readings of a packaged judge (``ppocr``, ``easyocr``) at its installed version;
        None for a checkpoint of one's own (it may change under the same name)."""
        package = JUDGE_PACKAGES.get(str(spec))
        if package is None:
            return None
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            return None
        return cls(cache_dir() / "judge" / f"{spec}-{version}.json")

    def read(self, recognizer: Any, images: Tensor) -> list[str]:
        """:func:`read_words` of ``images`` (B, C, H, W) in [-1, 1], reading only the new ones."""
        keys = [pixel_digest(to_unit(im)) for im in images]
        todo = [i for i, k in enumerate(keys) if k not in self.entries]
        if todo:
            for i, word in zip(todo, read_words(recognizer, images[todo])):
                self.entries[keys[i]] = word
            self.changed = True
        return [self.entries[k] for k in keys]

    def save(self) -> None:
        if self.changed and write_cache_file(self.path, json.dumps(self.entries).encode("utf-8")):
            self.changed = False
