"""TextRegionRefiner: find the old word's strokes in a photo where the eraser's own mask misses them.

The background branch learns to segment the old word from the renderer's crops; on photos it
misses letters whose look the renderer never draws (low contrast, several colours, curved
words, texture around them), and every missed stroke stays in the erased background as a trace
of the old word. This refiner owns no weight and runs only at inference
(``inference.refine``, docs/lab-notes.md):

1. **where**: PP-OCRv6's pretrained text detector (:class:`~tsb.pretrained.ppocr_det.TextRegions`)
   marks the word's region (a band that follows curved words); it is grown by ``grow`` pixels,
   since the detector's map is the shrunk region;
2. **which pixels**: the colours *around* that region (outside it by ``ring`` more pixels; the
   crop's border if too few) are summarised by ``clusters`` k-means centres in CIELAB; a pixel
   inside the region is text as far as its colour is from all of them (a linear ramp around
   ``tau`` Lab units, ``softness`` either side: a colour found around the word is never text);
3. the mask is the **union** of that and the network's mask: a stroke either finds is erased.
   Erasing a little too much costs a smooth fill; erasing too little leaves the old word.

Steps 1 and 2 depend on the crop alone, so their result is kept for the last ``memory`` crops
(by a digest of the crop's pixels): font matching redraws one crop with many candidate fonts and
then draws the output from it, and the detector runs once for all of them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.utils.colour import kmeans, rgb_to_lab
from tsb.utils.image import grow_mask, tensor_digest


def colour_strokes(
    image: Tensor,
    region: Tensor,
    ring: int = 6,
    clusters: int = 6,
    tau: float = 11.0,
    softness: float = 4.0,
    min_around: int = 64,
) -> Tensor:
    """Pixels of ``region`` whose colour is unlike the colours around it: (B, 1, H, W) in [0, 1].

    Args:
        image: (B, 3, H, W) RGB in [-1, 1].
        region: (B, 1, H, W) in {0, 1}, where the word is (0 everywhere: nothing is text).
        ring: pixels between the region and the colours taken as "around" it.
        clusters: k-means centres that summarise those colours.
        tau: CIELAB distance from the nearest centre at which a pixel is half text.
        softness: half the width of that step, in Lab units (a linear ramp: 0 at ``tau - softness``
            and nearer, so a pixel of a colour around the word is never in the hole).
        min_around: with fewer pixels around the region, the crop's border is used instead.
    """
    lab = rgb_to_lab(image)
    around = grow_mask(region, ring) < 0.5
    border = torch.zeros_like(around)
    border[..., 0, :] = border[..., -1, :] = border[..., :, 0] = border[..., :, -1] = True
    out = torch.zeros_like(region)
    for i in range(len(image)):
        if region[i].sum() == 0:
            continue
        where = around[i, 0] if int(around[i].sum()) >= min_around else border[i, 0] & (region[i, 0] < 0.5)
        if not where.any():
            where = border[i, 0]
        pixels = lab[i].permute(1, 2, 0)  # (H, W, 3)
        centres = kmeans(pixels[where], clusters)
        dist = torch.cdist(pixels.reshape(-1, 3), centres).min(1).values.reshape(pixels.shape[:2])
        out[i, 0] = ((dist - tau) / (2 * softness) + 0.5).clamp(0, 1) * region[i, 0]
    return out


def unclip(core: Tensor, ratio: float) -> Tensor:
    """The text regions of a detector's cores (B, 1, H, W) in {0, 1}, as DBNet's post-processing
    finds them: each connected core grown by ``ratio`` x its area / its perimeter pixels (the
    offset that undoes the shrink its training targets had). ``ratio`` 0: the cores as they are."""
    if ratio < 0:
        raise ValueError(f"unclip ratio must be >= 0, got {ratio}")
    out = torch.zeros_like(core)
    for i in range(len(core)):
        cores = core[i, 0].detach().cpu().numpy() > 0.5
        labels, count = ndimage.label(cores)
        region = np.zeros_like(cores)
        for k in range(1, count + 1):
            one = labels == k
            perimeter = int((one & ~ndimage.binary_erosion(one)).sum())
            region |= ndimage.distance_transform_edt(~one) <= ratio * one.sum() / max(perimeter, 1)
        out[i, 0] = torch.from_numpy(region)
    return out


class TextRegionRefiner(nn.Module):
    """``forward(style, mask) -> mask``: the network's old-word mask united with the strokes found
    by colour inside the detector's text region (module docstring). Owns no weight.

    Args:
        threshold: the detector's probability above which a pixel is in the word's core.
        grow: pixels the core grows by (the detector's map is the shrunk text region).
        ring, clusters, tau, softness: as :func:`colour_strokes`.
        unclip: DBNet's unclip ratio for the full text region searched for likely strokes
            (:func:`unclip`; 0: only the near region is searched).
        likely: the mask value of a stroke found only in the full region; in
            ``[1 / hole_gain, palette sure)``: erased, but no source of the new word's colours.
        detector: ``images -> probability`` (B, 1, H, W); default PP-OCRv6's
            (:class:`~tsb.pretrained.ppocr_det.TextRegions`), made on first use.
        memory: crops whose strokes are kept (0: none; module docstring).
    """

    def __init__(
        self,
        threshold: float = 0.3,
        grow: int = 4,
        ring: int = 6,
        clusters: int = 6,
        tau: float = 11.0,
        softness: float = 4.0,
        unclip: float = 1.0,
        likely: float = 0.75,
        detector: Callable[[Tensor], Tensor] | None = None,
        memory: int = 64,
    ) -> None:
        super().__init__()
        if not 0 < threshold < 1:
            raise ConfigError(f"inference.refine.threshold must be in (0, 1), got {threshold}")
        if grow < 0 or ring < 0:
            raise ConfigError(f"inference.refine grow and ring must be >= 0 pixels, got {grow}, {ring}")
        if clusters < 1 or tau <= 0 or softness <= 0:
            raise ConfigError(
                "inference.refine needs clusters >= 1, tau > 0 and softness > 0; "
                f"got {clusters}, {tau}, {softness}"
            )
        if unclip < 0 or not 0 < likely <= 1:
            raise ConfigError(
                "inference.refine needs unclip >= 0 and likely in (0, 1]; "
                f"got {unclip}, {likely}"
            )
        self.threshold, self.grow, self.ring = float(threshold), int(grow), int(ring)
        self.unclip, self.likely = float(unclip), float(likely)
        self.clusters, self.tau, self.softness = int(clusters), float(tau), float(softness)
        self._detector = detector
        self.memory = max(0, int(memory))
        self._kept: OrderedDict[str, Tensor] = OrderedDict()

    def core(self, style: Tensor) -> Tensor:
        """The detector's core of the word: its probability above ``threshold`` (B, 1, H, W)."""
        if self._detector is None:
            from tsb.pretrained.ppocr_det import TextRegions

            self._detector = TextRegions()
        prob = self._detector(style).to(style.device, style.dtype)
        return (prob > self.threshold).to(style.dtype)

    def _strokes(self, style: Tensor, region: Tensor) -> Tensor:
        return colour_strokes(style, region, self.ring, self.clusters, self.tau, self.softness)

    def strokes(self, style: Tensor) -> Tensor:
        """The old word's strokes found in the crops ``style`` (B, 3, H, W): steps 1 and 2."""
        core = self.core(style)
        near = grow_mask(core, self.grow)
        strokes = self._strokes(style, near)
        if self.unclip > 0:
            full = torch.maximum(near, unclip(core, self.unclip).to(near))
            strokes = torch.maximum(strokes, self.likely * self._strokes(style, full))
        return strokes

    def _remembered_strokes(self, style: Tensor) -> Tensor:
        """:meth:`strokes`, computed only for the crops not among the last ``memory`` seen."""
        if self.memory == 0:
            return self.strokes(style)
        keys = [tensor_digest(x.float()) for x in style]
        todo = [i for i, k in enumerate(keys) if k not in self._kept]
        found = {keys[i]: f for i, f in zip(todo, self.strokes(style[todo]))} if todo else {}
        out = [found[k] if k in found else self._kept[k] for k in keys]
        for k, f in zip(keys, out):
            self._kept[k] = f
            self._kept.move_to_end(k)
        while len(self._kept) > self.memory:
            self._kept.popitem(last=False)
        return torch.stack(out).to(style)

    @torch.no_grad()
    def forward(self, style: Tensor, mask: Tensor) -> Tensor:
        return torch.maximum(mask, self._remembered_strokes(style).to(mask.dtype))
