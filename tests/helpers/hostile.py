"""Files an attacker would send (a checkpoint whose stored config is a YAML "billion laughs"), and
a deadline for code that would otherwise run for minutes."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch


def alias_bomb_yaml(levels: int = 9, width: int = 10) -> str:
    """A few hundred bytes of YAML whose aliases expand to ``width ** levels`` strings."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    lines.append(f"model: {{_target_: tsb.tasks.stylebrush.StyleBrushTask, net: *a{levels - 1}}}")
    return "\n".join(lines) + "\n"


def shared_list_bomb(levels: int = 9, width: int = 10) -> dict[str, Any]:
    """The same as plain data: one list referenced ``width`` times per level (a pickle keeps the
    sharing, so the file is small)."""
    node: Any = ["lol"] * width
    for _ in range(1, levels):
        node = [node] * width
    return {"model": {"_target_": "tsb.tasks.stylebrush.StyleBrushTask", "net": node}}


def bomb_checkpoint(path: Path, config: str | dict[str, Any] | None = None) -> Path:
    """A tsb checkpoint (right format tag, no weights) whose stored config is ``config``
    (default: :func:`alias_bomb_yaml`)."""
    torch.save(
        {"format": "tsb-checkpoint", "version": 1, "task": {}, "step": 0,
         "config": alias_bomb_yaml() if config is None else config},
        path,
    )  # fmt: skip
    return path


class DeadlinePassed(BaseException):
    """Raised by :func:`deadline`; not an ``Exception``, so no ``except Exception`` swallows it."""


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise :class:`DeadlinePassed` in the main thread if the block runs longer than ``seconds``
    (a generous bound: the expansion it guards against runs for minutes, growing in memory)."""

    def expire(signum: int, frame: object) -> None:
        raise DeadlinePassed(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
