"""Photos in and out of the editor: decoding (EXIF orientation, animations, size limits), the mode
the result is written in (RGB, RGBA, grey, 16-bit grey, 32-bit float grey) and writing it.

Wide photos: 16-bit grey is edited as grey and written as 16-bit; a 32-bit integer photo whose
values fit 16 bits likewise (one with larger values is refused: they would wrap); a float photo
(TIFF, Pillow's mode F: 0..1, 0..255 or 0..65535) is edited in its own scale and written as float
TIFF. 16-bit colour is read by Pillow as 8-bit: :data:`WIDE_COLOUR` in the photo's ``info`` says
so, and the command line tells the user.

Writing (:func:`save_image`) goes through a temporary file and a rename (``--out`` may be the
photo itself: a full disk leaves it whole), with the photo's colour profile and EXIF; a JPEG
written over a JPEG reuses its quantization tables and subsampling (the untouched pixels stay as
close as a re-encoding allows), any other JPEG is written at quality 95.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tsb.errors import EditError, ImageTooLarge
from tsb.utils.io import atomic_write, why_not_a_file

WIDE_GREY = ("I;16", "I;16B", "I;16L", "I")  # 16-bit grey (PNG): edited as grey, written as 16-bit
#: ``info`` key set on a photo whose file has 16 bits per colour channel (Pillow reads 8)
WIDE_COLOUR = "tsb_16_bit_colour"
#: ``info`` key holding a JPEG's quantization tables and subsampling (to write it back alike)
JPEG_TABLES = "tsb_jpeg_tables"
#: the file name suffixes the editor writes, by format
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}


def open_image(path: str | Path) -> Image.Image:
    """Open a photo as displayed (EXIF orientation applied); the file is read fully."""
    p = Path(path)
    problem = why_not_a_file(p)
    if problem is not None:
        raise EditError(f"image {p} {problem}; give a photo file (.png, .jpg, .tif)")
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
            rawmode = img.tile[0][3] if img.tile else None
            img.load()
            tables = _jpeg_tables(img)
            out = ImageOps.exif_transpose(img)
    except Image.DecompressionBombError as e:
        raise ImageTooLarge(
            f"image {name} is too large for Pillow's safety limit ({e}); downscale it first"
        ) from None
    except (UnidentifiedImageError, OSError) as e:
        raise EditError(f"cannot read {name} as an image ({e})") from None
    if isinstance(rawmode, str) and out.mode in ("RGB", "RGBA") and ";16" in rawmode:
        out.info[WIDE_COLOUR] = True
    if tables is not None:
        out.info[JPEG_TABLES] = tables
    _check_range(out, name)
    return out


def _jpeg_tables(img: Image.Image) -> dict[str, object] | None:
    """A JPEG's quantization tables and subsampling, to write it again alike."""
    tables = getattr(img, "quantization", None)
    if img.format != "JPEG" or not tables:
        return None
    from PIL import JpegImagePlugin

    return {"qtables": tables, "subsampling": JpegImagePlugin.get_sampling(img)}


def _check_range(img: Image.Image, name: str) -> None:
    """Refuse 32-bit pixels this editor cannot keep: integers past 16 bits, floats not finite or
    past 0..65535."""
    if img.mode not in ("I", "F"):
        return
    arr = np.asarray(img)
    if img.mode == "F" and not np.isfinite(arr).all():
        raise EditError(f"image {name} is a float image with NaN or infinite pixels; fix those pixels first")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > 65535:
        kind = "32-bit integer" if img.mode == "I" else "float"
        raise EditError(
            f"image {name} is {kind} grey with values from {lo:g} to {hi:g}; this editor keeps 16 bits "
            "(0 to 65535): scale it into that range first (e.g. to a 16-bit PNG)"
        )


