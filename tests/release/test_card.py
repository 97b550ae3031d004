"""The model card: the template filled from a manifest entry and an evaluation report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.release.helpers import REPORT
from tsb import published
from tsb.errors import TsbError
from tsb.release.card import CARD, card_only, card_path, model_card, read_report

ROOT = Path(__file__).resolve().parents[2]


def _front_matter(text: str) -> dict[str, object]:
    assert text.startswith("---\n")
    head, sep, _ = text[4:].partition("\n---\n")
    assert sep, "no closing --- of the front matter"
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def test_the_card_has_hugging_face_front_matter_and_the_measured_rows(tiny: dict[str, Path]) -> None:
    text = tiny["card"].read_text()
    meta = _front_matter(text)
    assert meta["license"] == "mit" and meta["library_name"] == "tsb"
    assert {"safetensors", "text-style-transfer"} <= set(meta["tags"])  # type: ignore[arg-type]
    assert meta["metrics"] == ["mse", "psnr", "ssim", "lpips", "fid", "accuracy", "ned"]
    assert meta["datasets"] == []  # the tiny run records no data folder
    results = meta["model-index"][0]["results"][0]  # type: ignore[index]
    assert meta["model-index"][0]["name"] == "tiny"  # type: ignore[index]
    assert {m["type"]: m["value"] for m in results["metrics"]}["psnr"] == 20.5
    entry = published.read_manifest()["tiny"]
    assert "`tsb/weights/tiny.safetensors` (safetensors)" in text and entry["sha256"] in text
    assert "python train.py experiment=stylebrush_bg" in text and "10.0 min wall" in text
    assert "| copy the source | 0.0400 | 14.70 |" in text and "| model | 0.0100 | 20.50 |" in text
    assert "inference preset: none recorded" in text and "${" not in text


def test_card_only_rewrites_the_card_from_a_new_report(tiny: dict[str, Path], tmp_path: Path) -> None:
    before = tiny["file"].read_bytes()
    new = json.loads(json.dumps(REPORT))
    new["metrics"]["model"]["psnr"] = 21.25
    new["inputs"] = {"use_source_text": True, "match_font": True, "font_match_split": "train"}
    report = tmp_path / "report2.json"
    report.write_text(json.dumps(new))
    card_only(report, "tiny", card=tiny["card"])
    text = tiny["card"].read_text()
    assert "| model | 0.0100 | 21.25 |" in text and "matched train font" in text
    assert tiny["file"].read_bytes() == before  # nothing exported
    with pytest.raises(TsbError, match="no published weights named 'nope'"):
        card_only(report, "nope", card=tiny["card"])


def test_a_card_without_a_report_has_valid_front_matter() -> None:
    entry = {"file": "x.safetensors", "bytes": 10, "sha256": "ab", "model_settings": {"model.net.a.b": 4}, "inference": "photo"}
    text = model_card("x", entry, None)
    meta = _front_matter(text)
    assert meta["metrics"] == [] and "model-index" not in meta and "## Measured" not in text
    assert "`model.net.a.b=4`" in text and "inference preset: `photo`" in text


def test_a_report_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"rows": {"model": "model"}, "metrics": {"model": 3}}))
    with pytest.raises(TsbError, match="not an evaluation report"):
        read_report(path)


def test_each_published_name_has_its_own_model_card() -> None:
    assert card_path(published.DEFAULT) == CARD
    other = card_path("stylebrush_bg_gpu")
    assert other.parent == CARD.parent and other.name == "model_card_stylebrush_bg_gpu.md"


def test_the_repository_card_is_what_the_command_writes() -> None:
    """docs/model_card.md: the template filled from the manifest and the published report."""
    report = ROOT / "docs" / "results" / "eval_published_report.json"
    entries = published.read_manifest(published.WEIGHTS_DIR / "manifest.json")
    if published.DEFAULT not in entries or not report.is_file():
        pytest.skip("no published weights or report in this checkout")
    expected = model_card(published.DEFAULT, entries[published.DEFAULT], read_report(report))
    assert CARD.read_text(encoding="utf-8") == expected, (
        "docs/model_card.md is stale: python -m tsb.release --card-only --report "
        "docs/results/eval_published_report.json"
    )
    meta = _front_matter(expected)
    assert meta["datasets"] == [Path(entries[published.DEFAULT]["data"]["root"]).name]  # the run's data
