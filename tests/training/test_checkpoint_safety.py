"""A checkpoint someone sends may load weights but never run code.

Each payload below is a checkpoint whose stored model config names a callable that would write a
file (or run a shell command) when ``hydra.utils.instantiate`` builds it. ``load_task`` (what
``tsb.edit`` and ``evaluate.py`` call) must refuse every one with a ``CheckpointError`` and leave
no file behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf

from tests.helpers.tiny import make_task_checkpoint, tiny_model_config
from tsb.errors import CheckpointError
from tsb.training.checkpoint import load_task, save_checkpoint
from tsb.utils.safe_config import allowed_class, check_targets

MODELS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "conf" / "model").glob("*.yaml"))


def _payloads(victim: Path) -> dict[str, dict[str, Any]]:
    v = str(victim)
    return {
        "numpy.savetxt": {"_target_": "numpy.savetxt", "fname": v, "X": [1.0]},
        "torch.save": {"_target_": "torch.save", "obj": 1, "f": v},
        "builtins.open": {"_target_": "builtins.open", "file": v, "mode": "w"},
        "pathlib.Path.touch": {"_target_": "pathlib.Path.touch", "_args_": [{"_target_": "pathlib.Path", "_args_": [v]}]},
        "os.system": {"_target_": "os.system", "_args_": [f"touch {v}"]},
        # a tsb function that writes files
        "tsb save_checkpoint": {"_target_": "tsb.training.checkpoint.save_checkpoint", "path": v, "state": {}},
        # tsb-prefixed paths that reach foreign callables
        "re-exported torch.save": {"_target_": "tsb.models.layers.torch.save", "obj": 1, "f": v},
        "instantiate inside tsb.models": {
            "_target_": "tsb.models.summary.instantiate",
            "config": {"_target_": "os.system", "_args_": [f"touch {v}"]},
        },
        # the top is a real task, the nested network is not
        "nested net": {
            "_target_": "tsb.tasks.stylebrush.StyleBrushTask",
            "net": {"_target_": "builtins.open", "file": v, "mode": "w"},
            "discriminator": None,
        },
        "nested, not recursive": {
            "_target_": "tsb.tasks.stylebrush.StyleBrushTask",
            "_recursive_": False,
            "net": {"_target_": "os.system", "_args_": [f"touch {v}"]},
        },
        "inside a list": {
            "_target_": "tsb.tasks.stylebrush.StyleBrushTask",
            "_args_": [[{"_target_": "os.system", "_args_": [f"touch {v}"]}]],
        },
        "interpolation": {"_target_": "tsb.tasks.stylebrush.StyleBrushTask", "sample_size": "${oc.env:HOME}"},
    }


def _write(path: Path, model: dict[str, Any]) -> Path:
    cfg = OmegaConf.create({"model": model})
    return save_checkpoint(path, {"task": {}, "config": OmegaConf.to_yaml(cfg)})


@pytest.mark.parametrize("name", list(_payloads(Path("x"))))
def test_load_task_refuses_code_running_targets(tmp_path: Path, name: str) -> None:
    victim = tmp_path / "written_by_the_checkpoint"
    ckpt = _write(tmp_path / "evil.ckpt", _payloads(victim)[name])
    with pytest.raises(CheckpointError, match="may only build tsb's own networks"):
        load_task(ckpt)
    assert not victim.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.ckpt"]


def test_edit_command_refuses_it_with_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from tsb.edit import main

    victim = tmp_path / "pwned"
    ckpt = _write(tmp_path / "evil.ckpt", _payloads(victim)["builtins.open"])
    Image.new("RGB", (64, 32)).save(tmp_path / "in.png")
    code = main(["--ckpt", str(ckpt), "--image", str(tmp_path / "in.png"), "--box", "2,2,40,20", "--text", "a",
                 "--out", str(tmp_path / "out.png")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and not victim.exists() and not (tmp_path / "out.png").exists()
    assert err.count("\n") == 1 and "builtins.open" in err and "Traceback" not in err


@pytest.mark.parametrize("model", MODELS)
def test_every_model_preset_is_allowed(model: str, cfg_factory: Callable[..., DictConfig]) -> None:
    """Every _target_ of conf/model/*.yaml, nested networks included, passes the allow-list."""
    cfg = cfg_factory([f"model={model}"])
    plain = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(plain, dict)
    check_targets(plain, f"model={model}")


def test_a_real_checkpoint_still_loads(tmp_path: Path) -> None:
    task, cfg = load_task(make_task_checkpoint(tmp_path / "ok.ckpt"))
    assert type(task).__name__ == "StyleBrushTask" and cfg.model.net._target_ == tiny_model_config().net._target_


def test_allowed_class_is_strict() -> None:
    assert allowed_class("tsb.models.discriminator.Discriminator") is not None
    for bad in (
        "tsb.models.discriminator",  # a module
        "tsb.models.layers.nn.Linear",  # re-exported torch class
        "tsb.training.trainer.Trainer",  # not a network package
        "tsb.models.summary.instantiate",  # a function
        "tsb.models._private.X",
        "antigravity.x",  # never imported: refused by name
    ):
        assert allowed_class(bad) is None, bad


def test_a_classifier_checkpoint_is_refused_with_a_message(tmp_path: Path) -> None:
    """A typeface-classifier run's checkpoint cannot generate: say so (it was an AttributeError)."""
    from hydra.utils import instantiate

    from tsb.configs import compose_preset

    model = compose_preset("model", "typeface_classifier")
    del model["fonts"]
    model.net.width = 0.0625
    task = instantiate(model, loss=None)
    cfg = OmegaConf.create({"model": model, "task_name": "typeface"})
    ckpt = save_checkpoint(tmp_path / "typeface_run.ckpt", {"task": task.state_dict(), "config": OmegaConf.to_yaml(cfg)})
    with pytest.raises(CheckpointError, match="does not generate images"):
        load_task(ckpt)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_any_corrupt_file_is_one_checkpoint_error(tmp_path: Path) -> None:
    """Random bytes make the unpickler raise KeyError, IndexError, UnicodeDecodeError...: every one
    is the same 'cannot read checkpoint' message (the probe found a KeyError escaping)."""
    import random

    from tsb.training.checkpoint import load_checkpoint

    rng = random.Random(0)
    good = make_task_checkpoint(tmp_path / "good.ckpt").read_bytes()
    for i in range(60):
        path = tmp_path / f"bad{i}.ckpt"
        if i % 2:  # a real checkpoint with bytes flipped in its pickle
            data = bytearray(good)
            for _ in range(8):
                data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
            path.write_bytes(bytes(data))
        else:
            path.write_bytes(rng.randbytes(rng.choice([16, 512, 4096])))
        try:
            load_checkpoint(path)
        except CheckpointError as e:
            assert str(path) in str(e)


# ------------------------------------------------------------------------- configs that explode
def _deep_yaml(depth: int) -> str:
    return "model: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize(
    "kind", ["yaml aliases", "shared lists in the pickle", "recursive anchor", "nested 100,000 deep"]
)
def test_a_config_that_expands_is_refused_before_it_is_expanded(tmp_path: Path, kind: str) -> None:
    """A "billion laughs" config (a few hundred bytes whose aliases repeat one part 10^9 times)
    is refused by counting what it would expand to, not by expanding it (which ran for minutes,
    growing by gigabytes)."""
    from tests.helpers.hostile import alias_bomb_yaml, bomb_checkpoint, deadline, shared_list_bomb

    config = {
        "yaml aliases": alias_bomb_yaml(),
        "shared lists in the pickle": shared_list_bomb(),
        "recursive anchor": "model: &m {_target_: tsb.tasks.stylebrush.StyleBrushTask, net: [*m]}\n",
        "nested 100,000 deep": _deep_yaml(100_000),
    }[kind]
    ckpt = bomb_checkpoint(tmp_path / "bomb.ckpt", config)
    with deadline(20), pytest.raises(CheckpointError, match=str(ckpt)) as e:
        load_task(ckpt)
    message = str(e.value).replace(str(ckpt), "CKPT")
    assert "\n" not in message and e.value.exit_code == 2
    assert "expand" in message or "nested" in message, message


def test_the_edit_command_refuses_an_alias_bomb_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from tests.helpers.hostile import bomb_checkpoint, deadline
    from tsb.edit import main

    ckpt = bomb_checkpoint(tmp_path / "bomb.ckpt")
    Image.new("RGB", (64, 32)).save(tmp_path / "in.png")
    with deadline(20):
        code = main(["--ckpt", str(ckpt), "--image", str(tmp_path / "in.png"), "--box", "2,2,40,20",
                     "--text", "a", "--out", str(tmp_path / "out.png")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "out.png").exists()
    assert err.count("\n") == 1 and "bomb.ckpt" in err and "Traceback" not in err
    assert "expands" in err.replace(str(tmp_path), "TMP"), err


def test_an_ordinary_checkpoint_config_is_well_under_the_bound(cfg_factory: Callable[..., DictConfig]) -> None:
    """The bound leaves room: the largest preset's whole config is a small fraction of it."""
    from tsb.utils.safe_config import MAX_CONFIG_NODES, config_size

    cfg = cfg_factory(["model=stylebrush_bg", "experiment=stylebrush_bg_gpu"])
    assert config_size(OmegaConf.to_yaml(cfg, resolve=True)) < MAX_CONFIG_NODES // 20
