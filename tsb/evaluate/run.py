"""The evaluation: a checkpoint and its inference pipeline over the prepared samples, scored for
the model and the reference rows, written as a report (:func:`evaluate`)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from PIL import Image
from torch import Tensor
from tqdm import tqdm

from tsb.errors import ConfigError
from tsb.evaluate.items import Batch, GroundTruthFolder, group_by_shape, load_dataset, prepare_items, stack
from tsb.evaluate.judge import Readings, load_judge, read_words, recognizer_alphabet
from tsb.evaluate.report import (
    GROUND_TRUTH_METRICS,
    METRICS,
    ROWS,
    make_grid,
    publish,
    render_markdown,
    write_samples,
)
from tsb.inference.pipeline import build_pipeline
from tsb.metrics.image import ImageMetrics, match_size
from tsb.metrics.recognition import RECOGNITION_METRIC_KEYS, RecognitionMetrics
from tsb.pretrained.packages import PretrainedUnavailable
from tsb.published import default_inference, display_path, resolve_checkpoint
from tsb.utils.device import resolve_device
from tsb.utils.image import tensor_to_pil, to_unit

log = logging.getLogger("tsb.evaluate")

GRID_HEADERS = ["source (style)", "target string", "output", "ground truth"]
#: the rows that depend on the data alone (the same images on every run over one benchmark)
REFERENCE_ROWS = ("copy_source", "rendered_target", "ground_truth")


@dataclass
class RowAccumulator:
    image: ImageMetrics = field(default_factory=ImageMetrics)
    lpips: list[float] = field(default_factory=list)
    rec: RecognitionMetrics = field(default_factory=RecognitionMetrics)


class Scorer:
    """Accumulates every row's metrics over the batches; ``unavailable`` says why a metric is not
    computed (missing backbone or judge, no ground truth, not requested)."""

    def __init__(
        self,
        cfg: DictConfig,
        wanted: list[str],
        paired: bool,
        recognizer: Any,
        device: torch.device,
        unavailable: dict[str, str],
    ) -> None:
        self.wanted, self.paired, self.recognizer, self.device = wanted, paired, recognizer, device
        # the judge's readings of the rows that depend on the data alone, kept between runs
        self.readings = Readings.for_judge(cfg.judge) if recognizer is not None else None
        self.unavailable = unavailable
        self.rows = ["model", "copy_source", "rendered_target"] + (["ground_truth"] if paired else [])
        self.image_rows = [r for r in self.rows if r != "ground_truth"]
        self.acc = {r: RowAccumulator() for r in self.rows}
        weights = cfg.metrics_weights
        self.lpips: Any = None
        self.fid: Any = None
        if paired and "lpips" in wanted:
            try:
                from tsb.metrics.lpips import LPIPS

                self.lpips = LPIPS(str(cfg.lpips_net), weights.get("lpips"), device)
            except PretrainedUnavailable as e:
                unavailable["lpips"] = str(e)
        if paired and "fid" in wanted:
            try:
                from tsb.metrics.fid import FID

                # the ground truth and the data-only rows are the same on every run: kept on disk
                self.fid = FID(weights.get("fid"), device, cached_sets=("real", *REFERENCE_ROWS))
            except PretrainedUnavailable as e:
                unavailable["fid"] = str(e)

    def add(self, preds: dict[str, Tensor], truths: list[Tensor], texts: list[str]) -> dict[str, list[Any]]:
        """Score one batch: ``preds`` per row in [-1, 1], ``truths`` (one (1, 3, H, W) [0, 1] per
        sample, at its own size; empty without ground truth). Returns the model's per-sample values."""
        sample_vals: dict[str, list[Any]] = {}
        for i, gt in enumerate(truths):
            gt = gt.to(self.device)
            if self.fid is not None:
                self.fid.add("real", gt)
            for r in self.image_rows:
                unit_p = match_size(to_unit(preds[r][i : i + 1]), (gt.shape[-2], gt.shape[-1]))
                vals = self.acc[r].image.update(unit_p, gt)
                if self.lpips is not None:
                    self.acc[r].lpips.extend(float(v) for v in self.lpips(unit_p, gt))
                if self.fid is not None:
                    self.fid.add(r, unit_p)
                if r == "model":
                    for k, v in vals.items():
                        sample_vals.setdefault(k, []).append(float(v[0]))
        if self.recognizer is not None:
            for r in self.rows:
                if r in REFERENCE_ROWS and self.readings is not None:
                    read = self.readings.read(self.recognizer, preds[r])
                else:
                    read = read_words(self.recognizer, preds[r])
                self.acc[r].rec.update(read, texts)
                if r == "model":
                    sample_vals["read"] = read
        return sample_vals

    def compute(self) -> dict[str, dict[str, float | None]]:
        """Every row holds every metric key; ``None`` where it is not computed."""
        if self.readings is not None:
            self.readings.save()
        metrics: dict[str, dict[str, float | None]] = {}
        for r in self.rows:
            row_vals: dict[str, float | None] = {k: None for k in METRICS}
            if self.paired and r != "ground_truth":
                row_vals.update(self.acc[r].image.compute())
                if self.lpips is not None and self.acc[r].lpips:
                    row_vals["lpips"] = sum(self.acc[r].lpips) / len(self.acc[r].lpips)
                if self.fid is not None:
                    try:
                        row_vals["fid"] = self.fid.compute(r)
                    except PretrainedUnavailable as e:
                        self.unavailable["fid"] = str(e)
            if self.recognizer is not None:
                row_vals.update(self.acc[r].rec.compute())
            metrics[r] = {k: (v if k in self.wanted else None) for k, v in row_vals.items()}
        return metrics


