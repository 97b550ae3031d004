"""Parameter table of a model preset: ``python -m tsb.models.summary model=NAME [depth=3] [overrides...]``.

Composes ``conf/model/NAME.yaml`` with Hydra (further arguments are Hydra overrides of that
node, e.g. ``model.net.generator.channels=[32,32,16,8,8]``), instantiates the two network nodes
``net`` and ``discriminator`` (not the task, which needs losses and helper networks) and prints a
Markdown table: one row per network and per child module, then the totals.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from tsb.models.schemas import register_networks

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
NETWORK_NODES = ("net", "discriminator")


def count(module: nn.Module) -> int:
    """Number of parameters (each shared tensor counted once)."""
    return sum(p.numel() for p in module.parameters())


def compose_model(name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """The ``model`` config node of preset ``name`` (conf/model/<name>.yaml) with overrides applied."""
    if not (CONF_DIR / "model" / f"{name}.yaml").is_file():
        known = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
        raise SystemExit(
            f"unknown model preset {name!r}: no {CONF_DIR}/model/{name}.yaml; known: {', '.join(known)}"
        )
    register_networks()  # the networks' structured configs the presets start from
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(overrides=[f"+model={name}", *overrides])
    return cfg.model


def build_networks(model_cfg: DictConfig) -> dict[str, nn.Module]:
    """Instantiate the network nodes (``net``, ``discriminator``) of a model config."""
    return {key: instantiate(model_cfg[key]) for key in NETWORK_NODES if key in model_cfg}


def parameter_table(networks: dict[str, nn.Module], depth: int = 3) -> list[tuple[str, int]]:
    """Rows (dotted module name, parameters) down to ``depth`` levels, then the total.

    Numbered children (layers of a ``Sequential`` / ``ModuleList``) are not listed one by one.
    """
    rows: list[tuple[str, int]] = []

    def walk(prefix: str, module: nn.Module, level: int) -> None:
        rows.append((prefix, count(module)))
        if level < depth:
            for name, child in module.named_children():
                if count(child) and not name.isdigit():  # skip Sequential/ModuleList indices
                    walk(f"{prefix}.{name}", child, level + 1)

    for key, net in networks.items():
        walk(key, net, 1)
    rows.append(("total", sum(count(n) for n in networks.values())))
    return rows


def format_table(rows: list[tuple[str, int]], title: str = "") -> str:
    """Markdown table; nested modules are indented, numbers are grouped (12,345,678) and in millions."""
    lines = [f"### {title}", ""] if title else []
    lines += ["| module | parameters | millions |", "|---|---:|---:|"]
    for name, n in rows:
        depth = name.count(".")
        label = "&nbsp;&nbsp;" * depth + (name if depth == 0 else name.rsplit(".", 1)[-1])
        if name == "total":
            label = "**total**"
        lines.append(f"| {label} | {n:,} | {n / 1e6:.3f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    names = [a.split("=", 1)[1] for a in args if a.startswith("model=")]
    depth_args = [a for a in args if a.startswith("depth=")]
    overrides = [a for a in args if not a.startswith(("model=", "depth="))]
    if len(names) != 1:
        raise SystemExit(
            "usage: python -m tsb.models.summary model=NAME [depth=3] [hydra overrides of model.*]"
        )
    depth = int(depth_args[-1].split("=", 1)[1]) if depth_args else 3
    networks = build_networks(compose_model(names[0], overrides))
    text = format_table(parameter_table(networks, depth), title=f"model={names[0]}")
    print(text)
    return text


if __name__ == "__main__":
    main()
