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
from tsb.models.extrusion import SourceExtrusion
from tsb.models.generator import GeneratorOutput
from tsb.models.layout import TextLayout
from tsb.models.palette import source_colours
from tsb.models.stylebrush import StyleCode, broadcast_style
from tsb.models.unet import UNet
from tsb.utils.image import grow_mask


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
            shapes, never a blend of the fonts the target could be in (False).
        sharp_inference: with ``mask_residual``, use the correction only while training; in
            eval mode (validation, evaluation, editing) the mask is the placed ink. Trained with
            the correction, the text colour layer stays the letters' colour (the correction
            absorbs the uncertainty about their shapes); trained without it, the colour layer
            learns to paint halos and bands around the content-font letters instead
            (docs/models.md).
        colour_from_source: in eval mode, the text colour layer is the old word's own colours
            (:func:`~tsb.models.palette.source_colours`: its sure pixels spread over the crop)
            instead of the text branch's; owns no weight, for photos whose colours the renderer
            never drew (docs/models.md).
        effect_ring: with ``sharp_inference``, in eval mode: within this many pixels around the
            sharp letters (not on them), the dropped mask correction still draws what it learned
            there (an outline, a shadow, a bolder stroke), in the learned colour layer; owns no
            weight. 0: off.
        extrusion: in eval mode, the old word's 3-D sides or hard shadow fitted on the style crop
            and drawn under the new word in the side colours, and the letter colours
            (``colour_from_source``) taken from the faces only
            (:class:`~tsb.models.extrusion.SourceExtrusion`); owns no weight. None: off.
    """

    def __init__(
        self,
        background: BackgroundNet,
        text: UNet,
        layout: TextLayout | None = None,
        ink_gain: float = 4.0,
        mask_residual: bool = True,
        sharp_inference: bool = False,
        colour_from_source: bool = False,
        effect_ring: int = 0,
        extrusion: SourceExtrusion | None = None,
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
        self.sharp_inference = bool(sharp_inference)
        self.colour_from_source = bool(colour_from_source)
        self.effect_ring = int(effect_ring)
        self.extrusion = extrusion

    def encode_style(self, style: Tensor) -> StyleCode:
        """The split design has no style vector: its "code" is the style image (B, 3, H, W) itself."""
        if style.ndim != 4 or style.shape[1] != 3:
            raise ConfigError(f"style image must be (B, 3, H, W); got {tuple(style.shape)}")
        return style

    def erase(self, style: Tensor) -> tuple[Tensor, Tensor]:
        """The style crop with its text removed (B, 3, H, W), and the hole it repainted (B, 1, H, W)
        (``tsb.edit --erase``)."""
        background, source_mask = self.background(self.encode_style(style))
        return background, self.background.hole(source_mask)

    def synthesize(
        self, style_code: StyleCode, content: Tensor, source: Tensor | None = None
    ) -> GeneratorOutput:
        """``content`` (B, 1, 64, W) in the style of ``style_code``; ``source`` (B or 1, 1, 64, W), the
        style image's own text rendered like the content, when known: the layout then gives the new
        word the old font's width (:func:`~tsb.models.layout.placement`)."""
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
        background, source_mask = self.background(style)
        size = content.shape[-2:]

        def fit(x: Tensor) -> Tensor:
            if x.shape[-2:] != size:
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            return broadcast_style(x, batch)

        hole = palette = found = sides = None
        if not self.training:  # for tsb.edit and the photo options only: nothing of it trains
            hole = self.background.hole(source_mask)
            faces = None
            if self.extrusion is not None:
                ext = self.extrusion(style, background, source_mask, hole)
                if bool(ext.found.any()):
                    faces = ext.faces
                    # the sweep in the content's frame (the crop is stretched to it), its colours
                    scale = torch.tensor([size[1] / style.shape[-1], size[0] / style.shape[-2]])
                    offset = broadcast_style(ext.offset, batch) * scale.to(ext.offset)
                    sides = (offset, broadcast_style(ext.found, batch), fit(ext.colour))
            if self.colour_from_source:
                palette, found = source_colours(style, source_mask if faces is None else source_mask * faces)
                palette, found = fit(palette), broadcast_style(found, batch)
            hole = fit(hole)
        style, background, source_mask = (fit(x) for x in (style, background, source_mask))
        ink = (1 - content) / 2  # the content is black (-1) text on white (1)
        if self.layout is not None:
            source_ink = None if source is None else (1 - broadcast_style(source, content.shape[0])) / 2
            ink = self.layout.place(style, background, source_mask, ink, source_ink)
        out = self.text(torch.cat([ink * 2 - 1, style, background], dim=1))
        logit = self.ink_gain * (ink * 2 - 1)
        corrected = logit + out[:, :1]
        dropped = self.mask_residual and not self.training and self.sharp_inference
        if self.mask_residual and not dropped:
            logit = corrected
        mask = torch.sigmoid(logit)
        foreground = learned = out[:, 1:]
        if palette is not None and found is not None:
            foreground = palette.where(found, foreground)
        under, effect = background, None
        if sides is not None:
            # the old word's sides, swept from the new letters, between the background and them
            offset, has_sides, colour = sides
            effect = SourceExtrusion.draw(mask, offset, has_sides)
            under = effect * colour + (1 - effect) * background
        if dropped and self.effect_ring > 0:
            # the correction's outline / shadow around the sharp letters, in its learned colour,
            # between the letters and the background (and in the mask, so that tsb.edit pastes it)
            ring = (grow_mask(ink, self.effect_ring) - ink).clamp(0, 1) * torch.sigmoid(corrected)
            under = ring * learned + (1 - ring) * under
            effect = ring if effect is None else torch.maximum(effect, ring)
        image = mask * foreground + (1 - mask) * under
        if effect is not None:
            mask = mask + (1 - mask) * effect
        return GeneratorOutput(
            image=image,
            mask=mask,
            masks=[mask],
            background=background,
            foreground=foreground,
            layout=ink,
            source_mask=source_mask,
            hole=hole,
        )

    def forward(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> GeneratorOutput:
        return self.synthesize(self.encode_style(style), content, source)
