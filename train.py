"""Train a tsb model: ``python train.py [group=option ...] [key=value ...]``.

Print the composed config with ``python train.py --cfg job``; sweep with ``-m``.
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

import tsb.configs  # noqa: F401  (registers the structured configs conf/ starts from)
from tsb.cli import report_error, unknown_key
from tsb.errors import TsbError
from tsb.train import train

log = logging.getLogger("tsb")


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    try:
        summary = train(cfg)
    except TsbError as e:
        sys.exit(report_error(e, log))
    except KeyboardInterrupt:  # Ctrl-C before training started (or a second one): nothing to save
        log.error("interrupted; no checkpoint was written by this stop (an earlier last.ckpt is intact)")
        sys.exit(130)
    metric = cfg.get("optimized_metric")
    return summary.get(metric) if metric else None


if __name__ == "__main__":
    # a misspelt key gets "did you mean" in one line (Hydra's own message suggests adding the key)
    problem = unknown_key(sys.argv[1:], "train")
    if problem is not None:
        sys.exit(report_error(problem))
    main()
