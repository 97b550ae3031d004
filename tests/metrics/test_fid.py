"""FID: the Fréchet distance against scipy's matrix square root; clear reasons when unavailable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import linalg
from torch import Tensor, nn

from tsb.metrics.fid import FID, INCEPTION_URL
from tsb.metrics.weights import MetricUnavailable


class _Pool(nn.Module):
    """A tiny deterministic feature extractor: 2x2 average pooled pixels (12 features)."""

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)


def _frechet(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_fid_matches_scipy_formula() -> None:
    g = torch.Generator().manual_seed(0)
    real = torch.rand(40, 3, 16, 32, generator=g)
    fake = (torch.rand(40, 3, 16, 32, generator=g) * 0.5 + 0.3).clamp(0, 1)
    fid = FID(extractor=_Pool())
    for i in range(0, 40, 16):  # in batches
        fid.add("real", real[i : i + 16])
        fid.add("fake", fake[i : i + 16])
    ref = _frechet(_Pool()(real).double().numpy(), _Pool()(fake).double().numpy())
    assert fid.compute("fake") == pytest.approx(ref, rel=1e-5)
    fid.add("copy", real)
    assert fid.compute("copy") == pytest.approx(0.0, abs=1e-6)


def test_fid_needs_two_images() -> None:
    fid = FID(extractor=_Pool())
    fid.add("real", torch.rand(1, 3, 8, 8))
    fid.add("fake", torch.rand(3, 3, 8, 8))
    with pytest.raises(MetricUnavailable, match="at least 2"):
        fid.compute("fake")


def test_missing_inception_weights_say_why(empty_hub: Path) -> None:
    with pytest.raises(MetricUnavailable) as e:
        FID()  # nothing cached, download off
    msg = str(e.value)
    assert "weights-inception-2015-12-05" in msg and "allow_download" in msg
    assert str(empty_hub) in msg


def test_missing_local_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(MetricUnavailable, match="does not exist"):
        FID(weights_path=tmp_path / "nope.pth")


def test_cached_file_is_used_before_download(empty_hub: Path) -> None:
    # a corrupt file in the cache: FID tries it (no download) and reports why it failed
    target = empty_hub / "checkpoints" / INCEPTION_URL.rsplit("/", 1)[1]
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not weights")
    with pytest.raises(MetricUnavailable, match="Inception weights"):
        FID()
