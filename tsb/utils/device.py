"""One device resolver for every entry point (training, evaluation, editing, the demo)."""

from __future__ import annotations

import torch

from tsb.errors import ConfigError


def resolve_device(name: str | None = "auto", setting: str = "device", mps: bool = True) -> torch.device:
    """``auto`` (or empty) picks CUDA, then Apple's MPS (``mps``), then the CPU; any other name is a torch device that must be present here.
    ``setting`` names the option in the message (``trainer.device``, ``--device``)."""
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(str(name))
    except RuntimeError as e:
        raise ConfigError(f"{setting}={name!r} is not a torch device; use auto, cpu or cuda[:N]") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{setting}={name} but no CUDA device is available here; use {setting}=auto or cpu")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise ConfigError(f"{setting}={name} but MPS is not available here; use {setting}=auto or cpu")
    return device
