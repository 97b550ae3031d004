"""Gather JSON result files of many runs into one table: ``python -m tsb.summary DIR``.

Every file named ``--file`` (default ``report.json``) under DIR, at any depth, is one row. Nested
keys are flattened with '/' (``metrics/model/psnr``). The columns are the keys holding a number
in at least one file (or those matching ``--columns`` patterns, e.g. ``'metrics/model/*'``); the
first columns are ``run`` (the file's folder relative to DIR) and, when the run folder has Hydra's
``.hydra/overrides.yaml``, ``overrides`` (what differs between the runs of a sweep).

Rows are sorted by ``--sort KEY`` (a full key, or a unique suffix such as ``model/psnr``),
ascending unless ``--desc``; rows without a value go last. The table is printed as markdown and
written to ``<DIR>/<stem>_table.md`` and ``.csv`` (``--out PREFIX`` to choose). Used for
``evaluate.py -m`` reports and for training sweeps' ``summary.json`` files alike.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tsb.cli import report_error
from tsb.errors import SummaryError


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> one level with keys joined by '/'. Lists stay values."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "/"))
        else:
            out[key] = v
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _overrides(run_dir: Path) -> str | None:
    f = run_dir / ".hydra" / "overrides.yaml"
    if not f.is_file():
        return None
    items = [
        ln.strip()[2:].strip()
        for ln in f.read_text(encoding="utf-8").splitlines()
        if ln.strip().startswith("- ")
    ]
    return " ".join(items)


def collect(root: Path, file_name: str = "report.json") -> list[dict[str, Any]]:
    """One flattened dict per ``file_name`` under ``root`` (sorted by path), with ``run`` (+ ``overrides``)."""
    if not root.is_dir():
        raise SummaryError(
            f"{root} is not a folder; give the folder that holds the runs (e.g. multirun/evaluate)"
        )
    rows: list[dict[str, Any]] = []
    for path in sorted(root.rglob(file_name)):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            print(f"skipping {path}: not readable JSON ({e})", file=sys.stderr)
            continue
        if not isinstance(data, dict):
            print(f"skipping {path}: not a JSON object", file=sys.stderr)
            continue
        row: dict[str, Any] = {"run": str(path.parent.relative_to(root)) or "."}
        ov = _overrides(path.parent)
        if ov is not None:
            row["overrides"] = ov
        row.update(flatten(data))
        rows.append(row)
    return rows


def select_columns(rows: Sequence[dict[str, Any]], patterns: Sequence[str] | None = None) -> list[str]:
    """``run`` (+ ``overrides``), then the numeric keys, or the keys matching ``patterns``, in first-seen order."""
    seen: list[str] = []
    for r in rows:
        seen += [k for k in r if k not in seen]
    lead = [k for k in ("run", "overrides") if k in seen]
    rest = [k for k in seen if k not in lead]
    if patterns:
        cols = [k for k in rest if any(fnmatch.fnmatchcase(k, p) for p in patterns)]
    else:
        cols = [k for k in rest if any(_is_number(r.get(k)) for r in rows)]
    return lead + cols


def resolve_key(key: str, columns: Sequence[str]) -> str:
    """A column name from a full key or a unique '/'-suffix of one."""
    if key in columns:
        return key
    hits = [c for c in columns if c.endswith("/" + key)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise SummaryError(f"--sort {key!r} matches no column; columns: {', '.join(columns)}")
    raise SummaryError(f"--sort {key!r} is ambiguous: {', '.join(hits)}; give more of the key")


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool = False) -> list[dict[str, Any]]:
    """Rows with a finite number under ``key`` first, in order; the others after, as they came."""
    have = [r for r in rows if _is_number(r.get(key)) and math.isfinite(r[key])]
    rest = [r for r in rows if r not in have]
    return sorted(have, key=lambda r: r[key], reverse=descending) + rest


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else str(v)
    if isinstance(v, (list, tuple)):
        return " ".join(str(x) for x in v)
    return str(v)


def to_markdown(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)).replace("|", "\\|") for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])


def summarize(
    root: Path,
    file_name: str = "report.json",
    sort: str | None = None,
    descending: bool = False,
    columns: Sequence[str] | None = None,
    out: Path | None = None,
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """Collect, select, sort, write ``<out>.md`` / ``<out>.csv``; returns (markdown, rows, columns)."""
    rows = collect(root, file_name)
    if not rows:
        raise SummaryError(f"no {file_name} found under {root}")
    cols = select_columns(rows, columns)
    if sort:
        rows = sort_rows(rows, resolve_key(sort, cols), descending)
    md = to_markdown(rows, cols)
    prefix = out or root / f"{Path(file_name).stem}_table"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    prefix.with_suffix(".md").write_text(md, encoding="utf-8")
    write_csv(prefix.with_suffix(".csv"), rows, cols)
    return md, rows, cols


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tsb.summary", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "dir", type=Path, help="folder searched recursively (e.g. multirun/evaluate/2025-01-01_12-00-00)"
    )
    p.add_argument("--file", default="report.json", help="JSON file name to gather (default: report.json)")
    p.add_argument("--sort", help="column to sort by: a full key or a unique suffix, e.g. model/psnr")
    p.add_argument("--desc", action="store_true", help="sort descending (higher first)")
    p.add_argument(
        "--columns", nargs="+", help="glob patterns of the columns to show (default: numeric keys)"
    )
    p.add_argument("--out", type=Path, help="output prefix (default: DIR/<file stem>_table) for .md and .csv")
    args = p.parse_args(argv)
    try:
        md, rows, _ = summarize(args.dir, args.file, args.sort, args.desc, args.columns, args.out)
    except SummaryError as e:
        return report_error(e)
    print(md, end="")
    prefix = args.out or args.dir / f"{Path(args.file).stem}_table"
    print(
        f"\n{len(rows)} runs; written {prefix.with_suffix('.md')} and {prefix.with_suffix('.csv')}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
