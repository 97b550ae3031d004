"""Typeface losses on a frozen feature network (paper: L_type = perceptual + texture + embedding).

The network (option ``network``, see :mod:`tsb.pretrained.registry`) is the paper's typeface
classifier C trained here (a helper checkpoint, ``python train.py experiment=typeface``) or
``imagenet_vgg16``, the ImageNet VGG16 that SRNet and MOSTEL use for their perceptual and style
losses (pretrained, shipped in a pip package: nothing to train first).

Three terms, each with its own weight (paper: 1, 500, 1), sharing one loaded classifier and one
feature computation per image (cached in the step's context):

- :class:`TypefacePerceptual`: mean over layers of L1 between activations ``relu1_1..relu5_1``;
- :class:`TypefaceTexture`: mean over layers of L1 between Gram matrices of those activations
  (``F F^T / (C H W)``, the content-independent "stationary" statistics);
- :class:`TypefaceEmbedding`: L1 between C's penultimate features.

Each compares a *source* (a generated image: ``fake`` = G(style, content_tgt), ``recon`` =
G(style, content_src), or ``cycle``) with a *reference* (``style``, or ``target`` where the data
has a ground truth; the term is skipped on batches without it). Defaults (our decision, the paper
does not spell it out): perceptual compares ``recon`` with ``style`` (same string, so a
per-position comparison is meaningful); texture and embedding, which do not depend on where the
letters are, compare ``fake`` with ``style``. Reference features carry no gradient; the
classifier is frozen; gradients reach the generator through the source image only.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from tsb.errors import ConfigError
from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.models.typeface_classifier import RELU_LAYERS, TypefaceFeatures
from tsb.pretrained.helpers import FrozenHelper

SOURCES = ("fake", "recon", "cycle")
REFERENCES = ("style", "target")


def gram(x: Tensor) -> Tensor:
    """Gram matrices (B, C, C) of activations (B, C, H, W), normalised by C*H*W, in float32."""
    b, c, h, w = x.shape
    f = x.float().reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


class _TypefaceTerm(LossTerm):
    default_source: ClassVar[str] = "fake"

    def __init__(
        self,
        weight: float = 1.0,
        network: str = "checkpoints/typeface.ckpt",
        source: str | None = None,
        reference: str = "style",
        layers: tuple[str, ...] | list[str] = RELU_LAYERS,
    ) -> None:
        super().__init__(weight)
        source = source or self.default_source
        if source not in SOURCES:
            raise ConfigError(f"typeface loss source must be one of {SOURCES}, got {source!r}")
        if reference not in REFERENCES:
            raise ConfigError(f"typeface loss reference must be one of {REFERENCES}, got {reference!r}")
        self.source = source
        self.reference = reference
        self.layers = tuple(layers)
        from tsb.pretrained.registry import feature_network

        self.classifier = FrozenHelper(feature_network(str(network)), source=str(network))

    def _features(self, ctx: LossContext, which: str) -> TypefaceFeatures | None:
        net = self.classifier.net

        def compute() -> TypefaceFeatures | None:
            if which in REFERENCES:
                image = ctx.get(which)
                if image is None:
                    return None
                with torch.no_grad():
                    return net.extract(image, RELU_LAYERS)  # type: ignore[operator, no-any-return]
            image = getattr(ctx, which).image
            return net.extract(image, RELU_LAYERS)  # type: ignore[operator, no-any-return]

        return ctx.memo(f"typeface/{id(net)}/{which}", compute)

    def pair(self, ctx: LossContext) -> tuple[TypefaceFeatures, TypefaceFeatures] | None:
        ref = self._features(ctx, self.reference)
        if ref is None:
            return None
        src = self._features(ctx, self.source)
        assert src is not None
        return src, ref

    def compare(self, src: TypefaceFeatures, ref: TypefaceFeatures) -> Tensor:
        """The term's distance between the features of the generated and the reference image."""
        raise NotImplementedError

    def forward(self, ctx: LossContext) -> Tensor | None:
        pair = self.pair(ctx)
        return None if pair is None else self.compare(*pair)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, source={self.source}, reference={self.reference}"


class TypefacePerceptual(_TypefaceTerm):
    """L1 between the classifier's activations (mean over ``layers``)."""

    default_source = "recon"

    def compare(self, src: TypefaceFeatures, ref: TypefaceFeatures) -> Tensor:
        return torch.stack(
            [(src.activations[k].float() - ref.activations[k].float()).abs().mean() for k in self.layers]
        ).mean()


class TypefaceTexture(_TypefaceTerm):
    """L1 between Gram matrices of the classifier's activations (mean over ``layers``)."""

    def compare(self, src: TypefaceFeatures, ref: TypefaceFeatures) -> Tensor:
        return torch.stack(
            [(gram(src.activations[k]) - gram(ref.activations[k])).abs().mean() for k in self.layers]
        ).mean()


class TypefaceEmbedding(_TypefaceTerm):
    """L1 between the classifier's penultimate features."""

    def compare(self, src: TypefaceFeatures, ref: TypefaceFeatures) -> Tensor:
        return (src.embedding.float() - ref.embedding.float()).abs().mean()
