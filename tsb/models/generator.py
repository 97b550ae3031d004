"""Generator G: StyleGAN2 skip architecture driven by a content map and a multi-scale style code.

- Input: the content encoder's map (B, in_channels, 4, W/16) instead of StyleGAN2's constant.
- Scales: 4xW/16, 8xW/8, 16xW/4, 32xW/2, 64xW (one per entry of ``channels``; the first scale has
  one modulated 3x3 conv, every later one an upsampling conv and a conv). No noise inputs.
- Style: ``style_code[:, k]`` modulates every layer of scale k (each layer has its own affine map),
  k = 0 the coarsest (see :mod:`tsb.models.style_encoder`).
- Output: each scale has a to-RGB layer with 4 output channels, RGB and a foreground-mask logit,
  summed over scales through the upsampled skips (StyleGAN2's skip generator). The image is the
  final RGB sum, linear, with no tanh: it learns the [-1, 1] range from the losses (clamp only for
  display). Each scale's mask is ``sigmoid`` of its accumulated logit, so it lies in [0, 1]; the
  last one is the full-resolution ``mask``.
- Content skips (optional, ``content_skips``; empty = the paper): the content encoder's finer
  feature maps and the content image (heights 8, 16, 32, 64, :meth:`ContentEncoder.pyramid`) are
  added, each through a 1x1
  convolution, after the upsampling conv of the scale with their height, as in a U-Net. The glyph
  shapes then reach the fine scales directly, which is what makes the narrow CPU quickstart
  readable after minutes; the paper's generator sees only the 4 x W/16 map.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.layers import DEFAULT_BLUR, StyledConv, ToRGB

#: (B, n_styles, style_dim): one style vector per generator scale, coarse to fine
StyleCode = Tensor


@dataclass
class GeneratorOutput:
    """What every StyleBrush-style network returns.

    image: (B, 3, 64, W) float, [-1, 1] by training (linear output, no tanh; clamp for display).
    mask: (B, 1, 64, W) in [0, 1], the final-scale foreground (text) mask.
    masks: per-scale masks, coarse to fine, ``masks[-1] is mask``; scale k has height 4 * 2**k.
    background / foreground / layout: only from split designs, else None.
    """

    image: Tensor
    mask: Tensor
    masks: list[Tensor]
    #: split designs (``tsb.models.split``): the erased background (B, 3, 64, W), the text layer
    #: (B, 3, 64, W) that ``mask`` composes over it, and the content's ink moved into place (B, 1, 64, W)
    background: Tensor | None = None
    foreground: Tensor | None = None
    layout: Tensor | None = None
    #: split designs: where the old word of the style image was (B, 1, 64, W), the eraser's mask
    source_mask: Tensor | None = None
    #: the inference pipeline, split designs: the region the eraser repainted (B, 1, 64, W) in [0, 1];
    #: ``tsb.edit`` pastes it (with the new letters' mask) whole up to the box's edge, and nothing
    #: else of the crop
    hole: Tensor | None = None


class Generator(nn.Module):
    """StyleGAN2 skip generator with per-scale mask heads, ``forward(style_code, content_map)``."""

    def __init__(
        self,
        in_channels: int = 512,
        style_dim: int = 512,
        channels: Sequence[int] = (512, 512, 512, 512, 256),
        image_channels: int = 3,
        blur_kernel: Sequence[float] = DEFAULT_BLUR,
        fused_modconv: bool = False,
        content_skips: Sequence[int] = (),
    ) -> None:
        super().__init__()
        channels = list(channels)
        if len(channels) < 1:
            raise ConfigError("generator.channels needs one width per scale (e.g. 5 for 4 -> 64 pixels high)")
        self.in_channels = in_channels
        self.style_dim = style_dim
        self.channels = channels
        self.image_channels = image_channels
        #: number of scales = number of style vectors expected
        self.n_styles = len(channels)
        out = image_channels + 1  # RGB + mask logit
        kw: dict[str, Any] = {"blur_kernel": blur_kernel, "fused": fused_modconv}
        self.conv_in = StyledConv(in_channels, channels[0], 3, style_dim, **kw)
        self.to_rgb_in = ToRGB(channels[0], style_dim, out, upsample=False, **kw)
        self.convs_up = nn.ModuleList()
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        for cin, cout in itertools.pairwise(channels):
            self.convs_up.append(StyledConv(cin, cout, 3, style_dim, upsample=True, **kw))
            self.convs.append(StyledConv(cout, cout, 3, style_dim, **kw))
            self.to_rgbs.append(ToRGB(cout, style_dim, out, **kw))
        content_skips = list(content_skips)
        if len(content_skips) > len(channels) - 1:
            raise ConfigError(
                f"generator.content_skips has {len(content_skips)} entries but the generator has only "
                f"{len(channels) - 1} upsampling scales; give at most that many (coarse to fine)"
            )
        #: channels of the content features added at scales 1, 2, ... (coarse to fine)
        self.content_skips = content_skips
        self.skip_convs = nn.ModuleList(
            nn.Conv2d(cin, cout, 1) for cin, cout in zip(content_skips, channels[1:])
        )

    def forward(
        self, style_code: StyleCode, content: Tensor, skips: Sequence[Tensor] = ()
    ) -> GeneratorOutput:
        """``content``: the (B, in_channels, 4, W/16) map; ``skips``: one content feature map per
        entry of ``content_skips`` (coarse to fine, heights 8, 16, ...)."""
        if style_code.ndim != 3 or style_code.shape[1:] != (self.n_styles, self.style_dim):
            raise ConfigError(
                f"style code must be (B, {self.n_styles}, {self.style_dim}) (one vector per generator scale); "
                f"got {tuple(style_code.shape)}: check that style_encoder and generator configs agree"
            )
        if content.ndim != 4 or content.shape[1] != self.in_channels:
            raise ConfigError(
                f"content map must be (B, {self.in_channels}, h, w); got {tuple(content.shape)}: "
                "check content_encoder.out_channels == generator.in_channels"
            )
        if len(skips) != len(self.skip_convs):
            raise ConfigError(
                f"the generator takes {len(self.skip_convs)} content skip maps (generator.content_skips), "
                f"got {len(skips)}"
            )
        x = self.conv_in(content, style_code[:, 0])
        skip = self.to_rgb_in(x, style_code[:, 0])
        rgb_skips = [skip]
        for k, (conv_up, conv, to_rgb) in enumerate(zip(self.convs_up, self.convs, self.to_rgbs), start=1):
            w = style_code[:, k]
            x = conv_up(x, w)
            if k <= len(skips):
                x = x + self.skip_convs[k - 1](skips[k - 1])
            x = conv(x, w)
            skip = to_rgb(x, w, skip)
            rgb_skips.append(skip)
        c = self.image_channels
        masks = [torch.sigmoid(s[:, c : c + 1]) for s in rgb_skips]
        return GeneratorOutput(image=skip[:, :c], mask=masks[-1], masks=masks)
