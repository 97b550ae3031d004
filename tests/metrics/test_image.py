"""Image metrics against values computed independently (numpy / scipy formulas) on known images."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import signal

from tsb.metrics.image import (
    IMAGE_METRIC_KEYS,
    ImageMetrics,
    match_size,
    mse,
    psnr,
    ssim,
    ssim_mostel,
)


def _rand(seed: int, shape: tuple[int, ...] = (2, 3, 24, 40)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g)


def test_mse_and_psnr_match_numpy() -> None:
    a, b = _rand(0), _rand(1)
    an, bn = a.numpy().astype(np.float64), b.numpy().astype(np.float64)
    ref_mse = ((an - bn) ** 2).reshape(2, -1).mean(1)
    np.testing.assert_allclose(mse(a, b).numpy(), ref_mse, rtol=1e-6)
    np.testing.assert_allclose(psnr(a, b).numpy(), 10 * np.log10(1.0 / ref_mse), rtol=1e-6)


def test_psnr_of_a_known_offset() -> None:
    # constant offset 0.1 everywhere: MSE = 0.01, PSNR = 20 dB exactly
    a = torch.full((1, 3, 16, 16), 0.5)
    assert float(mse(a, a + 0.1)) == pytest.approx(0.01)
    assert float(psnr(a, a + 0.1)) == pytest.approx(20.0)


def _ssim_constant(a: float, b: float, data_range: float) -> float:
    c1 = (0.01 * data_range) ** 2
    # constant images: variances and covariance are 0, the structure term is C2 / C2 = 1
    return (2 * a * b + c1) / (a * a + b * b + c1)


def test_ssim_on_constant_images_by_hand() -> None:
    x = torch.full((1, 3, 32, 32), 0.2)
    y = torch.full((1, 3, 32, 32), 0.7)
    assert float(ssim(x, y)) == pytest.approx(_ssim_constant(0.2, 0.7, 1.0), rel=2e-4)  # float32 filtering
    assert float(ssim(x, x)) == pytest.approx(1.0)


def _gauss(size: int, sigma: float = 1.5) -> np.ndarray:
    ax = np.arange(size) - (size - 1) / 2
    g = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def _ssim_maps(x: np.ndarray, y: np.ndarray, win: np.ndarray, L: float) -> tuple[np.ndarray, np.ndarray]:
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2

    def f(z: np.ndarray) -> np.ndarray:
        return signal.fftconvolve(z, win, mode="valid")

    m1, m2 = f(x), f(y)
    s1, s2, s12 = f(x * x) - m1**2, f(y * y) - m2**2, f(x * y) - m1 * m2
    cs = (2 * s12 + c2) / (s1 + s2 + c2)
    return ((2 * m1 * m2 + c1) / (m1**2 + m2**2 + c1)) * cs, cs


def test_ssim_matches_reference_with_reflect_padding() -> None:
    # torchmetrics: reflect-pad by 5, valid 11x11 Gaussian, mean over channels and all pixels
    a, b = _rand(2, (1, 3, 20, 30)), _rand(3, (1, 3, 20, 30))
    win = _gauss(11)
    vals = []
    for c in range(3):
        x = np.pad(a[0, c].numpy().astype(np.float64), 5, mode="reflect")
        y = np.pad(b[0, c].numpy().astype(np.float64), 5, mode="reflect")
        m, _ = _ssim_maps(x, y, win, 1.0)
        vals.append(m.mean())
    assert float(ssim(a, b)) == pytest.approx(float(np.mean(vals)), abs=1e-5)


def _mostel_reference(pred: np.ndarray, gt: np.ndarray) -> float:
    """The MOSTEL script's computation, written from its description (luma*255, valid window, weights)."""
    w = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
    y_gt = (0.299 * gt[0] + 0.587 * gt[1] + 0.114 * gt[2]) * 255
    y_pr = (0.299 * pred[0] + 0.587 * pred[1] + 0.114 * pred[2]) * 255
    win = _gauss(min(y_gt.shape[0], 11))
    m, cs = _ssim_maps(y_gt, y_pr, win, 255.0)
    mcs = np.full(4, cs.mean())  # the script never downsamples: every level is full resolution
    return float(np.prod(np.sign(mcs) * np.abs(mcs) ** w[:4]) * np.sign(m.mean()) * abs(m.mean()) ** w[4])


def test_ssim_mostel_matches_script_formula() -> None:
    a, b = _rand(4, (3, 3, 64, 96)), _rand(5, (3, 3, 64, 96))
    b = 0.6 * a + 0.4 * b  # correlated, so values are far from 0
    got = ssim_mostel(a, b).numpy()
    ref = [_mostel_reference(a[i].double().numpy(), b[i].double().numpy()) for i in range(3)]
    np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_ssim_mostel_on_constant_images() -> None:
    x = torch.full((1, 3, 64, 64), 0.2)
    y = torch.full((1, 3, 64, 64), 0.6)
    # luma of a grey pixel is the grey value; cs = 1, so the value is ssim ** 0.1333
    expected = _ssim_constant(0.2 * 255, 0.6 * 255, 255.0) ** 0.1333
    assert float(ssim_mostel(x, y)) == pytest.approx(expected, rel=1e-6)
    assert float(ssim_mostel(x, x)) == pytest.approx(1.0)


def test_match_size_resizes_to_target() -> None:
    out = match_size(_rand(6, (1, 3, 64, 100)), (48, 80))
    assert out.shape == (1, 3, 48, 80)
    assert out.min() >= 0 and out.max() <= 1


def test_accumulator_averages_per_image_and_skips_identical_pairs_for_psnr() -> None:
    m = ImageMetrics()
    a = torch.full((1, 3, 16, 16), 0.5)
    m.update(torch.cat([a, a]), torch.cat([a + 0.1, a]))  # second pair identical: PSNR inf
    out = m.compute()
    assert set(out) == set(IMAGE_METRIC_KEYS)
    assert out["mse"] == pytest.approx(0.005)  # (0.01 + 0) / 2 over all images
    assert out["psnr"] == pytest.approx(20.0)  # the identical pair is left out
    assert len(m) == 2


def test_accumulator_reports_none_not_inf() -> None:
    m = ImageMetrics()
    a = _rand(7, (1, 3, 16, 16))
    m.update(a, a)
    out = m.compute()
    assert out["psnr"] is None and out["mse"] == 0.0
    assert all(v is None or math.isfinite(v) for v in out.values())


def test_shape_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="match_size"):
        mse(_rand(0, (1, 3, 8, 8)), _rand(0, (1, 3, 8, 9)))
