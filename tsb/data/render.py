"""The text-style renderer: one sampled style -> images of two strings + their foreground masks.

A :class:`Style` holds every choice that makes a look: font and size, fill (solid colour,
gradient or texture), outline, shadow, fake bold, slant, underline, letter spacing, rotation,
perspective, curved baseline, blur, noise, JPEG quality, the background (solid, gradient,
procedural texture or a crop of a photo), and the photo look of :mod:`tsb.data.scene` (a sign
plate and neighbouring text drawn into the background, lighting, camera shake, resolution loss
and colour bleeding; all off by default). :func:`sample_style` draws one from the probabilities
and ranges of an :class:`EffectConfig`; :func:`render_pair` draws two strings in it.

How a word is drawn (numpy / PIL / OpenCV only, about 2-3 ms a pair at 64x256 on one core):

1. the string is drawn white-on-black into a "text plane" with PIL (fake bold = stroke, letter
   spacing = glyph by glyph, underline), then bent along a parabola (curved baseline);
2. one homography (slant, rotation, perspective, placement) maps the plane into the canvas;
   the font size is chosen so that the *longer* string fits, and both strings share the size,
   centre and homography ("same geometry");
3. outline (dilation) and shadow (shifted, blurred) layers; the foreground mask is the union of
   glyph, outline and shadow coverage;
4. layers are composited over the shared background; blur, noise (the same noise field for both)
   and JPEG are applied. JPEG is applied to the composite and, separately, to the background,
   and the composite's pixels are kept only where the (blurred) mask is non-zero.

So every pixel outside the union of the two masks is the same pixel of the shared background
(the pair test relies on it), and the mask covers every pixel the text changed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from tsb.data import scene
from tsb.data.fonts import FontInfo, get_font
from tsb.data.glyphs import draw_text, ink_metrics, text_width
from tsb.data.photos import PHOTO_BANKS, bank_paths
from tsb.errors import ConfigError, DataNotFoundError

cv2.setNumThreads(1)


# --------------------------------------------------------------------------------------- config
@dataclass
class EffectConfig:
    """Probabilities (``p_*``) and ranges (``(low, high)``) of the style effects.

    Sizes are relative to the canvas height unless named ``*_px``. Every field can be set from
    the data config's ``effects:`` node; unknown keys are an error.
    """

    # text size: the font's ascender+descender height as a fraction of the canvas height
    text_height: tuple[float, float] = (0.6, 1.0)
    # horizontal / vertical placement jitter, as a fraction of the free space
    jitter: float = 0.6
    p_bold: float = 0.1
    bold_px: tuple[float, float] = (1.0, 2.0)
    p_slant: float = 0.1
    slant: tuple[float, float] = (-0.3, 0.3)  # shear x per unit y
    p_underline: float = 0.03
    p_spacing: float = 0.15
    spacing: tuple[float, float] = (-0.04, 0.3)  # extra advance per glyph, in em
    p_outline: float = 0.12
    outline_px: tuple[float, float] = (1.0, 3.0)
    p_shadow: float = 0.12
    shadow_offset_px: tuple[float, float] = (1.0, 4.0)
    shadow_blur_px: tuple[float, float] = (0.0, 2.0)
    shadow_opacity: tuple[float, float] = (0.5, 0.9)
    p_rotate: float = 0.5
    rotate_deg: tuple[float, float] = (-8.0, 8.0)
    p_perspective: float = 0.3
    perspective: float = 0.12  # max corner displacement, fraction of the canvas height
    p_curve: float = 0.08
    curve: tuple[float, float] = (-0.25, 0.25)  # sag of the baseline across the canvas width
    # fill and background kinds: relative weights
    fill: dict[str, float] = field(default_factory=lambda: {"solid": 0.7, "gradient": 0.2, "texture": 0.1})
    background: dict[str, float] = field(
        default_factory=lambda: {"solid": 0.15, "gradient": 0.2, "texture": 0.3, "photo": 0.35}
    )
    min_contrast: float = 0.3  # luminance difference between text fill and background mean
    p_blur: float = 0.2
    blur_sigma_px: tuple[float, float] = (0.3, 1.2)
    p_noise: float = 0.3
    noise_sigma: tuple[float, float] = (1.0, 8.0)  # in 8-bit levels
    p_jpeg: float = 0.3
    jpeg_quality: tuple[int, int] = (30, 90)
    # photo backgrounds: folders of images; empty = the photo bank named by photo_bank
    photo_dirs: tuple[str, ...] = ()
    # matplotlib: matplotlib's two sample images (the original set); packages: the photos and
    # textures installed packages carry (tsb.data.photos, docs/data.md; grey ones tinted sometimes)
    photo_bank: str = "matplotlib"
    # --- the photo look (tsb.data.scene; all off by default, data=synth_photo turns them on).
    # Lengths in units of the word's ink height unless named *_px (pixels at a height of 64).
    # sign plate: a rectangle of its own colour around the word (background: under the text, the
    # same in source and target), reaching past the crop or ending inside it
    p_plate: float = 0.0
    plate_margin_x: tuple[float, float] = (0.1, 2.0)  # left and right, each drawn
    plate_margin_y: tuple[float, float] = (0.05, 0.5)  # top and bottom, each drawn
    p_plate_round: float = 0.5  # rounded corners
    plate_radius: tuple[float, float] = (0.1, 0.5)
    p_plate_border: float = 0.6  # a border line inside the edge
    plate_border: tuple[float, float] = (0.03, 0.12)  # its width
    plate_border_inset: tuple[float, float] = (0.0, 0.25)  # its distance from the plate's edge
    p_plate_border2: float = 0.3  # a second, inner border line
    # neighbouring text lines above and/or below the word, cut by the crop's edge; background:
    # the same in source and target and never in the masks (the eraser leaves them alone)
    p_neighbour_line: float = 0.0
    neighbour_line_gap: tuple[float, float] = (0.1, 0.6)  # between the lines' ink
    p_neighbour_both: float = 0.3  # lines above and below (else one side)
    p_neighbour_other: float = 0.4  # another font, size and colour (else the word's own style)
    neighbour_size: tuple[float, float] = (0.6, 1.3)  # another style's ink height
    # a neighbouring word of the same line, left or right of the word
    p_neighbour_word: float = 0.0
    neighbour_word_gap: tuple[float, float] = (0.25, 0.8)
    # lighting across the whole crop (text and background alike): a multiplicative gradient,
    # vignette / spot or soft shadow edge or band, sometimes tinted; and a specular glare
    p_lighting: float = 0.0
    lighting_strength: tuple[float, float] = (0.15, 0.5)
    p_light_tint: float = 0.3
    p_specular: float = 0.0
    specular_strength: tuple[float, float] = (0.15, 0.6)
    # the camera, after compositing: shake, resolution loss (down, then up) and colour bleeding
    # (chroma at a lower resolution); blur, noise and JPEG above, perspective per word above
    p_motion_blur: float = 0.0
    motion_blur_px: tuple[float, float] = (1.5, 5.0)
    p_resample: float = 0.0
    resample_factor: tuple[float, float] = (1.5, 3.0)
    p_chroma: float = 0.0
    chroma_factor: tuple[float, float] = (2.0, 4.0)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> EffectConfig:
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown data.effects keys {unknown}; valid keys: {sorted(names)}")
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, list | tuple):
                v = tuple(v)
            elif hasattr(v, "items"):
                v = dict(v.items())
            out[k] = v
        cfg = cls(**out)
        if cfg.photo_bank not in PHOTO_BANKS:
            raise ConfigError(f"data.effects.photo_bank must be one of {PHOTO_BANKS}, got {cfg.photo_bank!r}")
        for kind in ("fill", "background"):
            weights = getattr(cfg, kind)
            valid = {"fill": FILL_KINDS, "background": BACKGROUND_KINDS}[kind]
            bad = sorted(set(weights) - set(valid))
            if bad or sum(weights.values()) <= 0:
                raise ConfigError(f"data.effects.{kind} must weight some of {valid}, got {weights}")
        return cfg


FILL_KINDS = ("solid", "gradient", "texture")
BACKGROUND_KINDS = ("solid", "gradient", "texture", "photo")


# --------------------------------------------------------------------------------------- style
@dataclass
class Style:
    """One concrete look, shared by the two strings of a pair."""

    font: FontInfo
    text_height: float
    bold_px: int
    slant: float
    underline: bool
    spacing: float
    outline_px: int
    outline_color: np.ndarray | None
    shadow: tuple[float, float, float, float] | None  # dx, dy, blur, opacity
    shadow_color: np.ndarray | None
    rotate_deg: float
    perspective: np.ndarray | None  # (4, 2) corner displacements, fraction of height
    curve: float
    jitter: tuple[float, float]
    fill: np.ndarray  # (H, W, 3) float32 in [0, 1]
    background: np.ndarray  # (H, W, 3) float32 in [0, 1]
    blur_sigma: float
    noise: np.ndarray | None  # (H, W, 3) float32 (grey: equal channels), in [0, 1] units
    jpeg_quality: int | None
    # the photo look (tsb.data.scene); None / empty: off
    plate: scene.Plate | None = None
    neighbours: tuple[Neighbour, ...] = ()
    light: tuple[np.ndarray, np.ndarray | None] | None = None  # img * scale + offset, (H, W, 3)
    motion: np.ndarray | None = None  # motion blur kernel
    resample: tuple[int, int] | None = None  # (w, h) the crop passes through
    chroma: tuple[int, int] | None = None  # (w, h) the chroma planes pass through


@dataclass(frozen=True)
class Neighbour:
    """Text beside the word (background): a line above or below, or a word left or right."""

    text: str
    path: str  # its font file
    size: float  # its ink height / the word's
    where: str  # "above" | "below" | "left" | "right"
    gap: float  # between its ink and the word's, in the word's ink heights
    shift: float  # lines: the line centre's horizontal offset, in canvas widths
    color: np.ndarray | None  # (3,); None: the word's own fill and outline


def _uniform(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(rng.uniform(r[0], r[1]))


def _choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    total = sum(w for w in weights.values() if w > 0)
    r = rng.random() * total
    last = ""
    for k, w in weights.items():
        if w > 0:
            last = k
            r -= w
            if r < 0:
                return k
    return last


LUMA = np.array([0.299, 0.587, 0.114])


def _luminance(c: np.ndarray) -> float:
    m = c.reshape(-1, 3).mean(axis=0) if c.ndim > 1 else c
    return float(m[0] * 0.299 + m[1] * 0.587 + m[2] * 0.114)


def _random_color(rng: np.random.Generator, lum_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """A random RGB colour in [0, 1] whose luminance (Rec. 601 weights) lies in ``lum_range``.

    A random hue and saturation at full value, then scaled towards black or mixed with white
    to reach a luminance drawn from the range (so a "light" colour is never a dark pure blue).
    """
    h = rng.uniform(0, 6)
    s = rng.uniform(0, 1) ** 1.5
    target = rng.uniform(*lum_range)
    i = int(h) % 6
    f = h - int(h)
    p, q, t = 1 - s, 1 - s * f, 1 - s * (1 - f)
    rgb = np.array([(1, t, p), (q, 1, p), (p, 1, t), (p, q, 1), (t, p, 1), (1, p, q)][i], dtype=np.float64)
    lum = float(rgb @ LUMA)
    if target <= lum:
        rgb *= target / max(lum, 1e-6)
    else:
        rgb += (1 - rgb) * (target - lum) / max(1 - lum, 1e-6)
    return np.clip(rgb, 0, 1).astype(np.float32)


def _contrasting_color(rng: np.random.Generator, ref_lum: float, min_contrast: float) -> np.ndarray:
    lo_ok, hi_ok = ref_lum - min_contrast, ref_lum + min_contrast
    if lo_ok > 0 and (hi_ok > 1 or rng.random() < 0.5 + (ref_lum - 0.5)):
        return _random_color(rng, (0.0, lo_ok))
    return _random_color(rng, (min(hi_ok, 1.0), 1.0))


def _text_color_for(rng: np.random.Generator, bg: np.ndarray, min_contrast: float) -> tuple[np.ndarray, bool]:
    """A fill colour readable on ``bg``: (colour, whether an outline is needed to read it).

    The colour's luminance lies ``min_contrast`` below the background's 20th or above its 80th
    luminance percentile; on a background too busy for either, the colour is near black or
    white (the side farther from the median) and the caller adds a contrasting outline.
    """
    h = bg.shape[0]
    band = bg[h // 4 : h - h // 4 : 2, ::4].reshape(-1, 3)
    lum = np.sort(band @ np.array([0.299, 0.587, 0.114], dtype=np.float32))
    lo, med, hi = (float(lum[int(q * (len(lum) - 1))]) for q in (0.2, 0.5, 0.8))
    dark_ok, light_ok = lo - min_contrast > 0.0, hi + min_contrast < 1.0
    if dark_ok and (not light_ok or rng.random() < 0.5 + (med - 0.5)):
        return _random_color(rng, (0.0, lo - min_contrast)), False
    if light_ok:
        return _random_color(rng, (hi + min_contrast, 1.0)), False
    return (_random_color(rng, (0.0, 0.12)) if med > 0.5 else _random_color(rng, (0.88, 1.0))), True


def _gradient(rng: np.random.Generator, h: int, w: int, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    ang = rng.uniform(0, 2 * np.pi)
    tx = (np.arange(w, dtype=np.float32) - w / 2) * np.float32(np.cos(ang) / w)
    ty = (np.arange(h, dtype=np.float32) - h / 2) * np.float32(np.sin(ang) / h)
    t = ty[:, None] + tx[None, :]
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return _lerp(c0, c1, t)


def _solid(c: np.ndarray, h: int, w: int) -> np.ndarray:
    """A contiguous (h, w, 3) float32 image of one colour (numpy broadcasts over a last axis of
    3 are slow, so every colour layer is a full image)."""
    return cv2.merge([np.full((h, w), float(v), np.float32) for v in c])


def _lerp(c0: np.ndarray, c1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(h, w, 3) image: colour c0 where t = 0, c1 where t = 1."""
    return cv2.merge([(float(a) + float(b - a) * t).astype(np.float32) for a, b in zip(c0, c1)])


