"""Exponential moving average of chosen submodules of a task (StyleGAN's G_ema).

The averaged weights live in a shadow copy; :meth:`EMA.applied` swaps them into the live
modules for validation, sampling and export, and swaps back afterwards, so the task itself
needs no EMA-specific code.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from tsb.errors import ConfigError


class EMA:
    def __init__(self, task: nn.Module, names: list[str], decay: float, start_step: int = 0) -> None:
        if not 0.0 < decay < 1.0:
            raise ConfigError(f"trainer.ema_decay must be in (0, 1), got {decay}")
        self.names = list(names)
        self.decay = decay
        self.start_step = start_step
        self.shadow = nn.ModuleDict(
            {n.replace(".", "__"): copy.deepcopy(task.get_submodule(n)).requires_grad_(False) for n in names}
        )
        self._task = task

    def _pairs(self) -> Iterator[tuple[nn.Module, nn.Module]]:
        for n in self.names:
            yield self._task.get_submodule(n), self.shadow[n.replace(".", "__")]

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Average after an optimizer step. Before ``start_step`` the shadow just copies."""
        decay = self.decay if step >= self.start_step else 0.0
        for live, shadow in self._pairs():
            live_p = [p.detach() for p in live.parameters()]
            shadow_p: list[torch.Tensor] = [p.detach() for p in shadow.parameters()]
            torch._foreach_lerp_(shadow_p, live_p, 1.0 - decay)
            for b_live, b_shadow in zip(live.buffers(), shadow.buffers()):
                b_shadow.copy_(b_live)

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Swap the averaged weights into the live modules for the duration of the block."""
        backups = []
        with torch.no_grad():
            for live, shadow in self._pairs():
                backups.append([p.detach().clone() for p in live.parameters()])
                for p, s in zip(live.parameters(), shadow.parameters()):
                    p.copy_(s)
        try:
            yield
        finally:
            with torch.no_grad():
                for (live, _), saved in zip(self._pairs(), backups):
                    for param, value in zip(live.parameters(), saved):
                        param.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.shadow.load_state_dict(state)

    def to(self, device: torch.device) -> EMA:
        self.shadow.to(device)
        return self
