"""What makes a synthetic crop look like a photo of a sign: the plate under the word, the lighting
across the crop and the camera's degradations (numpy / OpenCV, a fraction of a millisecond each at
64x256).

The renderer (:mod:`tsb.data.render`) draws these from the probabilities of its ``EffectConfig``;
here is only the drawing, from already drawn parameters:

- :class:`Plate` and :func:`draw_plate`: a rectangle (square or rounded corners) of its own colour
  around the word, with up to two border lines, placed in the word's own plane (so it turns and
  leans with the word) and drawn into the background, under the text;
- :func:`lighting_gain` and :func:`specular_glare`: a smooth multiplicative illumination field
  (a gradient, a vignette or spot, a soft shadow edge or band) and a glare; :func:`light` applies
  them to the composite and to the background alike (``img * gain * (1 - glare) + glare``);
- :func:`motion_kernel`, :func:`resample` and :func:`chroma_bleed`: camera shake, resolution loss
  (down, then up again) and colour bleeding (the chroma planes at a lower resolution, as YCbCr
  4:2:0 subsampling does). Each is linear with non-negative weights, so applied to the mask it
  covers every pixel the text changed (the pair invariants of docs/data.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


# ---------------------------------------------------------------------------------------- plate
@dataclass(frozen=True)
class Plate:
    """A sign plate around the word; lengths are in units of the word's ink height."""

    fill: np.ndarray  # (H, W, 3) float32: the plate's surface (one colour or a gentle gradient)
    margins: tuple[float, float, float, float]  # left, right, top, bottom: past the word's extent
    radius: float  # corner radius (0: square corners)
    borders: tuple[tuple[float, float, np.ndarray], ...]  # (inset from the edge, width, colour (3,))


def _canvas_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    xs = np.broadcast_to(np.arange(w, dtype=np.float32)[None], (h, w))
    ys = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
    return xs, ys


def plane_coords(to_plane: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) of every canvas pixel in the plane that the 3x3 ``to_plane`` maps the canvas to."""
    xs, ys = _canvas_grid(h, w)
    m = to_plane.astype(np.float32)
    den = m[2, 0] * xs + m[2, 1] * ys + m[2, 2]
    u = (m[0, 0] * xs + m[0, 1] * ys + m[0, 2]) / den
    v = (m[1, 0] * xs + m[1, 1] * ys + m[1, 2]) / den
    return u, v


def rounded_box_sdf(
    u: np.ndarray, v: np.ndarray, box: tuple[float, float, float, float], radius: float
) -> np.ndarray:
    """Signed distance (negative inside) to the box (x0, x1, y0, y1) with rounded corners."""
    x0, x1, y0, y1 = box
    hx, hy = (x1 - x0) / 2, (y1 - y0) / 2
    r = float(min(max(radius, 0.0), hx, hy))
    qx = np.abs(u - np.float32((x0 + x1) / 2)) - np.float32(hx - r)
    qy = np.abs(v - np.float32((y0 + y1) / 2)) - np.float32(hy - r)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    inside = np.minimum(np.maximum(qx, qy), 0)
    return (outside + inside - np.float32(r)).astype(np.float32)


def _blend_into(img: np.ndarray, layer: np.ndarray, cover: np.ndarray) -> None:
    """img += (layer - img) * cover, in place (cover (H, W) in [0, 1])."""
    tmp = np.subtract(layer, img)
    np.multiply(tmp, cv2.merge((cover, cover, cover)), out=tmp)
    np.add(img, tmp, out=img)


def draw_plate(
    bg: np.ndarray, plate: Plate, to_plane: np.ndarray, half_w: float, half_h: float, unit: float
) -> None:
    """Draw ``plate`` into ``bg`` (H, W, 3 float32, in place).

    ``to_plane`` maps canvas pixels to the word's plane (its centre at the origin, canvas pixel
    units, before rotation and perspective); the word spans ``[-half_w, half_w] x [-half_h,
    half_h]`` there and ``unit`` is its ink height. Edges are anti-aliased over one pixel.
    """
    h, w = bg.shape[:2]
    u, v = plane_coords(to_plane, h, w)
    ml, mr, mt, mb = (m * unit for m in plate.margins)
    sdf = rounded_box_sdf(u, v, (-half_w - ml, half_w + mr, -half_h - mt, half_h + mb), plate.radius * unit)
    _blend_into(bg, plate.fill, np.clip(np.float32(0.5) - sdf, 0, 1))
    for inset, width, color in plate.borders:
        mid = sdf + np.float32((inset + width / 2) * unit)
        ring = np.clip(np.float32(0.5 + width * unit / 2) - np.abs(mid), 0, 1)
        layer = cv2.merge([np.full((h, w), float(c), np.float32) for c in color])
        _blend_into(bg, layer, ring)


# ------------------------------------------------------------------------------------- lighting
def _unit_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Canvas coordinates in units of the canvas height, centred."""
    xs, ys = _canvas_grid(h, w)
    s = np.float32(1.0 / h)
    return (xs - np.float32(w / 2)) * s, (ys - np.float32(h / 2)) * s