def _texture(rng: np.random.Generator, h: int, w: int, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """A procedural texture between two colours: value noise, stripes, checks or grain."""
    kind = int(rng.integers(4))
    if kind == 0:  # multi-octave value noise
        t = np.zeros((h, w), np.float32)
        amp, total = 1.0, 0.0
        for octave in range(int(rng.integers(1, 4))):
            gh, gw = 2 + int(rng.integers(2, 6)) * 2**octave, 2 + int(rng.integers(4, 16)) * 2**octave
            t += amp * cv2.resize(
                rng.random((gh, gw), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC
            )
            total += amp
            amp *= 0.5
        t /= total
    elif kind == 1:  # stripes
        ang = rng.uniform(0, np.pi)
        freq = rng.uniform(0.05, 0.5)
        xs = np.arange(w, dtype=np.float32) * np.float32(np.cos(ang) * freq)
        ys = np.arange(h, dtype=np.float32) * np.float32(np.sin(ang) * freq)
        t = 0.5 + 0.5 * np.sin(ys[:, None] + xs[None, :] + np.float32(rng.uniform(0, 6.3)))
    elif kind == 2:  # checks
        cell = int(rng.integers(3, 17))
        checks = (np.arange(h)[:, None] // cell + np.arange(w)[None, :] // cell) % 2
        t = np.asarray(cv2.GaussianBlur(checks.astype(np.float32), (0, 0), rng.uniform(0.3, 1.5)), np.float32)
    else:  # paper-like grain
        g = cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), rng.uniform(0.5, 2.0))
        t = (g - g.min()) / max(float(g.max() - g.min()), 1e-6)
    return _lerp(c0, c1, np.clip(t, 0, 1))


@functools.lru_cache(maxsize=8)
def _photo_bank(dirs: tuple[str, ...], bank: str = "matplotlib") -> tuple[np.ndarray, ...]:
    """Decoded photos (RGB float32, longest side <= 1024), loaded once per process: the images
    of ``dirs``, or else those of the named bank (:mod:`tsb.data.photos`)."""
    paths: list[Path] = []
    if dirs:
        for d in dirs:
            folder = Path(d).expanduser()
            if not folder.is_dir():
                raise DataNotFoundError(f"photo folder {folder} does not exist; fix data.effects.photo_dirs")
            paths += sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    else:
        paths = bank_paths(bank)
    photos = []
    for p in paths:
        try:
            img = Image.open(p)
            img.draft("RGB", (1024, 1024))
            im = img.convert("RGB")
        except OSError:
            continue
        if max(im.size) > 1024:
            im.thumbnail((1024, 1024))
        photos.append(np.asarray(im, dtype=np.float32) / 255.0)
    if not photos:
        where = list(dirs) or f"the {bank!r} photo bank (data.effects.photo_bank)"
        raise DataNotFoundError(f"no readable photo in {where}; fix data.effects.photo_dirs")
    return tuple(photos)


def _is_grey(photo: np.ndarray) -> bool:
    return bool(np.array_equal(photo[::8, ::8, 0], photo[::8, ::8, 1]))


def _photo_crop(
    rng: np.random.Generator, h: int, w: int, dirs: tuple[str, ...], bank: str = "matplotlib"
) -> np.ndarray:
    photos = _photo_bank(dirs, bank)
    ph = photos[int(rng.integers(len(photos)))]
    H, W = ph.shape[:2]
    aspect = w / h
    ch = rng.uniform(0.1, 1.0) * min(H, W / aspect)
    cw = ch * aspect
    ch, cw = max(2, int(ch)), max(2, int(cw))
    y0 = int(rng.integers(0, max(1, H - ch + 1)))
    x0 = int(rng.integers(0, max(1, W - cw + 1)))
    crop = cv2.resize(ph[y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    if rng.random() < 0.3:  # colour jitter: channel permutation / inversion
        crop = crop[..., rng.permutation(3)]
    if rng.random() < 0.15:
        crop = 1.0 - crop
    if bank == "packages" and not dirs and rng.random() < 0.7 and _is_grey(ph):
        # a grey photo or texture (brick, gravel, grass...) takes a colour
        tint = _random_color(rng, (0.5, 1.0))
        crop = crop * (tint / max(float(tint.max()), 1e-6))
    return np.ascontiguousarray(crop, dtype=np.float32)


def _background(rng: np.random.Generator, cfg: EffectConfig, h: int, w: int) -> np.ndarray:
    kind = _choice(rng, cfg.background)
    c0 = _random_color(rng)
    if kind == "solid":
        return _solid(c0, h, w)
    c1 = np.clip(c0 + rng.normal(0, 0.3, 3).astype(np.float32), 0, 1)
    if kind == "gradient":
        return _gradient(rng, h, w, c0, c1)
    if kind == "texture":
        return _texture(rng, h, w, c0, c1)
    return _photo_crop(rng, h, w, cfg.photo_dirs, cfg.photo_bank)


def sample_style(
    rng: np.random.Generator,
    cfg: EffectConfig,
    font: FontInfo,
    height: int,
    width: int,
    *,
    words: Callable[[np.random.Generator], str] | None = None,
    fonts_for: Callable[[str], list[FontInfo]] | None = None,
) -> Style:
    """Draw one style for a canvas of ``height`` x ``width``.

    ``words`` draws the text of neighbouring lines and words (default: letters the font draws),
    ``fonts_for(text)`` the fonts a neighbour in another style may take (default: the word's).
    The photo look is drawn last and only where its probabilities are above zero, so a config
    without it draws what it drew before it existed.
    """
    h, w = height, width
    bg = _background(rng, cfg, h, w)
    bg_lum = _luminance(bg[h // 4 : h - h // 4])
    c0, needs_outline = _text_color_for(rng, bg, cfg.min_contrast)
    kind = _choice(rng, cfg.fill)
    if kind == "solid":
        fill = _solid(c0, h, w)
    else:  # a second colour of the same luminance side
        c1 = np.clip(c0 + rng.normal(0, 0.25, 3).astype(np.float32), 0, 1)
        if abs(_luminance(c1) - _luminance(c0)) > 0.15:
            c1 = np.clip(c1 - (_luminance(c1) - _luminance(c0)), 0, 1).astype(np.float32)
        fill = _gradient(rng, h, w, c0, c1) if kind == "gradient" else _texture(rng, h, w, c0, c1)
    fill_lum = _luminance(c0)

    outline_px, outline_color = 0, None
    if rng.random() < cfg.p_outline or needs_outline:
        outline_px = round(_uniform(rng, cfg.outline_px) * h / 64)
        outline_px = max(1, outline_px)
        outline_color = _contrasting_color(rng, fill_lum, cfg.min_contrast)
    shadow, shadow_color = None, None
    if rng.random() < cfg.p_shadow:
        r = _uniform(rng, cfg.shadow_offset_px) * h / 64
        ang = rng.uniform(0, 2 * np.pi)
        shadow = (
            r * math.cos(ang),
            r * math.sin(ang),
            _uniform(rng, cfg.shadow_blur_px),
            _uniform(rng, cfg.shadow_opacity),
        )
        shadow_color = _random_color(rng, (0.0, 0.25)) if bg_lum > 0.35 else _random_color(rng, (0.0, 0.1))
    persp = None
    if rng.random() < cfg.p_perspective:
        persp = rng.uniform(-cfg.perspective, cfg.perspective, (4, 2)).astype(np.float32)
    noise = None
    if rng.random() < cfg.p_noise:
        sigma = _uniform(rng, cfg.noise_sigma) / 255.0
        grain = rng.standard_normal((h, w), dtype=np.float32) * np.float32(sigma)
        noise = cv2.merge((grain, grain, grain))
    style = Style(
        font=font,
        text_height=_uniform(rng, cfg.text_height),
        bold_px=max(1, round(_uniform(rng, cfg.bold_px) * h / 64)) if rng.random() < cfg.p_bold else 0,
        slant=_uniform(rng, cfg.slant) if rng.random() < cfg.p_slant else 0.0,
        underline=bool(rng.random() < cfg.p_underline),
        spacing=_uniform(rng, cfg.spacing) if rng.random() < cfg.p_spacing else 0.0,
        outline_px=outline_px,
        outline_color=outline_color,
        shadow=shadow,
        shadow_color=shadow_color,
        rotate_deg=_uniform(rng, cfg.rotate_deg) if rng.random() < cfg.p_rotate else 0.0,
        perspective=persp,
        curve=_uniform(rng, cfg.curve) if rng.random() < cfg.p_curve else 0.0,
        jitter=(float(rng.uniform(-1, 1)) * cfg.jitter, float(rng.uniform(-1, 1)) * cfg.jitter),
        fill=fill,
        background=bg,
        blur_sigma=_uniform(rng, cfg.blur_sigma_px) * h / 64 if rng.random() < cfg.p_blur else 0.0,
        noise=noise,
        jpeg_quality=int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
        if rng.random() < cfg.p_jpeg
        else None,
    )
    _sample_photo_look(rng, cfg, style, c0, words, fonts_for)
    return style


def _happens(rng: np.random.Generator, p: float) -> bool:
    """A draw only where ``p`` > 0: an effect that is off consumes no random number."""
    return p > 0 and rng.random() < p


def _sample_photo_look(
    rng: np.random.Generator,
    cfg: EffectConfig,
    style: Style,
    text_color: np.ndarray,
    words: Callable[[np.random.Generator], str] | None,
    fonts_for: Callable[[str], list[FontInfo]] | None,
) -> None:
    """The plate, neighbours, lighting and camera of ``style`` (in place), in that order."""
    h, w = style.background.shape[:2]
    text_lum = _luminance(text_color)
    surface_lum = _luminance(style.background[h // 4 : h - h // 4])
    if _happens(rng, cfg.p_plate):
        pc = _contrasting_color(rng, text_lum, cfg.min_contrast)
        surface_lum = _luminance(pc)
        if rng.random() < 0.5:  # one colour
            plate_fill = _solid(pc, h, w)
        else:  # a gentle gradient (paint, reflections)
            pc2 = np.clip(pc + rng.normal(0, 0.06, 3).astype(np.float32), 0, 1)
            plate_fill = _gradient(rng, h, w, pc, pc2)
        margins = (
            _uniform(rng, cfg.plate_margin_x),
            _uniform(rng, cfg.plate_margin_x),
            _uniform(rng, cfg.plate_margin_y),
            _uniform(rng, cfg.plate_margin_y),
        )
        radius = _uniform(rng, cfg.plate_radius) if rng.random() < cfg.p_plate_round else 0.0
        borders: list[tuple[float, float, np.ndarray]] = []
        if rng.random() < cfg.p_plate_border:
            bc = text_color if rng.random() < 0.5 else _contrasting_color(rng, surface_lum, cfg.min_contrast)
            inset, width = _uniform(rng, cfg.plate_border_inset), _uniform(rng, cfg.plate_border)
            borders.append((inset, width, bc))
            if rng.random() < cfg.p_plate_border2:
                borders.append(
                    (inset + width + _uniform(rng, cfg.plate_border_inset) + 0.03, width * 0.7, bc)
                )
        style.plate = scene.Plate(plate_fill, margins, radius, tuple(borders))
    neighbours: list[Neighbour] = []
    if _happens(rng, cfg.p_neighbour_line):
        sides = (
            ["above", "below"]
            if rng.random() < cfg.p_neighbour_both
            else [["above", "below"][int(rng.integers(2))]]
        )
        for where in sides:
            text = " ".join(_neighbour_word(rng, style.font, words) for _ in range(int(rng.integers(1, 4))))
            text = text[: int(4 * w / h) + 2].strip()  # about what the crop shows of a line
            gap = _uniform(rng, cfg.neighbour_line_gap)
            shift = float(rng.uniform(-0.4, 0.4))
            neighbours.append(
                _neighbour_style(rng, cfg, style, text, where, gap, shift, surface_lum, fonts_for)
            )
    if _happens(rng, cfg.p_neighbour_word):
        where = ["left", "right"][int(rng.integers(2))]
        text = _neighbour_word(rng, style.font, words)
        neighbours.append(
            Neighbour(text, style.font.path, 1.0, where, _uniform(rng, cfg.neighbour_word_gap), 0.0, None)
        )
    style.neighbours = tuple(neighbours)
    gain = glare = tint = None
    if _happens(rng, cfg.p_lighting):
        gain = scene.lighting_gain(rng, h, w, _uniform(rng, cfg.lighting_strength))
        if rng.random() < cfg.p_light_tint:
            tint = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    if _happens(rng, cfg.p_specular):
        glare = scene.specular_glare(rng, h, w, _uniform(rng, cfg.specular_strength))
    if gain is not None or glare is not None:
        style.light = scene.light_layers(gain, glare, tint)
    if _happens(rng, cfg.p_motion_blur):
        length = _uniform(rng, cfg.motion_blur_px) * h / 64
        style.motion = scene.motion_kernel(length, rng.uniform(0, np.pi))
    if _happens(rng, cfg.p_resample):
        f = _uniform(rng, cfg.resample_factor)
        style.resample = (max(4, round(w / f)), max(4, round(h / f)))
    if _happens(rng, cfg.p_chroma):
        f = _uniform(rng, cfg.chroma_factor)
        style.chroma = (max(2, round(w / f)), max(2, round(h / f)))


def _neighbour_word(
    rng: np.random.Generator, font: FontInfo, words: Callable[[np.random.Generator], str] | None
) -> str:
    """A word for a neighbour: from ``words``, else 2-9 letters the font draws."""
    if words is not None:
        text = _drawable(words(rng), font)
        if text:
            return text
    letters = sorted(c for c in font.chars if c.isalpha()) or list("abcdefghijklmnopqrstuvwxyz")
    return "".join(letters[int(i)] for i in rng.integers(len(letters), size=int(rng.integers(2, 10))))


def _drawable(text: str, font: FontInfo) -> str:
    """``text`` without the characters ``font`` does not draw (a font that lists none: all)."""
    if not font.chars or font.covers(text):
        return text
    return "".join(c for c in text if c in font.chars or c.isspace()).strip()


def _neighbour_style(
    rng: np.random.Generator,
    cfg: EffectConfig,
    style: Style,
    text: str,
    where: str,
    gap: float,
    shift: float,
    surface_lum: float,
    fonts_for: Callable[[str], list[FontInfo]] | None,
) -> Neighbour:
    """A neighbouring line in the word's style, or in another font, size and colour."""
    if rng.random() >= cfg.p_neighbour_other:
        return Neighbour(text, style.font.path, 1.0, where, gap, shift, None)
    cands = fonts_for(text) if fonts_for is not None else []
    path = cands[int(rng.integers(len(cands)))].path if cands else style.font.path
    color = _contrasting_color(rng, surface_lum, cfg.min_contrast)
    return Neighbour(text, path, _uniform(rng, cfg.neighbour_size), where, gap, shift, color)


# ------------------------------------------------------------------------------------- drawing
def _draw_plane(
    text: str, path: str, size: int, style: Style, spacing_px: float, pad: int, tw: float
) -> tuple[np.ndarray, float, float]:
    """Draw ``text`` (width ``tw``) white on black: (plane uint8, x and y of the text centre)."""
    ascent, descent = get_font(path, size).getmetrics()
    ink_a, ink_d = ink_metrics(path, size)
    ascent, descent = max(ascent, ink_a), max(descent, ink_d)
    pw, ph = math.ceil(tw) + 2 * pad, ascent + descent + 2 * pad
    plane = np.zeros((ph, pw), np.uint8)
    baseline = pad + ascent
    draw_text(plane, pad, baseline, path, size, text, spacing_px)
    if style.bold_px:  # fake bold: grow the glyphs by a disc (what a FreeType stroke does)
        k = 2 * style.bold_px + 1
        plane = np.asarray(cv2.dilate(plane, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))), np.uint8)
    if style.underline:
        y = baseline + max(2, round(0.12 * size))
        t = max(1, round(size / 16))
        plane[y : y + t, pad : pad + math.ceil(tw)] = 255
    return plane, pad + tw / 2, baseline + (ink_d - ink_a) / 2


def _core(style: Style, h: int) -> np.ndarray:
    """Slant, rotation and perspective about the text centre (3x3, text plane -> canvas offsets)."""
    shear = np.array([[1, -style.slant, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    a = math.radians(style.rotate_deg)
    rot = np.array(
        [[math.cos(a), math.sin(a), 0], [-math.sin(a), math.cos(a), 0], [0, 0, 1]], dtype=np.float64
    )
    m = rot @ shear
    if style.perspective is not None:
        s = h * 2.0  # reference square around the centre, displaced corners
        src = np.array([[-s, -s / 2], [s, -s / 2], [s, s / 2], [-s, s / 2]], dtype=np.float32)
        dst = src + style.perspective * h
        m = cv2.getPerspectiveTransform(src, dst.astype(np.float32)).astype(np.float64) @ m
    return m


def _homography(
    core: np.ndarray, cx: float, cy: float, ox: float, oy: float, scale: float = 1.0
) -> np.ndarray:
    """Text plane -> canvas: centre on (cx, cy), scale, ``core``, move to (ox, oy)."""
    t0 = np.array([[scale, 0, -cx * scale], [0, scale, -cy * scale], [0, 0, 1]], dtype=np.float64)
    t1 = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]], dtype=np.float64)
    return t1 @ core @ t0


def _extent(m: np.ndarray, half_w: float, half_h: float) -> tuple[float, float, float, float]:
    pts = np.array([[-half_w, -half_h, 1], [half_w, -half_h, 1], [half_w, half_h, 1], [-half_w, half_h, 1]]).T
    q = m @ pts
    q = q[:2] / q[2:]
    return float(q[0].min()), float(q[0].max()), float(q[1].min()), float(q[1].max())


@dataclass
class RenderedPair:
    """uint8 images (H, W, 3), float32 masks (H, W) in [0, 1], and the shared background."""

    images: list[np.ndarray]
    masks: list[np.ndarray]
    background: np.ndarray


# font sizes are rendered on this geometric grid (so glyph caches hit); the homography scales
# the result down to the exact size (by at most 20 %)
SIZE_GRID = tuple(sorted({round(8 * 1.25**k) for k in range(30) if 8 * 1.25**k <= 500}))


def _grid_size(size: float) -> int:
    for s in SIZE_GRID:
        if s >= size:
            return s
    return SIZE_GRID[-1]


def _fit_size(texts: list[str], style: Style, h: int, w: int, core: np.ndarray) -> float:
    """Font size (px) so that the longest text, transformed, fits the canvas with a margin.

    Text widths are measured once at 100 px and scaled (hinting makes that approximate; the
    margin absorbs it).
    """
    path = style.font.path
    a, d = ink_metrics(path, 100)
    wmax = max(text_width(path, 100, t, style.spacing * 100) for t in texts) / 100
    hm = (a + d) / 100
    size = style.text_height * h / hm
    margin = 0.06 * h
    m = core
    for _ in range(4):
        tw = wmax * size + 2 * style.bold_px + abs(style.slant) * hm * size + 2 * style.outline_px
        th = hm * size + 2 * style.bold_px + abs(style.curve) * h + 2 * style.outline_px
        x0, x1, y0, y1 = _extent(m, tw / 2, th / 2)
        k = min(1.0, (w - 2 * margin) / max(x1 - x0, 1.0), (h - 2 * margin) / max(y1 - y0, 1.0))
        if k >= 0.99:
            break
        size *= k * 0.99
    return max(6.0, size)


def render_pair(texts: list[str], style: Style) -> RenderedPair:
    """Draw each string of ``texts`` in ``style`` over the shared background (same geometry)."""
    h, w = style.background.shape[:2]
    core = _core(style, h)
    want = _fit_size(texts, style, h, w, core)
    path = style.font.path
    size = _grid_size(want)
    scale = want / size  # applied by the homography
    spacing_px = style.spacing * size
    a, d = ink_metrics(path, size)
    # free space from the longest text: same placement for every text
    widths = [text_width(path, size, t, spacing_px) for t in texts]
    tw = (max(widths) + 2 * style.bold_px) * scale
    x0, x1, y0, y1 = _extent(core, tw / 2, (a + d) * scale / 2 + abs(style.curve) * h / 2)
    free_x = max(0.0, w - (x1 - x0)) / 2 - 0.04 * h
    free_y = max(0.0, h - (y1 - y0)) / 2 - 0.04 * h
    ox = w / 2 - (x0 + x1) / 2 + style.jitter[0] * max(0.0, free_x)
    oy = h / 2 - (y0 + y1) / 2 + style.jitter[1] * max(0.0, free_y)
    pad = int(0.3 * size) + 2 * style.bold_px + 2 + int(abs(style.curve) * h / scale)

    bg = style.background
    if style.plate is not None or style.neighbours:  # the sign around the word: background
        bg = bg.copy()
        unit = (a + d) * scale  # the word's ink height on the canvas
        to_canvas = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]], dtype=np.float64) @ core
        half_w = (max(widths) + 2 * style.bold_px) * scale / 2
        if style.plate is not None:
            above = max((n.gap + n.size for n in style.neighbours if n.where == "above"), default=0.0)
            below = max((n.gap + n.size for n in style.neighbours if n.where == "below"), default=0.0)
            plate = style.plate
            if above or below:  # the plate holds the neighbouring lines too
                ml, mr, mt, mb = plate.margins
                plate = scene.Plate(plate.fill, (ml, mr, mt + above, mb + below), plate.radius, plate.borders)
            scene.draw_plate(bg, plate, np.linalg.inv(to_canvas), half_w, unit / 2, unit)
        for nb in style.neighbours:
            _draw_neighbour(bg, nb, style, core, (ox, oy), want, half_w, (a, d, size), (h, w))
    noise = style.noise
    bg_post = _post(bg, style, noise)
    images, masks = [], []
    for text, text_w in zip(texts, widths):
        plane, cx, cy = _draw_plane(text, path, size, style, spacing_px, pad, text_w)
        if style.curve:
            plane = _bend(plane, cx, style.curve * h / scale, w / 2 / scale)
        m = _homography(core, cx, cy, ox, oy, scale)
        alpha = cv2.warpPerspective(plane, m, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        img, mask = _composite(alpha, style, bg)
        if style.light is not None:
            img = scene.light(img, *style.light)
        if style.motion is not None:
            img, mask = scene.motion_blur(img, style.motion), scene.motion_blur(mask, style.motion)
        if style.blur_sigma:
            img = cv2.GaussianBlur(img, (0, 0), style.blur_sigma)
            mask = cv2.GaussianBlur(mask, (0, 0), style.blur_sigma)
        img, mask = _sensor(img, style), _sensor_mask(mask, style)
        if noise is not None:
            np.add(img, noise, out=img)
        out = _to_uint8(img)
        if style.jpeg_quality is not None:
            out = _jpeg(out, style.jpeg_quality)
            cv2.copyTo(bg_post, (mask == 0).view(np.uint8), out)
        images.append(out)
        masks.append(np.clip(mask, 0.0, 1.0))
    return RenderedPair(images=images, masks=masks, background=bg_post)


def _bend(plane: np.ndarray, cx: float, sag_px: float, half_span: float) -> np.ndarray:
    """Shift each column down by ``sag * ((x - cx) / half_span)^2 - sag/2`` (parabolic baseline)."""
    ph, pw = plane.shape
    xs = np.arange(pw, dtype=np.float32)
    dy = sag_px * ((xs - cx) / half_span) ** 2 - sag_px / 2
    map_x = np.broadcast_to(xs[None], (ph, pw))
    map_y = np.arange(ph, dtype=np.float32)[:, None] - dy[None]
    return cv2.remap(plane, np.ascontiguousarray(map_x), map_y.astype(np.float32), cv2.INTER_LINEAR)


def _blend(img: np.ndarray, color: np.ndarray, alpha: np.ndarray) -> None:
    """img += (color - img) * alpha, in place; alpha (H, W) is spread over the channels."""
    tmp = np.subtract(color, img)
    np.multiply(tmp, cv2.merge((alpha, alpha, alpha)), out=tmp)
    np.add(img, tmp, out=img)


def _draw_neighbour(
    bg: np.ndarray,
    nb: Neighbour,
    style: Style,
    core: np.ndarray,
    origin: tuple[float, float],
    want: float,
    half_w: float,
    word: tuple[int, int, int],
    hw: tuple[int, int],
) -> None:
    """Draw a neighbouring line or word into ``bg`` (in place), in the word's plane.

    ``want`` is the word's exact font size, ``half_w`` its half width on the canvas, ``word`` its
    ink ascent and descent at the grid size it was drawn at and that size; ``hw`` the canvas size.
    """
    h, w = hw
    a, d, size = word
    scale = want / size
    unit = (a + d) * scale
    n_want = want * nb.size
    n_size = _grid_size(n_want)
    n_scale = n_want / n_size
    na, nd = ink_metrics(nb.path, n_size)
    n_unit = (na + nd) * n_scale
    tw = text_width(nb.path, n_size, nb.text)
    pad = int(0.3 * n_size) + 2
    plane = np.zeros((na + nd + 2 * pad, math.ceil(tw) + 2 * pad), np.uint8)
    draw_text(plane, pad, pad + na, nb.path, n_size, nb.text)
    if style.bold_px and nb.color is None:
        k = 2 * style.bold_px + 1
        plane = np.asarray(cv2.dilate(plane, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))), np.uint8)
    cx, cy = pad + tw / 2, pad + na + (nd - na) / 2
    if nb.where in ("above", "below"):
        dy = (unit / 2 + nb.gap * unit + n_unit / 2) * (-1 if nb.where == "above" else 1)
        dx = nb.shift * w
    else:  # the same baseline
        dy = (a - d) / 2 * scale - (na - nd) / 2 * n_scale
        dx = (half_w + nb.gap * unit + tw * n_scale / 2) * (-1 if nb.where == "left" else 1)
    m = _homography(core, cx - dx / n_scale, cy - dy / n_scale, origin[0], origin[1], n_scale)
    alpha = cv2.warpPerspective(plane, m, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    if nb.color is not None:
        _blend(bg, _solid(nb.color, h, w), alpha)
        return
    if style.outline_px:  # the word's own look: its outline and fill
        assert style.outline_color is not None
        k = 2 * style.outline_px + 1
        outline = cv2.dilate(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        _blend(bg, _solid(style.outline_color, h, w), outline)
    _blend(bg, style.fill, alpha)


def _sensor(img: np.ndarray, style: Style) -> np.ndarray:
    """Resolution loss and colour bleeding (after blur, before noise)."""
    if style.resample is not None:
        img = scene.resample(img, style.resample)
    if style.chroma is not None:
        img = scene.chroma_bleed(img, style.chroma)
    return img


def _sensor_mask(mask: np.ndarray, style: Style) -> np.ndarray:
    """The mask through :func:`_sensor`: it still covers every pixel the text changed."""
    if style.resample is not None:
        mask = scene.resample(mask, style.resample)
    if style.chroma is not None:
        mask = np.maximum(mask, scene.resample(mask, style.chroma))
    return mask


def _composite(alpha: np.ndarray, style: Style, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shadow, outline and fill over the background; returns (image, foreground coverage)."""
    img = background.copy()
    cover = alpha
    outline = alpha
    if style.outline_px:
        k = 2 * style.outline_px + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        outline = cover = cv2.dilate(alpha, kernel)
    if style.shadow is not None:
        dx, dy, blur, opacity = style.shadow
        shift = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
        sh = cv2.warpAffine(cover, shift, (cover.shape[1], cover.shape[0]))
        if blur > 0.1:
            sh = cv2.GaussianBlur(sh, (0, 0), blur)
        sh *= np.float32(opacity)
        assert style.shadow_color is not None
        _blend(img, _solid(style.shadow_color, *sh.shape), sh)
        cover = np.maximum(cover, sh)
    if style.outline_px:
        assert style.outline_color is not None
        _blend(img, _solid(style.outline_color, *outline.shape), outline)
    _blend(img, style.fill, alpha)
    return img, cover


def _post(img: np.ndarray, style: Style, noise: np.ndarray | None) -> np.ndarray:
    """The background's post-processing (what the composite gets, minus the text)."""
    out = img
    if style.light is not None:
        out = scene.light(out, *style.light)
    if style.motion is not None:
        out = scene.motion_blur(out, style.motion)
    if style.blur_sigma:
        out = cv2.GaussianBlur(out, (0, 0), style.blur_sigma)
    out = _sensor(out, style)
    if noise is not None:
        out = out + noise
    u8 = _to_uint8(out)
    if style.jpeg_quality is not None:
        u8 = _jpeg(u8, style.jpeg_quality)
    return u8


def _to_uint8(img: np.ndarray) -> np.ndarray:
    """[0, 1] float -> uint8, rounded and saturated."""
    x = np.multiply(img, np.float32(255.0))
    x += np.float32(0.5)
    np.clip(x, 0, 255, out=x)
    return x.astype(np.uint8)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 RGB
        return img
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), np.uint8)
