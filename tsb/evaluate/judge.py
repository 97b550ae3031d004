"""The independent judge that reads the generated words (PP-OCRv6 by default; never a training loss)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from tsb.errors import CheckpointError
from tsb.pretrained.packages import PretrainedUnavailable


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
