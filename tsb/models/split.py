"""SplitBrushNet: the split design (``model=stylebrush_bg``): erase, place, restyle, compose.

The paper's generator draws the whole crop, background included, from a style vector; at CPU
budgets that smears the background, and copying the source image scores better. SRNet and
MOSTEL split the job, and so does this network:

1. **background** (:class:`~tsb.models.background.BackgroundNet`): the style crop with its word
   erased, and a mask of that old word, supervised by the renderer's clean background and
   the source's text mask;
2. **layout** (:class:`~tsb.models.layout.TextLayout`): an affine warp that moves the content
   rendering's ink to the old word's place, letter height and angle (moments of that mask, plus
   a learned correction);
3. **text** (:class:`~tsb.models.unet.UNet`) on [placed ink, style, background]: a mask logit (a
   residual on the placed ink, so the letters are sharp from the first step) and the text colour
   layer ``foreground``;
4. **fusion**: ``image = mask * foreground + (1 - mask) * background``.

Same interface as :class:`~tsb.models.stylebrush.StyleBrushNet`, so the task, losses, evaluation
and editing need no change: ``encode_style(style)`` returns the style image (the branches work
pixel-aligned, in the content's frame) and ``synthesize(style, content)`` does the rest. The
output's ``background``, ``foreground`` and ``layout`` feed the split design's own loss terms.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.background import BackgroundNet
from tsb.models.generator import GeneratorOutput
from tsb.models.layout import TextLayout
from tsb.models.stylebrush import StyleCode, broadcast_style
from tsb.models.unet import UNet


class SplitBrushNet(nn.Module):
    """Background branch + layout + text branch + fusion: ``forward(style, content) -> GeneratorOutput``.

    Args:
        background: the text eraser: ``forward(style) -> (background, old word's mask)`` and
            ``hole(mask)``, the region its fill repainted (:class:`~tsb.models.background.BackgroundNet`).
        layout: the localisation network, or None to use the content rendering where it is.
        text: U-Net with 1 + 3 + 3 inputs (placed ink, style, background) and 4 outputs
            (mask logit, text RGB).
        ink_gain: initial scale of the placed ink in the mask logit (learned).
        mask_residual: the text branch corrects the placed ink's mask (True), or the mask *is* the
            placed ink, ``sigmoid(ink_gain * (2 ink - 1))``: sharp letters in the content font's
            shapes, never a blend of the fonts the target could be in (False). With True, the
            inference pipeline's ``sharp_mask`` step can still use the placed ink as the mask
            (:mod:`tsb.inference.pipeline`): the network itself never changes with ``.eval()``.
    """

    def __init__(
        self,
        background: BackgroundNet,
        text: UNet,
        layout: TextLayout | None = None,
        ink_gain: float = 4.0,
        mask_residual: bool = True,
    ) -> None:
        super().__init__()
        if text.in_channels != 7 or text.out_channels != 4:
            raise ConfigError(
                f"the text branch takes 7 channels (placed ink, style, background) and gives 4 (mask logit, RGB); "
                f"got net.text.in_channels={text.in_channels}, net.text.out_channels={text.out_channels}"
            )
        self.background = background
        self.layout = layout
        self.text = text
        self.ink_gain = nn.Parameter(torch.tensor(float(ink_gain)))
        self.mask_residual = bool(mask_residual)

    def encode_style(self, style: Tensor) -> StyleCode:
        """The split design has no style vector: its "code" is the style image (B, 3, H, W) itself."""
        if style.ndim != 4 or style.shape[1] != 3:
            raise ConfigError(f"style image must be (B, 3, H, W); got {tuple(style.shape)}")
        return style

    def synthesize(
        self,
        style_code: StyleCode,
        content: Tensor,
        source: Tensor | None = None,
        erased: tuple[Tensor, Tensor] | None = None,
    ) -> GeneratorOutput:
        """``content`` (B, 1, 64, W) in the style of ``style_code``; ``source`` (B or 1, 1, 64, W), the
        style image's own text rendered like the content, when known: the layout then gives the new
        word the old font's width (:func:`~tsb.models.layout.placement`). ``erased``: the eraser's
        ``(background, source_mask)`` of this style image, when already computed (the inference
        pipeline corrects the mask first); None: the background branch runs here."""
        if content.ndim != 4 or content.shape[1] != 1:
            raise ConfigError(f"content image must be (B, 1, 64, W); got shape {tuple(content.shape)}")
        if source is not None and (
            source.ndim != 4 or source.shape[1] != 1 or source.shape[-2:] != content.shape[-2:]
        ):
            raise ConfigError(
                f"the source content image must be (B, 1, H, W) as the content {tuple(content.shape)}; got {tuple(source.shape)}"
            )
        batch = content.shape[0]
        style = self.encode_style(style_code).to(dtype=content.dtype)
        # the eraser runs once per style image (one style for many words: font matching), on the
        # crop as it is (a photo's crop is stretched to the content's width below; letters
        # stretched 2x look like none it learned); its outputs are stretched and repeated after
        background, source_mask = self.background(style) if erased is None else erased
        size = content.shape[-2:]

        def fit(x: Tensor) -> Tensor:
            if x.shape[-2:] != size:
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            return broadcast_style(x, batch)

        style, background, source_mask = (fit(x) for x in (style, background, source_mask))
        ink = (1 - content) / 2  # the content is black (-1) text on white (1)
        if self.layout is not None:
            source_ink = None if source is None else (1 - broadcast_style(source, content.shape[0])) / 2
            ink = self.layout.place(style, background, source_mask, ink, source_ink)
        out = self.text(torch.cat([ink * 2 - 1, style, background], dim=1))
        logit = self.ink_gain * (ink * 2 - 1)
        if self.mask_residual:
            logit = logit + out[:, :1]
        mask = torch.sigmoid(logit)
        foreground = out[:, 1:]
        image = mask * foreground + (1 - mask) * background
        return GeneratorOutput(
            image=image,
            mask=mask,
            masks=[mask],
            background=background,
            foreground=foreground,
            layout=ink,
            source_mask=source_mask,
        )

    def forward(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> GeneratorOutput:
        return self.synthesize(self.encode_style(style), content, source)
