"""Image metrics between generated images and ground truth, on [0, 1] pixels.

Four numbers, each computed per image and then averaged over the data set:

- ``mse``: mean squared error over all pixels and channels, images in [0, 1].
- ``psnr``: ``10 log10(1 / MSE)`` per image (torchmetrics, ``data_range=1``), then averaged.
  Images whose MSE is exactly 0 (PSNR infinite) are left out of the PSNR mean, as the MOSTEL
  evaluation script does; ``mse`` still counts them.
- ``ssim``: the standard single-scale SSIM of Wang et al. (2004) from torchmetrics: RGB, Gaussian
  window 11x11 with sigma 1.5, ``data_range=1``, K1=0.01, K2=0.03, mean over channels and pixels
  (torchmetrics pads by reflection, so border pixels count too).
- ``ssim_mostel``: what the MOSTEL evaluation script (``evaluation.py`` in qqqyd/MOSTEL, also used
  by later scene-text-editing papers) reports as "SSIM", reproduced to match its tables. It is
  meant to be multi-scale SSIM (Wang et al. 2003) on the luminance ``Y = .299 R + .587 G + .114 B``
  scaled to 0..255, with an ``min(H, 11)``-wide Gaussian window (sigma 1.5) applied in 'valid' mode
  and MS-SSIM's five weights. In that script the downsampled images are assigned to names the loop
  never reads, so all five "scales" are the full-resolution image and the value is in fact
  ``cs ** (w0 + w1 + w2 + w3) * ssim ** w4`` (signs kept as the script does), with ``cs`` and
  ``ssim`` the mean contrast-structure and SSIM maps at full resolution. We compute exactly that,
  so our ``ssim_mostel`` compares with published numbers; ``ssim`` is the textbook metric.

Inputs are float tensors (B, 3, H, W) in [0, 1]; :func:`match_size` resizes a prediction to the
ground truth's size (bicubic, as the MOSTEL script does) before comparing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

# MS-SSIM weights (Wang et al. 2003), as in the MOSTEL script.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
IMAGE_METRIC_KEYS = ("mse", "psnr", "ssim", "ssim_mostel")
#: the standard SSIM's window: images compared must be at least this many pixels high and wide
SSIM_WINDOW = 11


def _check_pair(pred: Tensor, target: Tensor) -> None:
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(
            f"image metrics need two (B, C, H, W) tensors of one shape, got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}; resize the prediction with tsb.metrics.image.match_size first"
        )


def match_size(pred: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize ``pred`` (B, C, H, W) in [0, 1] to ``size`` = (H, W) with bicubic interpolation."""
    if tuple(pred.shape[-2:]) == tuple(size):
        return pred
    return F.interpolate(pred, size=size, mode="bicubic", align_corners=False).clamp(0.0, 1.0)


