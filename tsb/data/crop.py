"""Rotated word boxes: crop upright, and paste back (the inverse mapping).

A box is ``(xc, yc, w, h, angle)`` as in IMGUR5K: centre, width and height in pixels, and the
angle in degrees counter-clockwise as a viewer sees the image (y grows downwards, so the box's
x axis points along ``(cos a, -sin a)`` in pixel coordinates). Pixel centres sit at integer
coordinates (OpenCV's convention).

:func:`crop_rotated` cuts the box out upright; :func:`paste_rotated` maps an upright patch (any
size; resized to the box) back into the photo with a soft mask. Both use the same affine map
(:func:`box_affine`), so a crop pasted back lands where it came from. Used by the IMGUR5K loader
and by the edit command.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

Box = tuple[float, float, float, float, float]


def parse_box(text: str) -> Box:
    """Parse the IMGUR5K string ``"[xc, yc, w, h, angle]"``; ``ValueError`` when malformed."""
    s = text.strip()
    if not (s.startswith("[") and s.endswith("]")):
        raise ValueError(f"malformed box {text!r}: expected '[xc, yc, w, h, angle]'")
    parts = [p.strip() for p in s[1:-1].split(",")]
    if len(parts) != 5:
        raise ValueError(f"malformed box {text!r}: expected 5 numbers, got {len(parts)}")
    try:
        xc, yc, w, h, a = (float(p) for p in parts)
    except ValueError as e:
        raise ValueError(f"malformed box {text!r}: {e}") from None
    if not all(math.isfinite(v) for v in (xc, yc, w, h, a)) or w <= 0 or h <= 0:
        raise ValueError(f"malformed box {text!r}: width and height must be positive numbers")
    return (xc, yc, w, h, a)


def expand_box(box: Box, scale_w: float = 1.0, scale_h: float | None = None) -> Box:
    """The same box grown about its centre (context crops): width x scale_w, height x scale_h."""
    xc, yc, w, h, a = box
    return (xc, yc, w * scale_w, h * (scale_w if scale_h is None else scale_h), a)


def box_affine(box: Box, out_size: tuple[int, int] | None = None) -> np.ndarray:
    """2x3 matrix mapping upright-crop pixel coordinates (u, v) to photo coordinates (x, y).

    ``out_size`` = (width, height) of the upright crop; default: the box size rounded.
    """
    xc, yc, w, h, a = box
    ow, oh = out_size or (max(1, round(w)), max(1, round(h)))
    sx, sy = w / ow, h / oh
    t = math.radians(a)
    c, s = math.cos(t), math.sin(t)
    # crop pixel centre (u + 0.5) / ow * w - w / 2 along the box axes
    ax = np.array([c, -s]) * sx  # photo step per crop column
    ay = np.array([s, c]) * sy  # photo step per crop row
    origin = np.array([xc, yc]) - ax * (ow / 2 - 0.5) - ay * (oh / 2 - 0.5)
    return np.array([[ax[0], ay[0], origin[0]], [ax[1], ay[1], origin[1]]], dtype=np.float64)


def box_axes(angle: float) -> tuple[np.ndarray, np.ndarray]:
    """A box's unit axes in the photo for its ``angle`` (degrees counter-clockwise on screen):
    along its line (left to right) and across it (top to bottom)."""
    t = math.radians(angle)
    return np.array([math.cos(t), -math.sin(t)]), np.array([math.sin(t), math.cos(t)])


def box_corners(box: Box) -> np.ndarray:
    """The 4 corners (x, y) in the photo: top-left, top-right, bottom-right, bottom-left (upright)."""
    xc, yc, w, h, a = box
    ux, uy = box_axes(a)
    c = np.array([xc, yc])
    return np.stack(
        [
            c - ux * w / 2 - uy * h / 2,
            c + ux * w / 2 - uy * h / 2,
            c + ux * w / 2 + uy * h / 2,
            c - ux * w / 2 + uy * h / 2,
        ]
    )


def clip_box(box: Box, size: tuple[int, int], tolerance: float = 1.0) -> Box:
    """The largest box of the same angle inside ``box`` whose corners lie in the ``size`` (W, H)
    image (pixel centres are integers: the image spans [-0.5, W - 0.5] x [-0.5, H - 0.5], plus
    ``tolerance`` pixels). Each side moves inwards only as far as the image edge asks; a box that
    lies inside is returned unchanged. Width or height 0 means no part of the box is in the image."""
    xc, yc, w, h, a = box
    ux, uy = box_axes(a)
    c = np.array([xc, yc])
    W, H = size
    lo, hi = -0.5 - tolerance, np.array([W, H]) - 0.5 + tolerance
    # the image as half-planes n . p <= b
    planes = [(np.array([1.0, 0.0]), hi[0]), (np.array([0.0, 1.0]), hi[1]),
              (np.array([-1.0, 0.0]), -lo), (np.array([0.0, -1.0]), -lo)]  # fmt: skip
    u0, u1, v0, v1 = -w / 2, w / 2, -h / 2, h / 2
    for _ in range(4):  # each side against the corners at its ends; a few rounds settle the corners
        for n, b in planes:
            nu, nv, nc = float(n @ ux), float(n @ uy), float(n @ c)
            # an image edge moves the box's sides that face it (for a tilted box, a corner past the
            # top edge lowers the top side; it does not narrow the box)
            if abs(nu) >= abs(nv):
                if nu > 0:
                    u1 = min(u1, min((b - nc - v * nv) / nu for v in (v0, v1)))
                else:
                    u0 = max(u0, max((b - nc - v * nv) / nu for v in (v0, v1)))
            elif nv > 0:
                v1 = min(v1, min((b - nc - u * nu) / nv for u in (u0, u1)))
            else:
                v0 = max(v0, max((b - nc - u * nu) / nv for u in (u0, u1)))
    if u1 <= u0 or v1 <= v0:
        return (xc, yc, 0.0, 0.0, a)
    centre = c + ux * (u0 + u1) / 2 + uy * (v0 + v1) / 2
    return (float(centre[0]), float(centre[1]), float(u1 - u0), float(v1 - v0), a)


def span_along(box: Box, inner: Box | None) -> tuple[float, float]:
    """The left and right ends of ``inner`` along ``box``'s line, in pixels from ``box``'s centre,
    within ``box`` (None, or an ``inner`` beside the box: the whole box, ``(-w / 2, w / 2)``)."""
    half = box[2] / 2
    if inner is None:
        return -half, half
    along = float(box_axes(box[4])[0] @ np.subtract(inner[:2], box[:2]))
    lo, hi = max(-half, along - inner[2] / 2), min(half, along + inner[2] / 2)
    return (lo, hi) if hi > lo else (-half, half)


def crop_rotated(
    image: Image.Image,
    box: Box,
    out_size: tuple[int, int] | None = None,
    interpolation: int = cv2.INTER_LINEAR,
) -> Image.Image:
    """Cut the rotated ``box`` out of ``image``, upright. Pixels outside the photo repeat its edge.

    ``out_size`` = (width, height) resamples the crop to that size (default: the box size), with
    ``interpolation`` (an OpenCV flag; the photo editor's crop and paste use bicubic, which keeps
    thin strokes' contrast through the round trip, :data:`tsb.edit.paste.RESAMPLE`).
    The result has the image's mode for RGB/L/RGBA; other modes are converted to RGB.
    """
    if image.mode not in ("RGB", "L", "RGBA"):
        image = image.convert("RGB")
    _xc, _yc, w, h, _ = box
    if w <= 0 or h <= 0:
        raise ValueError(f"box {box} has no area")
    ow, oh = out_size or (max(1, round(w)), max(1, round(h)))
    m = box_affine(box, (ow, oh))
    arr = np.asarray(image)
    # downscaling a lot: blur first so the crop does not alias
    shrink = min(ow / w, oh / h)
    if shrink < 0.5:
        sigma = 0.5 / shrink
        arr = cv2.GaussianBlur(arr, (0, 0), sigma)
    out = cv2.warpAffine(
        arr, m, (ow, oh), flags=interpolation | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    return Image.fromarray(out, mode=image.mode)


def paste_rotated(
    image: Image.Image, patch: Image.Image, box: Box, mask: Image.Image | np.ndarray | None = None
) -> Image.Image:
    """Paste an upright ``patch`` into ``box`` of ``image`` (the inverse of :func:`crop_rotated`).

    ``mask`` (same size as the patch, L image or float array in [0, 1]) blends softly; default:
    the whole box. Returns a new RGB image the size of ``image``.
    """
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    src = np.asarray(patch.convert("RGB"), dtype=np.float32)
    ph, pw = src.shape[:2]
    if mask is None:
        alpha = np.ones((ph, pw), np.float32)
    elif isinstance(mask, Image.Image):
        alpha = np.asarray(mask.convert("L"), dtype=np.float32) / 255.0
    else:
        alpha = np.asarray(mask, dtype=np.float32)
    if alpha.shape != (ph, pw):
        raise ValueError(f"mask shape {alpha.shape} does not match the patch size {(ph, pw)}")
    m = box_affine(box, (pw, ph))
    size = (base.shape[1], base.shape[0])
    warped = cv2.warpAffine(src, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    # alpha is zero outside the patch (constant border), so only the box changes
    a = cv2.warpAffine(alpha, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    out = base * (1 - a[..., None]) + warped * a[..., None]
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), mode="RGB")
