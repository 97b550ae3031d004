"""Content encoder Fc: ResNet body on the grey-scale content rendering -> 4 x (W/16) map.

The content image (B, 1, 64, W), W a multiple of 16, is the target string in a plain font. The
body is a ResNet (ResNet34 in the paper preset) whose last stage keeps its resolution (stride 1
instead of 2), so the total stride is 16: a 64x256 input gives a 4x16 map, 64xW gives 4x(W/16).
That map replaces StyleGAN2's learned constant as the generator's input. A 1x1 convolution maps
the last stage's width to ``out_channels`` (the generator's input width) when they differ.

:meth:`ContentEncoder.pyramid` also returns the finer feature maps (heights 8, 16 and 32 for a
64-high input) and the content image itself (height 64), coarse to fine, for a generator with content skips (``generator.content_skips``,
off in the paper preset; see docs/design.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.resnet import ResNetBody

#: total downsampling factor of the content encoder (content height 64 -> generator input height 4)
CONTENT_STRIDE = 16


class ContentEncoder(nn.Module):
    """(B, in_channels, 64, W) -> (B, out_channels, 4, W/16)."""

    def __init__(
        self,
        in_channels: int = 1,
        stem_channels: int = 64,
        widths: Sequence[int] = (64, 128, 256, 512),
        blocks: Sequence[int] = (3, 4, 6, 3),
        out_channels: int | None = None,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        widths = list(widths)
        if len(widths) < 3:
            raise ConfigError(
                f"content_encoder.widths needs >= 3 stages to reach stride 16 (stem 2 x pool 2 x 2 x 2); got {widths}"
            )
        # stem /2, pool /2, stage 1 /1, stages 2 and 3 /2 each = /16; later stages keep the size
        strides = [1, 2, 2] + [1] * (len(widths) - 3)
        self.in_channels = in_channels
        self.body = ResNetBody(in_channels, stem_channels, widths, blocks, strides, norm)
        self.out_channels = out_channels if out_channels is not None else widths[-1]
        self.proj: nn.Module = (
            nn.Conv2d(widths[-1], self.out_channels, 1) if self.out_channels != widths[-1] else nn.Identity()
        )

    @property
    def skip_channels(self) -> list[int]:
        """Channels of :meth:`pyramid`'s finer maps, coarse to fine (heights 8, 16, 32, 64)."""
        ch = self.body.feature_channels  # [stem (h 32), stage 1 (h 16), stage 2 (h 8), ...]
        return [ch[2], ch[1], ch[0], self.in_channels]

    def pyramid(self, content: Tensor) -> list[Tensor]:
        """[generator input map (h 4), features at heights 8, 16, 32, the content (h 64)]: coarse to fine."""
        self._check(content)
        feats = self.body(content)
        return [self.proj(feats[-1]), feats[2], feats[1], feats[0], content]

    def forward(self, content: Tensor) -> Tensor:
        self._check(content)
        return self.proj(self.body(content)[-1])

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile the ResNet body and the projection, which both ``forward`` and ``pyramid`` call."""
        self.body.compile(*args, **kwargs)
        self.proj.compile(*args, **kwargs)

    def _check(self, content: Tensor) -> None:
        if (
            content.ndim != 4
            or content.shape[1] != self.in_channels
            or content.shape[-1] % CONTENT_STRIDE
            or content.shape[-2] % CONTENT_STRIDE
        ):
            raise ConfigError(
                f"content image must be (B, {self.in_channels}, 64, W) with W a multiple of {CONTENT_STRIDE} "
                f"(render it with tsb.data.content.render_content); got shape {tuple(content.shape)}"
            )
