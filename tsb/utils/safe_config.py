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

Before any of that, :func:`check_config_size` bounds what the stored config expands to: a few
hundred bytes of YAML whose aliases repeat one part ten times per level (a "billion laughs") stand
for 10^9 entries, which building the config would expand for minutes, gigabytes deep. The YAML is
only *composed* (aliases stay shared nodes), and the entries are counted with each shared node
counted once per use, without expanding anything; plain data read from a pickle (where one list
can be referenced many times) is counted the same way. Recursive aliases and nesting deeper than
:data:`MAX_CONFIG_DEPTH` are refused too.
"""

from __future__ import annotations

import importlib
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from tsb.errors import UnsafeConfigError
from tsb.utils.secrets import walk_config

#: the most entries (mappings, lists and values, aliases expanded) a stored config may hold; the
#: largest preset's whole resolved config holds about a thousand
MAX_CONFIG_NODES = 200_000
#: the deepest nesting a stored config may have (the presets' is under 10)
MAX_CONFIG_DEPTH = 100

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
    plain = (
        OmegaConf.to_container(node, resolve=False) if isinstance(node, (DictConfig, ListConfig)) else node
    )
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


class ConfigTooLarge(ValueError):
    """A config passed :data:`MAX_CONFIG_NODES` or :data:`MAX_CONFIG_DEPTH` (the message says
    which, as a phrase: "expands to more than ... entries")."""


def _yaml_children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _data_children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, (list, tuple)):
        return list(node)
    return []


def _expanded_size(root: Any, children: Any) -> int:
    """How many nodes ``root`` stands for with every shared node counted once per use, computed
    once per distinct node (iteratively: no recursion limit); raises :class:`ConfigTooLarge` past the
    bounds or on a cycle."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(c)] for c in children(node))
            if total > MAX_CONFIG_NODES:
                raise ConfigTooLarge(
                    f"expands to more than {MAX_CONFIG_NODES} entries (YAML aliases that repeat one part "
                    "over and over: a 'billion laughs' file; tsb writes configs of about a thousand)"
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigTooLarge("expands without end (an alias refers to the node that holds it)")
        if depth > MAX_CONFIG_DEPTH:
            raise ConfigTooLarge(f"is nested more than {MAX_CONFIG_DEPTH} levels deep")
        kids = children(node)
        if not kids:
            sizes[key] = 1
            continue
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in kids)
    return sizes[id(root)]


def config_size(config: Any) -> int:
    """The number of entries ``config`` (YAML text or plain data) expands to, aliases and shared
    references counted once per use, without expanding them; raises :class:`ConfigTooLarge` past
    :data:`MAX_CONFIG_NODES` / :data:`MAX_CONFIG_DEPTH`. Text that is not YAML counts as 1 (the
    reader that builds it reports it)."""
    if isinstance(config, str):
        import yaml

        try:
            root = yaml.compose(config, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return 1
        except RecursionError:  # the composer recurses once per level of nesting
            raise ConfigTooLarge(f"is nested more than {MAX_CONFIG_DEPTH} levels deep") from None
        return 0 if root is None else _expanded_size(root, _yaml_children)
    return _expanded_size(config, _data_children)


def check_config_size(config: Any, where: str) -> None:
    """Refuse (:class:`UnsafeConfigError`, one line naming ``where``) a stored config that would
    expand past :data:`MAX_CONFIG_NODES` entries or nest past :data:`MAX_CONFIG_DEPTH` levels,
    before anything expands it (see the module doc)."""
    try:
        config_size(config)
    except ConfigTooLarge as e:
        raise UnsafeConfigError(
            f"{where}: the stored config {e}; it was not written by tsb's trainer, do not load it"
        ) from None
