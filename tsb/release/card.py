"""The model card: ``docs/model_card.md`` from a template, a manifest entry and an evaluation report.

The template (:data:`TEMPLATE`, Markdown with the Hugging Face model card's YAML front matter:
license, library_name, tags, datasets, metrics, model-index) has ``${field}`` placeholders
(:class:`string.Template`); :func:`card_fields` fills them from the manifest entry and
``evaluate.py``'s ``report.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

import yaml

from tsb.errors import ConfigError
from tsb.published import DEFAULT, read_manifest
from tsb.utils.io import atomic_write_bytes

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "docs" / "model_card.md"
#: Markdown, the ``.txt`` suffix so that the package data ships it
TEMPLATE = Path(__file__).with_name("model_card_template.txt")
#: the project's license (pyproject.toml), as the Hugging Face Hub spells it
LICENSE = "mit"
LIBRARY = "tsb"
TAGS = ("tsb", "textstylebrush", "text-style-transfer", "scene-text-editing", "pytorch", "safetensors")
#: the report's metrics: (key in report.json, Hugging Face metric id, column title, digits)
METRICS = (
    ("mse", "mse", "MSE ↓", 4),
    ("psnr", "psnr", "PSNR (dB) ↑", 2),
    ("ssim", "ssim", "SSIM ↑", 3),
    ("lpips", "lpips", "LPIPS ↓", 3),
    ("fid", "fid", "FID ↓", 1),
    ("rec_acc", "accuracy", "judge acc. (%) ↑", 1),
    ("ned", "ned", "NED ↓", 3),
)


def card_path(name: str) -> Path:
    """The model card of published weights ``name``: ``docs/model_card.md`` for the default ones
    (those ``tsb.edit`` and ``evaluate.py`` use), ``docs/model_card_<name>.md`` for the others."""
    return CARD if name == DEFAULT else CARD.with_name(f"model_card_{name}.md")


def read_report(path: str | Path) -> dict[str, Any]:
    """``evaluate.py``'s ``report.json``, checked to have what the card shows (rows and metrics)."""
    path = Path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:  # RecursionError: JSON nested thousands deep
        first = (str(e).splitlines() or [type(e).__name__])[0][:200]
        raise ConfigError(f"--report {path}: not a readable JSON file ({first}); give evaluate.py's report.json") from e
    if (
        not isinstance(report, dict)
        or not isinstance(report.get("rows"), dict)
        or not isinstance(report.get("metrics"), dict)
        or not all(isinstance(v, dict) for v in report["metrics"].values())
    ):
        raise ConfigError(
            f"--report {path}: not an evaluation report (no 'rows' and 'metrics' mappings); "
            "give the report.json that `python evaluate.py` writes"
        )
    return report


def _fmt(v: Any, digits: int) -> str:
    return "n/a" if v is None else f"{float(v):.{digits}f}"


def _flow(items: list[str]) -> str:
    return yaml.safe_dump(items, default_flow_style=True, width=1000).strip()


def _usage(entry: dict[str, Any]) -> str:
    settings = entry.get("model_settings") or {}
    if settings:
        listed = ", ".join(f"`{k}={json.dumps(v)}`" for k, v in settings.items())
        lines = [
            "- model settings applied to that config when the file is loaded (the manifest's "
            f"`model_settings`; they own no weight): {listed}"
        ]
    else:
        lines = ["- loaded with the config as trained (the manifest lists no `model_settings`)"]
    preset = entry.get("inference")
    lines.append(
        f"- inference preset: `{preset}` (`conf/inference/{preset}.yaml`, `inference={preset}`: the steps "
        "around the network on photos; the manifest's `inference`)"
        if preset
        else "- inference preset: none recorded (the manifest's `inference`)"
    )
    return "\n".join(lines)


