"""Evaluate a checkpoint: ``python evaluate.py ckpt_path=RUN/checkpoints/last.ckpt data=paired data.root=DIR``.

Writes report.json, report.md, grid.png and the generated images into the run folder; compare
checkpoints with ``-m ckpt_path=A,B`` and gather the reports with ``python -m tsb.summary DIR``.
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

import tsb.configs  # noqa: F401  (registers the structured configs conf/ starts from)
from tsb.cli import report_error
from tsb.errors import TsbError
from tsb.evaluate.settings import register as register_evaluate_settings

log = logging.getLogger("tsb")

register_evaluate_settings()


@hydra.main(version_base="1.3", config_path="conf", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    from tsb.evaluate.run import evaluate

    try:
        evaluate(cfg)
    except TsbError as e:
        sys.exit(report_error(e, log))


if __name__ == "__main__":
    main()
