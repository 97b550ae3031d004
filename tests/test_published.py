"""Published weights: safetensors in tsb/weights/, hash-checked on load, used by default, with how
to use them (model settings, inference preset) beside them in the manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from tests.release.helpers import make_run, write_report
from tsb import published
from tsb.errors import CheckpointError
from tsb.release.export import publish
from tsb.training.checkpoint import MOVED_TO_INFERENCE, load_task, load_weights


@pytest.fixture
def weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run checkpoint published as ``tiny`` (model settings in its entry) into a temporary folder."""
    ckpt = make_run(tmp_path)
    monkeypatch.setattr(published, "MANIFEST", tmp_path / "weights" / "manifest.json")
    published._verified.clear()
    publish(
        ckpt,
        write_report(tmp_path / "report.json"),
        "tiny",
        card=tmp_path / "card.md",
        model_settings={"model.net.background.smooth": 3},
    )
    return tmp_path / "weights" / "tiny.safetensors"


def test_published_weights_load_with_their_model_settings(weights: Path) -> None:
    assert published.published_settings("tiny") == published.PublishedSettings({"model.net.background.smooth": 3}, None)
    for given in (None, "published:tiny", str(weights)):
        path = published.resolve_checkpoint(given) if given else published.published_checkpoint("tiny")
        task, cfg = load_task(path)
        assert path == weights and task.net.background.smooth == 3 and cfg.model.net.background.smooth == 3
    assert load_weights(weights)["config"]["model"]["net"]["background"]["smooth"] == 0  # the file: as trained


@pytest.mark.parametrize("how", ["published_checkpoint", "resolve_checkpoint", "load_task"])
def test_a_changed_file_is_refused_before_it_is_read(weights: Path, how: str) -> None:
    def load() -> object:
        published._verified.clear()
        if how == "published_checkpoint":
            return published.published_checkpoint("tiny")
        if how == "resolve_checkpoint":
            return published.resolve_checkpoint(str(weights))
        return load_task(weights)

    load()
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped bit in a tensor: still a readable safetensors file
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"tiny\.safetensors is not the published file .*git checkout"):
        load()
    weights.write_text("version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(CheckpointError, match="Git LFS pointer"):
        load()
    weights.unlink()
    with pytest.raises(CheckpointError, match=r"tiny\.safetensors are missing; restore them"):
        load()


def test_a_copy_elsewhere_loads_as_trained(weights: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "tiny.safetensors"
    copy.parent.mkdir()
    shutil.copy(weights, copy)
    (copy.parent / "manifest.json").write_text(json.dumps({"something": "else"}))  # not ours: ignored
    assert published.resolve_checkpoint(str(copy)) == copy
    task, _ = load_task(copy)
    assert task.net.background.smooth == 0


def test_unknown_name_lists_what_is_published(weights: Path) -> None:
    with pytest.raises(CheckpointError, match=r"published: tiny"):
        published.published_checkpoint("nope")
    assert published.resolve_checkpoint("some/run.ckpt") == Path("some/run.ckpt")


def test_a_manifest_file_that_is_a_path_is_refused(weights: Path) -> None:
    manifest = weights.parent / "manifest.json"
    data = json.loads(manifest.read_text())
    data["weights"]["tiny"]["file"] = "../tiny.safetensors"
    manifest.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match="not a file name beside the manifest"):
        published.published_checkpoint("tiny")


def test_the_repository_default_is_published_and_loads() -> None:
    """The shipped weights: safetensors, as trained in the file, the settings in the manifest."""
    manifest = published.WEIGHTS_DIR / "manifest.json"
    entries = published.read_manifest(manifest)
    if published.DEFAULT not in entries:
        pytest.skip("no published weights in this checkout yet")
    entry = entries[published.DEFAULT]
    assert entry["file"].endswith(".safetensors") and entry["bytes"] <= 25 * 1024 * 1024
    settings = published.published_settings(published.DEFAULT, manifest)
    assert settings == published.PublishedSettings(
        {
            "model.net.background.smooth": 4,
            "model.net.background.hole_gain": 4.0,
            "model.net.layout.keep_inside": True,
        },
        "photo",
    )
    path = published.published_checkpoint(published.DEFAULT, manifest)
    net = load_weights(path)["config"]["model"]["net"]
    assert (net["background"]["smooth"], net["background"]["hole_gain"], net["layout"]["keep_inside"]) == (0, 2.0, False)
    assert not any(k.rpartition(".")[2] in (net if k.count(".") == 1 else net["background"]) for k in MOVED_TO_INFERENCE)
    task, _ = load_task(path)
    assert type(task.net).__name__ == "SplitBrushNet"
    assert (task.net.background.smooth, task.net.background.hole_gain, task.net.layout.keep_inside) == (4, 4.0, True)
    trained, _ = load_task(path, model_settings={})
    assert (trained.net.background.smooth, trained.net.layout.keep_inside) == (0, False)
    for a, b in zip(task.state_dict().values(), trained.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_recorded_command_reads_back_word_for_word(tmp_path: Path) -> None:
    """The manifest's command is shell-quoted: an override with a space is one word again."""
    import shlex

    from tsb.release.export import _command

    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "overrides.yaml").write_text("- experiment=stylebrush_bg\n- 'task_name=my run'\n")
    command = _command(tmp_path)
    assert command == "python train.py experiment=stylebrush_bg 'task_name=my run'"
    assert shlex.split(command)[2:] == ["experiment=stylebrush_bg", "task_name=my run"]
