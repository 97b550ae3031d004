"""Typeface losses on the frozen classifier: zero for identical images, gradients to G only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.nets import CopyNet, TinyNet, make_batch, write_recognizer_ckpt
from tsb.errors import TsbError
from tsb.losses import G, LossContext, LossSet
from tsb.losses.typeface import TypefaceEmbedding, TypefacePerceptual, TypefaceTexture, gram
from tsb.pretrained.helpers import HelperCheckpointError, load_helper

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")
TERMS = (TypefacePerceptual, TypefaceTexture, TypefaceEmbedding)


def test_gram_known_value() -> None:
    x = torch.zeros(1, 2, 1, 2)
    x[0, 0] = torch.tensor([[1.0, 2.0]])
    x[0, 1] = torch.tensor([[3.0, 0.0]])
    expected = torch.tensor([[5.0, 3.0], [3.0, 9.0]]) / (2 * 1 * 2)
    assert torch.allclose(gram(x)[0], expected)


@pytest.mark.parametrize("cls", TERMS)
def test_zero_for_identical_images(cls: type, typeface_ckpt: Path, batch: dict) -> None:
    term = cls(network=str(typeface_ckpt))
    assert float(term(LossContext(CopyNet(), None, batch, G))) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("cls", TERMS)
def test_positive_and_gradient_to_generator_only(cls: type, typeface_ckpt: Path, tiny_net: TinyNet) -> None:
    batch = make_batch()
    batch["style"].requires_grad_(True)  # the reference must carry no gradient
    term = cls(network=str(typeface_ckpt))
    value = term(LossContext(tiny_net, None, batch, G))
    assert float(value) > 0
    value.backward()
    assert tiny_net.to_image.weight.grad is not None and tiny_net.to_image.weight.grad.abs().sum() > 0
    net = term.classifier.net
    assert all(p.grad is None and not p.requires_grad for p in net.parameters())
    # the style image reaches the loss only through the style encoder, not as the reference
    assert batch["style"].grad is not None
    ref_only = cls(network=str(typeface_ckpt))
    batch2 = make_batch()
    batch2["style"].requires_grad_(True)
    ctx = LossContext(CopyNet(), None, batch2, G)
    ctx.memo("style_code", lambda: batch2["style"].detach())  # generator output without a graph
    v = ref_only(ctx)
    assert not v.requires_grad


def test_reference_target_skipped_without_target(typeface_ckpt: Path, tiny_net: TinyNet) -> None:
    batch = make_batch()
    del batch["target"]
    term = TypefacePerceptual(network=str(typeface_ckpt), source="fake", reference="target")
    assert term(LossContext(tiny_net, None, batch, G)) is None


def test_classifier_frozen_in_eval_outside_state_and_moves(typeface_ckpt: Path) -> None:
    terms = LossSet(
        perceptual=TypefacePerceptual(network=str(typeface_ckpt)),
        texture=TypefaceTexture(network=str(typeface_ckpt)),
    )
    terms.train()
    net = terms["perceptual"].classifier.net
    assert net is terms["texture"].classifier.net  # loaded once, shared
    assert not net.training and all(not m.training for m in net.modules())
    assert list(terms.parameters()) == [] and terms.state_dict() == {}
    terms.double()
    assert next(net.parameters()).dtype == torch.float64
    terms.float()


def test_features_computed_once_per_image(typeface_ckpt: Path, tiny_net: TinyNet, batch: dict) -> None:
    terms = LossSet(
        perceptual=TypefacePerceptual(network=str(typeface_ckpt), source="fake"),
        texture=TypefaceTexture(network=str(typeface_ckpt)),
        embedding=TypefaceEmbedding(network=str(typeface_ckpt)),
    )
    net = terms["texture"].classifier.net
    calls = []
    original = net.extract
    net.extract = lambda x, layers: calls.append(x.shape) or original(x, layers)  # type: ignore[method-assign]
    try:
        _, logs = terms.compute(G, LossContext(tiny_net, None, batch, G))
    finally:
        del net.extract
    assert set(logs) == {"perceptual", "texture", "embedding"}
    assert len(calls) == 2  # the fake and the style, each once


def test_missing_checkpoint_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(HelperCheckpointError) as e:
        TypefaceTexture(network=str(tmp_path / "nope.ckpt"))
    assert "python train.py experiment=typeface" in str(e.value)
    assert isinstance(e.value, TsbError)


def test_wrong_or_corrupt_checkpoint(tmp_path: Path) -> None:
    rec = write_recognizer_ckpt(tmp_path / "rec.ckpt")
    with pytest.raises(HelperCheckpointError, match="experiment=typeface"):
        load_helper(rec, "typeface")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(HelperCheckpointError, match="cannot be read"):
        load_helper(bad, "typeface")
    other = tmp_path / "trainer.ckpt"
    torch.save({"format": "tsb-checkpoint", "task": {}}, other)
    with pytest.raises(HelperCheckpointError, match="not a helper checkpoint"):
        load_helper(other, "typeface")


def test_bad_source_rejected(typeface_ckpt: Path) -> None:
    with pytest.raises(ValueError, match="source"):
        TypefaceTexture(network=str(typeface_ckpt), source="style")
