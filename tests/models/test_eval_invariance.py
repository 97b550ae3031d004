"""No network changes what it computes with ``.eval()`` beyond normalisation and dropout: every
photo step is the inference pipeline's (tsb/inference), never a branch on ``self.training``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.models.conftest import CONF_DIR, PRESETS, build

#: layers whose train/eval difference is allowed (batch statistics, dropout)
_ALLOWED = (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm, nn.Dropout)


def _outputs(net: nn.Module, training: bool) -> list[torch.Tensor]:
    net.train(training)
    for m in net.modules():  # normalisation and dropout behave as at evaluation in both modes
        if isinstance(m, _ALLOWED):
            m.eval()
    torch.manual_seed(1)
    style = torch.rand(2, 3, 64, 128) * 2 - 1
    content = torch.ones(2, 1, 64, 128)
    content[..., 16:48, 20:100] = -1
    with torch.no_grad():
        out = net(style, content)
    return [t for t in (out.image, out.mask, out.background, out.foreground, out.source_mask, out.hole) if t is not None]


@pytest.mark.parametrize("name", PRESETS)
def test_forward_is_the_same_in_training_and_evaluation_mode(name: str) -> None:
    net = build(name)
    trained, evaluated = _outputs(net, True), _outputs(net, False)
    assert len(trained) == len(evaluated) >= 2
    for a, b in zip(trained, evaluated):
        assert torch.equal(a, b)


def test_models_import_no_detector_ocr_font_list_or_app() -> None:
    import ast

    forbidden = ("tsb.data", "tsb.pretrained", "tsb.inference", "tsb.edit", "tsb.evaluate", "tsb.demo",
                 "easyocr", "rapidocr", "onnxruntime", "scipy")
    models = CONF_DIR.parent / "tsb" / "models"
    found = []
    for path in models.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in forbidden or n.startswith(forbidden)]
    assert found == []
