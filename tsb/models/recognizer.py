"""Scene-text recognizer R: CRNN (convolutions + bidirectional LSTM) read out with CTC.

Trained by this project on its own synthetic words (``python train.py experiment=recognizer``)
and then frozen: the recognition loss asks it to read the target string in generated images,
and evaluation scores generated words with it. Case-sensitive; the alphabet comes from config.

Input: images in [-1, 1], (B, 3, H, W) or (B, 1, H, W), any size; they are converted to grey
(ITU-R 601 luma) and resized to ``input_size`` (32x128 by default, close to the 32x100 of the
usual scene-text recognizers). Output: per-time-step logits (T, B, len(alphabet) + 1) with the
CTC blank at index 0, the layout ``torch.nn.CTCLoss`` expects.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.utils.alphabets import resolve_alphabet

DEFAULT_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Alphabet:
    """Characters <-> CTC class indices (0 is the blank, character i is class i + 1)."""

    def __init__(self, chars: str) -> None:
        if not chars:
            raise ConfigError(
                "the recognizer alphabet is empty; set model.net.alphabet to the characters to read"
            )
        if len(set(chars)) != len(chars):
            dup = sorted({c for c in chars if chars.count(c) > 1})
            raise ConfigError(f"the recognizer alphabet repeats characters {dup!r}; list each character once")
        self.chars = chars
        self.index = {c: i + 1 for i, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def num_classes(self) -> int:
        """Number of CTC classes: the characters plus the blank."""
        return len(self.chars) + 1

    def encode(self, texts: list[str] | tuple[str, ...]) -> tuple[Tensor, Tensor]:
        """Strings -> (concatenated targets (sum of lengths,), lengths (B,)), both int64."""
        targets: list[int] = []
        lengths: list[int] = []
        for t in texts:
            for c in t:
                if c not in self.index:
                    raise ConfigError(
                        f"character {c!r} of the word {t!r} is not in the recognizer alphabet "
                        f"{self.chars!r}; add it to the alphabet (model.net.alphabet) and retrain, "
                        "or restrict the data's alphabet"
                    )
                targets.append(self.index[c])
            lengths.append(len(t))
        return torch.tensor(targets, dtype=torch.long), torch.tensor(lengths, dtype=torch.long)

    def decode_greedy(self, logits: Tensor) -> list[str]:
        """Best path decoding of (T, B, C) logits: argmax, collapse repeats, drop blanks."""
        best = logits.argmax(dim=-1).transpose(0, 1).cpu().tolist()  # (B, T)
        out: list[str] = []
        for seq in best:
            chars: list[str] = []
            prev = 0
            for k in seq:
                if k != prev and k != 0:
                    chars.append(self.chars[k - 1])
                prev = k
            out.append("".join(chars))
        return out


def to_grey(x: Tensor) -> Tensor:
    """(B, 3, H, W) -> (B, 1, H, W) luma; grey input passes through."""
    if x.shape[1] == 1:
        return x
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def _conv_bn_relu(c_in: int, c_out: int, kernel: int = 3, padding: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, padding=padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class CRNN(nn.Module):
    """CRNN (Shi et al. 2015) with batch norm everywhere and a width multiplier.

    Args:
        alphabet: the characters it reads (case-sensitive), in a fixed order, or a name the data
            config knows (``latin``, ``cyrillic``, ``latin+cyrillic``; ``tsb.utils.alphabets.ALPHABETS``).
            The checkpoint records the characters.
        width: multiplier on the channel counts (1.0 = 64, 128, 256, 256, 512, 512, 512).
        hidden: LSTM hidden size per direction.
        input_size: (H, W) the input is resized to; H must be 32.
    """

    def __init__(
        self,
        alphabet: str = DEFAULT_ALPHABET,
        width: float = 1.0,
        hidden: int = 256,
        input_size: tuple[int, int] | list[int] = (32, 128),
    ) -> None:
        super().__init__()
        if int(input_size[0]) != 32:
            raise ConfigError(f"CRNN input height must be 32, got input_size={list(input_size)}")
        if int(input_size[1]) % 4 or int(input_size[1]) < 16:
            raise ConfigError(f"CRNN input width must be a multiple of 4 and >= 16, got {input_size[1]}")
        alphabet = resolve_alphabet(str(alphabet))
        self.hparams: dict[str, Any] = {
            "alphabet": alphabet,
            "width": float(width),
            "hidden": int(hidden),
            "input_size": [int(v) for v in input_size],
        }
        self.alphabet = Alphabet(alphabet)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        c = [max(4, round(v * width)) for v in (64, 128, 256, 256, 512, 512, 512)]
        self.cnn = nn.Sequential(
            *_conv_bn_relu(1, c[0]),
            nn.MaxPool2d(2, 2),  # 16 x W/2
            *_conv_bn_relu(c[0], c[1]),
            nn.MaxPool2d(2, 2),  # 8 x W/4
            *_conv_bn_relu(c[1], c[2]),
            *_conv_bn_relu(c[2], c[3]),
            nn.MaxPool2d((2, 1), (2, 1)),  # 4 x W/4
            *_conv_bn_relu(c[3], c[4]),
            *_conv_bn_relu(c[4], c[5]),
            nn.MaxPool2d((2, 1), (2, 1)),  # 2 x W/4
            *_conv_bn_relu(c[5], c[6], kernel=2, padding=0),  # 1 x (W/4 - 1)
        )
        self.rnn = nn.LSTM(c[6], hidden, num_layers=2, bidirectional=True, batch_first=False)
        self.head = nn.Linear(2 * hidden, self.alphabet.num_classes)

    @property
    def time_steps(self) -> int:
        """Length T of the output sequence (the longest readable word is about T / 2)."""
        return self.input_size[1] // 4 - 1

    def forward(self, x: Tensor) -> Tensor:
        """Images in [-1, 1] -> CTC logits (T, B, num_classes), blank = 0."""
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"CRNN expects images (B, 3, H, W) or (B, 1, H, W), got {tuple(x.shape)}")
        h = to_grey(x)
        if tuple(h.shape[-2:]) != self.input_size:
            h = F.interpolate(h, size=self.input_size, mode="bilinear", align_corners=False)
        f = self.cnn(h)  # (B, C, 1, T)
        seq = f.squeeze(2).permute(2, 0, 1).contiguous()  # (T, B, C)
        out, _ = self.rnn(seq)
        return self.head(out)

    @torch.no_grad()
    def read(self, x: Tensor) -> list[str]:
        """Greedy transcription of images x (no gradient)."""
        return self.alphabet.decode_greedy(self(x))
