"""Colour maths shared by the photo steps: sRGB -> CIELAB and a small deterministic k-means."""

from __future__ import annotations

import torch
from torch import Tensor

#: the sRGB D65 white point of CIELAB
_WHITE = (0.95047, 1.0, 1.08883)
_RGB_TO_XYZ = (
    (0.4124564, 0.3575761, 0.1804375),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339, 0.1191920, 0.9503041),
)


def rgb_to_lab(image: Tensor) -> Tensor:
    """(B, 3, H, W) sRGB in [-1, 1] -> CIELAB (B, 3, H, W): L in [0, 100], a and b about [-128, 127]."""
    rgb = ((image.float() + 1) / 2).clamp(0, 1)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = torch.tensor(_RGB_TO_XYZ, dtype=linear.dtype, device=linear.device)
    xyz = torch.einsum("ij,bjhw->bihw", m, linear)
    xyz = xyz / torch.tensor(_WHITE, dtype=xyz.dtype, device=xyz.device)[:, None, None]
    eps = (6 / 29) ** 3
    f = torch.where(xyz > eps, xyz.clamp_min(eps) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)


def kmeans(points: Tensor, k: int, iters: int = 10) -> Tensor:
    """Centres (<= k, D) of ``points`` (N, D): farthest-point initialisation, then Lloyd steps
    (deterministic: the first centre is the points' mean's nearest point)."""
    if points.ndim != 2 or len(points) == 0:
        raise ValueError(f"kmeans needs (N, D) points with N > 0, got {tuple(points.shape)}")
    first = torch.cdist(points.mean(0, keepdim=True), points).argmin()
    centres = points[first][None]
    dist = torch.cdist(points, centres).squeeze(1)
    for _ in range(min(k, len(points)) - 1):
        far = dist.argmax()
        if dist[far] <= 0:
            break
        centres = torch.cat([centres, points[far][None]])
        dist = torch.minimum(dist, torch.cdist(points, points[far][None]).squeeze(1))
    for _ in range(iters):
        owner = torch.cdist(points, centres).argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, owner, points)
        counts = torch.bincount(owner, minlength=len(centres)).to(points.dtype)[:, None]
        centres = torch.where(counts > 0, sums / counts.clamp_min(1), centres)
    return centres