def _measured(report: dict[str, Any] | None) -> str:
    if not report:
        return ""
    from tsb.evaluate import inputs_line

    metrics = report["metrics"]
    lines = [
        "",
        "## Measured",
        f"`python evaluate.py` on `{report.get('data')}` ({report.get('num_samples')} pairs, {report.get('mode')} "
        f"mode, judge `{report.get('judge')}`, {report.get('device')}):",
        "",
        *(f"{line.removeprefix('- ').capitalize()}.\n" for line in inputs_line(report.get("inputs"))),
        "| row | " + " | ".join(title for _, _, title, _ in METRICS) + " |",
        "|---|" + "---:|" * len(METRICS),
    ]
    for key, label in report["rows"].items():
        row = metrics.get(key, {})
        lines.append(
            f"| {label} | " + " | ".join(_fmt(row.get(k), digits) for k, _, _, digits in METRICS) + " |"
        )
    return "\n".join(lines) + "\n"


def _model_index(name: str, report: dict[str, Any] | None) -> str:
    """The front matter's ``model-index`` (the model row of the report), or "" without a report."""
    if not report:
        return ""
    row = report["metrics"].get("model", {})
    found = [
        {"type": hf, "name": title.rstrip(" ↑↓"), "value": round(float(row[key]), digits + 1)}
        for key, hf, title, digits in METRICS
        if row.get(key) is not None
    ]
    data = str(report.get("data"))
    index = [
        {
            "name": name,
            "results": [
                {
                    "task": {"type": "image-to-image", "name": "scene text style transfer"},
                    "dataset": {
                        "type": Path(data).name,
                        "name": f"{data} ({report.get('num_samples')} pairs, {report.get('mode')} mode)",
                    },
                    "metrics": found,
                }
            ],
        }
    ]
    return yaml.safe_dump({"model-index": index}, sort_keys=False, allow_unicode=True, width=1000).strip()


def card_fields(name: str, entry: dict[str, Any], report: dict[str, Any] | None) -> dict[str, str]:
    """The template's fields for published weights ``name`` (their manifest entry) and ``report``."""
    wall = entry.get("wall_s")
    data = entry.get("data") or {}
    datasets = [Path(str(data["root"])).name] if data.get("root") else []
    row = (report or {}).get("metrics", {}).get("model", {})
    return {
        "license": LICENSE,
        "library_name": LIBRARY,
        "tags": _flow(list(TAGS)),
        "datasets": _flow(datasets),
        "metrics": _flow([hf for key, hf, _, _ in METRICS if row.get(key) is not None]),
        "model_index": _model_index(name, report),
        "name": name,
        "file": str(entry["file"]),
        "megabytes": f"{entry['bytes'] / 1e6:.1f}",
        "sha256": str(entry["sha256"]),
        "target": str(entry.get("target")),
        "parameters": f"{entry.get('parameters', 0) / 1e6:.2f}",
        "weights": "EMA" if entry.get("weights", "ema") == "ema" else "live (no EMA)",
        "usage": _usage(entry),
        "command": str(entry.get("command")),
        "checkpoint": str(entry.get("checkpoint", "last.ckpt")),
        "steps": str(entry.get("steps")),
        "run_steps": str(entry.get("run_steps", entry.get("steps"))),
        "wall": f", {wall / 60:.1f} min wall" if isinstance(wall, (int, float)) else "",
        "machine": str(entry.get("machine", "n/a")),
        "data": (
            f"- data: `{data.get('_target_')}`"
            + (f" from `{data.get('root')}`" if data.get("root") else "")
            + " (synthetic pairs rendered by `python -m tsb.data.synth`, training fonts only; docs/data.md)\n"
            if data
            else ""
        ),
        "published": str(entry.get("published")),
        "measured": _measured(report),
    }


def model_card(name: str, entry: dict[str, Any], report: dict[str, Any] | None, template: Path = TEMPLATE) -> str:
    """The model card (Markdown with YAML front matter) of published weights ``name``."""
    return Template(template.read_text(encoding="utf-8")).substitute(card_fields(name, entry, report))


def card_only(
    report: str | Path, name: str = DEFAULT, weights_dir: Path | None = None, card: Path | None = None
) -> Path:
    """Rewrite the model card of published weights ``name`` from their manifest entry and ``report``."""
    from tsb.release.manifest import manifest_file

    manifest = manifest_file(weights_dir)
    entries = read_manifest(manifest)
    if name not in entries:
        raise ConfigError(f"no published weights named {name!r} in {manifest}; publish a run first")
    text = model_card(name, entries[name], read_report(report))
    out = card or card_path(name)
    atomic_write_bytes(out, text.encode("utf-8"))
    return out
