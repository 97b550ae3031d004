"""Evaluation: a checkpoint over a benchmark folder -> generated images, report.json, report.md.

``python evaluate.py ckpt_path=RUN/checkpoints/last.ckpt data=paired data.root=DIR`` calls
:func:`evaluate`. Two modes, chosen by what the data set provides:

- **paired** (samples hold ``target``, e.g. Tamper-Syn2k / ScenePair / our rendered folders):
  image metrics against the ground truth (MSE, PSNR, SSIM, the MOSTEL script's SSIM, LPIPS, FID)
  and recognition metrics of an independent judge (PP-OCRv6 by default) on the generated words;
- **scene** (real photos without ground truth, ``data=scene_folder``): for each word, target
  strings are sampled (from ``scene.lexicon``, else the data set's own words, else a built-in
  list, kept to the judge's alphabet where it has one); recognition metrics only.

Every report has the model's row and reference rows computed on the same data, so a reader sees
how far above trivial the model is: ``copy_source`` (output = the style image unchanged) and
``rendered_target`` (output = the target string in the standard content font), plus
``ground_truth`` in paired mode (the judge on the true targets: the ceiling of recognition).

Each row holds every metric key; a value that cannot be computed is ``null`` in ``report.json``
and "n/a" in ``report.md``, and ``unavailable`` says why (missing backbone weights, no recognizer
checkpoint, no ground truth, not requested). No number is ever filled in.

Outputs in ``output_dir`` (the Hydra run folder): ``images/<name>.png`` (the model's outputs at
their generated size), ``samples.tsv`` (per-word targets, readings and image metrics),
``grid.png`` (source | target string | output | ground truth), ``report.json``, ``report.md``.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor
from tqdm import tqdm

from tsb.data import keys as K
from tsb.errors import CheckpointError, ConfigError, TsbError
from tsb.inference.font_match import FontMatch
from tsb.inference.pipeline import build_pipeline
from tsb.metrics.image import IMAGE_METRIC_KEYS, ImageMetrics, match_size
from tsb.metrics.recognition import RECOGNITION_METRIC_KEYS, RecognitionMetrics
from tsb.pretrained.packages import PretrainedUnavailable
from tsb.published import AUTO, default_inference, display_path, resolve_checkpoint
from tsb.summary import flatten
from tsb.utils.device import resolve_device
from tsb.utils.image import tensor_to_pil, to_unit

log = logging.getLogger(__name__)


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


@dataclass
class RowAccumulator:
    image: ImageMetrics = field(default_factory=ImageMetrics)
    lpips: list[float] = field(default_factory=list)
    rec: RecognitionMetrics = field(default_factory=RecognitionMetrics)


@dataclass
class Batch:
    style: Tensor  # (B, 3, H, W) [-1, 1]
    content: Tensor  # (B, 1, 64, W) [-1, 1]
    texts: list[str]
    names: list[str]
    target: Tensor | None = None  # (B, 3, H, W) [-1, 1]
    sources: list[str] | None = None
    files: list[str] | None = None
    source_content: Tensor | None = None  # (B, 1, 64, W') the source words rendered plain


# --------------------------------------------------------------------------------------------------
# helpers


def safe_name(name: str) -> str:
    """A file-system safe stem."""
    stem = Path(str(name)).stem or "sample"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:120]


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


def _read(recognizer: Any, images: Tensor) -> list[str]:
    with torch.no_grad():
        return list(recognizer.read(images))


def _as_list(x: Any, n: int) -> list[str] | None:
    if x is None:
        return None
    if isinstance(x, str):
        return [x] * n
    return [str(v) for v in x]


class GroundTruthFolder:
    """Ground-truth images at their original size (``<data.root>/t_f/<name>``), as MOSTEL compares.

    Data modules resize targets to the model's 64xW; published numbers resize the *output* to the
    ground truth's own size instead. When the data config has a ``root`` with a ``t_f`` folder, the
    truth is read from there; otherwise (or with ``gt_original_size=false``) the data's tensor is used.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def find(cls, cfg: DictConfig) -> GroundTruthFolder | None:
        root = cfg.data.get("root") if cfg.get("data") is not None else None
        folder = Path(str(root)) / "t_f" if root else None
        return cls(folder) if folder is not None and folder.is_dir() else None

    def load(self, name: str) -> Tensor | None:
        """(1, 3, H, W) in [0, 1], or None when the file is missing."""
        path = self.folder / name
        if not name or not path.is_file():
            return None
        with Image.open(path) as img:
            arr = torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0)
        return arr.permute(2, 0, 1)[None].contiguous()


