"""Errors that speak to the user: each names the thing that is wrong and the fix."""

from __future__ import annotations


class TsbError(RuntimeError):
    """Base of all user-facing errors; entry points print the message without a traceback and
    exit with :attr:`exit_code`."""

    exit_code: int = 1

    def __init__(self, message: str = "", exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(TsbError, ValueError):
    """A config value is missing or invalid (a usage error: exit status 2). Also a ValueError, so
    callers that catch the built-in type still do."""

    exit_code = 2


class DataNotFoundError(ConfigError, FileNotFoundError):
    """A data folder or file the config names does not exist."""


class CheckpointError(TsbError):
    """A checkpoint file is missing, truncated or not one of ours (what was given is wrong: exit 2)."""

    exit_code = 2


class NonFiniteLossError(TsbError):
    """A loss became NaN or infinite; the optimizer step was skipped."""


class TrainingInterrupted(TsbError):
    """SIGINT / SIGTERM stopped training after a step; ``last.ckpt`` holds it (exit 128 + signal)."""
