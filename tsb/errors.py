"""Errors that speak to the user: each names the thing that is wrong and the fix."""

from __future__ import annotations


class TsbError(RuntimeError):
    """Base of all user-facing errors; entry points print the message without a traceback."""


class ConfigError(TsbError):
    """A config value is missing or invalid."""


class CheckpointError(TsbError):
    """A checkpoint file is missing, truncated or not one of ours."""


class NonFiniteLossError(TsbError):
    """A loss became NaN or infinite; the optimizer step was skipped."""
