"""StyleBrushTask: TextStyleBrush's networks and losses, as phases the trainer runs.

Phases (present only when an active loss term needs them; intervals from the loss config):

========= ================ ====================================================================
phase     group            what
========= ================ ====================================================================
``D``     discriminator    non-saturating logistic loss on real styles and fakes made without
                           generator gradients
``D_reg`` discriminator    lazy R1 on real images, every ``loss.r1.interval`` steps
``G``     generator        every generator term (adversarial, reconstruction, cycle, typeface,
                           recognition, mask, supervised L1, LPIPS), on one lazily evaluated
                           :class:`tsb.losses.context.LossContext`
``G_reg`` generator        optional lazy path-length regularisation
========= ================ ====================================================================

Built with ``loss=None`` (evaluation, editing, ``load_task``) it generates but cannot train.
The frozen helper networks live inside the loss terms, outside the task's parameters and
``state_dict`` (see :mod:`tsb.pretrained.helpers`), so checkpoints hold ``net`` and
``discriminator`` only, and a checkpoint trained with one loss config loads with any other.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.utils import make_grid

from tsb.errors import ConfigError
from tsb.losses.base import D_REG, G_REG, PHASES, D, G
from tsb.losses.context import LossContext
from tsb.losses.lossset import LossSet
from tsb.tasks.base import Batch, Phase, PhaseOutput, Task
from tsb.utils.image import to_unit

GENERATOR = "generator"
DISCRIMINATOR = "discriminator"
_GROUP = {D: DISCRIMINATOR, D_REG: DISCRIMINATOR, G: GENERATOR, G_REG: GENERATOR}


class StyleBrushTask(Task):
    """Generator (``net``: style encoder + content encoder + generator) and discriminator.

    Args:
        net: ``tsb.models.stylebrush.StyleBrushNet`` (or anything with ``forward(style, content)``,
            ``encode_style`` and ``synthesize`` returning a ``GeneratorOutput``).
        discriminator: ``tsb.models.discriminator.Discriminator`` (``(B,3,64,W) -> (B,)`` logits), or
            None for a loss without adversarial terms.
        loss: a :class:`tsb.losses.LossSet`, or None for inference.
        real_key: the batch key of the real images the discriminator sees (the style images).
        sample_size: rows in the sample grid.
    """

    def __init__(
        self,
        net: nn.Module,
        discriminator: nn.Module | None = None,
        loss: LossSet | None = None,
        real_key: str = "style",
        sample_size: int = 8,
    ) -> None:
        super().__init__()
        if loss is not None and not isinstance(loss, LossSet):
            raise ConfigError(
                f"StyleBrushTask needs a tsb.losses.LossSet as loss (e.g. loss=quickstart), got "
                f"{type(loss).__name__}; loss=typeface / loss=recognizer belong to experiment=typeface / recognizer"
            )
        self.net = net
        self.discriminator = discriminator
        self.loss = loss
        self.real_key = real_key
        self.sample_size = int(sample_size)

    # the trainer's interface -----------------------------------------------------------------
    def _loss(self) -> LossSet:
        if self.loss is None:
            raise ConfigError(
                "this StyleBrushTask was built without a loss (loss=None): it can generate but not train; "
                "build it with cfg.loss (e.g. loss=quickstart)"
            )
        return self.loss

    def phases(self) -> list[Phase]:
        loss = self._loss()
        intervals = loss.phase_intervals()
        if G not in intervals:
            raise ConfigError("the loss config has no active generator term; give at least one term a weight")
        if (D in intervals or D_REG in intervals) and self.discriminator is None:
            raise ConfigError(
                "the loss has adversarial terms but the model has no discriminator; "
                "configure model.discriminator or drop loss.adversarial / loss.r1"
            )
        return [
            Phase(name, _GROUP[name], intervals[name], double_backward=loss.double_backward(name))
            for name in PHASES
            if name in intervals
        ]

    def _uses_discriminator(self) -> bool:
        if self.discriminator is None or self.loss is None:
            return False
        intervals = self.loss.phase_intervals()
        return D in intervals or D_REG in intervals

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        groups = {GENERATOR: list(self.net.parameters())}
        if self._uses_discriminator():
            assert self.discriminator is not None
            groups[DISCRIMINATOR] = list(self.discriminator.parameters())
        return groups

    def context(self, phase: str, batch: Batch, step: int = 0) -> LossContext:
        """The lazily evaluated outputs of one phase (what the loss terms read)."""
        return LossContext(self.net, self.discriminator, batch, phase, step, self.real_key)  # type: ignore[arg-type]

    def phase_loss(self, phase: Phase, batch: Batch, step: int) -> PhaseOutput:
        total, logs = self._loss().compute(phase.name, self.context(phase.name, batch, step))
        return PhaseOutput(total, logs)

    def ema_modules(self) -> list[str]:
        return ["net"]

    # inference -------------------------------------------------------------------------------
    def generate(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> Any:
        """``GeneratorOutput`` (image (B,3,64,W) in [-1,1], mask, masks) of ``content`` in ``style``;
        ``source``: the style image's own text rendered like ``content``, when known (networks
        that read it, such as the split design's layout, use it; the others ignore it)."""
        return self.net(style, content, source)

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Tensor]:
        """``l1`` / ``mse`` / ``psnr`` (on [0,1]) against ``target`` (and ``copy_psnr``, the PSNR of
        the style image itself, the row to beat), ``mask_l1``, ``recon_l1`` where the batch allows
        (the trainer logs them as ``val/<name>``)."""
        style: Tensor = batch["style"]  # type: ignore[assignment]
        source = batch.get("content_src")
        source = source if isinstance(source, Tensor) else None
        out = self.generate(style, batch["content_tgt"], source)  # type: ignore[arg-type]
        metrics: dict[str, Tensor] = {}
        target = batch.get("target")
        if isinstance(target, Tensor):
            metrics["l1"] = (out.image.float() - target.float()).abs().mean()
            mse = (to_unit(out.image.float()) - to_unit(target.float())).square().flatten(1).mean(1)
            metrics["mse"] = mse.mean()
            metrics["psnr"] = (10 * torch.log10(1.0 / mse.clamp_min(1e-10))).mean()
            if style.shape == target.shape:  # the trivial row a result must beat: copy the source
                copy = (to_unit(style.float()) - to_unit(target.float())).square().flatten(1).mean(1)
                metrics["copy_psnr"] = (10 * torch.log10(1.0 / copy.clamp_min(1e-10))).mean()
        mask_tgt = batch.get("mask_tgt")
        if isinstance(mask_tgt, Tensor):
            metrics["mask_l1"] = (out.mask.float() - mask_tgt.float()).abs().mean()
        if source is not None:
            recon = self.generate(style, source, source)
            if recon.image.shape == style.shape:
                metrics["recon_l1"] = (recon.image.float() - style.float()).abs().mean()
        return metrics

    @torch.no_grad()
    def sample(self, batch: Batch) -> Tensor:
        """One row per sample: style | content_tgt | output | mask | target (when present)."""
        n = min(self.sample_size, len(batch["style"]))  # type: ignore[arg-type]
        style: Tensor = batch["style"][:n]  # type: ignore[index]
        content: Tensor = batch["content_tgt"][:n]  # type: ignore[index]
        source = batch.get("content_src")  # the old word's text, as validation gives it
        out = self.generate(style, content, source[:n] if isinstance(source, Tensor) else None)
        size = out.image.shape[-2:]

        def tile(x: Tensor, unit: bool = False) -> Tensor:
            x = x.detach().float()
            if x.shape[-2:] != size:
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            x = x.clamp(0, 1) if unit else to_unit(x)
            return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

        columns = [tile(style), tile(content), tile(out.image), tile(out.mask, unit=True)]
        target = batch.get("target")
        if isinstance(target, Tensor):
            columns.append(tile(target[:n]))
        tiles = torch.stack(columns, dim=1).flatten(0, 1)  # row-major: sample by sample
        return make_grid(tiles.cpu(), nrow=len(columns), padding=2, pad_value=1.0)
