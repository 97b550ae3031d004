"""Export: a training checkpoint -> safetensors + manifest entry, every input checked first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from tests.release.helpers import make_run, snapshot
from tsb import published
from tsb.errors import CheckpointError, TsbError
from tsb.release.export import encode_weights, publish
from tsb.training.checkpoint import MOVED_TO_INFERENCE, load_checkpoint, load_task, load_weights

ROOT = Path(__file__).resolve().parents[2]


def test_round_trip_gives_the_ema_tensors_and_the_config_as_trained(tiny: dict[str, Path]) -> None:
    state = load_checkpoint(tiny["ckpt"])
    back = load_weights(tiny["file"])
    ema = state["ema"]
    assert set(back["task"]) == set(ema)  # the network's tensors only, named as the task names them
    for key, value in ema.items():
        assert back["task"][key].dtype == value.dtype and torch.equal(back["task"][key], value), key
    live = {k.removeprefix("net."): v for k, v in state["task"].items() if k.startswith("net.")}
    assert not torch.equal(back["task"]["net.ink_gain"], live["ink_gain"])  # not the live weights
    # the config: the run's model config, discriminator and moved keys removed, nothing else changed
    stored = OmegaConf.to_container(OmegaConf.create(state["config"]), resolve=True)
    assert isinstance(stored, dict)
    expected = json.loads(json.dumps(stored["model"]))
    expected["discriminator"] = None
    for key in MOVED_TO_INFERENCE:
        parent, _, name = key.rpartition(".")
        node = expected
        for part in parent.split("."):
            node = node[part]
        node.pop(name, None)
    assert back["config"] == {"model": expected, "task_name": "stylebrush_bg"}
    assert back["step"] == 7 and back["metadata"]["format"] == "tsb-weights" and back["metadata"]["weights"] == "ema"
    # built from the file: the same network outputs as the run's checkpoint with EMA weights
    pub, _ = load_task(tiny["file"])
    run, _ = load_task(tiny["ckpt"], use_ema=True)
    style, content = torch.rand(1, 3, 64, 64) * 2 - 1, torch.ones(1, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(pub.generate(style, content).image, run.generate(style, content).image)


def test_the_manifest_entry_describes_the_file_and_the_run(tiny: dict[str, Path]) -> None:
    import hashlib

    entry = published.read_manifest()["tiny"]
    data = tiny["file"].read_bytes()
    assert entry["file"] == "tiny.safetensors" and entry["format"] == "safetensors"
    assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert entry["steps"] == 7 and entry["wall_s"] == 600.0 and entry["weights"] == "ema"
    assert entry["command"] == "python train.py experiment=stylebrush_bg"
    assert entry["target"] == "tsb.models.split.SplitBrushNet"
    assert entry["model_settings"] == {} and entry["inference"] is None
    assert "inference_settings" not in entry


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden", "a\\b", ""])
def test_a_name_that_is_not_plain_is_refused_before_anything_is_written(tmp_path: Path, name: str) -> None:
    ckpt = make_run(tmp_path)
    wdir = tmp_path / "weights"
    with pytest.raises(TsbError, match="plain name"):
        publish(ckpt, None, name, weights_dir=wdir, card=tmp_path / "card.md")
    assert not wdir.exists() and not (tmp_path / "x.safetensors").exists()
    assert not (tmp_path / "card.md").exists()


def test_the_command_refuses_a_path_as_name(tmp_path: Path) -> None:
    """``python -m tsb.release --name ../x``: one message, exit 2 (what was given is wrong), nothing written anywhere."""
    ckpt = make_run(tmp_path)
    before = snapshot(ROOT / "tsb" / "weights")
    proc = subprocess.run(
        [sys.executable, "-m", "tsb.release", str(ckpt), "--name", "../x", "--no-card"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "--name '../x': give a plain name" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(ROOT / "tsb" / "weights") == before and not (ROOT / "tsb" / "x.safetensors").exists()


@pytest.mark.parametrize(
    "report, match",
    [
        ("{not json", "not a readable JSON file"),
        (json.dumps({"metrics": {}}), "not an evaluation report"),
        (json.dumps([1, 2]), "not an evaluation report"),
        (None, "not a readable JSON file"),  # the file does not exist
    ],
)
def test_a_bad_report_leaves_the_manifest_the_weights_and_the_card_untouched(
    tiny: dict[str, Path], tmp_path: Path, report: str | None, match: str
) -> None:
    bad = tmp_path / "bad_report.json"
    if report is not None:
        bad.write_text(report)
    before = snapshot(tiny["weights"])
    card = tiny["card"].read_bytes()
    other = make_run(tmp_path / "other", seed=1)  # other weights: a successful export would change the file
    with pytest.raises(TsbError, match=match):
        publish(other, bad, "tiny", weights_dir=tiny["weights"], card=tiny["card"])
    assert snapshot(tiny["weights"]) == before  # no partial file either
    assert tiny["card"].read_bytes() == card
    # the same export with a good report does change them
    publish(other, tiny["report"], "tiny", weights_dir=tiny["weights"], card=tiny["card"])
    assert snapshot(tiny["weights"]) != before


def test_bad_settings_or_preset_leave_everything_untouched(
    tiny: dict[str, Path], tmp_path: Path, presets: Path
) -> None:
    before = snapshot(tiny["weights"])
    other = make_run(tmp_path / "other", seed=1)
    for kwargs, match in [
        ({"model_settings": {"model.net.text.channels": 8}}, "do not fit"),  # the network takes no int
        ({"model_settings": {"model.net.nope.smooth": 1}}, r"no component 'model\.net\.nope'"),
        ({"model_settings": {"model.net.background._target_": "os.system"}}, "model.PATH"),
        ({"inference": "nope"}, r"not an inference preset .*there: photo"),
        ({"inference": "../photo"}, "not an inference preset"),
    ]:
        with pytest.raises(TsbError, match=match):
            publish(other, tiny["report"], "tiny", weights_dir=tiny["weights"], card=tiny["card"], **kwargs)
    assert snapshot(tiny["weights"]) == before
    entry = publish(
        other,
        None,
        "tiny",
        weights_dir=tiny["weights"],
        write_card=False,
        model_settings={"model.net.background.smooth": 2},
        inference="photo",
    )
    assert entry["model_settings"] == {"model.net.background.smooth": 2} and entry["inference"] == "photo"


def test_a_missing_checkpoint_is_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tsb.publish import main as publish_main  # the former name: the same command

    assert publish_main([str(tmp_path / "none.ckpt"), "--no-card", "--name", "x"]) == 2  # CheckpointError: what was given is wrong
    err = capsys.readouterr().err
    assert "checkpoint not found" in err and "Traceback" not in err
    assert not (tmp_path / "x.safetensors").exists()


def _weights(path: Path, config: object, metadata: dict[str, str] | None = None) -> Path:
    """A safetensors file holding the tiny network's tensors with the given config / metadata."""
    from safetensors.torch import save_file

    tensors = {"net.ink_gain": torch.tensor(4.0)}
    if metadata is None:
        path.write_bytes(encode_weights(tensors, config, 0, "ema"))  # type: ignore[arg-type]
    else:
        save_file(tensors, str(path), metadata=metadata)
    return path


