"""The report: the metric table (with the reference rows, ``n/a`` and why), the labelled sample
grid, ``samples.tsv``, and handing the report to the configured loggers and storage."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from PIL import Image, ImageDraw, ImageFont

from tsb.metrics.image import IMAGE_METRIC_KEYS
from tsb.metrics.recognition import RECOGNITION_METRIC_KEYS
from tsb.summary import flatten


@dataclass(frozen=True)
class MetricInfo:
    title: str
    better: str  # "lower" | "higher"
    fmt: str


METRICS: dict[str, MetricInfo] = {
    "mse": MetricInfo("MSE", "lower", "{:.4f}"),
    "psnr": MetricInfo("PSNR (dB)", "higher", "{:.2f}"),
    "ssim": MetricInfo("SSIM", "higher", "{:.4f}"),
    "ssim_mostel": MetricInfo("SSIM (MOSTEL script)", "higher", "{:.4f}"),
    "lpips": MetricInfo("LPIPS", "lower", "{:.4f}"),
    "fid": MetricInfo("FID", "lower", "{:.2f}"),
    "rec_acc": MetricInfo("Rec. acc. (%)", "higher", "{:.1f}"),
    "rec_acc_ci": MetricInfo("Rec. acc., any case (%)", "higher", "{:.1f}"),
    "ned": MetricInfo("NED", "lower", "{:.3f}"),
}
GROUND_TRUTH_METRICS = (*IMAGE_METRIC_KEYS, "lpips", "fid")
ROWS: dict[str, str] = {
    "model": "model",
    "copy_source": "copy the source",
    "rendered_target": "target rendered in the standard font",
    "ground_truth": "ground truth (judge ceiling)",
}


# --------------------------------------------------------------------------------------------------
# the grid and the markdown report


def _cell(img: Image.Image, width: int, height: int = 64) -> Image.Image:
    img = img.convert("RGB")
    w = max(1, round(img.width * height / img.height))
    img = img.resize((min(w, width), height), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    canvas.paste(img, ((width - img.width) // 2, 0))
    return canvas


def make_grid(
    rows: Sequence[Sequence[Image.Image | None]], headers: Sequence[str], cell_w: int = 256
) -> Image.Image:
    """A labelled grid: one row per sample, one column per header; missing cells stay grey."""
    pad, head_h, cell_h = 4, 18, 64
    cols = len(headers)
    grid = Image.new(
        "RGB",
        (cols * (cell_w + pad) + pad, head_h + max(1, len(rows)) * (cell_h + pad) + pad),
        (255, 255, 255),
    )
    draw = ImageDraw.Draw(grid)
    font = ImageFont.load_default(size=13)
    for c, h in enumerate(headers):
        draw.text((pad + c * (cell_w + pad), 3), h, fill=(0, 0, 0), font=font)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            x, y = pad + c * (cell_w + pad), head_h + pad + r * (cell_h + pad)
            grid.paste(
                _cell(img, cell_w) if img is not None else Image.new("RGB", (cell_w, cell_h), (200,) * 3),
                (x, y),
            )
    return grid


def format_value(key: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return METRICS[key].fmt.format(value)


def inputs_line(inputs: Any) -> list[str]:
    """The report's line on what the model was given besides the style image and the new word."""
    if not isinstance(inputs, dict):
        return []
    source = "the old word's text" if inputs.get("use_source_text") else "not the old word's text"
    font = (
        f"both words drawn in the matched {inputs.get('font_match_split')} font (match_font)"
        if inputs.get("match_font")
        else "words drawn in the content font"
    )
    return [f"- model inputs: {source}; {font}"]


def render_markdown(report: dict[str, Any]) -> str:
    """``report.md``: the metric table with the reference rows, why some values are missing, the grid."""
    metrics: dict[str, dict[str, float | None]] = report["metrics"]
    requested = report.get("requested") or list(METRICS)
    shown = [k for k in METRICS if k in requested]
    if report["mode"] == "scene":  # no ground truth: only the recognition columns mean anything
        shown = [k for k in shown if k in RECOGNITION_METRIC_KEYS] or shown
    arrow = {"lower": "↓", "higher": "↑"}
    lines = [
        f"# Evaluation: {report['checkpoint']}",
        "",
        f"- mode: **{report['mode']}**, {report['num_samples']} words, data: `{report['data']}`",
        f"- judge (reads the words; never a training loss): `{report.get('judge') or 'none'}`",
        f"- device: {report['device']}",
        *inputs_line(report.get("inputs")),
        "",
        "| row | " + " | ".join(f"{METRICS[k].title} {arrow[METRICS[k].better]}" for k in shown) + " |",
        "|---|" + "---:|" * len(shown),
    ]
    for row, vals in metrics.items():
        title = ROWS.get(row, row)
        title = f"**{title}**" if row == "model" else title
        lines.append(f"| {title} | " + " | ".join(format_value(k, vals.get(k)) for k in shown) + " |")
    lines.append("")
    missing = {k: why for k, why in report["unavailable"].items() if k in shown}
    if missing:
        lines += ["n/a: not computed, no number is shown:", ""]
        lines += [f"- {METRICS[k].title}: {why}" for k, why in missing.items()]
        lines.append("")
    left_out = [METRICS[k].title for k in requested if k not in shown]
    if left_out:
        lines += [f"Not shown: {', '.join(left_out)} (no ground truth in this data set).", ""]
    if any(r == "ground_truth" for r in metrics):
        lines += [
            "The ground-truth row compares nothing with itself: only its recognition values mean something.",
            "",
        ]
    lines += [
        "SSIM is the standard single-scale SSIM (torchmetrics, RGB); SSIM (MOSTEL script) is the value the",
        "MOSTEL evaluation script prints as SSIM, the one published scene-text-editing tables quote.",
        "PSNR is averaged per image; Rec. acc. is exact match of the judge's reading with the target",
        "string; NED is the edit distance normalised by the longer string (0 = perfect).",
        "See docs/evaluation.md.",
        "",
    ]
    if report.get("grid"):
        lines += [f"![{report['grid_columns']}]({report['grid']})", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# the evaluation


def write_samples(path: Path, rows: list[dict[str, Any]]) -> None:
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, delimiter="\t", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


def publish(cfg: DictConfig, out_dir: Path, report: dict[str, Any]) -> None:
    """Hand the report to the configured loggers and storage (no-ops by default)."""
    scalars = {
        f"eval/{k}": float(v)
        for k, v in flatten(report["metrics"]).items()
        if isinstance(v, (int, float)) and math.isfinite(v)
    }
    plain = OmegaConf.to_container(cfg, resolve=False)
    for c in (cfg.get("logger") or {}).values():
        logger = instantiate(c)
        logger.setup(out_dir, plain)
        logger.log_metrics(scalars, 0)
        if report.get("grid"):
            logger.log_image("eval/grid", out_dir / report["grid"], 0)
        logger.finish()
    if cfg.get("storage") is not None:
        storage = instantiate(cfg.storage)
        storage.setup(out_dir, str(cfg.task_name))
        for name in ("report.json", "report.md", "grid.png", "samples.tsv"):
            if (out_dir / name).is_file():
                storage.upload(out_dir / name, name)
        storage.flush()