def lighting_gain(rng: np.random.Generator, h: int, w: int, strength: float) -> np.ndarray:
    """A smooth illumination gain (H, W) float32 around 1: a linear gradient, a vignette or light
    spot, or a soft shadow (an edge or a band) across the crop."""
    x, y = _unit_grid(h, w)
    kind = int(rng.integers(3))
    ang = rng.uniform(0, 2 * np.pi)
    ca, sa = np.float32(math.cos(ang)), np.float32(math.sin(ang))
    if kind == 0:  # gradient: brighter towards one side
        t = x * ca + y * sa
        t /= max(float(np.abs(t).max()), 1e-6)
        return (1 + np.float32(strength) * t).astype(np.float32)
    if kind == 1:  # vignette (dark corners) or a light spot, around a point of the crop
        cx, cy = rng.uniform(-0.5, 0.5) * w / h, rng.uniform(-0.5, 0.5)
        r2 = (x - np.float32(cx)) ** 2 + (y - np.float32(cy)) ** 2
        r2 /= max(float(r2.max()), 1e-6)
        return (1 + np.float32(strength) * (np.float32(0.5) - r2)).astype(np.float32)
    # shadow: a soft edge (or a band) at a random offset, darker on one side
    d = x * ca + y * sa - np.float32(rng.uniform(-0.4, 0.4) * w / h)
    soft = np.float32(rng.uniform(0.03, 0.4))
    shade = 1 / (1 + np.exp(np.clip(-d / soft, -60, 60)))
    if rng.random() < 0.4:  # a band: the shadow of a pole or a wire
        width = np.float32(rng.uniform(0.2, 0.8))
        shade = shade * (1 - 1 / (1 + np.exp(np.clip((width - d) / soft, -60, 60))))
    return (1 - np.float32(min(0.8, 1.3 * strength)) * shade).astype(np.float32)


def specular_glare(rng: np.random.Generator, h: int, w: int, strength: float) -> np.ndarray:
    """A glare (H, W) float32 in [0, strength]: an elongated Gaussian blob, screen-blended."""
    x, y = _unit_grid(h, w)
    cx, cy = rng.uniform(-0.5, 0.5) * w / h, rng.uniform(-0.6, 0.6)
    ang = rng.uniform(0, np.pi)
    ca, sa = np.float32(math.cos(ang)), np.float32(math.sin(ang))
    dx, dy = x - np.float32(cx), y - np.float32(cy)
    a = (dx * ca + dy * sa) / np.float32(rng.uniform(0.2, 1.5))
    b = (-dx * sa + dy * ca) / np.float32(rng.uniform(0.05, 0.4))
    return (np.float32(strength) * np.exp(-0.5 * (a * a + b * b))).astype(np.float32)


def light_layers(
    gain: np.ndarray | None, glare: np.ndarray | None, tint: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The per-pixel map ``img * scale + offset`` (both (H, W, 3)) of a gain, a glare and a
    colour tint of the light (3,) (any may be None; not all)."""
    base = gain if gain is not None else np.ones_like(glare)
    assert base is not None
    if glare is not None:
        base = base * (1 - glare)
    scale = cv2.merge([base * np.float32(t) for t in (tint if tint is not None else (1.0, 1.0, 1.0))])
    offset = cv2.merge((glare, glare, glare)) if glare is not None else None
    return np.asarray(scale, np.float32), offset


def light(img: np.ndarray, scale: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
    """``img * scale + offset`` (a new array)."""
    out = np.multiply(img, scale)
    if offset is not None:
        np.add(out, offset, out=out)
    return out


# --------------------------------------------------------------------------------------- camera
def motion_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised line kernel of ``length`` pixels at ``angle`` (radians), anti-aliased."""
    k = max(3, math.ceil(length) | 1)
    c = k // 2
    canvas = np.zeros((k * 4, k * 4), np.uint8)  # drawn at 4x, then area-averaged
    dx, dy = math.cos(angle) * length * 2, math.sin(angle) * length * 2
    p0 = (round(c * 4 + 2 - dx), round(c * 4 + 2 - dy))
    p1 = (round(c * 4 + 2 + dx), round(c * 4 + 2 + dy))
    cv2.line(canvas, p0, p1, 255, thickness=2, lineType=cv2.LINE_AA)
    kernel = cv2.resize(canvas.astype(np.float32), (k, k), interpolation=cv2.INTER_AREA)
    return (kernel / max(float(kernel.sum()), 1e-6)).astype(np.float32)


def motion_blur(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT), np.float32)


def resample(img: np.ndarray, small: tuple[int, int]) -> np.ndarray:
    """Down to ``small`` (w, h) by area averaging, then back up bilinearly."""
    h, w = img.shape[:2]
    down = cv2.resize(img, small, interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(down, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def chroma_bleed(img: np.ndarray, small: tuple[int, int]) -> np.ndarray:
    """The chroma planes (YCrCb) at ``small`` (w, h) resolution and back: colour bleeds across
    edges while the luma stays sharp."""
    ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = cv2.split(ycc)
    cr, cb = resample(cr, small), resample(cb, small)
    return np.asarray(cv2.cvtColor(cv2.merge((y, cr, cb)), cv2.COLOR_YCrCb2RGB), np.float32)
