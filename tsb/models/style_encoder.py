"""Style encoder Fs: a ResNet body, a feature pyramid, one style vector per generator scale.

The style image (B, 3, H, W) of any size goes through a :class:`~tsb.models.resnet.ResNetBody`
(ResNet34 in the paper preset). Its feature maps (stem and every stage: 5 levels for 4 stages) are
each global-average-pooled, so the image size does not matter, and mapped by a small equalized MLP
head to a ``style_dim`` vector. The vectors form the multi-scale style code (StyleGAN's w+):

    style_code: (B, n_styles, style_dim), n_styles = number of pyramid levels = generator scales

ordered like the generator's scales, coarse to fine: ``style_code[:, 0]`` (from the deepest
features) drives the generator's 4xW/16 layers, ``style_code[:, -1]`` (from the stem) its 64xW
layers. Deep features carry global shape (typeface, slant), shallow ones colour and texture, the
pairing used by StyleGAN and pSp.

``multi_scale=False`` is the paper's single-vector ablation: only the deepest level is pooled and
its vector is repeated for every scale (same tensor shape, so the generator does not change).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.layers import EqualLinear
from tsb.models.resnet import ResNetBody


def _head(in_dim: int, style_dim: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    dim = in_dim
    for _ in range(layers - 1):
        mods.append(EqualLinear(dim, style_dim, activation=True))
        dim = style_dim
    mods.append(EqualLinear(dim, style_dim))
    return nn.Sequential(*mods)


class StyleEncoder(nn.Module):
    """ResNet feature pyramid -> multi-scale style code (B, n_styles, style_dim)."""

    def __init__(
        self,
        in_channels: int = 3,
        stem_channels: int = 64,
        widths: Sequence[int] = (64, 128, 256, 512),
        blocks: Sequence[int] = (3, 4, 6, 3),
        style_dim: int = 512,
        head_layers: int = 2,
        multi_scale: bool = True,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        if head_layers < 1:
            raise ConfigError(f"style_encoder.head_layers must be >= 1, got {head_layers}")
        strides = (1,) + (2,) * (len(widths) - 1)  # ResNet: every stage after the first halves
        self.body = ResNetBody(in_channels, stem_channels, widths, blocks, strides, norm)
        self.in_channels = in_channels
        self.style_dim = style_dim
        self.multi_scale = multi_scale
        #: pyramid levels = generator scales this encoder drives
        self.n_styles = len(self.body.feature_channels)
        deep_first = list(reversed(self.body.feature_channels))
        used = deep_first if multi_scale else deep_first[:1]
        self.heads = nn.ModuleList(_head(c, style_dim, head_layers) for c in used)

    def forward(self, style: Tensor) -> Tensor:
        if style.ndim != 4 or style.shape[1] != self.in_channels:
            raise ConfigError(
                f"style image must be (B, {self.in_channels}, H, W) in [-1, 1]; "
                f"got shape {tuple(style.shape)}"
            )
        feats = self.body(style)[::-1]  # deepest first = coarsest generator scale first
        if not self.multi_scale:
            w = self.heads[0](feats[0].mean(dim=(2, 3)))
            return w[:, None, :].expand(-1, self.n_styles, -1)
        codes = [head(f.mean(dim=(2, 3))) for head, f in zip(self.heads, feats)]
        return torch.stack(codes, dim=1)
