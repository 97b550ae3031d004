"""How published weights are used: the manifest's model_settings and inference preset, applied at
load and edited in the manifest only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from tests.release.helpers import snapshot
from tsb import published
from tsb.errors import TsbError
from tsb.release.cli import main
from tsb.release.manifest import edit_settings, parse_settings
from tsb.training.checkpoint import load_task


def test_settings_are_applied_at_load_and_no_weights_file_is_rewritten(
    tiny: dict[str, Path], tmp_path: Path, presets: Path
) -> None:
    weights = tiny["file"].read_bytes()
    entry = edit_settings(
        "tiny",
        parse_settings(["model.net.background.smooth=4", "model.net.layout.keep_inside=true"]),
        inference="photo",
        weights_dir=tiny["weights"],
    )
    assert tiny["file"].read_bytes() == weights
    assert entry["model_settings"] == {"model.net.background.smooth": 4, "model.net.layout.keep_inside": True}
    assert published.published_settings("tiny") == published.PublishedSettings(entry["model_settings"], "photo")
    task, cfg = load_task(published.published_checkpoint("tiny"))
    assert task.net.background.smooth == 4 and task.net.layout.keep_inside is True
    assert cfg.model.net.background.smooth == 4
    trained, _ = load_task(tiny["file"], model_settings={})  # as trained: the file's own config
    assert trained.net.background.smooth == 0 and trained.net.layout.keep_inside is False
    copy = tmp_path / "copy" / "tiny.safetensors"  # out of its folder: no manifest beside it
    copy.parent.mkdir()
    shutil.copy(tiny["file"], copy)
    assert load_task(copy)[0].net.background.smooth == 0
    for a, b in zip(task.state_dict().values(), trained.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    style, content = torch.rand(1, 3, 64, 64) * 2 - 1, torch.ones(1, 1, 64, 64)
    with torch.no_grad():
        assert not torch.equal(task.generate(style, content).image, trained.generate(style, content).image)
    edit_settings("tiny", drop=["model.net.background.smooth"], weights_dir=tiny["weights"])
    assert published.published_settings("tiny").model_settings == {"model.net.layout.keep_inside": True}
    assert tiny["file"].read_bytes() == weights


def test_a_setting_that_does_not_fit_leaves_the_manifest_alone(tiny: dict[str, Path], presets: Path) -> None:
    before = snapshot(tiny["weights"])
    for items, match in [
        (["model.net.text.channels=8"], "do not fit"),
        (["model.net.nope.smooth=1"], r"no component 'model\.net\.nope'"),
        (["model.net.background.smooth=-1"], "do not fit"),
        (["model.net.background.refine._target_=tsb.models.x.Y"], "model.PATH"),
        (["background.smooth=4"], "model.PATH"),
        (["model.net.background.smooth=[1, 2]"], "single number"),
    ]:
        with pytest.raises(TsbError, match=match):
            edit_settings("tiny", parse_settings(items), weights_dir=tiny["weights"])
    with pytest.raises(TsbError, match="not an inference preset"):
        edit_settings("tiny", inference="nope", weights_dir=tiny["weights"])
    with pytest.raises(TsbError, match="has no such model setting"):
        edit_settings("tiny", drop=["model.net.background.smooth"], weights_dir=tiny["weights"])
    with pytest.raises(TsbError, match="no published weights named 'nope'"):
        edit_settings("nope", {"model.net.background.smooth": 1}, weights_dir=tiny["weights"])
    assert snapshot(tiny["weights"]) == before


def test_a_bad_manifest_setting_is_refused_on_load(tiny: dict[str, Path]) -> None:
    """A manifest edited by hand: its settings are checked as the command checks them."""
    from tsb.errors import CheckpointError

    manifest = tiny["weights"] / "manifest.json"
    data = json.loads(manifest.read_text())
    data["weights"]["tiny"]["model_settings"] = {"model.net._target_": "os.system"}
    manifest.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=r"manifest\.json \(tiny\): model setting model\.net\._target_"):
        load_task(published.published_checkpoint("tiny"))
    data["weights"]["tiny"]["model_settings"] = {"model.net.nope.x": 1}
    manifest.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=r"no component 'model\.net\.nope'"):
        load_task(published.published_checkpoint("tiny"))


def test_the_command_edits_the_manifest_entry(
    tiny: dict[str, Path], presets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = tiny["file"].read_bytes()
    assert main(["--name", "tiny", "--model-setting", "model.net.background.hole_gain=4.0", "--inference", "photo"]) == 0
    assert published.published_settings("tiny") == published.PublishedSettings(
        {"model.net.background.hole_gain": 4.0}, "photo"
    )
    assert tiny["file"].read_bytes() == weights
    with pytest.raises(SystemExit):  # a new report would describe other settings: not in this mode
        main(["--name", "tiny", "--model-setting", "model.net.background.smooth=1", "--report", "r.json"])
    assert main(["--name", "tiny", "--inference", "nope"]) == 2
    assert "not an inference preset" in capsys.readouterr().err
