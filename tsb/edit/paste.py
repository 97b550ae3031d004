"""Pasting a generated patch back into the photo: blend weights (for a network that redraws the
whole crop, a feathered box united with the pasted mask; a split design's mask alone), the affine
warp back into the rotated box, and the alpha or Poisson blend; no pixel outside the box changes."""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

from tsb.data.crop import Box, box_affine, box_corners, crop_rotated
from tsb.edit.edits import format_box
from tsb.errors import EditError

#: how the editor resamples the photo into a word's crop and the generated patch back: bicubic. A
#: bilinear crop and paste blur each other's thin strokes, and the pasted letters lose 7 to 13% of
#: their contrast against the photo's (the scene's and the page's words, with no model between);
#: bicubic keeps it within 1% (docs/lab-notes.md)
RESAMPLE = cv2.INTER_CUBIC


def blend_weights(
    shape: tuple[int, int], grown: Box, box: Box, mask: np.ndarray, feather: float
) -> np.ndarray:
    """Blend weights over the generated patch: a feathered box (0 in the context margin) united
    with ``mask`` (the new letters and the old word's hole), which is pasted whole."""
    ph, pw = shape
    mx = (grown[2] - box[2]) / 2 / grown[2] * pw  # margin in patch pixels
    my = (grown[3] - box[3]) / 2 / grown[3] * ph
    ramp = max(1.0, feather * (ph - 2 * my))
    xs = np.arange(pw, dtype=np.float32) + 0.5
    ys = np.arange(ph, dtype=np.float32) + 0.5
    ax = np.clip(np.minimum(xs - mx, pw - mx - xs) / ramp, 0, 1)
    ay = np.clip(np.minimum(ys - my, ph - my - ys) / ramp, 0, 1)
    rect = np.minimum(ay[:, None], ax[None, :])
    # the mask in the context margin too: the box's edge pixels are resampled from both sides of
    # it, and ``paste`` changes no pixel outside the box
    return np.asarray(np.maximum(rect, mask), dtype=np.float32)


def paste(out: np.ndarray, patch: np.ndarray, alpha: np.ndarray, grown: Box, box: Box, blend: str) -> str:
    """Blend ``patch`` (over ``grown``) into ``out`` (H, W, 3) uint8 in place with weights ``alpha``
    and ``blend`` (alpha or poisson); only pixels inside ``box`` change. Returns the blend used."""
    H, W = out.shape[:2]
    ph, pw = alpha.shape
    corners = box_corners(box)
    x0 = max(0, math.floor(corners[:, 0].min()) - 2)
    y0 = max(0, math.floor(corners[:, 1].min()) - 2)
    x1 = min(W, math.ceil(corners[:, 0].max()) + 3)
    y1 = min(H, math.ceil(corners[:, 1].max()) + 3)
    roi_size = (x1 - x0, y1 - y0)
    m = box_affine(grown, (pw, ph))
    m[:, 2] -= (x0, y0)
    warped = cv2.warpAffine(patch, m, roi_size, flags=RESAMPLE, borderMode=cv2.BORDER_REPLICATE)
    a = cv2.warpAffine(
        alpha, m, roi_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    # hard limit: pixels whose centre lies in the box, so nothing outside the box changes
    inside = pixels_inside(box, (x0, y0), roi_size)
    a *= inside
    window = out[y0:y1, x0:x1]
    region = window.astype(np.float32)
    used = _blend(region, warped, a, inside, (x0, y0, x1, y1), (W, H), blend)
    window[...] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return used


def _blend(
    region: np.ndarray,
    warped: np.ndarray,
    a: np.ndarray,
    inside: np.ndarray,
    bounds: tuple[int, int, int, int],
    size: tuple[int, int],
    blend: str,
) -> str:
    """Blend ``warped`` into ``region`` (float, in place) with weights ``a``; the blend used."""
    x0, y0, x1, y1 = bounds
    W, H = size
    roi_size = (x1 - x0, y1 - y0)
    used = blend
    if used == "poisson":
        ys, xs = np.nonzero(inside)
        if (
            len(xs)
            and xs.min() >= 1
            and ys.min() >= 1
            and xs.max() < roi_size[0] - 1
            and ys.max() < roi_size[1] - 1
            and x0 > 0
            and y0 > 0
            and x1 < W
            and y1 < H
        ):
            dst = np.clip(region + 0.5, 0, 255).astype(np.uint8)
            src = np.clip(warped + 0.5, 0, 255).astype(np.uint8)
            bx, by, bw, bh = cv2.boundingRect((inside * 255).astype(np.uint8))
            cloned = cv2.seamlessClone(src, dst, inside * 255, (bx + bw // 2, by + bh // 2), cv2.NORMAL_CLONE)
            keep = inside[..., None].astype(bool)
            region[...] = np.where(keep, cloned.astype(np.float32), region)
            return used
        used = "alpha (poisson needs a pixel of photo around the box)"
    region[...] = region * (1 - a[..., None]) + warped * a[..., None]
    return used


def pixels_inside(box: Box, origin: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """uint8 (h, w) mask of the window at ``origin`` of ``size`` (w, h): 1 where the pixel centre is in ``box``."""
    xc, yc, w, h, a = box
    t = math.radians(a)
    xs = np.arange(origin[0], origin[0] + size[0], dtype=np.float64) - xc
    ys = np.arange(origin[1], origin[1] + size[1], dtype=np.float64) - yc
    # box axes in pixel coordinates: u along (cos a, -sin a), v along (sin a, cos a)
    u = xs[None, :] * math.cos(t) - ys[:, None] * math.sin(t)
    v = xs[None, :] * math.sin(t) + ys[:, None] * math.cos(t)
    return ((np.abs(u) <= w / 2) & (np.abs(v) <= h / 2)).astype(np.uint8)


def crop_local(photo: Image.Image, box: Box, out_size: tuple[int, int]) -> Image.Image:
    """``crop_rotated`` on a window around the box only (large photos stay cheap)."""
    corners = box_corners(box)
    W, H = photo.size
    x0 = max(0, math.floor(corners[:, 0].min()) - 2)
    y0 = max(0, math.floor(corners[:, 1].min()) - 2)
    x1 = min(W, math.ceil(corners[:, 0].max()) + 3)
    y1 = min(H, math.ceil(corners[:, 1].max()) + 3)
    if x1 <= x0 or y1 <= y0:
        raise EditError(f"box {format_box(box)} does not overlap the image")
    window = photo.crop((x0, y0, x1, y1))
    local = (box[0] - x0, box[1] - y0, box[2], box[3], box[4])
    return crop_rotated(window, local, out_size, RESAMPLE)
