"""What every loss term is: a small ``nn.Module`` with a weight and the phases it serves.

A term's ``forward(ctx)`` returns its *unweighted* value (a scalar tensor), or ``None`` when the
batch lacks what it needs (e.g. the supervised L1 on real photos without a ground-truth target);
:class:`tsb.losses.LossSet` multiplies by ``weight``, sums and logs. Terms read the networks'
outputs from a lazily evaluated :class:`tsb.losses.context.LossContext`, so the generator runs
once per step no matter how many terms look at its output, and not at all for what no term asks.

Phases (names shared with ``StyleBrushTask.phases()``), after StyleGAN2's Gmain/Greg/Dmain/Dreg:
``G`` generator step, ``G_reg`` lazy path-length regularisation, ``D`` discriminator step,
``D_reg`` lazy R1. A lazy term runs every ``interval`` steps; its phase (not the term) multiplies
the loss by the interval, so its average pull equals that of an every-step term, and the group's
optimizer is rescaled as in StyleGAN2 (:func:`tsb.tasks.base.lazy_ratio`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from torch import Tensor, nn

if TYPE_CHECKING:
    from tsb.losses.context import LossContext

G = "G"
G_REG = "G_reg"
D = "D"
D_REG = "D_reg"
PHASES = (D, D_REG, G, G_REG)


class LossTerm(nn.Module):
    """Base class of a loss term.

    Subclasses set ``phases`` (the phase names they contribute to) and implement ``forward``.
    ``interval`` > 1 marks a lazy term (its phase runs every ``interval`` steps).
    ``double_backward``: the term differentiates through a gradient (``create_graph=True``), which
    compiled code cannot; its phases then run eagerly under ``trainer.compile``.
    """

    phases: ClassVar[tuple[str, ...]] = (G,)
    double_backward: ClassVar[bool] = False

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = float(weight)
        self.interval = 1

    @property
    def active(self) -> bool:
        return self.weight != 0.0

    def forward(self, ctx: LossContext) -> Tensor | None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}" + (f", interval={self.interval}" if self.interval != 1 else "")
