"""Reading real images and bringing them to the model's size (shared by the real-data loaders).

- :func:`load_rgb`: any file PIL opens (PNG with or without alpha, JPEG, palette, grey, 16-bit),
  EXIF orientation applied, transparent pixels composited over white; a clear error otherwise.
- :func:`fit_height`: resize to the model height; the width either fixed (stretch, the common
  64x256 evaluation protocol) or following the aspect ratio (a multiple of ``multiple``).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from tsb.errors import ConfigError, ImageReadError

__all__ = ["ImageReadError", "aspect_width", "check_width", "fit_height", "load_rgb", "to_rgb"]


def load_rgb(path: str | Path) -> Image.Image:
    """Open ``path`` as an RGB image (alpha composited over white, EXIF rotation applied)."""
    try:
        with Image.open(path) as im:
            im.load()
            img = ImageOps.exif_transpose(im) or im
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ImageReadError(f"cannot read image {path}: {e}; is it a PNG/JPEG file?") from e
    return to_rgb(img)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparency is composited over white."""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        img = img.point(lambda v: v / 256).convert("L")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def aspect_width(
    size: tuple[int, int], height: int, multiple: int = 16, min_width: int = 16, max_width: int = 1024
) -> int:
    """The width that keeps the aspect of ``size`` (w, h) at ``height``, rounded to ``multiple``."""
    w, h = size
    raw = w * height / max(h, 1)
    out = max(multiple, round(raw / multiple) * multiple)
    return int(min(max_width, max(min_width, out)))


def fit_height(
    img: Image.Image, height: int, width: int | None = None, multiple: int = 16, max_width: int = 1024
) -> Image.Image:
    """Resize to ``height``; to ``width`` when given (aspect not kept), else following the aspect."""
    w = width if width is not None else aspect_width(img.size, height, multiple, multiple, max_width)
    if img.size == (w, height):
        return img
    shrink = min(w / img.size[0], height / img.size[1])
    resample = Image.Resampling.BOX if shrink < 0.5 else Image.Resampling.BICUBIC
    return img.resize((w, height), resample)


def check_width(width: int | None) -> None:
    if width is not None and (width < 16 or width % 16):
        raise ConfigError(f"data.width must be null or a multiple of 16 >= 16, got {width}")


def ceil16(x: float) -> int:
    return max(16, math.ceil(x / 16) * 16)
