"""Where the pretrained backbones of FID and LPIPS come from, and how their absence is reported.

A backbone's weights are looked up, in order:

1. an explicit local file (config ``metrics_weights.<name>``), which must exist;
2. torch's hub cache (``$TORCH_HOME/hub/checkpoints/<file name of the official URL>``), where any
   earlier online run of torchvision / torch-fidelity / lpips left them;
3. a download from the official URL, only when ``allow_download`` is true (off by default: the
   project runs offline and tests never download).

When none applies, :class:`MetricUnavailable` is raised with a message that says which file is
missing and how to provide it; the evaluation report prints that reason instead of a number.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


class MetricUnavailable(RuntimeError):
    """A metric cannot be computed here; the message says why and what to do."""


def cache_path_for(url: str) -> Path:
    """The file torch.hub would cache ``url`` as."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def resolve_weights(
    what: str, url: str, local_file: str | os.PathLike[str] | None, allow_download: bool, config_key: str
) -> Path | None:
    """Path of the weights file to load, or ``None`` when it should be downloaded (allowed).

    Raises :class:`MetricUnavailable` when the weights are nowhere and downloading is off.
    """
    if local_file:
        p = Path(local_file).expanduser()
        if not p.is_file():
            raise MetricUnavailable(f"{what}: weights file {p} does not exist; fix {config_key}")
        return p
    cached = cache_path_for(url)
    if cached.is_file():
        return cached
    if allow_download:
        return None
    raise MetricUnavailable(
        f"{what}: backbone weights not found at {cached} and downloading is off; put the file from "
        f"{url} there, set {config_key}=/path/to/{os.path.basename(url)}, or allow_download=true when online"
    )


def load_state_dict_file(path: Path) -> dict[str, Any]:
    """Load a plain weights file (tensors only)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file
        raise MetricUnavailable(f"cannot read weights file {path}: {e}") from e
    if not isinstance(state, dict):
        raise MetricUnavailable(f"weights file {path} does not hold a state dict")
    return state
