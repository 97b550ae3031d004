"""LPIPS (Zhang et al. 2018, the ``lpips`` package) as an optional perceptual term.

The package ships its calibrated linear layers, but its backbone (AlexNet, VGG16 or SqueezeNet)
comes from torchvision's ImageNet weights, which torchvision downloads on first use. This project
never downloads at run time, so the term looks for the backbone file in torch's hub cache
(``$TORCH_HOME/hub/checkpoints``, ``~/.cache/torch/hub/checkpoints`` by default) and stops at
start-up with one message naming the file when it is absent. ``pretrained_backbone: false`` gives
a randomly initialised backbone (for tests only: the distance is then not perceptual).

Compares a generated image (``fake`` or ``recon``) with a reference (``target``, skipped on batches
without it, or ``style``). LPIPS itself stays frozen and in eval mode.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from tsb.errors import TsbError
from tsb.losses.base import LossTerm
from tsb.losses.context import LossContext
from tsb.losses.helpers import FrozenHelper

# torchvision weight files the lpips backbones load (torchvision.models.*_Weights.IMAGENET1K_V1)
BACKBONE_FILES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}


class LPIPSUnavailableError(TsbError):
    """The LPIPS backbone weights are not on this machine."""


def backbone_path(net: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / BACKBONE_FILES[net]


def build_lpips(net: str = "alex", pretrained_backbone: bool = True) -> torch.nn.Module:
    """An ``lpips.LPIPS`` module, without any download (clear error when weights are missing)."""
    if net not in BACKBONE_FILES:
        raise ValueError(f"LPIPS net must be one of {sorted(BACKBONE_FILES)}, got {net!r}")
    if pretrained_backbone:
        path = backbone_path(net)
        if not path.is_file():
            raise LPIPSUnavailableError(
                f"the LPIPS loss needs torchvision's ImageNet {net} weights at {path}, which are not on this "
                f"machine and are never downloaded at run time; copy {BACKBONE_FILES[net]} there (from a "
                'machine with internet: `python -c "import lpips; lpips.LPIPS()"` fills the cache), '
                "or drop the term (`~loss.lpips`)"
            )
    import lpips

    with warnings.catch_warnings():  # lpips still passes torchvision's deprecated `pretrained=`
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        return lpips.LPIPS(net=net, pnet_rand=not pretrained_backbone, verbose=False)


class LPIPSLoss(LossTerm):
    """Mean LPIPS distance between a generated image and a reference.

    Args:
        weight: term weight.
        net: LPIPS backbone: ``alex`` (default), ``vgg`` or ``squeeze``.
        source: ``fake`` or ``recon``.
        reference: ``target`` or ``style``.
        pretrained_backbone: False only for tests (random backbone, nothing to load).
    """

    def __init__(
        self,
        weight: float = 1.0,
        net: str = "alex",
        source: str = "fake",
        reference: str = "target",
        pretrained_backbone: bool = True,
    ) -> None:
        super().__init__(weight)
        if source not in ("fake", "recon", "cycle"):
            raise ValueError(f"loss.lpips.source must be fake, recon or cycle, got {source!r}")
        if reference not in ("target", "style"):
            raise ValueError(f"loss.lpips.reference must be target or style, got {reference!r}")
        self.source = source
        self.reference = reference
        self.metric = FrozenHelper(build_lpips(net, pretrained_backbone), source=f"lpips/{net}")

    def forward(self, ctx: LossContext) -> Tensor | None:
        ref: Any = ctx.get(self.reference)
        if ref is None:
            return None
        image = getattr(ctx, self.source).image
        # LPIPS takes images in [-1, 1] (normalize=False)
        return self.metric(image.float(), ref.float()).mean()  # type: ignore[no-any-return]
