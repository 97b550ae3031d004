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


def test_paired_report_has_every_key_and_numbers(eval_cfg: Callable[..., DictConfig]) -> None:
    cfg = eval_cfg()  # every metric; LPIPS and FID from the packaged backbones, offline
    report = evaluate(cfg)
    out = Path(cfg.output_dir)
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["mode"] == "paired" and on_disk["num_samples"] == 4
    assert set(on_disk["metrics"]) == {"model", "copy_source", "rendered_target", "ground_truth"}
    for row, vals in on_disk["metrics"].items():
        assert set(vals) == set(METRICS), row
    for row in ("model", "copy_source", "rendered_target"):
        for m in METRICS:  # every column has a number on a fresh install, offline
            assert on_disk["metrics"][row][m] is not None and math.isfinite(on_disk["metrics"][row][m]), (
                row,
                m,
            )
        assert on_disk["metrics"][row]["lpips"] > 0 and on_disk["metrics"][row]["fid"] > 0
    assert "lpips" not in on_disk["unavailable"] and "fid" not in on_disk["unavailable"]
    assert on_disk["metrics"]["ground_truth"]["mse"] is None
    assert on_disk["metrics"]["ground_truth"]["lpips"] is None
    assert report == on_disk
    md = (out / "report.md").read_text()
    assert "copy the source" in md and "target rendered in the standard font" in md
    assert "![" in md and "(grid.png)" in md
    table = next(ln for ln in md.splitlines() if ln.startswith("| **model**"))
    assert table.count("n/a") == 0
    grid = Image.open(out / "grid.png")
    assert grid.width > 4 * 256 and grid.height > 4 * 64
    images = sorted(p.name for p in (out / "images").glob("*.png"))
    assert images == ["a.png", "b.png", "c.png", "d.png"]
    assert Image.open(out / "images" / "a.png").height == 64
    assert len((out / "samples.tsv").read_text().strip().splitlines()) == 5


def test_copy_source_row_equals_numpy_metrics(eval_cfg: Callable[..., DictConfig], paired_root: Path) -> None:
    """'Copy the source' is a known image pair: recompute MSE/PSNR with numpy from the files.

    As in the MOSTEL script, the compared image (here the style input the model sees) is resized
    to the ground truth's own size (t_f/<name>) with bicubic interpolation.
    """
    cfg = eval_cfg(["metrics=[mse,psnr,ssim]"])
    report = evaluate(cfg)
    from hydra.utils import instantiate

    mses, psnrs = [], []
    for s in instantiate(cfg.data).val_dataset():
        gt = np.asarray(Image.open(paired_root / "t_f" / s["name"]).convert("RGB"), dtype=np.float64) / 255.0
        src = ((s["style"].double() + 1) / 2).clamp(0, 1)[None]
        src = torch.nn.functional.interpolate(src, size=gt.shape[:2], mode="bicubic", align_corners=False)
        a = src[0].clamp(0, 1).permute(1, 2, 0).numpy()
        m = float(((a - gt) ** 2).mean())
        mses.append(m)
        psnrs.append(10 * math.log10(1 / m))
    row = report["metrics"]["copy_source"]
    assert row["mse"] == pytest.approx(np.mean(mses), rel=1e-4)
    assert row["psnr"] == pytest.approx(np.mean(psnrs), rel=1e-4)
    # not requested: null with a reason
    assert row["ssim_mostel"] is None and report["unavailable"]["ssim_mostel"].startswith("not requested")
    assert row["rec_acc"] is None


def test_ground_truth_at_data_size_when_asked(eval_cfg: Callable[..., DictConfig]) -> None:
    at_64 = evaluate(eval_cfg(["metrics=[mse]", "gt_original_size=false"]))["metrics"]["copy_source"]["mse"]
    at_file = evaluate(eval_cfg(["metrics=[mse]"]))["metrics"]["copy_source"]["mse"]
    assert at_64 is not None and at_file is not None and at_64 != at_file


def test_rendered_target_row_reads_and_scores(eval_cfg: Callable[..., DictConfig]) -> None:
    report = evaluate(eval_cfg(["metrics=[rec_acc,rec_acc_ci,ned]"]))
    for row in report["metrics"].values():
        assert 0.0 <= row["rec_acc"] <= row["rec_acc_ci"] <= 100.0
        assert 0.0 <= row["ned"] <= 1.0


