"""Recognition loss: the frozen recognizer must read the target string in the generated image.

CTC loss of the recognizer's output on ``fake.image`` against ``text_tgt`` (and, with
``mask_weight`` > 0, on the predicted mask drawn as dark text on white, as the paper's research
code does (inferred)). The recognizer is frozen; gradients reach the generator through its
input. Its LSTM runs with cuDNN off, since cuDNN cannot back-propagate through an RNN in eval mode.
Every character of the target strings must be in the recognizer's alphabet (a clear error
otherwise: train the recognizer with the data's alphabet).
"""

from __future__ import annotations

from typing import Protocol, cast

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.losses.helpers import RECOGNIZER, FrozenHelper, load_helper
from tsb.models.recognizer import Alphabet


class Recognizer(Protocol):
    """What the loss needs of a recognizer (``tsb.models.recognizer.CRNN``): CTC logits and an alphabet."""

    alphabet: Alphabet

    def __call__(self, images: Tensor) -> Tensor: ...


def ctc_loss(recognizer: Recognizer, images: Tensor, texts: list[str] | tuple[str, ...]) -> Tensor:
    """Mean CTC loss (per target character, as ``torch.nn.CTCLoss``) of ``recognizer`` on images."""
    targets, lengths = recognizer.alphabet.encode(list(texts))
    with torch.backends.cudnn.flags(enabled=False):
        logits = recognizer(images)
    log_probs = logits.float().log_softmax(-1)
    t, b, _ = log_probs.shape
    input_lengths = torch.full((b,), t, dtype=torch.long)
    return F.ctc_loss(
        log_probs,
        targets.to(log_probs.device),
        input_lengths.to(log_probs.device),
        lengths.to(log_probs.device),
        blank=0,
        reduction="mean",
        zero_infinity=True,
    )


def mask_as_image(mask: Tensor) -> Tensor:
    """A (B, 1, H, W) foreground mask in [0, 1] as a grey image in [-1, 1]: dark text on white."""
    return 1.0 - 2.0 * mask


class RecognitionLoss(LossTerm):
    """CTC loss of the frozen recognizer on the generated image (paper weight 1).

    Args:
        weight: term weight.
        checkpoint: the recognizer helper checkpoint.
        mask_weight: extra weight of the same loss on the predicted mask (0 = off).
    """

    def __init__(
        self, weight: float = 1.0, checkpoint: str = "checkpoints/recognizer.ckpt", mask_weight: float = 0.0
    ) -> None:
        super().__init__(weight)
        self.mask_weight = float(mask_weight)
        self.recognizer = FrozenHelper(load_helper(checkpoint, RECOGNIZER), source=str(checkpoint))

    def forward(self, ctx: LossContext) -> Tensor:
        texts = ctx.require("text_tgt")
        net = cast(Recognizer, self.recognizer.net)
        fake = ctx.fake
        value = ctc_loss(net, fake.image, texts)
        if self.mask_weight:
            on_mask = ctc_loss(net, mask_as_image(fake.mask), texts)
            ctx.log("on_mask", on_mask)
            value = value + self.mask_weight * on_mask
        return value
