"""Adversarial terms, as in StyleGAN2: non-saturating logistic loss, lazy R1, lazy path length.

- :class:`NonSaturatingLoss` (phases ``G`` and ``D``): G minimises ``softplus(-D(fake))``;
  D minimises ``softplus(D(fake)) + softplus(-D(real))``.
- :class:`R1Penalty` (phase ``D_reg``, every ``interval`` steps): ``gamma / 2 * |grad_x D(x)|^2``
  on real images (lazy regularisation, Karras et al. 2020).
- :class:`PathLengthPenalty` (phase ``G_reg``, every ``interval`` steps): the squared deviation of
  ``|J_w^T y|`` (y a random image-space direction, w the style code) from its running mean.

The phase, not the term, multiplies by ``interval`` and the trainer rescales the optimizer
(``lr * c``, ``betas ** c``, ``c = interval / (interval + 1)``), as StyleGAN2 does; see
:class:`tsb.tasks.base.Phase`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.errors import ConfigError
from tsb.losses.base import D_REG, G_REG, D, G, LossTerm
from tsb.losses.context import LossContext


class NonSaturatingLoss(LossTerm):
    """Non-saturating logistic GAN loss; logs the mean real and fake logits in the D phase."""

    phases: ClassVar[tuple[str, ...]] = (G, D)

    def forward(self, ctx: LossContext) -> Tensor:
        if ctx.phase == G:
            return F.softplus(-ctx.fake_logits).mean()
        fake_logits = ctx.fake_logits  # the fake was made without generator gradients
        real_logits = ctx.real_logits
        ctx.log("logits_fake", fake_logits.mean())
        ctx.log("logits_real", real_logits.mean())
        return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


class R1Penalty(LossTerm):
    """R1 gradient penalty on real images, lazily every ``interval`` steps.

    Value: ``gamma / 2 * mean_b |d D(x_b) / d x_b|^2``; ``weight`` multiplies it
    (keep 1 and tune ``gamma``, the StyleGAN2 convention; paper: gamma 10, interval 16).
    """

    phases: ClassVar[tuple[str, ...]] = (D_REG,)
    double_backward: ClassVar[bool] = True

    def __init__(self, weight: float = 1.0, gamma: float = 10.0, interval: int = 16) -> None:
        super().__init__(weight)
        if interval < 1:
            raise ConfigError(f"loss.r1.interval must be >= 1, got {interval}")
        self.gamma = float(gamma)
        self.interval = int(interval)

    def forward(self, ctx: LossContext) -> Tensor:
        real = ctx.real.detach().requires_grad_(True)
        logits = ctx.discriminate(real)
        # gradients of the logits w.r.t. the input, in float32 (safe under autocast)
        (grad,) = torch.autograd.grad(logits.float().sum(), real, create_graph=True)
        penalty = grad.float().square().flatten(1).sum(1)
        ctx.log("r1_penalty", penalty.mean())
        # `logits * 0` keeps D's output in the graph even if the penalty were constant
        return (penalty.mean() + logits.float().mean() * 0) * (self.gamma / 2)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, gamma={self.gamma:g}"


def style_code_tensors(code: Any) -> list[Tensor]:
    """The tensors inside a style code (a tensor, a sequence, a dataclass or a dict of them)."""
    if isinstance(code, Tensor):
        return [code]
    if isinstance(code, dict):
        return [t for v in code.values() for t in style_code_tensors(v)]
    if isinstance(code, (list, tuple)):
        return [t for v in code for t in style_code_tensors(v)]
    if dataclasses.is_dataclass(code) and not isinstance(code, type):
        return [t for f in dataclasses.fields(code) for t in style_code_tensors(getattr(code, f.name))]
    return []


class PathLengthPenalty(LossTerm):
    """StyleGAN2 path-length regularisation of the generator w.r.t. the style code.

    Args:
        weight: the StyleGAN2 ``pl_weight`` (2 in the paper's setting).
        interval: run every ``interval`` steps (4); the phase applies the gain.
        batch_shrink: use ``B // batch_shrink`` samples (2).
        decay: running-mean decay of the path length (0.01).

    The running mean ``pl_mean`` is a non-persistent buffer (like StyleGAN2, which keeps it in
    the loss object and not in its snapshots): it is not in checkpoints and restarts at 0 on
    resume, so resumed runs with this term are not bit-identical to uninterrupted ones.
    """

    phases: ClassVar[tuple[str, ...]] = (G_REG,)
    double_backward: ClassVar[bool] = True

    def __init__(
        self, weight: float = 2.0, interval: int = 4, batch_shrink: int = 2, decay: float = 0.01
    ) -> None:
        super().__init__(weight)
        if interval < 1 or batch_shrink < 1:
            raise ConfigError("loss.path_length.interval and batch_shrink must be >= 1")
        self.interval = int(interval)
        self.batch_shrink = int(batch_shrink)
        self.decay = float(decay)
        self.pl_mean: Tensor
        self.register_buffer("pl_mean", torch.zeros(()), persistent=False)

    def forward(self, ctx: LossContext) -> Tensor:
        style, content = ctx.style, ctx.content_tgt
        n = max(1, style.shape[0] // self.batch_shrink)
        code = ctx.net.encode_style(style[:n])
        tensors = [t for t in style_code_tensors(code) if t.requires_grad]
        if not tensors:
            raise ConfigError(
                "path-length regularisation needs a style code with gradients "
                "(net.encode_style returned no tensor that requires grad)"
            )
        image = ctx.net.synthesize(code, content[:n]).image
        noise = torch.randn_like(image) / math.sqrt(image.shape[2] * image.shape[3])
        grads = torch.autograd.grad((image * noise).float().sum(), tensors, create_graph=True)
        sq = torch.stack([g.float().square().reshape(n, -1, g.shape[-1]).sum(-1).mean(1) for g in grads])
        lengths = sq.mean(0).sqrt()
        pl_mean = self.pl_mean.lerp(lengths.mean().detach(), self.decay)
        self.pl_mean.copy_(pl_mean)
        ctx.log("pl_length", lengths.mean())
        penalty = (lengths - pl_mean).square().mean()
        return penalty + image.float().mean() * 0