def test_missing_judge_checkpoint_is_explained(eval_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    cfg = eval_cfg(["metrics=[mse,rec_acc]"])
    cfg.judge = str(tmp_path / "none.ckpt")
    report = evaluate(cfg)
    assert report["metrics"]["model"]["rec_acc"] is None
    assert "experiment=recognizer" in report["unavailable"]["rec_acc"]
    assert report["metrics"]["model"]["mse"] is not None


def test_judge_name_typo_is_one_message(eval_cfg: Callable[..., DictConfig]) -> None:
    from tsb.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"judge='ppcor' is neither a pretrained network \(easyocr, ppocr\)"
    ):
        evaluate(eval_cfg(["metrics=[rec_acc]", "judge=ppcor"]))


def test_pp_ocr_judge_reads_the_rendered_words(eval_cfg: Callable[..., DictConfig]) -> None:
    """The default judge (PP-OCRv6) reads every target word in the standard font, none in a bar."""
    report = evaluate(eval_cfg(["metrics=[rec_acc,rec_acc_ci,ned]", "judge=ppocr"]))
    assert report["judge"] == "ppocr"
    assert report["metrics"]["rendered_target"]["rec_acc"] == 100.0
    assert report["metrics"]["rendered_target"]["ned"] == 0.0
    assert report["metrics"]["ground_truth"]["rec_acc"] == 0.0  # the tiny folder's "words" are bars


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
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("alpha\nbeta\ngamma\nnaïve\n")  # 'ï' is outside the recognizer's alphabet
    cfg = eval_cfg(
        ["data=scene_folder", f"data.root={words}", "scene.targets_per_image=2", f"scene.lexicon={lexicon}"]
    )
    report = evaluate(cfg)
    assert report["mode"] == "scene" and report["num_samples"] == 6
    assert set(report["metrics"]) == {"model", "copy_source", "rendered_target"}
    assert report["metrics"]["model"]["mse"] is None and "no ground truth" in report["unavailable"]["mse"]
    assert report["metrics"]["model"]["rec_acc"] is not None
    samples = (Path(cfg.output_dir) / "samples.tsv").read_text().splitlines()
    header = samples[0].split("\t")
    for line in samples[1:]:
        row = dict(zip(header, line.split("\t")))
        assert row["target"] in {"alpha", "beta", "gamma"} and row["target"] != row["source"]
    assert (Path(cfg.output_dir) / "grid.png").is_file()