def mse(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image mean squared error, (B,)."""
    _check_pair(pred, target)
    return (pred.double() - target.double()).pow(2).flatten(1).mean(1)


def psnr(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image PSNR in dB for [0, 1] images, (B,); ``inf`` where the images are identical."""
    _check_pair(pred, target)
    return peak_signal_noise_ratio(
        pred.double(), target.double(), data_range=1.0, reduction="none", dim=(1, 2, 3)
    ).reshape(-1)


def ssim(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image standard SSIM (torchmetrics, RGB, 11x11 Gaussian, sigma 1.5), (B,)."""
    _check_pair(pred, target)
    # float32 (as torchmetrics defaults to): CPU convolutions in float64 are about 15x slower;
    # values agree with float64 to about 1e-4 relative in the worst case (flat images)
    out = structural_similarity_index_measure(pred.float(), target.float(), data_range=1.0, reduction="none")
    assert isinstance(out, Tensor)
    return out.reshape(-1)


def luminance(x: Tensor) -> Tensor:
    """ITU-R BT.601 luma of an RGB batch (B, 3, H, W) -> (B, 1, H, W)."""
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def gaussian_window(size: int, sigma: float = 1.5) -> Tensor:
    """MATLAB's ``fspecial('gaussian', size, sigma)``, normalised to sum 1, float64 (size, size)."""
    ax = torch.arange(-size // 2 + 1, size // 2 + 1, dtype=torch.float64)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    g = torch.exp(-(xx**2 + yy**2) / (2.0 * sigma**2))
    return g / g.sum()


def ssim_and_cs_valid(
    x: Tensor, y: Tensor, data_range: float = 255.0, sigma: float = 1.5
) -> tuple[Tensor, Tensor]:
    """Mean SSIM and mean contrast-structure term per image of one-channel images (B, 1, H, W).

    The window is ``min(H, 11)`` wide and is applied in 'valid' mode (no padding), as in the
    MATLAB reference ``ssim_index.m`` and the MOSTEL script.
    """
    size = min(x.shape[-2], 11)
    if size > x.shape[-1]:
        raise ValueError(f"image of size {tuple(x.shape[-2:])} is narrower than the {size}-pixel SSIM window")
    # float32 filtering (float64 CPU convolutions are about 15x slower). Second moments are taken
    # around each image's mean, which is exact in maths and keeps float32 cancellation small.
    win = gaussian_window(size, sigma).to(device=x.device, dtype=torch.float32)[None, None]
    x = x.double()
    y = y.double()
    mx = x.mean(dim=(1, 2, 3), keepdim=True)
    my = y.mean(dim=(1, 2, 3), keepdim=True)
    xc = (x - mx).float()
    yc = (y - my).float()
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    d1 = F.conv2d(xc, win).double()
    d2 = F.conv2d(yc, win).double()
    s1 = F.conv2d(xc * xc, win).double() - d1 * d1
    s2 = F.conv2d(yc * yc, win).double() - d2 * d2
    s12 = F.conv2d(xc * yc, win).double() - d1 * d2
    mu1 = d1 + mx
    mu2 = d2 + my
    mu1_sq, mu2_sq, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    cs_map = (2.0 * s12 + c2) / (s1 + s2 + c2)
    ssim_map = ((2.0 * mu12 + c1) / (mu1_sq + mu2_sq + c1)) * cs_map
    return ssim_map.flatten(1).mean(1), cs_map.flatten(1).mean(1)


def ssim_mostel(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image "SSIM" exactly as the MOSTEL evaluation script computes it, (B,). See module doc."""
    _check_pair(pred, target)
    y_pred = luminance(pred.double()) * 255.0
    y_true = luminance(target.double()) * 255.0
    s, cs = ssim_and_cs_valid(y_true, y_pred)  # the script passes (ground truth, output)
    w = torch.tensor(MS_SSIM_WEIGHTS, dtype=torch.float64, device=s.device)
    # five "levels", all at full resolution (see module doc): cs for the first four, ssim last
    cs_part = (torch.sign(cs) ** 4) * cs.abs() ** w[:4].sum()
    return cs_part * torch.sign(s) * s.abs() ** w[4]


class ImageMetrics:
    """Accumulates per-image values of every image metric; :meth:`compute` averages them."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {k: [] for k in IMAGE_METRIC_KEYS}

    def update(self, pred: Tensor, target: Tensor) -> dict[str, Tensor]:
        """Add a batch: ``pred`` is resized to ``target``'s size first. Returns the per-image values."""
        pred = match_size(pred.float(), (target.shape[-2], target.shape[-1]))
        target = target.float()
        out = {"mse": mse(pred, target), "psnr": psnr(pred, target), "ssim": ssim(pred, target)}
        out["ssim_mostel"] = ssim_mostel(pred, target)
        for k, v in out.items():
            self.values[k].extend(float(t) for t in v.cpu())
        return out

    def __len__(self) -> int:
        return len(self.values["mse"])

    def compute(self) -> dict[str, float | None]:
        """Averages; ``None`` for a metric with no finite value (e.g. PSNR when every pair is identical)."""
        out: dict[str, float | None] = {}
        for k, vals in self.values.items():
            finite = [v for v in vals if math.isfinite(v)]
            out[k] = sum(finite) / len(finite) if finite else None
        return out
