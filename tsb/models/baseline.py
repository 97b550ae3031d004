"""UNetBaseline: the plain image-to-image comparison point for StyleBrushNet (``model=baseline``).

The style image is resized to the content's size (bilinear, antialiased) and stacked with the
content rendering: a (B, 4, 64, W) input to a U-Net (stride-2 conv encoder, nearest-upsampling
decoder with skip connections). Each decoder scale has a 1x1 head giving RGB and a mask logit,
summed over scales like the StyleGAN2 skip generator, so the output is the same
:class:`~tsb.models.generator.GeneratorOutput` (per-scale masks, coarse to fine) and the
training task, losses and evaluation need no change.

Drop-in API: ``encode_style(style)`` returns the style image itself (the baseline has no style
code; resizing waits for the content's width), ``synthesize(style_image, content)`` does the rest.
What the baseline lacks on purpose: a global style code (style reaches the output only through
pixel-aligned stacking) and style modulation.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.generator import GeneratorOutput
from tsb.models.stylebrush import StyleCode, broadcast_style
from tsb.models.unet import ConvBlock as _ConvBlock


class UNetBaseline(nn.Module):
    """U-Net on [style resized to the content, content]: ``forward(style, content) -> GeneratorOutput``.

    ``channels`` are the widths at 64xW, 32xW/2, ... (5 entries: the bottleneck is 4xW/16, the same
    grid as StyleBrushNet's generator input).
    """

    def __init__(
        self,
        channels: Sequence[int] = (32, 64, 128, 256, 256),
        style_channels: int = 3,
        content_channels: int = 1,
        image_channels: int = 3,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        channels = list(channels)
        if len(channels) < 2:
            raise ConfigError(f"baseline.channels needs >= 2 widths (one per scale), got {channels}")
        self.style_channels = style_channels
        self.content_channels = content_channels
        self.image_channels = image_channels
        self.downscale = 2 ** (len(channels) - 1)
        self.down = nn.ModuleList()
        cin = style_channels + content_channels
        for i, c in enumerate(channels):
            self.down.append(_ConvBlock(cin, c, 1 if i == 0 else 2, norm))
            cin = c
        # decoder, coarse to fine: scale k fuses the upsampled coarser map with encoder scale k
        rev = channels[::-1]
        self.up = nn.ModuleList(_ConvBlock(rev[k - 1] + rev[k], rev[k], 1, norm) for k in range(1, len(rev)))
        self.heads = nn.ModuleList(nn.Conv2d(c, image_channels + 1, 1) for c in rev)
        self.n_scales = len(channels)

    def encode_style(self, style: Tensor) -> StyleCode:
        """The baseline's "style code" is the style image (B, 3, Hs, Ws) itself."""
        if style.ndim != 4 or style.shape[1] != self.style_channels:
            raise ConfigError(
                f"style image must be (B, {self.style_channels}, H, W); got {tuple(style.shape)}"
            )
        return style

    def synthesize(self, style_code: StyleCode, content: Tensor, source: Tensor | None = None) -> GeneratorOutput:
        if (
            content.ndim != 4
            or content.shape[1] != self.content_channels
            or content.shape[-1] % self.downscale
            or content.shape[-2] % self.downscale
        ):
            raise ConfigError(
                f"content image must be (B, {self.content_channels}, 64, W) with W a multiple of "
                f"{self.downscale}; got shape {tuple(content.shape)}"
            )
        style = broadcast_style(self.encode_style(style_code), content.shape[0])
        if style.shape[-2:] != content.shape[-2:]:
            style = F.interpolate(
                style, size=content.shape[-2:], mode="bilinear", align_corners=False, antialias=True
            )
        x = torch.cat([style.to(dtype=content.dtype), content], dim=1)
        feats = []
        for block in self.down:
            x = block(x)
            feats.append(x)
        feats = feats[::-1]  # coarse first
        x = feats[0]
        out = self.heads[0](x)
        outs = [out]
        for k, (block, head) in enumerate(zip(self.up, self.heads[1:]), start=1):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, feats[k].to(dtype=x.dtype)], dim=1))
            h = head(x)
            out = h + F.interpolate(out, scale_factor=2.0, mode="bilinear", align_corners=False).to(
                dtype=h.dtype
            )
            outs.append(out)
        c = self.image_channels
        masks = [torch.sigmoid(o[:, c : c + 1]) for o in outs]
        return GeneratorOutput(image=out[:, :c], mask=masks[-1], masks=masks)

    def forward(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> GeneratorOutput:
        """``source`` (the style image's own text rendered plain) is accepted and unused: the baseline reads the style from the image alone."""
        return self.synthesize(self.encode_style(style), content)