def test_unknown_metric_and_missing_checkpoint_are_clear(
    eval_cfg: Callable[..., DictConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsb.errors import TsbError

    with pytest.raises(TsbError, match="unknown metrics"):
        evaluate(eval_cfg(["metrics=[mse,bleu]"]))
    cfg = eval_cfg()
    cfg.ckpt_path = str(tmp_path / "missing.ckpt")
    with pytest.raises(TsbError, match="checkpoint not found"):
        evaluate(cfg)
    # none given: the published weights, here a manifest that lists none
    monkeypatch.setattr("tsb.published.MANIFEST", tmp_path / "manifest.json")
    cfg.ckpt_path = None
    with pytest.raises(TsbError, match="no published weights named 'stylebrush_bg'"):
        evaluate(cfg)


def _dataset(cfg: DictConfig) -> list[dict]:
    from hydra.utils import instantiate

    return list(instantiate(cfg.data).val_dataset())


def test_paired_folder_without_ground_truth_keeps_its_targets(
    eval_cfg: Callable[..., DictConfig], paired_root: Path, tmp_path: Path
) -> None:
    import shutil

    root = tmp_path / "no_tf"
    shutil.copytree(paired_root, root, ignore=shutil.ignore_patterns("t_f"))
    report = evaluate(eval_cfg([f"data.root={root}", "metrics=[rec_acc,ned]"]))
    assert report["mode"] == "scene" and report["num_samples"] == 4
    samples = (Path(report["output_dir"]) / "samples.tsv").read_text().splitlines()[1:]
    assert sorted(line.split("\t")[1] for line in samples) == ["World", "blue", "dog", "rain"]  # i_t.txt


def test_font_match_records_the_font_and_keeps_the_standard_font_row(
    eval_cfg: Callable[..., DictConfig],
) -> None:
    from tsb.inference.font_match import FontMatch

    runs = {}
    for on in ("true", "false"):
        cfg = eval_cfg([f"match_font={on}", "metrics=[mse,psnr]"])
        report = evaluate(cfg)
        lines = (Path(cfg.output_dir) / "samples.tsv").read_text().strip().splitlines()
        runs[on] = (report, [dict(zip(lines[0].split("\t"), ln.split("\t"))) for ln in lines[1:]])
    matched, plain = runs["true"][1], runs["false"][1]
    assert all("font" not in r for r in plain)
    from tsb.data.content import content_font_path

    index = FontMatch(method="shortlist").index  # evaluate's default: the encoder's shortlist
    for r in matched:  # the content font or an indexed, legible font that draws both words
        words = r["source"] + r["target"]
        marks = index.legible or [True] * len(index.keys)
        stems = {Path(f.path).stem for f, ok in zip(index.fonts(), marks) if f is not None and ok and f.covers(words)}
        assert r["font"] in stems | {Path(content_font_path()).stem}
    # the trivial rows do not depend on the model's inputs
    for row in ("rendered_target", "copy_source"):
        assert runs["true"][0]["metrics"][row] == runs["false"][0]["metrics"][row]


def test_a_checkpoint_of_nan_weights_is_refused_before_anything_is_scored(
    eval_cfg: Callable[..., DictConfig], tiny_ckpt: Path, tmp_path: Path
) -> None:
    """Every word was generated, then the FID code crashed (a segmentation fault in MKL)."""
    from tsb.errors import CheckpointError
    from tsb.training.checkpoint import load_checkpoint, save_checkpoint

    state = load_checkpoint(tiny_ckpt)
    key = next(k for k, v in state["task"].items() if v.is_floating_point() and v.numel() > 1)
    state["task"][key] = state["task"][key] * float("nan")
    bad = save_checkpoint(tmp_path / "diverged.ckpt", {k: v for k, v in state.items() if k not in ("format", "version")})
    cfg = eval_cfg(["metrics=[mse,fid]"])
    cfg.ckpt_path = str(bad)
    with pytest.raises(CheckpointError, match="NaN or infinite") as e:
        evaluate(cfg)
    assert e.value.exit_code == 2
    assert not (Path(cfg.output_dir) / "report.json").exists()


def test_an_empty_metrics_list_computes_none(eval_cfg: Callable[..., DictConfig]) -> None:
    report = evaluate(eval_cfg(["metrics=[]"]))
    assert report["requested"] == []
    assert all(v is None for row in report["metrics"].values() for v in row.values())


@pytest.mark.parametrize("damage", ["corrupt source", "empty source", "empty ground truth", "narrow ground truth",
                                    "a file listed twice"])  # fmt: skip
def test_a_damaged_paired_folder_is_one_message(
    eval_cfg: Callable[..., DictConfig], tmp_path: Path, damage: str
) -> None:
    """Each was a traceback (OSError, a padding RuntimeError inside SSIM) or, listed twice, the last
    line silently won."""
    from tests.helpers.tiny import make_paired_folder
    from tsb.errors import TsbError

    root = make_paired_folder(tmp_path / "pairs")
    if damage == "corrupt source":
        (root / "i_s" / "a.png").write_bytes(b"\x89PNG not really")
    elif damage == "empty source":
        (root / "i_s" / "a.png").write_bytes(b"")
    elif damage == "empty ground truth":
        (root / "t_f" / "a.png").write_bytes(b"")
    elif damage == "narrow ground truth":
        for d in ("i_s", "t_f"):
            Image.new("RGB", (4, 64)).save(root / d / "a.png")
    else:
        (root / "i_t.txt").write_text((root / "i_t.txt").read_text() + "a.png other\n")
    cfg = eval_cfg([f"data.root={root}", "metrics=[mse,ssim]"])
    with pytest.raises(TsbError) as e:
        evaluate(cfg)
    message = str(e.value)
    assert e.value.exit_code == 2 and "\n" not in message and ("a.png" in message or "i_t.txt" in message), message


PHOTO = ["refine", "extrusion", "source_colours", "sharp_mask", "effect_ring", "ink_height", "keep_in_box", "fit_ring",
         "slant"]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "steps"),
    [([], []), (["inference=photo"], PHOTO),
     (["inference=photo", "inference.extrusion=null"], [s for s in PHOTO if s != "extrusion"])],
)  # fmt: skip
def test_the_photo_steps_are_a_config_group_of_the_command_line(
    eval_cfg: Callable[..., DictConfig], overrides: list[str], steps: list[str]
) -> None:
    """inference=auto (a run of one's own: none), a preset by name, one step switched off."""
    report = evaluate(eval_cfg([*overrides, "metrics=[psnr]", "match_font=false"]))
    assert report["inputs"]["inference"] == steps