# --------------------------------------------------------------------------------------------------
# batching: samples of one shape go together (word images of different widths cannot stack)


def _group(items: Sequence[dict[str, Any]], batch_size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        if batch and (len(batch) >= batch_size or not _same_shapes(batch[0], item)):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _same_shapes(a: dict[str, Any], b: dict[str, Any]) -> bool:
    for k in (K.STYLE, K.CONTENT_TGT, K.TARGET):
        ta, tb = a.get(k), b.get(k)
        if isinstance(ta, Tensor) and isinstance(tb, Tensor) and ta.shape != tb.shape:
            return False
    return True


def _stack(items: list[dict[str, Any]]) -> Batch:
    target = torch.stack([i[K.TARGET] for i in items]) if K.TARGET in items[0] else None
    sources = [str(i[K.TEXT_SRC]) for i in items] if all(K.TEXT_SRC in i for i in items) else None
    src = [i.get(K.CONTENT_SRC) for i in items]
    first = src[0]
    same = isinstance(first, Tensor) and all(isinstance(t, Tensor) and t.shape == first.shape for t in src)
    return Batch(
        style=torch.stack([i[K.STYLE] for i in items]),
        content=torch.stack([i[K.CONTENT_TGT] for i in items]),
        texts=[str(i[K.TEXT_TGT]) for i in items],
        names=[str(i["_out_name"]) for i in items],
        target=target,
        sources=sources,
        files=[str(i.get("_file", "")) for i in items],
        source_content=torch.stack(src) if same else None,  # type: ignore[arg-type]
    )


def _lexicon_words(lexicon: str) -> list[str]:
    """Words of a shipped list (``en``, ``ru``: tsb/data/wordlists) or of a text file, one per line."""
    from tsb.data.words import BUILTIN

    path = BUILTIN.get(lexicon, Path(lexicon).expanduser())
    if not path.is_file():
        raise ConfigError(
            f"scene.lexicon={lexicon} is neither a shipped word list ({', '.join(sorted(BUILTIN))}) nor a file; "
            "give a text file with one word per line"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.startswith("#")]


def sample_targets(
    source: str | None, words: Sequence[str], k: int, rng: random.Random, alphabet: str | None
) -> list[str]:
    """``k`` target strings for a real word: from ``words``, different from the source where possible."""
    pool = [w for w in dict.fromkeys(words) if w and (alphabet is None or all(c in alphabet for c in w))]
    if not pool:
        raise ConfigError(
            "no target word fits the judge's alphabet; give scene.lexicon=FILE with words of its characters"
        )
    others = [w for w in pool if w != source] or pool
    return [rng.choice(others) for _ in range(k)]


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


def _load_dataset(cfg: DictConfig) -> Sequence[dict[str, Any]]:
    try:
        data = instantiate(cfg.data)
    except Exception as e:
        cause = e if isinstance(e, TsbError) else e.__cause__  # Hydra wraps what the data module raised
        if isinstance(cause, TsbError):
            raise cause from None  # already names the thing and the fix
        raise ConfigError(f"cannot build the data set of data={cfg.data.get('_target_')}: {e}") from e
    ds = data.val_dataset()
    if ds is None:
        raise ConfigError(
            f"{type(data).__name__} has no evaluation set (val_dataset() is None); choose another data="
        )
    return ds  # type: ignore[no-any-return]


def _prepare_items(
    ds: Sequence[dict[str, Any]], cfg: DictConfig, alphabet: str | None
) -> tuple[list[dict[str, Any]], str]:
    """Samples with a target string and content image each, and the mode ("paired" or "scene")."""
    from tsb.data.content import natural_width, render_content

    n = len(ds)
    if cfg.get("max_samples"):
        n = min(n, int(cfg.max_samples))
    if n == 0:
        raise ConfigError("the evaluation data set is empty; check data.root")
    first = ds[0]
    mode = "paired" if K.TARGET in first else "scene"
    items: list[dict[str, Any]] = []
    if mode == "paired":
        for i in range(n):
            s = dict(ds[i])
            if K.CONTENT_TGT not in s:
                s[K.CONTENT_TGT] = render_content(str(s[K.TEXT_TGT]))
            s["_out_name"] = safe_name(str(s.get(K.NAME, f"{i:06d}")))
            s["_file"] = str(s.get(K.NAME, ""))
            items.append(s)
        return items, mode
    scene: Any = cfg.get("scene") or {}
    k = int(scene.get("targets_per_image", 1))
    rng = random.Random(int(cfg.get("seed", 0)))
    samples = [dict(ds[i]) for i in range(n)]
    lexicon = scene.get("lexicon")
    words = (
        _lexicon_words(str(lexicon))
        if lexicon
        else [str(s[K.TEXT_SRC]) for s in samples if s.get(K.TEXT_SRC)]
    )
    # targets the data set names itself (a paired folder without t_f/: i_t.txt) are kept; sampled
    # ones (scene_folder's self-supervised targets) only when scene.lexicon is null
    given = not bool(cfg.data.get("self_supervised", False)) if cfg.get("data") is not None else True
    for i, s in enumerate(samples):
        if K.TEXT_TGT in s and (given or not lexicon):
            targets = [str(s[K.TEXT_TGT])]
        else:
            targets = sample_targets(s.get(K.TEXT_SRC), words, k, rng, alphabet)
        for j, t in enumerate(targets):
            item = {key: v for key, v in s.items() if key not in (K.TARGET, K.CONTENT_TGT, K.TEXT_TGT)}
            item[K.TEXT_TGT] = t
            width = s[K.STYLE].shape[-1] if isinstance(s.get(K.STYLE), Tensor) else None
            item[K.CONTENT_TGT] = render_content(t, 64, max(width or 0, natural_width(t)))
            item["_out_name"] = f"{safe_name(str(s.get(K.NAME, f'{i:06d}')))}__{j}"
            items.append(item)
    return items, mode


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Run the evaluation described by ``cfg`` (conf/evaluate.yaml); returns the report dict."""
    from tsb.training.checkpoint import load_task

    device = resolve_device(str(cfg.get("device", "auto")))
    out_dir = Path(str(cfg.get("output_dir") or cfg.paths.output_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = list(cfg.get("metrics") or METRICS)
    unknown = [m for m in wanted if m not in METRICS]
    if unknown:
        raise ConfigError(f"unknown metrics {unknown}; choose from {list(METRICS)}")
    batch_size = int(cfg.get("batch_size", 16))
    use_source = bool(cfg.get("use_source_text", True))
    matcher = FontMatch(**(cfg.get("font_match") or {})) if cfg.get("match_font", False) else None
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")

    ckpt = resolve_checkpoint(None if cfg.get("ckpt_path") in (None, "", "???") else str(cfg.ckpt_path))
    loaded, _ = load_task(ckpt, device)
    task: Any = loaded.eval()  # a Task whose net the pipeline runs
    spec = cfg.get("inference", AUTO)
    pipeline = build_pipeline(default_inference(ckpt) if spec == AUTO else spec)

    def generate(style: Tensor, content: Tensor, source: Tensor | None = None) -> Any:
        return pipeline.generate(task, style, content, source)

    unavailable: dict[str, str] = {}
    recognizer: Any = None
    why: str | None = "not requested (metrics list)"
    if any(m in wanted for m in RECOGNITION_METRIC_KEYS):
        recognizer, why = load_judge(cfg.get("judge"), device)
    if recognizer is None:
        for m in RECOGNITION_METRIC_KEYS:
            unavailable[m] = str(why)
    alphabet = recognizer_alphabet(recognizer) if recognizer is not None else None

    items, mode = _prepare_items(_load_dataset(cfg), cfg, alphabet)
    paired = mode == "paired"
    rows = ["model", "copy_source", "rendered_target"] + (["ground_truth"] if paired else [])
    if not paired:
        for m in GROUND_TRUTH_METRICS:
            unavailable[m] = "no ground truth in this data set (real photos): recognition metrics only"
    for m in METRICS:
        if m not in wanted:
            unavailable.setdefault(m, "not requested (metrics list)")

    weights = cfg.get("metrics_weights") or {}
    lpips_metric = fid_metric = None
    if paired and "lpips" in wanted:
        try:
            from tsb.metrics.lpips import LPIPS

            lpips_metric = LPIPS(str(cfg.get("lpips_net", "alex")), weights.get("lpips"), device)
        except PretrainedUnavailable as e:
            unavailable["lpips"] = str(e)
    if paired and "fid" in wanted:
        try:
            from tsb.metrics.fid import FID

            fid_metric = FID(weights.get("fid"), device)
        except PretrainedUnavailable as e:
            unavailable["fid"] = str(e)

    acc = {r: RowAccumulator() for r in rows}
    image_rows = [r for r in rows if r != "ground_truth"]
    gt_root = GroundTruthFolder.find(cfg) if paired and cfg.get("gt_original_size", True) else None
    img_dir = out_dir / "images"
    if cfg.get("save_images", True):
        img_dir.mkdir(exist_ok=True)
    grid_rows: list[list[Image.Image | None]] = []
    n_grid = int(cfg.get("grid_rows", 8))
    per_sample: list[dict[str, Any]] = []

    bar = tqdm(
        total=len(items), desc=f"evaluate ({mode})", unit="word", disable=not cfg.get("progress", True)
    )
    for group in _group(items, batch_size):
        b = _stack(group)
        style, content = b.style.to(device), b.content.to(device)
        source = b.source_content.to(device) if use_source and b.source_content is not None else None
        plain, fonts = content, None
        if matcher is not None and b.sources is not None:
            choices = matcher.choose_each(generate, style, b.sources, b.texts)
            content = torch.stack([c.content for c in choices])
            source = torch.stack([c.source for c in choices]) if source is not None else None
            fonts = [c.font for c in choices]
        with torch.no_grad():
            out = generate(style, content, source)
        gen = out.image.float().clamp(-1, 1)
        preds = {
            "model": gen,
            "copy_source": style.float(),
            "rendered_target": plain.float().expand(-1, 3, -1, -1),
        }
        target = b.target.to(device).float() if b.target is not None else None
        if target is not None:
            preds["ground_truth"] = target
        sample_vals: dict[str, list[Any]] = {}
        if target is not None:
            truths = [gt_root.load(f) if gt_root is not None else None for f in b.files or []]
            for i in range(len(b.names)):
                found = truths[i] if i < len(truths) else None
                gt = (found if found is not None else to_unit(target[i : i + 1])).to(device)
                if fid_metric is not None:
                    fid_metric.add("real", gt)
                for r in image_rows:
                    unit_p = match_size(to_unit(preds[r][i : i + 1]), (gt.shape[-2], gt.shape[-1]))
                    vals = acc[r].image.update(unit_p, gt)
                    if lpips_metric is not None:
                        acc[r].lpips.extend(float(v) for v in lpips_metric(unit_p, gt))
                    if fid_metric is not None:
                        fid_metric.add(r, unit_p)
                    if r == "model":
                        for k, v in vals.items():
                            sample_vals.setdefault(k, []).append(float(v[0]))
        if recognizer is not None:
            for r in rows:
                read = _read(recognizer, preds[r])
                acc[r].rec.update(read, b.texts)
                if r == "model":
                    sample_vals["read"] = read
        for i, name in enumerate(b.names):
            if cfg.get("save_images", True):
                tensor_to_pil(gen[i]).save(img_dir / f"{name}.png")
            row: dict[str, Any] = {"name": name, "target": b.texts[i]}
            if b.sources is not None:
                row["source"] = b.sources[i]
            if fonts is not None:
                row["font"] = Path(fonts[i]).stem
            row.update({k: v[i] for k, v in sample_vals.items()})
            per_sample.append(row)
            if len(grid_rows) < n_grid:
                grid_rows.append(
                    [
                        tensor_to_pil(b.style[i]),
                        tensor_to_pil(content[i]),
                        tensor_to_pil(gen[i]),
                        tensor_to_pil(b.target[i]) if b.target is not None else None,
                    ]
                )
        bar.update(len(b.names))
    bar.close()

    metrics: dict[str, dict[str, float | None]] = {}
    for r in rows:
        row_vals: dict[str, float | None] = {k: None for k in METRICS}
        if paired and r != "ground_truth":
            row_vals.update(acc[r].image.compute())
            if lpips_metric is not None and acc[r].lpips:
                row_vals["lpips"] = sum(acc[r].lpips) / len(acc[r].lpips)
            if fid_metric is not None:
                try:
                    row_vals["fid"] = fid_metric.compute(r)
                except PretrainedUnavailable as e:
                    unavailable["fid"] = str(e)
        if recognizer is not None:
            row_vals.update(acc[r].rec.compute())
        metrics[r] = {k: (v if k in wanted else None) for k, v in row_vals.items()}

    headers = ["source (style)", "target string", "output", "ground truth"]
    grid_name = None
    if grid_rows:
        grid_name = "grid.png"
        make_grid(grid_rows, headers if paired else headers[:3]).save(out_dir / grid_name)
    _write_samples(out_dir / "samples.tsv", per_sample)
    report: dict[str, Any] = {
        "checkpoint": str(cfg.ckpt_path)
        if cfg.get("ckpt_path") not in (None, "", "???")
        else display_path(ckpt),
        "mode": mode,
        "data": str(cfg.data.get("root", cfg.data.get("_target_", ""))),
        "num_samples": len(items),
        "device": str(device),
        "judge": str(cfg.get("judge")) if recognizer is not None else None,
        "inputs": {
            "use_source_text": use_source,
            "match_font": matcher is not None,
            "font_match_split": matcher.split if matcher is not None else None,
            "inference": pipeline.steps,
        },
        "rows": {r: ROWS[r] for r in rows},
        "metrics": metrics,
        "requested": [m for m in METRICS if m in wanted],
        "unavailable": {k: v for k, v in unavailable.items()},
        "metric_info": {k: {"title": m.title, "better": m.better} for k, m in METRICS.items()},
        "grid": grid_name,
        "grid_columns": " | ".join(headers if paired else headers[:3]),
        "images": "images" if cfg.get("save_images", True) else None,
        "output_dir": str(out_dir),
    }
    (out_dir / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    _publish(cfg, out_dir, report)
    log.info("report written to %s", out_dir / "report.md")
    return report


def _write_samples(path: Path, rows: list[dict[str, Any]]) -> None:
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, delimiter="\t", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


def _publish(cfg: DictConfig, out_dir: Path, report: dict[str, Any]) -> None:
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
        storage.setup(out_dir, str(cfg.get("task_name", "evaluate")))
        for name in ("report.json", "report.md", "grid.png", "samples.tsv"):
            if (out_dir / name).is_file():
                storage.upload(out_dir / name, name)
        storage.flush()
