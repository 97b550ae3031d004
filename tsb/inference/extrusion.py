"""The old word's 3-D sides, drawn under the new word (``inference.extrusion``).

A sign's letters often have extruded sides in a second colour (TOAST's white faces on navy
sides in ``shared/data/real-words``). The split design's text branch draws
the new word's faces only: the renderer's effects it learned (outline, soft shadow) are in the
mask correction that the sharp inference drops, and the old word's sides are not where its
letters are, so the source's colours (:mod:`tsb.inference.palette`) cannot give them either.

:class:`SourceExtrusion` reads the effect off the style crop, owns no weight, and runs at
inference only:

1. **the old word's pixels**: inside the eraser's hole, the pixels whose CIELAB colour is more
   than ``diff`` from the erased background's (faces, sides, shadow; not the background the hole
   also covers);
2. **faces and sides**: two k-means colours of those pixels; the faces are the cluster the
   eraser's mask is surer of (it learned letters first), the other is the side colour;
3. **the fit**: the sides are explained as the faces swept along one direction (an extrusion:
   the union of the faces shifted by 1..K pixels, minus the faces): the direction (one of
   ``directions``) and length K (up to ``max_length``) with the best IoU to the side pixels.
   Two rivals are fitted too: a ring around the faces (an outline or a glow, no direction) and
   a drop shadow (the faces moved once). The sides are taken only when the sweep explains them
   well (IoU >= ``min_iou``), better than the ring by ``margin`` and better than the shadow by
   ``shadow_margin``: a gradient fill, a two-coloured word, an outline, an anti-aliased edge or
   a short soft shadow is not an extrusion, and is left alone.

:meth:`SourceExtrusion.draw` sweeps the new word's mask the same way (soft, sub-pixel shifts,
in the content's frame) and the network paints the sides in the side colours spread over the
crop (:func:`~tsb.utils.fill.pull_push`), between the background and the letters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.utils.colour import kmeans, rgb_to_lab
from tsb.utils.fill import pull_push
from tsb.utils.image import grow_mask


@dataclass
class Extrusion:
    """What :class:`SourceExtrusion` found in a batch of style crops.

    ``found`` (B,) bool: the crop's word has extruded sides; for those, ``offset`` (B, 2) is the
    sweep (dx, dy) in the style crop's pixels, ``faces`` (B, 1, H, W) in {0, 1} the old word's
    faces (the only pixels its letter colours may come from) and ``colour`` (B, 3, H, W) the side
    colours spread over the crop. Where nothing is found the offset is 0 and the faces are 1.
    """

    found: Tensor
    offset: Tensor
    faces: Tensor
    colour: Tensor


def _move(x: Tensor, dx: int, dy: int) -> Tensor:
    """``x`` (C, H, W) moved by whole pixels, zeros coming in."""
    _, h, w = x.shape
    out = torch.zeros_like(x)
    if abs(dx) < w and abs(dy) < h:
        out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
            :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return out


def shift(x: Tensor, offset: Tensor) -> Tensor:
    """``x`` (B, C, H, W) moved by ``offset`` (B, 2) pixels (dx right, dy down; a fraction
    interpolates linearly between the two nearest whole shifts), zeros coming in."""
    out = []
    for sample, (dx, dy) in zip(x, offset.tolist(), strict=True):
        ix, iy = math.floor(dx), math.floor(dy)
        fx, fy = dx - ix, dy - iy
        acc = torch.zeros_like(sample)
        for mx, wx in ((ix, 1 - fx), (ix + 1, fx)):
            for my, wy in ((iy, 1 - fy), (iy + 1, fy)):
                if wx * wy > 0:
                    acc = acc + wx * wy * _move(sample, mx, my)
        out.append(acc)
    return torch.stack(out)


def sweep(face: Tensor, offset: Tensor) -> Tensor:
    """The extruded sides of ``face`` (B, 1, H, W) in [0, 1]: the union (max) of ``face`` moved by
    t * ``offset`` (B, 2) for t in (0, 1], one step per pixel of the longest offset, minus ``face``."""
    steps = max(1, math.ceil(float(offset.abs().max()) if offset.numel() else 0))
    acc = torch.zeros_like(face)
    for k in range(1, steps + 1):
        acc = torch.maximum(acc, shift(face, offset * (k / steps)))
    return (acc - face).clamp(0, 1)


def _iou(a: Tensor, b: Tensor) -> float:
    union = torch.maximum(a, b).sum()
    return float(torch.minimum(a, b).sum() / union) if union > 0 else 0.0


class SourceExtrusion(nn.Module):
    """Fit the old word's extruded sides (or hard shadow) and draw them under the new word.

    Args:
        diff: CIELAB distance from the erased background above which a pixel of the hole is the
            old word's.
        min_pixels: fewest pixels of faces and of sides for a fit.
        min_contrast: fewest CIELAB units between the face and side colours.
        directions: sweep directions tried (evenly spaced over the circle).
        max_length: longest sweep tried, in style-crop pixels (the crop is 64 high).
        min_iou: the sweep's IoU with the side pixels needed to draw sides.
        margin: how much better than a ring around the faces (1-3 pixels: an outline, a glow, an
            anti-aliased edge) the sweep must explain the sides.
        shadow_margin: how much better than a drop shadow (the faces moved once) the sweep must
            explain the sides. A short sweep and a shadow moved as far cover nearly the same
            pixels; such soft shadows (the renderer's) drawn hard lower PSNR (docs/lab-notes.md), so
            they are left to the learned ring (``effect_ring``).
        smooth: Jacobi steps per level when the side colours are spread (:func:`pull_push`).
    """

    def __init__(
        self,
        diff: float = 12.0,
        min_pixels: int = 40,
        min_contrast: float = 20.0,
        directions: int = 16,
        max_length: int = 10,
        min_iou: float = 0.5,
        margin: float = 0.1,
        shadow_margin: float = 0.1,
        smooth: int = 8,
    ) -> None:
        super().__init__()
        if directions < 1 or max_length < 1:
            raise ConfigError(
                f"extrusion needs directions >= 1 and max_length >= 1; got {directions}, {max_length}"
            )
        self.diff, self.min_pixels, self.min_contrast = float(diff), int(min_pixels), float(min_contrast)
        self.directions, self.max_length = int(directions), int(max_length)
        self.min_iou, self.margin, self.smooth = float(min_iou), float(margin), int(smooth)
        self.shadow_margin = float(shadow_margin)

    def split(
        self, style: Tensor, background: Tensor, mask: Tensor, hole: Tensor
    ) -> tuple[Tensor, Tensor] | None:
        """Faces and sides (1, 1, H, W) in {0, 1} of one crop (batch 1), or None: too few pixels,
        or one colour."""
        lab = rgb_to_lab(style)
        word = (hole[0, 0] > 0.5) & ((lab - rgb_to_lab(background)).norm(dim=1)[0] > self.diff)
        if int(word.sum()) < 2 * self.min_pixels:
            return None
        pixels = lab[0].permute(1, 2, 0)
        centres = kmeans(pixels[word], 2)
        if len(centres) < 2 or float((centres[0] - centres[1]).norm()) < self.min_contrast:
            return None
        owner = torch.cdist(pixels.reshape(-1, 3), centres).argmin(1).reshape(word.shape)
        parts = [word & (owner == i) for i in range(2)]
        if min(int(p.sum()) for p in parts) < self.min_pixels:
            return None
        sure = [float(mask[0, 0][p].mean()) for p in parts]
        face, side = (parts[0], parts[1]) if sure[0] >= sure[1] else (parts[1], parts[0])
        return face.to(style.dtype)[None, None], side.to(style.dtype)[None, None]

    def fit(self, face: Tensor, side: Tensor) -> tuple[Tensor, float, float, float]:
        """The sweep (1, 2) that best explains ``side`` from ``face`` (1, 1, H, W) and its IoU, and
        the IoUs of the rivals: the best drop shadow (the faces moved once) and the best ring."""
        best, offset, shadow = -1.0, torch.zeros(1, 2), -1.0
        for i in range(self.directions):
            angle = 2 * math.pi * i / self.directions
            unit = torch.tensor([[math.cos(angle), math.sin(angle)]])
            acc = torch.zeros_like(face)
            for k in range(1, self.max_length + 1):  # integer shifts: the crop's own pixels
                moved = shift(face, torch.round(unit * k))
                acc = torch.maximum(acc, moved)
                shadow = max(shadow, _iou((moved - face).clamp(0, 1), side))
                iou = _iou((acc - face).clamp(0, 1), side)
                if iou > best:
                    best, offset = iou, unit * k
        ring = max(_iou((grow_mask(face, r) - face).clamp(0, 1), side) for r in (1, 2, 3))
        return offset, best, shadow, ring

    def forward(self, style: Tensor, background: Tensor, mask: Tensor, hole: Tensor) -> Extrusion:
        """Fit each crop of ``style`` (B, 3, H, W) in [-1, 1], with the eraser's ``background``,
        old-word ``mask`` and ``hole`` (B, 1, H, W)."""
        b = style.shape[0]
        found = torch.zeros(b, dtype=torch.bool, device=style.device)
        offset = torch.zeros(b, 2, dtype=style.dtype, device=style.device)
        faces = torch.ones_like(mask)
        weight = torch.zeros_like(mask)
        for i in range(b):
            parts = self.split(style[i : i + 1], background[i : i + 1], mask[i : i + 1], hole[i : i + 1])
            if parts is None:
                continue
            face, side = parts
            move, iou, shadow, ring = self.fit(face.cpu(), side.cpu())
            if iou >= self.min_iou and iou - ring >= self.margin and iou - shadow >= self.shadow_margin:
                found[i] = True
                offset[i] = move[0].to(offset)
                faces[i], weight[i] = face[0], side[0]
        colour = pull_push(style, weight, self.smooth) if bool(found.any()) else torch.zeros_like(style)
        return Extrusion(found, offset, faces, colour)

    @staticmethod
    def draw(mask: Tensor, offset: Tensor, found: Tensor) -> Tensor:
        """The sides (B, 1, H, W) of the new word's ``mask`` (B, 1, H, W), swept by ``offset``
        (B, 2) in the mask's own pixels; 0 where ``found`` (B,) is false (those are not swept)."""
        sides = torch.zeros_like(mask)
        rows = found.nonzero()[:, 0]
        if len(rows):
            sides[rows] = sweep(mask[rows], offset[rows])
        return sides
