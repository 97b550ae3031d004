"""What every entry point does with an error that speaks to the user (train.py, evaluate.py,
``tsb.edit``, ``tsb.demo``, ``tsb.release``, ``tsb.summary``): print its one-line message without a
traceback and exit with the error's own status (2: something given is wrong, a config value, a
file, a checkpoint, an image; 1: a failure while running; 128 + N: stopped by signal N).
``HYDRA_FULL_ERROR=1`` shows the traceback instead, as Hydra does for its own errors."""

from __future__ import annotations

import difflib
import logging
import os
import sys
from collections.abc import Sequence

from tsb.errors import ConfigError, TsbError


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


def unknown_key(argv: Sequence[str], config_name: str) -> ConfigError | None:
    """The first ``key=value`` of a plain run's command line whose key the composed config does not
    have, as one message naming the closest keys ("did you mean trainer.max_steps?"); None when
    the command line composes, or fails for another reason (Hydra reports that), or holds flags
    (``-m``, ``--cfg``: left to Hydra). Costs one composition when there is a ``key=value``."""
    overrides = [a for a in argv if "=" in a and not a.startswith("hydra.")]
    if any(a.startswith("-") for a in argv) or not overrides:
        return None
    from hydra.errors import ConfigCompositionException
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    from tsb.configs import compose_config

    try:
        compose_config(overrides, config_name=config_name)
        return None
    except ConfigCompositionException as e:
        cause = e.__cause__
        key = getattr(cause, "full_key", None)
        if not isinstance(cause, (ConfigKeyError, ConfigAttributeError)) or not key:
            return None
    except ConfigError as e:  # compose_config's own message (an experiment's model keys on another model)
        return e
    except Exception:
        return None
    given = next((o for o in overrides if o.partition("=")[0] == key), None)
    if given is None:
        return None
    parent, _, leaf = str(key).rpartition(".")
    try:
        cfg = compose_config([o for o in overrides if o != given], config_name=config_name)
    except Exception:
        return None
    node = OmegaConf.select(cfg, parent) if parent else cfg
    keys = [str(k) for k in node] if isinstance(node, DictConfig) else []
    close = difflib.get_close_matches(leaf, keys, n=3, cutoff=0.6)
    where = f"{parent}." if parent else ""
    hint = (
        f"did you mean {' or '.join(where + c for c in close)}?"
        if close
        else f"its settings: {', '.join(keys[:20])}{' ...' if len(keys) > 20 else ''}"
    )
    return ConfigError(f"{given}: {parent or 'the config'} has no setting {leaf!r}; {hint}")
