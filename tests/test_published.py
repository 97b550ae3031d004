"""Published weights: written by `python -m tsb.publish`, hash-checked on load, used by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.evaluation.tiny import make_split_checkpoint
from tsb import published
from tsb.errors import CheckpointError, TsbError
from tsb.publish import main as publish_main
from tsb.publish import publish
from tsb.training.checkpoint import load_checkpoint, load_task

REPORT = {
    "data": "data_cache/bench",
    "num_samples": 3,
    "mode": "paired",
    "judge": "ppocr",
    "device": "cpu",
    "rows": {"model": "model", "copy_source": "copy the source"},
    "metrics": {
        "model": {
            "mse": 0.01,
            "psnr": 20.5,
            "ssim": 0.8,
            "lpips": 0.1,
            "fid": 30.0,
            "rec_acc": 90.0,
            "ned": 0.05,
        },
        "copy_source": {
            "mse": 0.04,
            "psnr": 14.7,
            "ssim": 0.65,
            "lpips": 0.26,
            "fid": 53.4,
            "rec_acc": 0.0,
            "ned": 0.93,
        },
    },
}


@pytest.fixture
def weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A run checkpoint with EMA weights, published into a temporary weights folder."""
    run = tmp_path / "run"
    ckpt = make_split_checkpoint(run / "checkpoints" / "last.ckpt", ema_shift=0.01)
    (run / ".hydra").mkdir()
    (run / ".hydra" / "overrides.yaml").write_text("- experiment=stylebrush_bg\n")
    (run / "summary.json").write_text(json.dumps({"wall_s": 600.0}))
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT))
    wdir = tmp_path / "weights"
    monkeypatch.setattr(published, "MANIFEST", wdir / "manifest.json")
    published._verified.clear()
    card = tmp_path / "model_card.md"
    publish(ckpt, report, "tiny", weights_dir=wdir, card=card)
    return ckpt, card


def test_published_file_is_the_ema_network_only(weights: tuple[Path, Path]) -> None:
    ckpt, _ = weights
    path = published.published_checkpoint("tiny")
    state = load_checkpoint(path)
    assert all(k.startswith("net.") for k in state["task"]) and not state.get("ema")
    assert "optimizers" not in state and "rng" not in state
    pub, _ = load_task(path)
    ema, _ = load_task(ckpt, use_ema=True)
    live, _ = load_task(ckpt, use_ema=False)
    style, content = torch.rand(1, 3, 64, 64) * 2 - 1, torch.ones(1, 1, 64, 64)
    with torch.no_grad():
        a, b, c = (
            pub.generate(style, content).image,
            ema.generate(style, content).image,
            live.generate(style, content).image,
        )
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_manifest_and_card_describe_the_run(weights: tuple[Path, Path]) -> None:
    _, card = weights
    entry = published.read_manifest()["tiny"]
    assert entry["steps"] == 7 and entry["wall_s"] == 600.0
    assert entry["command"] == "python train.py experiment=stylebrush_bg"
    assert entry["target"] == "tsb.models.split.SplitBrushNet"
    text = card.read_text()
    assert entry["sha256"] in text and "python train.py experiment=stylebrush_bg" in text
    assert "| copy the source | 0.0400 | 14.70 |" in text and "| model | 0.0100 | 20.50 |" in text


def test_card_only_rewrites_the_card_from_a_new_report(weights: tuple[Path, Path], tmp_path: Path) -> None:
    from tsb.publish import card_only

    _, card = weights
    wdir = tmp_path / "weights"
    before = (wdir / "tiny.ckpt").read_bytes()
    new = json.loads(json.dumps(REPORT))
    new["metrics"]["model"]["psnr"] = 21.25
    new["inputs"] = {"use_source_text": True, "match_font": True, "font_match_split": "train"}
    report = tmp_path / "report2.json"
    report.write_text(json.dumps(new))
    card_only(report, "tiny", weights_dir=wdir, card=card)
    text = card.read_text()
    assert "| model | 0.0100 | 21.25 |" in text and "matched train font" in text
    assert published.read_manifest()["tiny"]["sha256"] in text
    assert (wdir / "tiny.ckpt").read_bytes() == before  # nothing exported
    with pytest.raises(TsbError, match="no published weights named 'nope'"):
        card_only(report, "nope", weights_dir=wdir, card=card)


