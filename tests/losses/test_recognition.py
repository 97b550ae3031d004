"""Recognition loss on the frozen recognizer: CTC against the target string, gradients to G only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.nets import ALPHABET, TinyNet
from tsb.errors import ConfigError
from tsb.losses import G, LossContext
from tsb.losses.recognition import RecognitionLoss, ctc_loss, mask_as_image
from tsb.models.recognizer import Alphabet
from tsb.pretrained.helpers import HelperCheckpointError

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


def test_value_gradient_and_frozen_recognizer(recognizer_ckpt: Path, tiny_net: TinyNet, batch: dict) -> None:
    term = RecognitionLoss(recognizer=str(recognizer_ckpt), mask_weight=0.5)
    term.train()
    ctx = LossContext(tiny_net, None, batch, G)
    value = term(ctx)
    assert torch.isfinite(value) and float(value) > 0
    assert "on_mask" in ctx.logs
    value.backward()
    assert tiny_net.to_image.weight.grad is not None and tiny_net.to_image.weight.grad.abs().sum() > 0
    assert tiny_net.to_mask.weight.grad is not None  # through the mask term
    rec = term.recognizer.net
    assert not rec.training and all(not p.requires_grad and p.grad is None for p in rec.parameters())
    assert list(term.parameters()) == []


class ColumnReader(torch.nn.Module):
    """A fixed recognizer whose CTC logits are a linear function of the image's column means."""

    def __init__(self, width: int = 64, steps: int = 16) -> None:
        super().__init__()
        self.alphabet = Alphabet(ALPHABET)
        self.steps = steps
        g = torch.Generator().manual_seed(0)
        self.register_buffer("proj", torch.randn(width, steps * self.alphabet.num_classes, generator=g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = x.mean(dim=(1, 2)) @ self.proj  # (B, T * C)
        return logits.view(x.shape[0], self.steps, -1).transpose(0, 1)


def test_crnn_value_is_ctc_of_its_logits(recognizer_ckpt: Path, tiny_net: TinyNet, batch: dict) -> None:
    term = RecognitionLoss(recognizer=str(recognizer_ckpt), crop_to_text=False)
    ctx = LossContext(tiny_net, None, batch, G)
    rec = term.recognizer.net
    log_probs = rec(ctx.fake.image).log_softmax(-1)
    targets, lengths = rec.alphabet.encode(batch["text_tgt"])
    t = torch.full((log_probs.shape[1],), log_probs.shape[0], dtype=torch.long)
    expected = torch.nn.functional.ctc_loss(log_probs, targets, t, lengths, zero_infinity=True)
    assert float(term(ctx)) == pytest.approx(float(expected), rel=1e-5)


def test_loss_leads_the_recognizer_to_the_target_string() -> None:
    """Optimising a free image with the loss makes a fixed recognizer read the target string."""
    rec = ColumnReader()
    torch.manual_seed(0)
    image = (torch.randn(1, 3, 32, 64) * 0.5).requires_grad_(True)
    opt = torch.optim.Adam([image], lr=0.05)
    first = None
    for _ in range(100):
        loss = ctc_loss(rec, image, ["dog"])
        first = float(loss) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(ctc_loss(rec, image, ["dog"])) < 0.5 * first
    assert rec.alphabet.decode_greedy(rec(image.detach())) == ["dog"]
    assert float(ctc_loss(rec, image, ["dog"])) < float(ctc_loss(rec, image, ["cat"]))


def test_unknown_character_says_so(recognizer_ckpt: Path, tiny_net: TinyNet, batch: dict) -> None:
    batch["text_tgt"] = ["Dog!", "x"]
    with pytest.raises(ConfigError, match="not in the recognizer alphabet") as e:
        RecognitionLoss(recognizer=str(recognizer_ckpt))(LossContext(tiny_net, None, batch, G))
    assert "loss.recognition.recognizer=" in str(e.value)  # the way out: a recognizer of that alphabet


def test_missing_checkpoint_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(HelperCheckpointError, match=r"python train\.py experiment=recognizer"):
        RecognitionLoss(recognizer=str(tmp_path / "missing.ckpt"))


def test_mask_as_image() -> None:
    m = torch.tensor([[[[0.0, 1.0]]]])
    assert mask_as_image(m).tolist() == [[[[1.0, -1.0]]]]  # text dark on white


def test_crop_to_text_cuts_to_the_ink_columns_and_pads_by_repetition() -> None:
    from tsb.losses.recognition import crop_to_text

    images = torch.arange(20.0).view(2, 1, 1, 10).expand(2, 3, 4, 10)
    content = torch.ones(2, 1, 4, 10)
    content[0, 0, 1, 3:5] = -1.0  # ink in columns 3-4 of the first word; none in the second
    out = crop_to_text(images, content, margin=1)
    assert out.shape == (2, 3, 4, 10)
    assert out[0, 0, 0].tolist() == [2, 3, 4, 5, 5, 5, 5, 5, 5, 5]  # columns 2-5, then the last repeated
    assert torch.equal(out[1], images[1])  # no ink: the whole image
