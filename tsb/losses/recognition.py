"""Recognition loss: the frozen recognizer must read the target string in the generated image.

CTC loss of the recognizer's output on ``fake.image`` against ``text_tgt`` (and, with
``mask_weight`` > 0, on the predicted mask drawn as dark text on white, as the paper's research
code does (inferred)). The recognizer is frozen; gradients reach the generator through its
input. Its LSTM runs with cuDNN off, since cuDNN cannot back-propagate through an RNN in eval mode.

The recognizer (option ``recognizer``, see :mod:`tsb.pretrained.registry`) is EasyOCR's English g2
network by default, pretrained and shipped in a pip wheel: nothing to train first. For other
alphabets, give the path of a CRNN trained here (``python train.py experiment=recognizer
data=synth_cyrillic``). Every character of the target strings must be in the recognizer's alphabet
(one message otherwise, naming the way out).

With ``crop_to_text`` (default), each image is cut to the columns where its standard-font content
image ``content_tgt`` has ink, plus a margin: a recognizer reads a word crop as a detector would give
it. (EasyOCR reads a short word followed by a wide blank as "~word"; cropped, it reads "word".)
"""

from __future__ import annotations

from typing import Protocol, cast

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.errors import ConfigError
from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.models.recognizer import Alphabet
from tsb.pretrained.helpers import FrozenHelper
from tsb.utils.image import pad_to_width


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


def crop_to_text(images: Tensor, content: Tensor, margin: int = 8) -> Tensor:
    """Cut each image to the ink columns of its content image (+ ``margin``), padded to one width.

    ``content``: (B, 1, H, W) standard-font renderings in [-1, 1], dark text on white, aligned with
    ``images`` (B, C, H, W). Narrower crops are padded by repeating their last column (EasyOCR's
    padding). A content image without ink keeps the whole image. One host sync for the batch.
    """
    w = images.shape[-1]
    ink = (content < 0).flatten(1, 2).any(dim=1)  # (B, W)
    cols = torch.arange(w, device=ink.device)
    first = torch.where(ink, cols, w).amin(dim=1)
    last = torch.where(ink, cols, -1).amax(dim=1)
    spans = [
        (max(0, a - margin), min(w, b + 1 + margin)) if b >= 0 else (0, w)
        for a, b in torch.stack([first, last], dim=1).tolist()
    ]
    width = max(b - a for a, b in spans)
    return torch.stack([pad_to_width(image[..., a:b], width) for image, (a, b) in zip(images, spans)])


def mask_as_image(mask: Tensor) -> Tensor:
    """A (B, 1, H, W) foreground mask in [0, 1] as a grey image in [-1, 1]: dark text on white."""
    return 1.0 - 2.0 * mask


class RecognitionLoss(LossTerm):
    """CTC loss of the frozen recognizer on the generated image (paper weight 1).

    Args:
        weight: term weight.
        recognizer: ``easyocr`` (pretrained, the default) or the path of a CRNN helper checkpoint.
        mask_weight: extra weight of the same loss on the predicted mask (0 = off).
        crop_to_text: read each word cut to its content image's ink columns (see the module doc).
    """

    def __init__(
        self,
        weight: float = 1.0,
        recognizer: str = "easyocr",
        mask_weight: float = 0.0,
        crop_to_text: bool = True,
    ) -> None:
        super().__init__(weight)
        from tsb.pretrained.registry import recognizer as build_recognizer

        self.mask_weight = float(mask_weight)
        self.crop = bool(crop_to_text)
        self.recognizer = FrozenHelper(build_recognizer(str(recognizer)), source=str(recognizer))

    def _ctc(self, net: Recognizer, images: Tensor, ctx: LossContext, texts: list[str] | tuple[str, ...]) -> Tensor:
        if self.crop:
            content = ctx.get("content_tgt")
            if content is not None:
                images = crop_to_text(images, content.to(images.device))
        try:
            return ctc_loss(net, images, texts)
        except ValueError as e:
            raise ConfigError(
                f"{e}. The recognition loss reads with `{self.recognizer.source}`; for this alphabet train a "
                "recognizer (python train.py experiment=recognizer data=...) and set "
                "loss.recognition.recognizer=checkpoints/recognizer.ckpt, or drop the term (~loss.recognition)"
            ) from e

    def forward(self, ctx: LossContext) -> Tensor:
        texts = ctx.require("text_tgt")
        net = cast(Recognizer, self.recognizer.net)
        fake = ctx.fake
        value = self._ctc(net, fake.image, ctx, texts)
        if self.mask_weight:
            on_mask = self._ctc(net, mask_as_image(fake.mask), ctx, texts)
            ctx.log("on_mask", on_mask)
            value = value + self.mask_weight * on_mask
        return value