def test_a_file_whose_config_names_a_foreign_target_is_refused(tiny: dict[str, Path], tmp_path: Path) -> None:
    config = load_weights(tiny["file"])["config"]
    for where, target in [("net", "os.system"), ("", "builtins.eval"), ("net.background", "subprocess.Popen")]:
        evil = json.loads(json.dumps(config))
        node = evil["model"]
        for part in filter(None, where.split(".")):
            node = node[part]
        node["_target_"] = target
        path = _weights(tmp_path / "evil.safetensors", evil)
        with pytest.raises(CheckpointError, match=rf"evil\.safetensors.*_target_='{target}'"):
            load_task(path)


@pytest.mark.parametrize(
    "metadata, match",
    [
        ({}, "not tsb weights"),
        ({"format": "tsb-weights", "format_version": "1", "config": "{oops"}, "unreadable tsb metadata"),
        ({"format": "tsb-weights", "format_version": "x", "config": "{}"}, "unreadable tsb metadata"),
        ({"format": "tsb-weights", "format_version": "1", "config": "[]"}, "no model config"),
        ({"format": "tsb-weights", "format_version": "9", "config": "{}"}, "newer tsb"),
    ],
)
def test_bad_metadata_is_one_message_naming_the_file(tmp_path: Path, metadata: dict[str, str], match: str) -> None:
    path = _weights(tmp_path / "w.safetensors", None, metadata)
    with pytest.raises(CheckpointError, match=match) as info:
        load_task(path)
    assert str(path) in str(info.value)


