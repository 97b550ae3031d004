"""Conversions between the three image conventions used in the project.

- model tensors: float, [-1, 1], (C, H, W) or (B, C, H, W)
- unit tensors: float, [0, 1] (metrics, saving)
- PIL images / uint8 numpy arrays (files)
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor


def to_unit(x: Tensor) -> Tensor:
    """[-1, 1] -> [0, 1], clamped."""
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)


def tensor_digest(x: Tensor) -> str:
    """A digest of a tensor's shape, dtype and exact values (a key for results computed from it)."""
    x = x.detach().cpu().contiguous()
    h = hashlib.sha1(f"{tuple(x.shape)}{x.dtype}".encode())
    h.update(x.numpy().tobytes())
    return h.hexdigest()


def pixel_digest(unit: Tensor) -> str:
    """A digest of the 8-bit image an image (C, H, W) in [0, 1] is saved as: the key under which
    metrics keep what they computed for an image they may see again (FID features, OCR readings)."""
    return tensor_digest((unit.detach().float().clamp(0, 1) * 255).round().to(torch.uint8))


def from_unit(x: Tensor) -> Tensor:
    """[0, 1] -> [-1, 1]."""
    return x * 2.0 - 1.0


def pil_to_tensor(img: Image.Image, mode: str = "RGB") -> Tensor:
    """PIL image -> float tensor (C, H, W) in [-1, 1]. ``mode`` is "RGB" or "L"."""
    arr = np.asarray(img.convert(mode), dtype=np.float32) / 127.5 - 1.0
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(arr))


def tensor_to_pil(x: Tensor) -> Image.Image:
    """Float tensor (C, H, W) in [-1, 1] -> PIL image (RGB or L)."""
    arr = (to_unit(x.detach().float().cpu()) * 255.0 + 0.5).clamp(0, 255).to(torch.uint8)
    np_arr = arr.permute(1, 2, 0).numpy()
    if np_arr.shape[2] == 1:
        return Image.fromarray(np_arr[:, :, 0], mode="L")
    return Image.fromarray(np_arr, mode="RGB")


def grow_mask(mask: Tensor, pixels: int) -> Tensor:
    """``mask`` (B, C, H, W) grown by ``pixels`` (a square max-pool), or shrunk for ``pixels`` < 0
    (a min-pool); 0 returns it unchanged."""
    if pixels == 0:
        return mask
    r = abs(int(pixels))
    if pixels > 0:
        return F.max_pool2d(mask, 2 * r + 1, stride=1, padding=r)
    return -F.max_pool2d(-mask, 2 * r + 1, stride=1, padding=r)


def stroke_width(on: Tensor) -> Tensor:
    """The mean stroke width in pixels of the ink ``on`` (B, 1, H, W) bool, per sample (B,): twice
    its area over the length of its outline (the ink/background pixel sides), which is a stroke's
    width for any stroke much longer than wide; 0 where there is no ink."""
    x = F.pad(on.float(), (1, 1, 1, 1))
    sides = (x[..., 1:, :] != x[..., :-1, :]).flatten(1).sum(1) + (x[..., :, 1:] != x[..., :, :-1]).flatten(1).sum(1)
    return 2 * on.flatten(1).float().sum(1) / sides.float().clamp_min(1)


def middle_line(on: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """The connected parts (8-neighbours) of ``on`` (H, W) bool that reach its middle row (the line
    a word's crop is centred on, not the lines above and below that the crop cuts): those parts
    (H, W) bool, and the first and last rows they span; None when no part reaches it."""
    from scipy import ndimage

    labels, _ = ndimage.label(on, structure=np.ones((3, 3), bool))
    h = on.shape[0]
    middle = np.setdiff1d(np.unique(labels[(h - 1) // 2 : h // 2 + 1]), [0])
    if not len(middle):
        return None
    parts = np.isin(labels, middle)
    rows = np.nonzero(parts.any(axis=1))[0]
    return parts, int(rows.min()), int(rows.max())


def pad_to_width(x: Tensor, width: int) -> Tensor:
    """Pad the last dimension to ``width`` by repeating the last column (EasyOCR's NormalizePAD)."""
    extra = width - x.shape[-1]
    if extra <= 0:
        return x
    flat = F.pad(x.reshape(-1, 1, x.shape[-1]), (0, extra), mode="replicate")
    return flat.reshape(*x.shape[:-1], width)
