"""A helper checkpoint (typeface classifier, recognizer) may load weights but never run code."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.nets import write_recognizer_ckpt
from tsb.pretrained.helpers import FORMAT, HelperCheckpointError, load_helper


@pytest.mark.parametrize(
    "net",
    [
        {"_target_": "tsb.models.summary.instantiate", "config": {"_target_": "pathlib.Path.touch", "self": "X"}},
        {"_target_": "tsb.models.layers.torch.save", "obj": 1, "f": "X"},
        {"_target_": "pathlib.Path.touch", "self": "X"},
        {"_target_": "tsb.models.recognizer.CRNN", "alphabet": {"_target_": "pathlib.Path.touch", "self": "X"}},
    ],
)
def test_a_helper_checkpoint_cannot_run_code(tmp_path: Path, net: dict) -> None:
    marker = tmp_path / "pwned"

    def fill(node: object) -> object:
        if isinstance(node, dict):
            return {k: (str(marker) if v == "X" else fill(v)) for k, v in node.items()}
        return node

    ckpt = tmp_path / "evil.ckpt"
    torch.save({"format": FORMAT, "kind": "recognizer", "net": fill(net), "state_dict": {}}, ckpt)
    with pytest.raises(HelperCheckpointError):
        load_helper(ckpt, "recognizer")
    assert not marker.exists()


def test_a_real_helper_checkpoint_still_loads(tmp_path: Path) -> None:
    net = load_helper(write_recognizer_ckpt(tmp_path / "rec.ckpt"), "recognizer")
    assert type(net).__name__ == "CRNN" and not net.training
