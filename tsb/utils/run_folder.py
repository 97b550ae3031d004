"""A Hydra callback (``conf/hydra/default.yaml``) that checks the run folder before Hydra makes
it: ``hydra.run.dir`` (``hydra.sweep.dir`` for ``-m``) naming a file, or a place this user cannot
write, is one message and exit status 2 rather than Hydra's traceback from ``mkdir``.

Nothing is created here: the folder's name may hold ``${now:...}``, which Hydra resolves again
when it makes the folder; the check walks up to the nearest part that exists.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from tsb.errors import ConfigError


def check_run_folder(folder: str | Path, setting: str = "hydra.run.dir") -> None:
    """Raise :class:`ConfigError` unless ``folder`` is, or can be made as, a writable folder."""
    path = Path(folder).expanduser().absolute()
    fix = f"give {setting}=A_FOLDER you can write to"
    for part in (path, *path.parents):
        if not part.exists():
            continue
        if not part.is_dir():
            what = "is" if part == path else f"is inside {part}, which is"
            raise ConfigError(f"{setting}={folder} {what} a file, not a folder; {fix}")
        if not os.access(part, os.W_OK | os.X_OK):
            where = "" if part == path else f" ({part} is read-only)"
            raise ConfigError(f"{setting}={folder}: cannot write there{where}; {fix}")
        return


class RunFolderGuard(Callback):
    """Checks ``hydra.run.dir`` (a run) or ``hydra.sweep.dir`` (a sweep) before Hydra makes it."""

    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        self._check(config.hydra.run.dir, "hydra.run.dir")

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        self._check(config.hydra.sweep.dir, "hydra.sweep.dir")

    @staticmethod
    def _check(folder: Any, setting: str) -> None:
        try:
            check_run_folder(str(folder), setting)
        except ConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(e.exit_code) from None
