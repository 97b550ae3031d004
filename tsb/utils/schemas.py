"""A class's structured config: its constructor's arguments, their types and defaults (hydra-zen's
``builds``), for the ConfigStore registrations of :mod:`tsb.models.schemas` and :mod:`tsb.configs`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import MISSING, field, fields, make_dataclass
from typing import Any

from hydra_zen import builds


def class_schema(cls: Callable[..., Any], exclude: Sequence[str] = (), first: Sequence[str] = ()) -> type:
    """The settings of ``cls`` (named ``<Class>Settings`` in the messages that refuse a key): every
    argument but ``exclude``, in signature order but ``first`` first. A required argument is
    ``???`` until a preset gives it; a network argument is typed ``Any``, the node of its own schema.

    The order matters where children are built: Hydra instantiates a node's children in key order,
    which is the order the seeded initial weights are drawn in."""
    schema: type = builds(  # type: ignore[call-overload]
        cls,
        populate_full_signature=True,
        zen_exclude=tuple(exclude),
        zen_dataclass={"cls_name": f"{getattr(cls, '__name__', 'Object')}Settings"},
    )
    return _reordered(schema, first) if first else schema


def _reordered(schema: type, first: Sequence[str]) -> type:
    """``schema`` with the fields ``first`` right after ``_target_``, the others after them."""
    by_name = {f.name: f for f in fields(schema)}  # type: ignore[arg-type]
    names = ["_target_", *first, *(n for n in by_name if n != "_target_" and n not in first)]
    specs: list[tuple[str, Any, Any]] = []
    for name in names:
        f = by_name[name]
        if f.default_factory is not MISSING:
            specs.append((name, f.type, field(default_factory=f.default_factory)))
        elif f.default is not MISSING:
            specs.append((name, f.type, field(default=f.default)))
        else:  # a required argument (``???``)
            specs.append((name, f.type, field()))
    return make_dataclass(schema.__name__, specs, kw_only=True)
