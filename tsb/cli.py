"""What every entry point does with an error that speaks to the user (train.py, evaluate.py,
``tsb.edit``, ``tsb.demo``, ``tsb.release``, ``tsb.summary``): print its one-line message without a
traceback and exit with the error's own status (2: something given is wrong, a config value, a
file, a checkpoint, an image; 1: a failure while running; 128 + N: stopped by signal N).
``HYDRA_FULL_ERROR=1`` shows the traceback instead, as Hydra does for its own errors."""

from __future__ import annotations

import logging
import os
import sys

from tsb.errors import TsbError


def report_error(error: TsbError, log: logging.Logger | None = None) -> int:
    """Print ``error`` (to ``log`` when given, else standard error) and return its exit status;
    re-raise it under ``HYDRA_FULL_ERROR=1``. Call it in an ``except TsbError`` block."""
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise error
    if log is not None:
        log.error("%s", error)
    else:
        print(f"error: {error}", file=sys.stderr)
    return error.exit_code
