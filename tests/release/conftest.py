from __future__ import annotations

from pathlib import Path

import pytest

from tests.release.helpers import make_run, write_report
from tsb import published


@pytest.fixture
def presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A conf/inference folder holding the preset ``photo``."""
    from tsb.release import manifest

    folder = tmp_path / "conf_inference"
    folder.mkdir()
    (folder / "photo.yaml").write_text("steps: []\n")
    monkeypatch.setattr(manifest, "INFERENCE_DIR", folder)
    return folder


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A run checkpoint published as ``tiny`` into a temporary weights folder (the default manifest
    points there), its card and report."""
    from tsb.release.export import publish

    ckpt = make_run(tmp_path)
    report = write_report(tmp_path / "report.json")
    wdir = tmp_path / "weights"
    monkeypatch.setattr(published, "MANIFEST", wdir / "manifest.json")
    published._verified.clear()
    card = tmp_path / "model_card.md"
    publish(ckpt, report, "tiny", weights_dir=wdir, card=card)
    return {"ckpt": ckpt, "report": report, "weights": wdir, "card": card, "file": wdir / "tiny.safetensors"}
