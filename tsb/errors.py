"""Errors that speak to the user: each names the thing that is wrong and the fix."""

from __future__ import annotations

from http import HTTPStatus


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


class ImageReadError(ConfigError, OSError):
    """A file of a data set that is not a readable image (also an OSError, as callers catch it)."""


class CheckpointError(TsbError):
    """A checkpoint file is missing, truncated or not one of ours (what was given is wrong: exit 2)."""

    exit_code = 2


class NonFiniteLossError(TsbError):
    """A loss became NaN or infinite; the optimizer step was skipped."""


class RunWriteError(TsbError):
    """A file of the run (a checkpoint) could not be written: a full disk, a read-only folder."""


class TrainingInterrupted(TsbError):
    """SIGINT / SIGTERM stopped training after a step; ``last.ckpt`` holds it (exit 128 + signal)."""


# pretrained networks and metrics -------------------------------------------------------------
class PretrainedUnavailable(TsbError):
    """A pretrained network's package is not installed, or its file is not the expected one."""


class MetricUnavailable(PretrainedUnavailable):
    """A metric cannot be computed here; the message says why and what to do."""


class LPIPSUnavailableError(PretrainedUnavailable):
    """The LPIPS backbone weights are not on this machine."""


class HelperCheckpointError(CheckpointError):
    """A helper network's checkpoint is missing, unreadable, or of the wrong kind."""


# stored configs and secrets -------------------------------------------------------------------
class UnsafeConfigError(CheckpointError):
    """A stored config would run code other than building the project's networks."""


class SecretInConfigError(ConfigError):
    """A config holds a secret (or a slot for one); the message names the key, not the value."""


# downloads and storage -------------------------------------------------------------------------
class FetchError(TsbError):
    """A download or copy failed; the message names the source and the cause."""


class ChecksumError(FetchError):
    """The fetched bytes do not match the expected digest."""


class StorageError(TsbError):
    """A storage operation failed in a way the user must fix."""


class YaDiskTokenError(StorageError):
    """The Yandex.Disk token is missing, invalid, expired or lacks permissions."""


# the apps ----------------------------------------------------------------------------------------
class EditError(TsbError):
    """A bad edit request (box, text, image, file); the message says what to change."""

    exit_code = 2


class ImageTooLarge(EditError):
    """An image over the pixel limit (the caller's, or Pillow's decompression-bomb guard)."""


class DemoError(TsbError):
    """A request the demo refuses; ``status`` is the HTTP status the page gets with the message."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


class SummaryError(ConfigError):
    """Bad arguments or files; the message says which."""


class BenchError(ConfigError):
    """Bad arguments or files of the photo benchmark (a folder, an edits file); the message says which."""
