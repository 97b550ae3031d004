"""StyleBrushNet: style encoder + content encoder + generator, the TextStyleBrush network.

``forward(style, content)`` = ``synthesize(encode_style(style), content)``:

- ``style``: (B, 3, Hs, Ws) in [-1, 1], any size (the paper's 256x256 context crop or a 64xW word
  crop); it does not need the content's width.
- ``content``: (B, 1, 64, W) in [-1, 1], W a multiple of 16 (``tsb.data.content.render_content``).
- returns :class:`GeneratorOutput` (``image`` (B, 3, 64, W) in [-1, 1] by training, linear, no
  tanh; ``mask`` (B, 1, 64, W) in [0, 1]; ``masks`` per scale, coarse to fine).

A style is encoded once and reused for many words: ``code = net.encode_style(style)`` (a
:data:`StyleCode`, (B, n_styles, style_dim)), then ``net.synthesize(code, content)``; a code with
batch 1 is broadcast over the content batch.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.content_encoder import ContentEncoder
from tsb.models.generator import Generator, GeneratorOutput, StyleCode
from tsb.models.style_encoder import StyleEncoder

__all__ = ["GeneratorOutput", "StyleBrushNet", "StyleCode", "broadcast_style"]


def broadcast_style(style_code: Tensor, batch: int) -> Tensor:
    """Repeat a style code (or style image) of batch 1 over ``batch`` samples; check batch sizes."""
    if style_code.shape[0] == batch:
        return style_code
    if style_code.shape[0] == 1:
        return style_code.expand(batch, *style_code.shape[1:])
    raise ConfigError(
        f"style batch {style_code.shape[0]} does not match content batch {batch} (give one style per "
        "content image, or a single style for all)"
    )


class StyleBrushNet(nn.Module):
    """TextStyleBrush: ``forward(style, content) -> GeneratorOutput``.

    Built from three sub-networks (each a nested config node with its own ``_target_``); the
    constructor checks that their sizes agree and says which config keys to change if not.
    """

    def __init__(
        self, style_encoder: StyleEncoder, content_encoder: ContentEncoder, generator: Generator
    ) -> None:
        super().__init__()
        if style_encoder.style_dim != generator.style_dim:
            raise ConfigError(
                f"net.style_encoder.style_dim={style_encoder.style_dim} != net.generator.style_dim="
                f"{generator.style_dim}; set both to the same value"
            )
        if style_encoder.n_styles != generator.n_styles:
            raise ConfigError(
                f"the style encoder gives {style_encoder.n_styles} style vectors (stem + one per stage of "
                f"net.style_encoder.widths) but the generator has {generator.n_styles} scales "
                "(len(net.generator.channels)); make them equal"
            )
        if content_encoder.out_channels != generator.in_channels:
            raise ConfigError(
                f"net.content_encoder.out_channels={content_encoder.out_channels} != "
                f"net.generator.in_channels={generator.in_channels}; set both to the same value"
            )
        if generator.content_skips and generator.content_skips != content_encoder.skip_channels[
            : len(generator.content_skips)
        ]:
            raise ConfigError(
                f"net.generator.content_skips={generator.content_skips} must list the content encoder's "
                f"finer feature widths, coarse to fine: a prefix of {content_encoder.skip_channels} "
                "(net.content_encoder.widths[1], widths[0], stem_channels)"
            )
        self.style_encoder = style_encoder
        self.content_encoder = content_encoder
        self.generator = generator

    @property
    def n_styles(self) -> int:
        return self.generator.n_styles

    @property
    def style_dim(self) -> int:
        return self.generator.style_dim

    def encode_style(self, style: Tensor) -> StyleCode:
        """(B, 3, Hs, Ws) -> (B, n_styles, style_dim)."""
        return self.style_encoder(style)

    def encode_content(self, content: Tensor) -> Tensor:
        """(B, 1, 64, W) -> (B, C, 4, W/16), the generator's input map."""
        return self.content_encoder(content)

    def synthesize(self, style_code: StyleCode, content: Tensor, source: Tensor | None = None) -> GeneratorOutput:
        """Render ``content`` (B, 1, 64, W) in the style ``style_code`` (B or 1, n_styles, style_dim)."""
        code = broadcast_style(style_code, content.shape[0])
        n_skips = len(self.generator.content_skips)
        if not n_skips:
            return self.generator(code, self.encode_content(content))
        maps = self.content_encoder.pyramid(content)
        return self.generator(code, maps[0], maps[1 : 1 + n_skips])

    def forward(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> GeneratorOutput:
        """``source`` (the style image's own text rendered plain) is accepted and unused: the paper's encoders read the style from the image alone."""
        return self.synthesize(self.encode_style(style), content)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile the three sub-networks, so that ``encode_style`` / ``synthesize`` (what the
        losses call) run compiled too, not only ``forward``."""
        for part in (self.style_encoder, self.content_encoder, self.generator):
            part.compile(*args, **kwargs)
