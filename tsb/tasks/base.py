"""The seam between the generic trainer and what is optimised.

A :class:`Task` is an ``nn.Module`` that owns its networks and loss terms and declares
named optimisation :class:`Phase` s. The trainer builds one optimizer per *parameter group*
(``Task.param_groups()``), runs the phases that are due at each step, and never looks at what
the modules are. A GAN declares a discriminator phase, a generator phase and a lazy
regularisation phase (every k steps, sharing the discriminator's optimizer); a classifier
declares one phase.

Batches are plain dicts of tensors and strings (keys documented in ``tsb.data.keys``).
A task never opens files, prints or saves: it returns tensors and scalars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

Batch = dict[str, object]


@dataclass(frozen=True)
class Phase:
    """One named optimisation step.

    name: used in logs (``train/<name>/<term>``).
    group: the parameter group (key of ``Task.param_groups()``) whose optimizer steps.
    interval: run every ``interval`` trainer steps (lazy regularisation uses e.g. 16). The phase
        owns the interval's gain: the trainer back-propagates ``loss * interval``, so its average
        pull equals that of an every-step phase, and the group's optimizer takes the extra steps
        as StyleGAN2 does (see :func:`lazy_ratio`).
    double_backward: its loss differentiates through gradients (``create_graph=True``: R1, path
        length). ``torch.compile`` has no double backward, so with ``trainer.compile`` the
        trainer runs such a phase's modules eagerly.
    """

    name: str
    group: str
    interval: int = 1
    double_backward: bool = False

    def due(self, step: int) -> bool:
        return step % self.interval == 0


def lazy_ratio(phases: list[Phase], group: str) -> float:
    """StyleGAN2's lazy-regularisation ratio ``c`` of ``group``'s optimizer.

    A group stepped by a main phase every step and a regularisation phase every ``k`` steps takes
    ``k + 1`` optimizer steps where a plain run takes ``k``; StyleGAN2 (Karras et al. 2020, both the
    official code and rosinality's) compensates with ``lr * c`` and ``betas ** c`` for
    ``c = k / (k + 1)``. In general ``c = 1 / sum(1 / interval)`` over the group's phases, never
    above 1 (a group of one phase, whatever its interval, keeps its settings).
    """
    rate = sum(1.0 / p.interval for p in phases if p.group == group)
    return min(1.0, 1.0 / rate) if rate > 0 else 1.0


@dataclass
class PhaseOutput:
    """What a phase returns: the scalar to back-propagate and the per-term values to log."""

    loss: Tensor
    logs: dict[str, Tensor]


class Task(nn.Module):
    """Base class of everything the trainer optimises.

    Subclasses implement :meth:`phases`, :meth:`param_groups`, :meth:`phase_loss`,
    :meth:`validation_step` and :meth:`sample`. Optionally :meth:`ema_modules`.
    """

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Trainable parameters by optimizer group name. Frozen helpers belong to no group."""
        raise NotImplementedError

    def phase_loss(self, phase: Phase, batch: Batch, step: int) -> PhaseOutput:
        """Compute the loss of ``phase`` on ``batch``. Called inside autocast by the trainer."""
        raise NotImplementedError

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Tensor]:
        """Scalar metrics for one validation batch (averaged over batches by the trainer)."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, batch: Batch) -> Tensor:
        """An image grid for humans: float tensor (3, H, W) in [0, 1]."""
        raise NotImplementedError

    def ema_modules(self) -> list[str]:
        """Names of submodules whose exponential moving average the trainer keeps.

        The trainer swaps the averaged weights in for validation, sampling and export.
        """
        return []

    def on_load(self) -> None:
        """Hook called after weights were loaded from a checkpoint."""

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """``torch.compile`` what runs during training (``trainer.compile=true``).

        The trainer calls :meth:`phase_loss`, never the task itself, so compiling the task's own
        ``__call__`` (``nn.Module.compile``) would do nothing. Instead each child network compiles
        itself: a network whose methods are called directly (not only ``forward``) overrides
        ``compile`` to compile the parts those methods run (see ``StyleBrushNet.compile``).
        """
        for child in self.children():
            child.compile(*args, **kwargs)
