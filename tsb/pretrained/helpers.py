"""The frozen helper networks of the losses: their checkpoint format, writing, loading and freezing.

It sits in :mod:`tsb.pretrained`, beside the packaged networks, because
:mod:`tsb.pretrained.registry` loads a helper checkpoint wherever a config may name a packaged
network; the losses and the tasks import it from here.

The typeface classifier and the recognizer are trained by this project
(``python train.py experiment=typeface`` / ``experiment=recognizer``); at the end of such a run
the trainer calls :func:`tsb.tasks.export.export_helper`, which writes a *helper checkpoint*
(default ``${paths.checkpoints_dir}/typeface.ckpt`` / ``recognizer.ckpt``)::

    {"format": "tsb-helper/1", "kind": "typeface" | "recognizer",
     "net": {"_target_": "tsb.models....", <constructor arguments>},
     "state_dict": {...}, "fonts": [...] | "alphabet": "...", <extra: step, metrics, ...>}

Loss terms load it with :func:`load_helper` when they are built, so a missing or unreadable
checkpoint stops a run at start-up with one message naming the command that makes it. Loaded
networks are cached per file (several terms share one classifier) and wrapped in
:class:`FrozenHelper`: no gradients, always in eval mode, and outside the task's parameters and
``state_dict`` (they are not in any optimizer group, not in the task's checkpoints, and a task
built with ``loss=None`` loads the same checkpoint), while ``task.to(device)`` still moves them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from tsb.errors import HelperCheckpointError
from tsb.utils.io import atomic_torch_save

FORMAT = "tsb-helper/1"
# the ``version`` entry every helper file has carried (it was written with the trainer's checkpoint
# writer, whose ``version`` it is); nothing reads it
VERSION = 1
TYPEFACE = "typeface"
RECOGNIZER = "recognizer"
_KINDS: dict[str, tuple[str, str]] = {
    TYPEFACE: ("typeface classifier", "python train.py experiment=typeface"),
    RECOGNIZER: ("text recognizer", "python train.py experiment=recognizer"),
}
_CACHE: dict[tuple[str, str, int, int], nn.Module] = {}


def net_spec(net: nn.Module) -> dict[str, Any]:
    """``{"_target_": class path, **constructor arguments}`` of a network that keeps ``hparams``."""
    hparams = getattr(net, "hparams", None)
    if not isinstance(hparams, dict):
        raise TypeError(f"{type(net).__name__} keeps no `hparams` dict; it cannot be exported as a helper")
    cls = type(net)
    return {"_target_": f"{cls.__module__}.{cls.__qualname__}", **hparams}


def helper_payload(kind: str, net: nn.Module, **extra: Any) -> dict[str, Any]:
    """The content of a helper checkpoint for ``net`` (weights on CPU)."""
    if kind not in _KINDS:
        raise ValueError(f"unknown helper kind {kind!r}; known: {sorted(_KINDS)}")
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    return {"format": FORMAT, "kind": kind, "net": net_spec(net), "state_dict": state, **extra}


def write_helper_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Atomically write a helper checkpoint (:func:`helper_payload` + plain extras) to ``path``."""
    return atomic_torch_save(path, {"format": FORMAT, "version": VERSION, **payload})


def _build(spec: dict[str, Any]) -> nn.Module:
    """The network a helper checkpoint names: only a tsb network class (a file may not run code)."""
    from tsb.utils.safe_config import allowed_class

    target = str(spec.get("_target_", ""))
    cls = allowed_class(target)
    if cls is None:
        raise HelperCheckpointError(f"helper network class {target!r} is not a tsb network class; refusing to build it")
    kwargs = {k: v for k, v in spec.items() if k != "_target_"}
    if any(isinstance(v, dict) and "_target_" in v for v in kwargs.values()):
        raise HelperCheckpointError("a helper network's arguments may not name further classes (_target_)")
    return cls(**kwargs)  # type: ignore[no-any-return]


def read_helper_checkpoint(path: str | Path, kind: str) -> dict[str, Any]:
    """The checkpoint dict, after checking that it exists and is a ``kind`` helper."""
    if kind not in _KINDS:
        raise ValueError(f"unknown helper kind {kind!r}; known: {sorted(_KINDS)}")
    what, command = _KINDS[kind]
    p = Path(path).expanduser()
    if not p.is_file():
        raise HelperCheckpointError(
            f"the {what} checkpoint {p} does not exist; make it first with `{command}` "
            f"(or point the loss's `checkpoint` option at one)"
        )
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated file, foreign pickle, ...
        raise HelperCheckpointError(
            f"the {what} checkpoint {p} cannot be read ({type(e).__name__}: {e}); remake it with `{command}`"
        ) from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise HelperCheckpointError(
            f"{p} is not a helper checkpoint (no '{FORMAT}' format tag; a training checkpoint such as "
            f"last.ckpt is not one); make one with `{command}`"
        )
    if state.get("kind") != kind:
        raise HelperCheckpointError(
            f"{p} holds a {state.get('kind')!r} helper, not a {kind!r} one; make one with `{command}`"
        )
    return state


def load_helper(path: str | Path, kind: str) -> nn.Module:
    """The frozen (``requires_grad`` off, eval mode) helper network stored at ``path``, cached."""
    p = Path(path).expanduser()
    if not p.is_file():
        read_helper_checkpoint(p, kind)  # raises the message that names the command
    st = p.stat()
    key = (kind, str(p.resolve()), st.st_mtime_ns, st.st_size)
    if key in _CACHE:
        return _CACHE[key]
    state = read_helper_checkpoint(p, kind)
    what, command = _KINDS[kind]
    try:
        net = _build(dict(state["net"]))
        net.load_state_dict(state["state_dict"])
    except Exception as e:
        raise HelperCheckpointError(
            f"the {what} checkpoint {p} does not match its network ({type(e).__name__}: {e}); "
            f"remake it with `{command}`"
        ) from e
    freeze(net)
    _CACHE[key] = net
    return net


def freeze(net: nn.Module) -> nn.Module:
    """No gradients to its parameters, eval mode (dropout off, batch-norm running statistics)."""
    net.requires_grad_(False)
    net.eval()
    return net


class FrozenHelper(nn.Module):
    """Holds a frozen network outside the module tree (see the module docstring).

    Calling it calls the network. It stays in eval mode whatever ``train()`` is called with,
    its parameters never require grad (inputs still receive gradients), and ``.to()`` /
    ``.cuda()`` / ``.half()`` of any parent are passed on to it.
    """

    net: nn.Module

    def __init__(self, net: nn.Module, source: str = "") -> None:
        super().__init__()
        freeze(net)
        object.__setattr__(self, "net", net)  # not registered: no parameters, no state_dict
        self.source = source
        self.training = False

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.net(*args, **kwargs)

    def train(self, mode: bool = True) -> FrozenHelper:
        super().train(False)
        self.net.eval()
        return self

    def _apply(self, fn: Any, recurse: bool = True) -> FrozenHelper:
        super()._apply(fn, recurse)
        self.net._apply(fn, recurse)
        return self

    def extra_repr(self) -> str:
        return f"{type(self.net).__name__}, frozen" + (f", from {self.source}" if self.source else "")
