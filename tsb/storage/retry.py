"""Retries with exponential backoff (capped), shared by the Yandex.Disk storage and downloads.

Attempt ``i`` (0-based) that fails with a retriable error waits ``min(cap, base * 2**i)``
seconds before attempt ``i + 1``; after ``retries`` retries the last error is raised.
Which errors are retriable is the caller's decision (connection errors, timeouts, 5xx, 429).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from tsb.errors import ConfigError

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """``retries`` extra attempts after the first, waiting ``min(cap, base * 2**i)`` before each."""

    retries: int = 5
    base: float = 1.0
    cap: float = 60.0

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ConfigError(f"retries must be >= 0, got {self.retries}")
        if self.base < 0 or self.cap < 0:
            raise ConfigError(f"backoff delays must be >= 0, got base={self.base}, cap={self.cap}")

    def delays(self) -> Iterator[float]:
        """The waits before each retry, in order."""
        for i in range(self.retries):
            yield min(self.cap, self.base * 2.0**i)

    @property
    def total(self) -> float:
        """The longest time spent waiting if every attempt fails."""
        return sum(self.delays())


def retry_call(
    fn: Callable[[], T],
    *,
    policy: Backoff,
    is_retriable: Callable[[BaseException], bool],
    what: str = "request",
    sleep: Callable[[float], None] = time.sleep,
    logger: logging.Logger = log,
) -> T:
    """Call ``fn()`` until it succeeds, retrying retriable errors with exponential backoff.

    A non-retriable error is raised at once; the last retriable error is raised when the retries
    are spent. Each retry is logged at INFO with ``what`` and the error's class and message.
    """
    delays = policy.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except Exception as exc:
            if not is_retriable(exc):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            logger.info(
                "%s failed (attempt %d of %d: %s: %s); retrying in %.3g s",
                what,
                attempt,
                policy.retries + 1,
                type(exc).__name__,
                exc,
                delay,
            )
            if delay > 0:
                sleep(delay)
