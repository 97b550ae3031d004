"""Fréchet Inception Distance on Inception-v3 pool features (2048-d), as published tables use.

The feature extractor is torch-fidelity's port of the TensorFlow FID Inception (the same network
as pytorch-fid / the original TTUR code), run through torchmetrics' ``NoTrainInceptionV3``: images
in [0, 1] become uint8 as torchmetrics does, are resized to 299x299 inside the network, and the
pool3 features feed torchmetrics' ``FrechetInceptionDistance`` (float64 statistics).

Weights (``weights-inception-2015-12-05-6726825d.pth``) come from a local file, torch's hub cache,
or a download when ``allow_download`` is on (see :mod:`tsb.metrics.weights`); otherwise
:class:`~tsb.metrics.weights.MetricUnavailable` says why. FID needs at least two images per set and
is biased upwards for small sets (a few thousand images are the norm).

One pass over the data feeds several sets (ground truth, the model's outputs, the reference rows):
:meth:`FID.add` stores each set's features and :meth:`FID.compute` compares two of them.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance

from tsb.metrics.weights import MetricUnavailable, resolve_weights

INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
FID_DIMS = 2048


class _PrecomputedFeatures(nn.Module):
    """Identity 'feature extractor' so torchmetrics' FID statistics run on stored features."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        return x


class _InceptionPool(nn.Module):
    """[0, 1] float images -> 2048-d Inception pool features (torch-fidelity's TF-compatible net)."""

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
    (the default) the standard Inception pool features are used, loaded from ``weights_path``,
    the hub cache, or downloaded if ``allow_download``. Raises ``MetricUnavailable`` otherwise.
    """

    def __init__(
        self,
        weights_path: str | os.PathLike[str] | None = None,
        allow_download: bool = False,
        device: str | torch.device = "cpu",
        extractor: nn.Module | None = None,
        batch_size: int = 32,
    ) -> None:
        self.device = torch.device(device)
        if extractor is None:
            path = resolve_weights(
                "FID (Inception-v3 pool features)",
                INCEPTION_URL,
                weights_path,
                allow_download,
                "metrics_weights.fid",
            )
            extractor = _InceptionPool(str(path) if path is not None else None)
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
