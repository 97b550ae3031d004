"""Photos in and out of the editor: decoding (EXIF orientation, animations, size limits), the mode
the result is written in (RGB, RGBA, grey, 16-bit grey) and writing it."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tsb.errors import EditError, ImageTooLarge

WIDE_GREY = ("I;16", "I;16B", "I;16L", "I")  # 16-bit grey (PNG): edited as grey, written as 16-bit


def open_image(path: str | Path) -> Image.Image:
    """Open a photo as displayed (EXIF orientation applied); the file is read fully."""
    p = Path(path)
    if not p.is_file():
        raise EditError(f"image {p} does not exist")
    return decode_image(p, str(p))


def decode_image(source: str | Path | BinaryIO, name: str, max_pixels: int | None = None) -> Image.Image:
    """A photo from a file or a stream, as displayed; ``name`` is what messages call it.

    Refused with one message: anything Pillow cannot read as an image, an animation, and an image
    of more than ``max_pixels`` pixels (checked from the header, before decoding).
    """
    try:
        with Image.open(source) as img:
            frames = int(getattr(img, "n_frames", 1))
            if frames > 1:
                raise EditError(
                    f"image {name} has {frames} frames (an animation); edit one frame: save it as a PNG first"
                )
            if max_pixels is not None and img.width * img.height > max_pixels:
                raise ImageTooLarge(
                    f"image {name} is {img.width}x{img.height} pixels, over the limit of "
                    f"{max_pixels / 1e6:g} megapixels; downscale it first"
                )
            img.load()
            return ImageOps.exif_transpose(img)
    except Image.DecompressionBombError as e:
        raise ImageTooLarge(
            f"image {name} is too large for Pillow's safety limit ({e}); downscale it first"
        ) from None
    except (UnidentifiedImageError, OSError) as e:
        raise EditError(f"cannot read {name} as an image ({e})") from None


def working_mode(img: Image.Image) -> str:
    """The mode the result is written in: RGB, RGBA (alpha kept) or L (grey kept)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return "RGBA"
    if img.mode in ("L", "1"):
        return "L"
    if img.mode in WIDE_GREY:
        return "I;16"
    return "RGB"


def as_rgb(img: Image.Image) -> Image.Image:
    """The photo as 8-bit RGB for the network (16-bit grey scaled down, not clipped to white)."""
    if img.mode in WIDE_GREY:
        grey = np.asarray(img).astype(np.float64) / 257.0
        return Image.fromarray(np.clip(grey + 0.5, 0, 255).astype(np.uint8), mode="L").convert("RGB")
    return img.convert("RGB")


def restore_mode(
    result: Image.Image, original: Image.Image, mode: str, base: np.ndarray, out: np.ndarray
) -> Image.Image:
    """Back to the input's mode family; untouched pixels keep their original values exactly."""
    if mode == "RGB":
        return result
    changed = np.any(out != base, axis=2)
    if mode == "I;16":
        wide = np.asarray(original).astype(np.int64)
        edited = np.asarray(result.convert("L")).astype(np.int64) * 257
        return Image.fromarray(np.where(changed, edited, wide).astype(np.uint16))
    if mode == "RGBA":
        alpha = np.asarray(original.convert("RGBA"))[..., 3]
        return Image.fromarray(np.dstack([np.asarray(result), alpha]), mode="RGBA")
    grey = np.asarray(original.convert("L")).copy()
    grey[changed] = np.asarray(result.convert("L"))[changed]
    return Image.fromarray(grey, mode="L")


def save_image(img: Image.Image, path: str | Path) -> Path:
    p = Path(path)
    if p.parent and not p.parent.exists():
        raise EditError(f"the output folder {p.parent} does not exist")
    if p.suffix.lower() in (".jpg", ".jpeg") and img.mode == "RGBA":
        img = img.convert("RGB")
    if p.suffix.lower() in (".jpg", ".jpeg") and img.mode.startswith("I"):
        img = Image.fromarray(np.clip(np.asarray(img) / 257.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    try:
        img.save(p)
    except (ValueError, OSError) as e:
        raise EditError(f"cannot write {p} ({e}); use a .png or .jpg file name") from None
    return p
