"""Weights & Biases logger: scalars, the resolved config and sample grids.

Offline by default (``mode: offline``): works with no account and no network; the run is
written to ``<run_dir>/wandb/offline-run-*`` and can be uploaded later with
``wandb sync <run_dir>/wandb/offline-run-*``. ``logger.wandb.mode=online`` logs live (needs
``WANDB_API_KEY`` in the environment or ``wandb login``); ``disabled`` turns it off.

The W&B folder lives inside the run folder (``dir=run_dir``). The config sent to W&B is checked
with :func:`tsb.utils.secrets.assert_no_secrets_in_config` and redacted. ``mode`` is passed to
``wandb.init``, which takes precedence over ``WANDB_MODE``: a stray ``WANDB_MODE=online`` in the
shell does not put a run online that the config keeps offline.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tsb.errors import ConfigError
from tsb.logger.base import Logger
from tsb.utils.secrets import assert_no_secrets_in_config, redact

log = logging.getLogger(__name__)

MODES = ("offline", "online", "disabled")


class WandbLogger(Logger):
    """Log to W&B.

    Args:
        project: W&B project name.
        entity: team or user (``None``: the account's default).
        name: run name (``None``: the run folder's name).
        mode: ``offline`` (default), ``online`` or ``disabled``.
        tags / group / notes: W&B run metadata.
        job_type: W&B job type (e.g. ``train``).
    """

    def __init__(
        self,
        project: str = "tsb",
        entity: str | None = None,
        name: str | None = None,
        mode: str = "offline",
        tags: list[str] | tuple[str, ...] | None = None,
        group: str | None = None,
        notes: str | None = None,
        job_type: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"logger.wandb.mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.project = project
        self.entity = entity
        self.name = name
        self.mode = mode
        self.tags = list(tags or [])
        self.group = group
        self.notes = notes
        self.job_type = job_type
        self.run: Any = None
        self.run_path: Path | None = None  # the local folder of this W&B run

    def setup(self, run_dir: Path, config: dict[str, Any]) -> None:
        import wandb

        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        assert_no_secrets_in_config(config)
        self.run = wandb.init(
            project=self.project,
            entity=self.entity,
            name=self.name or run_dir.name,
            mode=self.mode,  # type: ignore[arg-type]
            dir=str(run_dir),
            config=redact(dict(config)),
            tags=self.tags or None,
            group=self.group,
            notes=self.notes,
            job_type=self.job_type,
            reinit="create_new",
        )
        run_folder = getattr(getattr(self.run, "settings", None), "sync_dir", None)
        self.run_path = Path(run_folder) if run_folder else None
        if self.mode == "offline":
            log.info(
                "W&B offline run in %s; upload it later with `wandb sync %s`", self.run_path, self.run_path
            )

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if self.run is None:
            return
        self.run.log({k: float(v) for k, v in metrics.items()}, step=int(step))

    def log_image(self, key: str, path: Path, step: int) -> None:
        if self.run is None:
            return
        import wandb

        self.run.log({key: wandb.Image(str(path))}, step=int(step))

    def finish(self) -> None:
        """Finish the run and shut the W&B service down, so the run files are complete on disk
        when this returns (``run.finish()`` alone can return before the offline ``.wandb`` file
        is written out)."""
        if self.run is not None:
            import wandb

            self.run.finish()
            self.run = None
            wandb.teardown()
