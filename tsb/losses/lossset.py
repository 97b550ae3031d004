"""LossSet: the named, weighted loss terms built from ``cfg.loss``, and their sum per phase.

``conf/loss/*.yaml`` is ``_target_: tsb.losses.LossSet`` with one child per term::

    _target_: tsb.losses.LossSet
    cycle: {_target_: tsb.losses.cycle.CycleLoss, weight: 1.0}

so ``loss.cycle.weight=2`` changes a weight and ``~loss.cycle`` drops a term, from the command line.
A term set to ``null`` is dropped too; a term with weight 0 is kept but never computed.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.losses.base import PHASES, LossTerm
from tsb.losses.context import LossContext
from tsb.pretrained.helpers import FrozenHelper


class LossSet(nn.Module):
    """A container of named :class:`LossTerm` s (keyword arguments, in config order)."""

    def __init__(self, **terms: LossTerm | None) -> None:
        super().__init__()
        self.terms = nn.ModuleDict()
        for name, term in terms.items():
            if term is None:
                continue
            if not isinstance(term, LossTerm):
                raise ConfigError(
                    f"loss.{name} is a {type(term).__name__}, not a tsb.losses.base.LossTerm; "
                    f"check loss.{name}._target_"
                )
            bad = set(term.phases) - set(PHASES)
            if bad:
                raise ConfigError(f"loss.{name} declares unknown phases {sorted(bad)}; known: {PHASES}")
            self.terms[name] = term

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.terms

    def __getitem__(self, name: str) -> LossTerm:
        return self.terms[name]  # type: ignore[return-value]

    def names(self) -> list[str]:
        return list(self.terms.keys())

    def active_terms(self, phase: str) -> dict[str, LossTerm]:
        """Terms with a non-zero weight that contribute to ``phase``."""
        out: dict[str, LossTerm] = {}
        for name, term in self.terms.items():
            assert isinstance(term, LossTerm)
            if term.active and phase in term.phases:
                out[name] = term
        return out

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile the frozen helper networks the terms run (each shared network once)."""
        seen: set[int] = set()
        for module in self.modules():
            if isinstance(module, FrozenHelper) and id(module.net) not in seen:
                seen.add(id(module.net))
                module.net.compile(*args, **kwargs)

    def double_backward(self, phase: str) -> bool:
        """Whether an active term of ``phase`` differentiates through a gradient."""
        return any(t.double_backward for t in self.active_terms(phase).values())

    def phase_intervals(self) -> dict[str, int]:
        """Phase name -> interval, for every phase that has at least one active term.

        The terms of one phase run together, so they must share its interval (the phase applies
        the interval's gain once, see :class:`tsb.tasks.base.Phase`)."""
        out: dict[str, int] = {}
        for phase in PHASES:
            terms = self.active_terms(phase)
            if not terms:
                continue
            intervals = {name: t.interval for name, t in terms.items()}
            if len(set(intervals.values())) > 1:
                given = ", ".join(f"loss.{n}.interval={i}" for n, i in intervals.items())
                raise ConfigError(
                    f"the terms of phase {phase} run together but have different intervals ({given}); "
                    "give them the same interval"
                )
            out[phase] = next(iter(intervals.values()))
        return out

    def compute(self, phase: str, ctx: LossContext) -> tuple[Tensor, dict[str, Tensor]]:
        """Weighted sum of the phase's terms and the log dict ``{term: unweighted value}``.

        Terms that return None (the batch lacks what they need) are left out of both.
        """
        total: Tensor | None = None
        logs: dict[str, Tensor] = {}
        for name, term in self.active_terms(phase).items():
            value = term(ctx)
            if value is None:
                continue
            logs[name] = value.detach().float()
            weighted = value * term.weight
            total = weighted if total is None else total + weighted
        logs.update(ctx.logs)
        if total is None:
            # nothing applied to this batch: a zero that backward() accepts
            total = torch.zeros((), device=_device_of(ctx), requires_grad=True)
        return total, logs


def _device_of(ctx: LossContext) -> torch.device:
    for v in ctx.batch.values():
        if isinstance(v, Tensor):
            return v.device
    return torch.device("cpu")
