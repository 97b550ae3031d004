"""The judge's readings of the reference rows, kept on disk between evaluations."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import Tensor

from tsb.evaluate.judge import Readings


class _Judge:
    """Reads an image as the rounded mean of its first pixel, and counts what it reads."""

    def __init__(self) -> None:
        self.read_count = 0

    def read(self, images: Tensor) -> list[str]:
        self.read_count += len(images)
        return [f"w{int((im[0, 0, 0] + 1) * 100)}" for im in images]


def test_readings_are_kept_and_only_new_images_are_read(tmp_path: Path) -> None:
    images = torch.linspace(-1, 1, 6).view(6, 1, 1, 1).expand(6, 3, 8, 16).contiguous()
    store = tmp_path / "judge" / "ppocr-1.json"
    first, judge = Readings(store), _Judge()
    words = first.read(judge, images)
    assert judge.read_count == 6 and len(set(words)) == 6
    first.save()
    again, judge2 = Readings(store), _Judge()
    assert again.read(judge2, images) == words and judge2.read_count == 0
    changed = images.clone()
    changed[2] = 0.05  # an image not read before
    got = again.read(judge2, changed)
    assert judge2.read_count == 1 and got[:2] == words[:2] and got[3:] == words[3:]


def test_only_packaged_judges_keep_readings_and_a_damaged_file_is_read_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSB_CACHE_DIR", str(tmp_path))
    kept = Readings.for_judge("ppocr")
    assert kept is not None and kept.path.parent == tmp_path / "judge" and kept.path.name.startswith("ppocr-")
    assert Readings.for_judge("checkpoints/recognizer.ckpt") is None
    kept.path.parent.mkdir(parents=True)
    kept.path.write_text("{damaged", encoding="utf-8")
    judge = _Judge()
    assert Readings(kept.path).read(judge, torch.zeros(2, 3, 8, 8)) == ["w100", "w100"]
    assert judge.read_count == 2  # the same image twice in one batch is read for each