def _wanted_metrics(cfg: DictConfig) -> list[str]:
    wanted = list(cfg.metrics)
    unknown = [m for m in wanted if m not in METRICS]
    if unknown:
        raise ConfigError(f"unknown metrics {unknown}; choose from {list(METRICS)}")
    return wanted


def _truths(b: Batch, target: Tensor | None, gt_root: GroundTruthFolder | None) -> list[Tensor]:
    """Each sample's ground truth in [0, 1]: the original-size file when there is one, else the data's."""
    if target is None:
        return []
    files = b.files or []
    truths = []
    for i in range(len(b.names)):
        found = gt_root.load(files[i]) if gt_root is not None and i < len(files) else None
        truths.append(found if found is not None else to_unit(target[i : i + 1]))
    return truths


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Run the evaluation described by ``cfg`` (conf/evaluate.yaml); returns the report dict."""
    from tsb.training.checkpoint import load_task

    device = resolve_device(str(cfg.device))
    out_dir = Path(str(cfg.output_dir or cfg.paths.output_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = _wanted_metrics(cfg)
    batch_size = int(cfg.batch_size)
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    use_source = bool(cfg.use_source_text)
    matcher = instantiate(cfg.font_match) if cfg.match_font else None

    given_ckpt = cfg.ckpt_path not in (None, "")
    ckpt = resolve_checkpoint(str(cfg.ckpt_path) if given_ckpt else None)
    loaded, _ = load_task(ckpt, device)
    task: Any = loaded.eval()  # a Task whose net the pipeline runs
    spec = cfg.inference  # a preset of conf/inference; auto: the weights' own (tsb.published)
    pipeline = build_pipeline(default_inference(ckpt) if spec.get("auto") else spec)

    def generate(style: Tensor, content: Tensor, source: Tensor | None = None) -> Any:
        return pipeline.generate(task, style, content, source)

    redraw_pipeline = pipeline.without(*matcher.redraw_without) if matcher is not None else pipeline

    def redraw(style: Tensor, content: Tensor, source: Tensor | None = None) -> Any:
        return redraw_pipeline.generate(task, style, content, source)

    unavailable: dict[str, str] = {}
    recognizer: Any = None
    why: str | None = "not requested (metrics list)"
    if any(m in wanted for m in RECOGNITION_METRIC_KEYS):
        recognizer, why = load_judge(cfg.judge, device)
    if recognizer is None:
        for m in RECOGNITION_METRIC_KEYS:
            unavailable[m] = str(why)
    alphabet = recognizer_alphabet(recognizer) if recognizer is not None else None

    items, mode = prepare_items(load_dataset(cfg), cfg, alphabet)
    paired = mode == "paired"
    if not paired:
        for m in GROUND_TRUTH_METRICS:
            unavailable[m] = "no ground truth in this data set (real photos): recognition metrics only"
    for m in METRICS:
        if m not in wanted:
            unavailable.setdefault(m, "not requested (metrics list)")
    scorer = Scorer(cfg, wanted, paired, recognizer, device, unavailable)

    gt_root = GroundTruthFolder.find(cfg) if paired and cfg.gt_original_size else None
    save_images = bool(cfg.save_images)
    img_dir = out_dir / "images"
    if save_images:
        img_dir.mkdir(exist_ok=True)
    grid_rows: list[list[Image.Image | None]] = []
    n_grid = int(cfg.grid_rows)
    per_sample: list[dict[str, Any]] = []

    bar = tqdm(
        total=len(items), desc=f"evaluate ({mode})", unit="word", disable=not cfg.progress
    )
    for group in group_by_shape(items, batch_size):
        b = stack(group)
        style, content = b.style.to(device), b.content.to(device)
        source = b.source_content.to(device) if use_source and b.source_content is not None else None
        plain, fonts = content, None
        if matcher is not None and b.sources is not None:
            choices = matcher.choose_each(redraw, style, b.sources, b.texts)
            content = torch.stack([c.content for c in choices])
            source = torch.stack([c.source for c in choices]) if source is not None else None
            fonts = [c.font for c in choices]
        with torch.no_grad():
            gen = generate(style, content, source).image.float().clamp(-1, 1)
        preds = {
            "model": gen,
            "copy_source": style.float(),
            "rendered_target": plain.float().expand(-1, 3, -1, -1),
        }
        target = b.target.to(device).float() if b.target is not None else None
        if target is not None:
            preds["ground_truth"] = target
        sample_vals = scorer.add(preds, _truths(b, target, gt_root), b.texts)
        for i, name in enumerate(b.names):
            if save_images:
                tensor_to_pil(gen[i]).save(img_dir / f"{name}.png")
            row: dict[str, Any] = {"name": name, "target": b.texts[i]}
            if b.sources is not None:
                row["source"] = b.sources[i]
            if fonts is not None:
                row["font"] = Path(fonts[i]).stem
            row.update({k: v[i] for k, v in sample_vals.items()})
            per_sample.append(row)
            if len(grid_rows) < n_grid:
                truth = tensor_to_pil(b.target[i]) if b.target is not None else None
                grid_rows.append(
                    [tensor_to_pil(b.style[i]), tensor_to_pil(content[i]), tensor_to_pil(gen[i]), truth]
                )
        bar.update(len(b.names))
    bar.close()

    metrics = scorer.compute()
    headers = GRID_HEADERS if paired else GRID_HEADERS[:3]
    grid_name = None
    if grid_rows:
        grid_name = "grid.png"
        make_grid(grid_rows, headers).save(out_dir / grid_name)
    write_samples(out_dir / "samples.tsv", per_sample)
    report: dict[str, Any] = {
        "checkpoint": str(cfg.ckpt_path) if given_ckpt else display_path(ckpt),
        "mode": mode,
        "data": str(cfg.data.get("root", cfg.data.get("_target_", ""))),
        "num_samples": len(items),
        "device": str(device),
        "judge": str(cfg.judge) if recognizer is not None else None,
        "inputs": {
            "use_source_text": use_source,
            "match_font": matcher is not None,
            "font_match_split": matcher.split if matcher is not None else None,
            "inference": pipeline.steps,
        },
        "rows": {r: ROWS[r] for r in scorer.rows},
        "metrics": metrics,
        "requested": [m for m in METRICS if m in wanted],
        "unavailable": dict(unavailable),
        "metric_info": {k: {"title": m.title, "better": m.better} for k, m in METRICS.items()},
        "grid": grid_name,
        "grid_columns": " | ".join(headers),
        "images": "images" if save_images else None,
        "output_dir": str(out_dir),
    }
    (out_dir / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    publish(cfg, out_dir, report)
    log.info("report written to %s", out_dir / "report.md")
    return report