def test_a_truncated_or_foreign_file_is_one_message(tiny: dict[str, Path], tmp_path: Path) -> None:
    for data in (tiny["file"].read_bytes()[:1000], b"not a safetensors file at all", b""):
        path = tmp_path / "bad.safetensors"
        path.write_bytes(data)
        with pytest.raises(CheckpointError, match=r"cannot read weights .*bad\.safetensors"):
            load_task(path)
    with pytest.raises(CheckpointError, match=r"weights not found: .*none\.safetensors"):
        load_task(tmp_path / "none.safetensors")


# ------------------------------------------------------------------ nothing written on bad input
def _published_files() -> dict[str, bytes]:
    """The repository's published weights, manifest and model cards."""
    files = snapshot(ROOT / "tsb" / "weights")
    files.update({f"docs/{p.name}": p.read_bytes() for p in sorted((ROOT / "docs").glob("model_card*.md"))})
    return files


@pytest.mark.parametrize("report", ["an image", "nested 100,000 deep"])
def test_the_publish_command_with_a_bad_report_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], report: str
) -> None:
    """``python -m tsb.publish CKPT --report some.png`` with the default name wrote the weights and
    the manifest, then failed: the shipped weights were the debug model's."""
    from PIL import Image

    from tsb.publish import main as publish_main

    ckpt = make_run(tmp_path)
    bad = tmp_path / "report.png"
    if report == "an image":
        Image.new("RGB", (8, 8), "red").save(bad)
    else:
        bad.write_text("[" * 100_000 + "]" * 100_000)
    before = _published_files()
    assert publish_main([str(ckpt), "--report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--report" in err and "Traceback" not in err, err
    assert _published_files() == before


def test_the_publish_command_refuses_a_name_that_escapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tsb.publish import main as publish_main

    ckpt = make_run(tmp_path)
    before = _published_files()
    assert publish_main([str(ckpt), "--name", "../../escaped", "--no-card"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "plain name" in err, err
    assert _published_files() == before
    assert not list(ROOT.parent.glob("escaped*")) and not list(ROOT.glob("escaped*"))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("overrides.yaml", "- [unclosed\n"),
        ("overrides.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"a{i}: &a{i} [{', '.join([f'*a{i - 1}' if i > 1 else '*a'] * 10)}]\n" for i in range(1, 9))),
        ("summary.json", "{not json"),
    ],
    ids=["overrides not YAML", "overrides an alias bomb", "summary not JSON"],
)
def test_a_bad_file_in_the_run_folder_is_one_message_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    from tests.helpers.hostile import deadline
    from tsb.publish import main as publish_main

    ckpt = make_run(tmp_path)
    folder = ckpt.parent.parent
    (folder / (".hydra/" + name if name.endswith(".yaml") else name)).write_text(text)
    wdir = tmp_path / "weights"
    before = _published_files()
    with deadline(60):
        code = publish_main([str(ckpt), "--name", "x", "--no-card"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and name in err and "Traceback" not in err, err
    assert _published_files() == before and not wdir.exists()