def test_reconfigure_changes_an_inference_setting_and_keeps_the_run_record(
    weights: tuple[Path, Path], tmp_path: Path
) -> None:
    from tsb.publish import parse_settings, reconfigure

    _, card = weights
    wdir = tmp_path / "weights"
    before = published.read_manifest()["tiny"]
    style, content = torch.rand(1, 3, 64, 64) * 2 - 1, torch.ones(1, 1, 64, 64)
    old_task, _ = load_task(published.published_checkpoint("tiny"))
    settings = parse_settings(["model.net.background.smooth=4"])
    assert settings == {"model.net.background.smooth": 4}
    entry = reconfigure(settings, None, "tiny", weights_dir=wdir, card=card)
    assert entry["sha256"] != before["sha256"] and entry["inference_settings"] == settings
    assert {k: entry[k] for k in ("steps", "wall_s", "command")} == {
        k: before[k] for k in ("steps", "wall_s", "command")
    }
    path = published.published_checkpoint("tiny")  # the new hash is checked
    new_task, _ = load_task(path)
    assert new_task.net.background.smooth == 4 and old_task.net.background.smooth == 0
    for a, b in zip(new_task.state_dict().values(), old_task.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # no weight changed
    with torch.no_grad():
        assert not torch.equal(
            new_task.generate(style, content).image, old_task.generate(style, content).image
        )
    assert "`model.net.background.smooth=4`" in card.read_text()


def test_reconfigure_adds_a_component_the_run_left_null(weights: tuple[Path, Path], tmp_path: Path) -> None:
    from tsb.models.refine import TextRegionRefiner
    from tsb.publish import parse_settings, reconfigure

    wdir = tmp_path / "weights"
    settings = parse_settings(
        [
            "model.net.background.refine._target_=tsb.models.refine.TextRegionRefiner",
            "model.net.background.refine.tau=20",
            "model.net.colour_from_source=true",
        ]
    )
    reconfigure(settings, None, "tiny", weights_dir=wdir, card=None)
    task, _ = load_task(published.published_checkpoint("tiny"))
    refine = task.net.background.refine
    assert isinstance(refine, TextRegionRefiner) and refine.tau == 20.0
    assert task.net.colour_from_source is True
    with pytest.raises(TsbError, match="no component"):  # a new component needs an owner that is one
        reconfigure(
            parse_settings(["model.net.nope.refine._target_=tsb.models.refine.TextRegionRefiner"]),
            None,
            "tiny",
            weights_dir=wdir,
            card=None,
        )
    with pytest.raises(TsbError, match="does not fit"):  # not an allowed class: refused on load-back
        reconfigure(
            parse_settings(["model.net.background.refine._target_=os.system"]), None, "tiny", weights_dir=wdir, card=None
        )


def test_as_trained_undoes_the_settings_changed_after_training(weights: tuple[Path, Path], tmp_path: Path) -> None:
    from tsb.publish import as_trained, parse_settings, reconfigure

    wdir = tmp_path / "weights"
    trained, _ = load_task(published.published_checkpoint("tiny"))
    settings = parse_settings(
        [
            "model.net.background.smooth=4",
            "model.net.background.refine._target_=tsb.models.refine.TextRegionRefiner",
            "model.net.background.refine.tau=20",
            "model.net.colour_from_source=true",
        ]
    )
    reconfigure(settings, None, "tiny", weights_dir=wdir, card=None)
    before = (wdir / "tiny.ckpt").read_bytes()
    out = as_trained(tmp_path / "as_trained.ckpt", "tiny", weights_dir=wdir)
    assert (wdir / "tiny.ckpt").read_bytes() == before  # the published file is left alone
    task, _ = load_task(out)
    assert task.net.background.smooth == trained.net.background.smooth == 0
    assert task.net.background.refine is None and task.net.colour_from_source is False
    for a, b in zip(task.state_dict().values(), trained.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    style, content = torch.rand(1, 3, 64, 64) * 2 - 1, torch.ones(1, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(task.generate(style, content).image, trained.generate(style, content).image)
    assert publish_main(["--as-trained", str(tmp_path / "b.ckpt"), "--name", "nope"]) == 1


def test_a_setting_that_does_not_fit_leaves_the_published_file_alone(
    weights: tuple[Path, Path], tmp_path: Path
) -> None:
    from tsb.publish import parse_settings, reconfigure

    wdir = tmp_path / "weights"
    before = (wdir / "tiny.ckpt").read_bytes()
    for bad, match in [
        (["model.net.text.channels=8"], "does not fit the trained weights"),
        (["model.net.nope.smooth=1"], r"no component 'model\.net\.nope'"),
        (["model.net.background.smooth=-1"], "does not fit"),
    ]:
        with pytest.raises(TsbError, match=match):
            reconfigure(parse_settings(bad), None, "tiny", weights_dir=wdir, card=None)
    with pytest.raises(TsbError, match=r"model\.PATH=VALUE"):
        parse_settings(["background.smooth=4"])
    assert (wdir / "tiny.ckpt").read_bytes() == before
    assert not list(wdir.glob(".*partial"))
    published.published_checkpoint("tiny")  # still the file the manifest names


def test_a_changed_file_is_refused(weights: tuple[Path, Path]) -> None:
    path = published.published_checkpoint("tiny")
    published._verified.clear()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="not the published file"):
        published.published_checkpoint("tiny")
    path.write_text("version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(CheckpointError, match="Git LFS pointer"):
        published.published_checkpoint("tiny")
    path.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        published.published_checkpoint("tiny")


def test_unknown_name_lists_what_is_published(weights: tuple[Path, Path]) -> None:
    with pytest.raises(CheckpointError, match=r"published: tiny"):
        published.published_checkpoint("nope")
    assert published.resolve_checkpoint("some/run.ckpt") == Path("some/run.ckpt")
    assert published.resolve_checkpoint("published:tiny") == published.published_checkpoint("tiny")


def test_publish_command_reports_a_bad_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert publish_main([str(tmp_path / "none.ckpt"), "--no-card"]) == 1
    err = capsys.readouterr().err
    assert "checkpoint not found" in err and "Traceback" not in err


def test_the_repository_default_is_published_and_loads() -> None:
    """The shipped weights: in the manifest, within the size limit, the split design, hash intact."""
    entries = published.read_manifest(published.WEIGHTS_DIR / "manifest.json")
    if published.DEFAULT not in entries:
        pytest.skip("no published weights in this checkout yet")
    entry = entries[published.DEFAULT]
    assert entry["bytes"] <= 25 * 1024 * 1024
    path = published.published_checkpoint(published.DEFAULT, published.WEIGHTS_DIR / "manifest.json")
    task, _ = load_task(path)
    assert type(task.net).__name__ == "SplitBrushNet"


def test_each_published_name_has_its_own_model_card() -> None:
    from tsb.publish import CARD, card_path
    from tsb.published import DEFAULT

    assert card_path(DEFAULT) == CARD
    other = card_path("stylebrush_bg_gpu")
    assert other.parent == CARD.parent and other.name == "model_card_stylebrush_bg_gpu.md"


def test_the_published_settings_draw_toasts_3d_sides_under_bread() -> None:
    """The shipped weights on a real 3-D sign (white faces on navy sides, the sides running
    down-left): the new word gets dark sides below-left of its letters; without ``extrusion``,
    the same pixels stay the light wall (docs/models.md, "Photos")."""
    from tests.edit.conftest import REAL_WORDS
    from tsb.edit import Edit, Editor, parse_box
    from tsb.models.refine import rgb_to_lab
    from tsb.utils.image import pil_to_tensor

    entries = published.read_manifest(published.WEIGHTS_DIR / "manifest.json")
    if published.DEFAULT not in entries or not (REAL_WORDS / "demo_5.png").is_file():
        pytest.skip("needs the published weights and shared/data/real-words")
    from PIL import Image

    photo = Image.open(REAL_WORDS / "demo_5.png").convert("RGB")
    editor = Editor(None, "cpu", read_source=False)
    assert editor.task.net.extrusion is not None  # a published setting
    box = parse_box(f"0,0,{photo.width},{photo.height}")
    edits = [Edit(box, "BREAD", source="TOAST")]
    with_sides, _ = editor.edit(photo, edits)
    editor.task.net.extrusion = None
    flat, _ = editor.edit(photo, edits)
    lab_sides = rgb_to_lab(pil_to_tensor(with_sides, "RGB")[None])[0, 0]
    lab_flat = rgb_to_lab(pil_to_tensor(flat, "RGB")[None])[0, 0]
    dark = (lab_sides < 50) & (lab_flat > 60)  # navy with the sides, the light wall without
    assert float(dark.float().mean()) > 0.03
    # the new letters: light pixels the edit drew where the photo was not as light
    lab = rgb_to_lab(torch.stack([pil_to_tensor(im, "RGB") for im in (flat, photo)]))
    letters = (lab[0, 0] > 70) & ((lab[0] - lab[1]).norm(dim=0) > 15)
    assert float(letters.float().mean()) > 0.03
    # the sides run down-left from them
    dy, dx = (torch.nonzero(m).float().mean(0) for m in (dark, letters))
    assert float(dy[0]) > float(dx[0]) and float(dy[1]) < float(dx[1])


def test_recorded_command_reads_back_word_for_word(tmp_path: Path) -> None:
    """The manifest's command is shell-quoted: an override with a space is one word again."""
    import shlex

    from tsb.publish import _command

    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "overrides.yaml").write_text("- experiment=stylebrush_bg\n- 'task_name=my run'\n")
    command = _command(tmp_path)
    assert command == "python train.py experiment=stylebrush_bg 'task_name=my run'"
    assert shlex.split(command)[2:] == ["experiment=stylebrush_bg", "task_name=my run"]
