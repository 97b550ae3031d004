"""Reconstruction, cycle, supervised L1 and mask losses on known inputs."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.nets import CopyNet, Out, TinyNet, make_batch
from tsb.losses import G, LossContext
from tsb.losses.cycle import CycleLoss
from tsb.losses.mask import MaskLoss
from tsb.losses.reconstruction import ReconstructionLoss, masked_l1
from tsb.losses.supervised import SupervisedL1

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


def test_masked_l1_known_values() -> None:
    x = torch.zeros(1, 3, 4, 4)
    y = torch.zeros(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1  # top half is text
    y[..., :2, :] = 2.0  # text pixels differ by 2, background equal
    assert float(masked_l1(x, y, mask)) == pytest.approx(2.0, rel=1e-5)
    assert float(masked_l1(x, y, mask, fg_weight=0.5, bg_weight=3.0)) == pytest.approx(1.0, rel=1e-5)
    y[..., 2:, :] = 1.0  # background differs by 1
    assert float(masked_l1(x, y, mask, fg_weight=1.0, bg_weight=10.0)) == pytest.approx(2.0 + 10.0, rel=1e-5)
    assert float(masked_l1(x, y, None)) == pytest.approx(1.5, rel=1e-5)  # plain mean
    assert float(masked_l1(y, y, mask)) == 0.0


def test_masked_l1_rejects_size_mismatch() -> None:
    with pytest.raises(ValueError, match="same size"):
        masked_l1(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 8), None)


def test_reconstruction_and_cycle_are_zero_when_output_is_the_style(batch: dict) -> None:
    ctx = LossContext(CopyNet(), None, batch, G)
    assert float(ReconstructionLoss()(ctx)) == 0.0
    assert float(CycleLoss()(ctx)) == 0.0


def test_supervised_zero_for_identical_and_none_without_target() -> None:
    batch = make_batch()
    batch["target"] = batch["style"].clone()
    assert float(SupervisedL1()(LossContext(CopyNet(), None, batch, G))) == 0.0
    del batch["target"]
    assert SupervisedL1()(LossContext(CopyNet(), None, batch, G)) is None


def test_supervised_value_is_the_masked_l1(tiny_net: TinyNet, batch: dict) -> None:
    ctx = LossContext(tiny_net, None, batch, G)
    expected = masked_l1(ctx.fake.image, batch["target"], batch["mask_tgt"], 2.0, 0.5)
    assert float(SupervisedL1(fg_weight=2.0, bg_weight=0.5)(ctx)) == pytest.approx(float(expected))


def test_reconstruction_gradient_reaches_both_encoders(tiny_net: TinyNet, batch: dict) -> None:
    ReconstructionLoss()(LossContext(tiny_net, None, batch, G)).backward()
    for m in (tiny_net.style, tiny_net.content, tiny_net.to_image):
        assert m.weight.grad is not None and m.weight.grad.abs().sum() > 0
    assert tiny_net.to_mask.weight.grad is None  # the data's mask splits the loss, not the predicted one


def test_reconstruction_uses_predicted_mask_without_data_mask(tiny_net: TinyNet) -> None:
    batch = make_batch()
    del batch["mask_src"]
    ctx = LossContext(tiny_net, None, batch, G)
    expected = masked_l1(ctx.recon.image, batch["style"], ctx.recon.mask.detach())
    assert float(ReconstructionLoss()(ctx)) == pytest.approx(float(expected))


def test_cycle_gradient_flows_through_the_generated_style(tiny_net: TinyNet, batch: dict) -> None:
    ctx = LossContext(tiny_net, None, batch, G)
    loss = CycleLoss()(ctx)
    (g,) = torch.autograd.grad(loss, ctx.fake.image, retain_graph=True)
    assert g.abs().sum() > 0  # the first pass (style -> fake) is trained by the cycle too
    loss.backward()
    assert tiny_net.content.weight.grad is not None


def test_mask_loss_zero_for_perfect_masks_and_known_l1(batch: dict) -> None:
    ctx = LossContext(CopyNet(), None, batch, G)
    small = torch.nn.functional.avg_pool2d(batch["mask_tgt"], 2)
    ctx.memo("fake", lambda: Out(batch["style"], batch["mask_tgt"].clone(), [small, batch["mask_tgt"]]))
    ctx.memo("recon", lambda: Out(batch["style"], batch["mask_src"].clone(), [batch["mask_src"]]))
    assert float(MaskLoss()(ctx)) == pytest.approx(0.0, abs=1e-7)
    assert float(MaskLoss(kind="bce", all_scales=False)(ctx)) < 1e-4  # binary targets: BCE -> 0
    ctx2 = LossContext(CopyNet(), None, batch, G)
    ctx2.memo("fake", lambda: Out(batch["style"], 1 - batch["mask_tgt"], []))
    # an inverted binary mask is wrong everywhere
    assert float(MaskLoss(recon=False)(ctx2)) == pytest.approx(1.0)


def test_mask_loss_none_without_masks_and_gradient(tiny_net: TinyNet) -> None:
    batch = make_batch()
    assert (
        MaskLoss()(LossContext(tiny_net, None, {k: v for k, v in batch.items() if "mask" not in k}, G))
        is None
    )
    MaskLoss(kind="bce")(LossContext(tiny_net, None, batch, G)).backward()
    assert tiny_net.to_mask.weight.grad is not None and tiny_net.to_mask.weight.grad.abs().sum() > 0
    assert tiny_net.to_image.weight.grad is None  # the mask loss does not train the image head


def test_mask_kind_validated() -> None:
    with pytest.raises(ValueError, match="l1"):
        MaskLoss(kind="l2")
