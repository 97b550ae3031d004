"""LPIPS (Zhang et al. 2018) through the ``lpips`` package, with its backbone loaded offline.

The ``lpips`` package ships its calibrated linear layers (``lpips/weights/v0.1/<net>.pth``) but
takes the ImageNet backbone (AlexNet by default) from torchvision, which downloads it. Here the
backbone is built untrained and then filled from a local file, torch's hub cache, or (only when
``allow_download``) the official torchvision URL; see :mod:`tsb.metrics.weights`. Without weights
:class:`~tsb.metrics.weights.MetricUnavailable` says why, and no number is reported.

Images are (B, 3, H, W) in [0, 1]; the value is per image, lower is more similar.
"""

from __future__ import annotations

import os
import warnings

import torch
from torch import Tensor, nn

from tsb.metrics.weights import MetricUnavailable, load_state_dict_file, resolve_weights

_BACKBONE_URLS = {
    "alex": "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "vgg": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "squeeze": "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
}


def load_backbone_features(trunk: nn.Module, state: dict[str, Tensor]) -> None:
    """Copy a torchvision classifier's ``features.*`` weights into lpips' sliced trunk.

    lpips splits ``torchvision.models.<net>().features`` into ``slice1..sliceN`` whose children keep
    the original indices as names, so ``features.3.weight`` lands in the slice holding child "3".
    """
    feats = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    if not feats:
        raise MetricUnavailable(
            "LPIPS: the backbone weights file has no 'features.*' tensors (not a torchvision file)"
        )
    used: set[str] = set()
    for slice_ in trunk.children():
        for name, child in slice_.named_children():
            sub = {k.split(".", 1)[1]: v for k, v in feats.items() if k.split(".", 1)[0] == name}
            try:
                child.load_state_dict(sub, strict=True)
            except RuntimeError as e:
                raise MetricUnavailable(f"LPIPS: backbone weights do not fit layer {name}: {e}") from e
            used.update(f"{name}.{k}" for k in sub)
    missing = set(feats) - used
    if missing:
        raise MetricUnavailable(
            f"LPIPS: backbone weights hold layers the network lacks: {sorted(missing)[:4]}"
        )


class LPIPS:
    """Per-image LPIPS distance. Raises ``MetricUnavailable`` when the backbone weights are missing."""

    def __init__(
        self,
        net: str = "alex",
        weights_path: str | os.PathLike[str] | None = None,
        allow_download: bool = False,
        device: str | torch.device = "cpu",
    ) -> None:
        if net not in _BACKBONE_URLS:
            raise ValueError(f"LPIPS net must be one of {sorted(_BACKBONE_URLS)}, got {net!r}")
        import lpips

        url = _BACKBONE_URLS[net]
        path = resolve_weights(f"LPIPS ({net})", url, weights_path, allow_download, "metrics_weights.lpips")
        if path is None:
            state = torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=False)
        else:
            state = load_state_dict_file(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torchvision's deprecation notice for `pretrained=`
            model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
        load_backbone_features(model.net, state)
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()

    @torch.no_grad()
    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        """(B,) distances between two batches (B, 3, H, W) in [0, 1] of one shape."""
        if pred.shape != target.shape:
            raise ValueError(
                f"LPIPS needs images of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
            )
        d = self.model(pred.to(self.device).float(), target.to(self.device).float(), normalize=True)
        return d.reshape(-1).cpu()
