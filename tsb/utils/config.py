"""Composing the project's configs from Python (tests, benchmarks, tools), outside a Hydra run."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"


def compose_config(
    overrides: list[str] | None = None, run_root: Path | None = None, config_name: str = "train.yaml"
) -> DictConfig:
    """Compose ``conf/<config_name>`` with ``overrides``.

    The ``${hydra:...}`` interpolations only resolve inside a Hydra run, so with ``run_root``
    the paths that use them are set: output_dir = run_root/run, checkpoints_dir =
    run_root/checkpoints, data_dir = run_root/data, root_dir = the repository.
    """
    if not CONF.is_dir():
        raise FileNotFoundError(f"{CONF} not found: tsb's configs live in the repository (pip install -e .)")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=overrides or [])
    if run_root is not None:
        with open_dict(cfg):
            cfg.paths.root_dir = str(ROOT)
            cfg.paths.output_dir = str(run_root / "run")
            cfg.paths.data_dir = str(run_root / "data")
            cfg.paths.checkpoints_dir = str(run_root / "checkpoints")
    return cfg
