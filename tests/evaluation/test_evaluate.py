"""evaluate(): report files hold every metric key for every row; values match independent checks."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import DictConfig
from PIL import Image

from tsb.evaluate import METRICS, evaluate


def test_paired_report_has_every_key_and_reasons(eval_cfg: Callable[..., DictConfig]) -> None:
    cfg = eval_cfg()
    report = evaluate(cfg)
    out = Path(cfg.output_dir)
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["mode"] == "paired" and on_disk["num_samples"] == 4
    assert set(on_disk["metrics"]) == {"model", "copy_source", "rendered_target", "ground_truth"}
    for row, vals in on_disk["metrics"].items():
        assert set(vals) == set(METRICS), row
    # offline, empty hub cache: LPIPS and FID say why and show no number
    for m in ("lpips", "fid"):
        assert all(on_disk["metrics"][r][m] is None for r in on_disk["metrics"])
        assert "allow_download" in on_disk["unavailable"][m]
    model = on_disk["metrics"]["model"]
    for m in ("mse", "psnr", "ssim", "ssim_mostel", "rec_acc", "rec_acc_ci", "ned"):
        assert model[m] is not None and math.isfinite(model[m]), m
    assert on_disk["metrics"]["ground_truth"]["mse"] is None
    assert report == on_disk
    md = (out / "report.md").read_text()
    assert "copy the source" in md and "target rendered in the standard font" in md
    assert "![" in md and "(grid.png)" in md
    table = next(ln for ln in md.splitlines() if ln.startswith("| **model**"))
    assert table.count("n/a") == 2  # LPIPS and FID: no number invented
    assert "FID: FID (Inception-v3 pool features): backbone weights not found" in md
    grid = Image.open(out / "grid.png")
    assert grid.width > 4 * 256 and grid.height > 4 * 64
    images = sorted(p.name for p in (out / "images").glob("*.png"))
    assert images == ["a.png", "b.png", "c.png", "d.png"]
    assert Image.open(out / "images" / "a.png").height == 64
    assert len((out / "samples.tsv").read_text().strip().splitlines()) == 5


def test_copy_source_row_equals_numpy_metrics(eval_cfg: Callable[..., DictConfig], paired_root: Path) -> None:
    """The 'copy the source' row is a known image pair: recompute MSE/PSNR from the data with numpy."""
    cfg = eval_cfg(["metrics=[mse,psnr,ssim]"])
    report = evaluate(cfg)
    ds = _dataset(cfg)
    mses, psnrs = [], []
    for s in ds:
        a = ((s["style"].numpy().astype(np.float64) + 1) / 2).clip(0, 1)
        b = ((s["target"].numpy().astype(np.float64) + 1) / 2).clip(0, 1)
        if a.shape != b.shape:  # the data module may give other sizes: resize as evaluate does
            a = (
                torch.nn.functional.interpolate(
                    torch.from_numpy(a)[None], size=b.shape[-2:], mode="bicubic", align_corners=False
                )[0]
                .clamp(0, 1)
                .numpy()
            )
        m = float(((a - b) ** 2).mean())
        mses.append(m)
        psnrs.append(10 * math.log10(1 / m))
    row = report["metrics"]["copy_source"]
    assert row["mse"] == pytest.approx(np.mean(mses), rel=1e-5)
    assert row["psnr"] == pytest.approx(np.mean(psnrs), rel=1e-5)
    # not requested: null with a reason
    assert row["ssim_mostel"] is None and report["unavailable"]["ssim_mostel"].startswith("not requested")
    assert row["rec_acc"] is None


def test_rendered_target_row_reads_and_scores(eval_cfg: Callable[..., DictConfig]) -> None:
    report = evaluate(eval_cfg(["metrics=[rec_acc,rec_acc_ci,ned]"]))
    for row in report["metrics"].values():
        assert 0.0 <= row["rec_acc"] <= row["rec_acc_ci"] <= 100.0
        assert 0.0 <= row["ned"] <= 1.0


def test_missing_recognizer_is_explained(eval_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    cfg = eval_cfg(["metrics=[mse,rec_acc]"])
    cfg.recognizer_ckpt = str(tmp_path / "none.ckpt")
    report = evaluate(cfg)
    assert report["metrics"]["model"]["rec_acc"] is None
    assert "experiment=recognizer" in report["unavailable"]["rec_acc"]
    assert report["metrics"]["model"]["mse"] is not None


def test_scene_mode_samples_targets_and_skips_image_metrics(
    eval_cfg: Callable[..., DictConfig], tmp_path: Path
) -> None:
    words = tmp_path / "words"
    words.mkdir()
    rows = []
    for i, w in enumerate(["alpha", "beta", "gamma"]):
        Image.new("RGB", (90, 30), (i * 60, 100, 200)).save(words / f"w{i}.png")
        rows.append(f"w{i}.png\t{w}")
    (words / "labels.tsv").write_text("\n".join(rows) + "\n")
    cfg = eval_cfg(
        ["scene.targets_per_image=2"],
        data={"_target_": "tests.evaluation.standins.WordFolder", "root": str(words)},
    )
    report = evaluate(cfg)
    assert report["mode"] == "scene" and report["num_samples"] == 6
    assert set(report["metrics"]) == {"model", "copy_source", "rendered_target"}
    assert report["metrics"]["model"]["mse"] is None and "no ground truth" in report["unavailable"]["mse"]
    assert report["metrics"]["model"]["rec_acc"] is not None
    samples = (Path(cfg.output_dir) / "samples.tsv").read_text().splitlines()[1:]
    for line in samples:
        target = line.split("\t")[1]
        assert target in {"alpha", "beta", "gamma"}
    assert (Path(cfg.output_dir) / "grid.png").is_file()


def test_unknown_metric_and_missing_checkpoint_are_clear(
    eval_cfg: Callable[..., DictConfig], tmp_path: Path
) -> None:
    from tsb.errors import TsbError

    with pytest.raises(TsbError, match="unknown metrics"):
        evaluate(eval_cfg(["metrics=[mse,bleu]"]))
    cfg = eval_cfg()
    cfg.ckpt_path = str(tmp_path / "missing.ckpt")
    with pytest.raises(TsbError, match="checkpoint not found"):
        evaluate(cfg)


def _dataset(cfg: DictConfig) -> list[dict]:
    from hydra.utils import instantiate

    return list(instantiate(cfg.data).val_dataset())
