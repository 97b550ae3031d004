"""tsb.summary gathers JSON reports into one sorted table (markdown and CSV)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tsb.summary import SummaryError, collect, flatten, main, summarize


def _write(
    root: Path, run: str, psnr: float | None, extra: dict | None = None, overrides: str | None = None
) -> None:
    d = root / run
    d.mkdir(parents=True)
    report = {
        "checkpoint": f"{run}.ckpt",
        "metrics": {"model": {"psnr": psnr, "mse": 0.1}, "copy_source": {"psnr": 9.0}},
    }
    report.update(extra or {})
    (d / "report.json").write_text(json.dumps(report))
    if overrides:
        (d / ".hydra").mkdir()
        (d / ".hydra" / "overrides.yaml").write_text(f"- {overrides}\n")


def test_flatten() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": [1, 2]}) == {"a/b": 1, "a/c/d": "x", "e": [1, 2]}


def test_table_sorted_by_suffix_key(tmp_path: Path) -> None:
    _write(tmp_path, "0", 12.0, overrides="ckpt_path=a.ckpt")
    _write(tmp_path, "1", 20.5, overrides="ckpt_path=b.ckpt")
    _write(tmp_path, "2", None)
    _write(tmp_path, "deep/3", 15.0, extra={"notes": "text only"})
    md, rows, cols = summarize(tmp_path, sort="model/psnr", descending=True)
    assert [r["run"] for r in rows] == ["1", "deep/3", "0", "2"]  # no value: last
    assert cols[:2] == ["run", "overrides"]
    assert "metrics/model/psnr" in cols and "metrics/copy_source/psnr" in cols
    assert "checkpoint" not in cols and "notes" not in cols  # strings are not default columns
    lines = md.splitlines()
    assert lines[0].startswith("| run | overrides | metrics/model/psnr")
    assert lines[2].startswith("| 1 | ckpt_path=b.ckpt | 20.5 |")
    with (tmp_path / "report_table.csv").open() as f:
        table = list(csv.reader(f))
    assert table[0] == cols and table[1][0] == "1" and table[4][cols.index("metrics/model/psnr")] == ""
    assert (tmp_path / "report_table.md").read_text() == md


def test_ascending_columns_patterns_and_other_file_names(tmp_path: Path) -> None:
    for i, v in enumerate([3.0, 1.0, 2.0]):
        d = tmp_path / f"run{i}"
        d.mkdir()
        (d / "summary.json").write_text(json.dumps({"val": {"l1": v}, "train": {"step": 10 * i}}))
    _, rows, cols = summarize(tmp_path, file_name="summary.json", sort="l1", columns=["val/*"])
    assert [r["val/l1"] for r in rows] == [1.0, 2.0, 3.0]
    assert cols == ["run", "val/l1"]
    assert (tmp_path / "summary_table.csv").is_file()


def test_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SummaryError, match=r"no report\.json"):
        summarize(tmp_path)
    _write(tmp_path, "0", 1.0)
    _write(tmp_path, "1", 2.0)
    with pytest.raises(SummaryError, match="ambiguous"):
        summarize(tmp_path, sort="psnr")
    assert main([str(tmp_path), "--sort", "nope"]) == 2
    assert "matches no column" in capsys.readouterr().err
    (tmp_path / "2").mkdir()
    (tmp_path / "2" / "report.json").write_text("{broken")
    assert len(collect(tmp_path)) == 2
    assert main([str(tmp_path), "--sort", "model/psnr", "--desc"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[2].startswith("| 1 |") and "skipping" in out.err
