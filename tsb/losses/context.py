"""The lazily evaluated quantities of one StyleBrush step, shared by all loss terms.

Each property is computed on first use and cached, so a term asks for ``ctx.fake`` or
``ctx.cycle`` and pays only for what some configured term needs:

=============== =========================================================================
``style_code``  ``net.encode_style(style)`` (encoded once, reused by ``fake`` and ``recon``)
``fake``        ``G(style, content_tgt)``: the target string in the source style
``recon``       ``G(style, content_src)``: the source string again (reconstruction)
``cycle``       ``G(fake.image, content_src)``: the source string, with the output as style
``fake_logits`` ``D(fake.image)`` (in the ``D`` phase the fake is made without gradient)
``real``        the real images shown to D (``batch[real_key]``, the style images)
``real_logits`` ``D(real)``
=============== =========================================================================

``memo(key, fn)`` caches anything else (e.g. helper-network features shared by several terms).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import torch
from torch import Tensor

from tsb.errors import ConfigError
from tsb.losses.base import D

T = TypeVar("T")


class GeneratorOutputLike(Protocol):
    image: Tensor
    mask: Tensor
    masks: list[Tensor]
    # split designs only (tsb.models.split), else None
    background: Tensor | None
    foreground: Tensor | None
    layout: Tensor | None
    source_mask: Tensor | None


class StyleNet(Protocol):
    """What the context needs of the generator network (``tsb.models.stylebrush.StyleBrushNet``)."""

    def __call__(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> Any: ...

    def encode_style(self, style: Tensor) -> Any: ...

    def synthesize(self, style_code: Any, content: Tensor, source: Tensor | None = None) -> Any: ...


class MissingKeyError(KeyError):
    """A term needs a batch key that this data source does not provide."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class LossContext:
    """Lazily evaluated generator/discriminator outputs for one phase of one step.

    Args:
        net: the generator network (style encoder + content encoder + generator).
        discriminator: the discriminator, or None when the task has none.
        batch: the data batch (keys as in ``tsb.data.keys``).
        phase: the phase being computed (``G``, ``G_reg``, ``D``, ``D_reg``).
        step: the trainer step.
        real_key: the batch key of the real images shown to the discriminator.
    """

    def __init__(
        self,
        net: StyleNet,
        discriminator: Callable[[Tensor], Tensor] | None,
        batch: dict[str, Any],
        phase: str,
        step: int = 0,
        real_key: str = "style",
    ) -> None:
        self.net = net
        self.discriminator = discriminator
        self.batch = batch
        self.phase = phase
        self.step = step
        self.real_key = real_key
        self._cache: dict[str, Any] = {}
        self.logs: dict[str, Tensor] = {}

    # batch access ------------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        """``batch[key]`` or None when the data source does not provide it."""
        return self.batch.get(key)

    def require(self, key: str) -> Any:
        if key not in self.batch:
            raise MissingKeyError(
                f"the batch has no {key!r} (it has {sorted(self.batch)}); this data source cannot "
                "feed a loss term that needs it: pick another data config or drop the term"
            )
        return self.batch[key]

    def optional(self, key: str) -> Tensor | None:
        """The batch's ``key`` when it has it (a tensor), else None."""
        value = self.batch.get(key)
        return value if isinstance(value, Tensor) else None

    @property
    def style(self) -> Tensor:
        return self.require("style")

    @property
    def content_src(self) -> Tensor:
        return self.require("content_src")

    @property
    def content_tgt(self) -> Tensor:
        return self.require("content_tgt")

    # lazily computed -----------------------------------------------------------------------------
    def memo(self, key: str, fn: Callable[[], T]) -> T:
        """Compute ``fn()`` once per context under ``key``."""
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]  # type: ignore[no-any-return]

    def _generator_grad(self) -> contextlib.AbstractContextManager[Any]:
        # the discriminator step trains D on fakes made without a generator graph
        return torch.no_grad() if self.phase == D else contextlib.nullcontext()

    @property
    def style_code(self) -> Any:
        def make() -> Any:
            with self._generator_grad():
                return self.net.encode_style(self.style)

        return self.memo("style_code", make)

    @property
    def fake(self) -> GeneratorOutputLike:
        def make() -> GeneratorOutputLike:
            with self._generator_grad():
                return self.net.synthesize(self.style_code, self.content_tgt, self.optional("content_src"))  # type: ignore[no-any-return]

        return self.memo("fake", make)

    @property
    def recon(self) -> GeneratorOutputLike:
        def make() -> GeneratorOutputLike:
            with self._generator_grad():
                return self.net.synthesize(self.style_code, self.content_src, self.content_src)  # type: ignore[no-any-return]

        return self.memo("recon", make)

    @property
    def cycle(self) -> GeneratorOutputLike:
        def make() -> GeneratorOutputLike:
            with self._generator_grad():
                # the output's own text is the target's
                return self.net(self.fake.image, self.content_src, self.optional("content_tgt"))  # type: ignore[no-any-return]

        return self.memo("cycle", make)

    def discriminate(self, x: Tensor) -> Tensor:
        if self.discriminator is None:
            raise ConfigError(
                "a loss term needs the discriminator but the task has none; "
                "configure model.discriminator or drop the adversarial terms"
            )
        return self.discriminator(x)

    @property
    def fake_logits(self) -> Tensor:
        return self.memo("fake_logits", lambda: self.discriminate(self.fake.image))

    @property
    def real(self) -> Tensor:
        return self.require(self.real_key)  # type: ignore[no-any-return]

    @property
    def real_logits(self) -> Tensor:
        return self.memo("real_logits", lambda: self.discriminate(self.real))

    def log(self, name: str, value: Tensor) -> None:
        """An extra scalar to log next to the terms (e.g. the mean real/fake logits)."""
        self.logs[name] = value.detach().float()
