"""Hole filling: pull-push with optional multigrid smoothing (the eraser's fill, source colours, extrusion sides)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from tsb.errors import ConfigError


def _smooth(image: Tensor) -> Tensor:
    """3x3 mean with replicated borders (one Jacobi step of the Laplace equation)."""
    return F.avg_pool2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


def pull_push(image: Tensor, weight: Tensor, smooth: int = 0) -> Tensor:
    """Fill ``image`` where ``weight`` is 0 from where it is 1 (pull-push, Gortler et al. 1996).

    Pull: a pyramid of weighted means (2x2 average pooling of ``image * weight`` and ``weight``).
    Push: from the coarsest level down, each level keeps its own mean in proportion to its
    weight and takes the coarser level's (bilinearly upsampled) for the rest. Pixels of weight 1
    are returned unchanged; a hole gets a smooth blend of the colours around it. Differentiable
    in both arguments; an all-zero weight gives 0.

    Plain pull-push fills the inside of a letter-shaped hole from a coarser level than the gaps
    between the letters, so where the background has two colours (a sign's edge, a photo) the
    fill keeps the old word's shapes in a blend of them. ``smooth`` > 0 adds that many Jacobi
    steps of the Laplace equation at every level after the push (a multigrid solve: the hole
    becomes the harmonic interpolation of its border, each pixel taking the colours nearest to
    it), which removes those shapes at a cost of ``smooth`` 3x3 means per level.

    Args:
        image: (B, C, H, W).
        weight: (B, 1, H, W) in [0, 1], how much each pixel is known.
        smooth: Jacobi steps per pyramid level (0: plain pull-push).
    """
    if weight.ndim != 4 or weight.shape[1] != 1 or weight.shape[-2:] != image.shape[-2:]:
        raise ConfigError(f"pull_push weight must be (B, 1, H, W) of the image; got {tuple(weight.shape)}")
    if smooth < 0:
        raise ConfigError(f"pull_push smooth must be >= 0 steps, got {smooth}")
    weight = weight.clamp(0, 1)
    levels = [(image * weight, weight)]
    while max(levels[-1][1].shape[-2:]) > 1:
        x, w = levels[-1]
        levels.append((F.avg_pool2d(x, 2, ceil_mode=True), F.avg_pool2d(w, 2, ceil_mode=True)))
    x, w = levels[-1]
    fill = x / w.clamp_min(1e-6)
    for x, w in reversed(levels[:-1]):
        up = F.interpolate(fill, size=x.shape[-2:], mode="bilinear", align_corners=False)
        # own weighted mean where known (x is premultiplied: x / w * w), the coarser fill elsewhere
        unknown = 1 - w
        fill = x + unknown * up
        for _ in range(smooth):
            fill = x + unknown * _smooth(fill)
    return fill
