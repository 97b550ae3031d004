"""Configs that come from someone else's file (a checkpoint) may load data but never run code.

``hydra.utils.instantiate`` calls whatever ``_target_`` names: ``builtins.open``,
``numpy.savetxt``, ``torch.save``, ``os.system`` ... Hydra's own block-list stops only a few of
them. Before a config stored in a checkpoint is instantiated, :func:`check_targets` walks the
whole node (nested nodes and lists too, whatever ``_recursive_`` says) and refuses it unless
every ``_target_`` is an allowed class:

- its dotted path starts with one of :data:`ALLOWED_PACKAGES` (the packages that hold the
  project's networks and tasks); the name is checked *before* anything is imported, so a
  target never imports a foreign module;
- it resolves to a class (not a function, not a method) defined in that package (a class
  re-exported from elsewhere, e.g. ``tsb.models.layers.torch.nn.Linear``, is refused);
- the class is a ``torch.nn.Module`` (constructors of networks and tasks build layers; they
  do not write files).

Interpolations (``${...}``) are refused as well: checkpoints store their config resolved, and a
resolver (``${oc.env:...}``) would read from the loading machine.
"""

from __future__ import annotations

import importlib
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from tsb.errors import UnsafeConfigError
from tsb.utils.secrets import walk_config

#: Packages whose ``nn.Module`` classes a checkpoint's model config may build.
ALLOWED_PACKAGES: tuple[str, ...] = ("tsb.models.", "tsb.tasks.")
#: Keys Hydra reads in a node; anything else starting with ``_`` and ending with ``_`` is refused.
_HYDRA_KEYS = frozenset({"_target_", "_args_", "_recursive_", "_convert_", "_partial_"})


def allowed_class(target: str) -> type | None:
    """The class ``target`` names if a stored config may build it, else None (see the module doc)."""
    if not isinstance(target, str) or not target.startswith(ALLOWED_PACKAGES):
        return None
    parts = target.split(".")
    if not all(p.isidentifier() and not p.startswith("_") for p in parts):
        return None
    module_name, cls_name = ".".join(parts[:-1]), parts[-1]
    try:
        module = importlib.import_module(module_name)  # a tsb module: importing it runs no user code
    except ImportError:
        return None
    obj = getattr(module, cls_name, None)
    import torch.nn as nn

    if not isinstance(obj, type) or not issubclass(obj, nn.Module):
        return None
    if obj.__module__ != module_name or obj.__qualname__ != cls_name:
        return None  # re-exported from another module (or a nested class)
    return obj


def check_targets(node: DictConfig | dict[str, Any], where: str) -> None:
    """Raise :class:`UnsafeConfigError` unless instantiating ``node`` only builds allowed classes.

    ``where`` names the file the node comes from, for the message.
    """
    plain = OmegaConf.to_container(node, resolve=False) if isinstance(node, (DictConfig, ListConfig)) else node
    if not isinstance(plain, dict):
        raise UnsafeConfigError(f"{where}: the stored model config is not a mapping")
    hint = (
        "A checkpoint may only build tsb's own networks and tasks "
        f"({', '.join(p + '*' for p in ALLOWED_PACKAGES)} nn.Module classes); do not load this file "
        "unless you trust its author and know what it does."
    )
    if "_target_" not in plain:
        raise UnsafeConfigError(f"{where}: the stored model config has no _target_. {hint}")
    for path, key, value in walk_config(plain, ""):
        if isinstance(value, str) and "${" in value:
            raise UnsafeConfigError(
                f"{where}: the stored config holds an interpolation at {path} ({value[:60]!r}); "
                f"stored configs are resolved. {hint}"
            )
        if isinstance(key, str) and key.startswith("_") and key.endswith("_") and key not in _HYDRA_KEYS:
            raise UnsafeConfigError(f"{where}: the stored config has an unknown special key {path}. {hint}")
        if key == "_target_" and allowed_class(value) is None:
            raise UnsafeConfigError(f"{where}: the stored config names _target_={value!r} at {path}. {hint}")
        if key == "_partial_" and value:
            raise UnsafeConfigError(f"{where}: the stored config asks for a partial object at {path}. {hint}")