def float_scale(img: Image.Image) -> float:
    """What a float photo's values are divided by to make 8-bit ones: 1/255 for 0..1, 1 for 0..255,
    257 for 0..65535."""
    hi = float(np.asarray(img).max()) if img.size[0] * img.size[1] else 0.0
    return 1 / 255 if hi <= 1 else 1.0 if hi <= 255 else 257.0


def working_mode(img: Image.Image) -> str:
    """The mode the result is written in: RGB, RGBA (alpha kept), L (grey kept), I;16 (16-bit
    grey kept) or F (float grey kept)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return "RGBA"
    if img.mode in ("L", "1"):
        return "L"
    if img.mode in WIDE_GREY:
        return "I;16"
    if img.mode == "F":
        return "F"
    return "RGB"


def as_rgb(img: Image.Image) -> Image.Image:
    """The photo as 8-bit RGB for the network (16-bit grey scaled down, not clipped to white)."""
    if img.mode in WIDE_GREY or img.mode == "F":
        scale = 257.0 if img.mode in WIDE_GREY else float_scale(img)
        grey = np.asarray(img).astype(np.float64) / scale
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
    if mode == "F":
        values = np.asarray(original).astype(np.float32)
        edited = np.asarray(result.convert("L")).astype(np.float32) * np.float32(float_scale(original))
        return Image.fromarray(np.where(changed, edited, values).astype(np.float32), mode="F")
    if mode == "RGBA":
        alpha = np.asarray(original.convert("RGBA"))[..., 3]
        return Image.fromarray(np.dstack([np.asarray(result), alpha]), mode="RGBA")
    grey = np.asarray(original.convert("L")).copy()
    grey[changed] = np.asarray(result.convert("L"))[changed]
    return Image.fromarray(grey, mode="L")


def output_format(path: str | Path, mode: str) -> str:
    """The format ``path`` is written in for a result of ``mode`` (:func:`working_mode`), or one
    :class:`EditError` naming the fix (checked before the model loads)."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise EditError(f"--out {p}: not an image file name this editor writes; end it with .png, .jpg or .tif")
    if p.is_dir():
        raise EditError(f"--out {p} is a folder; give the file name to write (e.g. edited.png)")
    if not p.parent.is_dir():
        raise EditError(f"the output folder {p.parent} does not exist")
    if mode == "F" and fmt != "TIFF":
        raise EditError(
            f"--out {p}: the photo is a float image (32 bits a pixel); write it as .tif to keep its values"
        )
    return fmt


def save_image(img: Image.Image, path: str | Path, like: Image.Image | None = None) -> Path:
    """Write ``img`` to ``path`` (its format from the suffix) through a temporary file and a rename,
    with ``like``'s colour profile and EXIF (the photo it was edited from); a JPEG written from a
    JPEG ``like`` reuses its quantization tables and subsampling."""
    p = Path(path)
    fmt = output_format(p, img.mode)
    info = like.info if like is not None else {}
    params: dict[str, object] = {}
    if info.get("icc_profile") and fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
        params["icc_profile"] = info["icc_profile"]
    if info.get("exif") and fmt in ("PNG", "JPEG", "WEBP"):
        params["exif"] = info["exif"]
    if fmt == "JPEG":
        if img.mode == "RGBA":
            img = img.convert("RGB")
        if img.mode.startswith("I"):
            img = Image.fromarray(np.clip(np.asarray(img) / 257.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
        tables = info.get(JPEG_TABLES)
        params.update(tables if isinstance(tables, dict) else {"quality": 95})
    try:
        atomic_write(p, lambda f: img.save(f, format=fmt, **params))
    except OSError as e:
        kept = "the file there is unchanged" if p.exists() else "nothing was written"
        raise EditError(
            f"cannot write {p} ({e.strerror or e}); {kept}. Free space on that disk, or give --out a folder "
            "you can write to",
            exit_code=1,
        ) from None
    except (ValueError, KeyError, TypeError) as e:  # the format refuses the mode or a parameter
        raise EditError(f"cannot write a {img.mode} image as {fmt} ({e}); use a .png or .tif file name") from None
    return p
