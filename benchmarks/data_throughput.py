"""Synthetic data throughput (paired samples per second per core) vs the training step it feeds.

    OMP_NUM_THREADS=1 python benchmarks/data_throughput.py [--n 400] [--warmup 4000] [data=synth ...]

Measures, in one process on one core, ``dataset[i]`` + collate of the composed ``cfg.data``
(default ``data=synth``, 64x256, every effect on at its configured probability) after a warm-up
that fills the per-process glyph cache, as a DataLoader worker would be after a few minutes.
Figures: pairs per wall second and per CPU second (the latter is robust on a shared machine),
and the same with every effect forced on (probability 1). Then, if ``tsb.tasks.stylebrush`` is
importable, the time of one training step of the default config (``task.phase_loss`` + backward
for each phase of ``task.phases()``, weighted by the phase interval) on one batch, and the pairs
per second that step consumes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
from hydra.utils import instantiate
from omegaconf import open_dict

from tsb.configs import compose_config


def rate(ds: Any, start: int, n: int, collate: Any, batch: int = 16) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    for b0 in range(start, start + n, batch):
        collate([ds[i] for i in range(b0, min(start + n, b0 + batch))])
    return n / (time.perf_counter() - t), n / (time.process_time() - c)


def all_effects_on(cfg_effects: dict[str, Any]) -> dict[str, Any]:
    eff = dict(cfg_effects)
    for k in list(eff):
        if k.startswith("p_"):
            eff[k] = 1.0
    return eff


def step_time(cfg: Any, batch: dict[str, Any], repeats: int = 3) -> tuple[float, list[str]] | None:
    try:
        import tsb.tasks.stylebrush  # noqa: F401
    except ImportError:
        return None
    task = instantiate(cfg.model, loss=instantiate(cfg.loss))
    task.train()
    lines, total = [], 0.0
    for phase in task.phases():
        best = float("inf")
        for r in range(repeats + 1):
            task.zero_grad(set_to_none=True)
            t = time.perf_counter()
            out = task.phase_loss(phase, batch, 0)
            out.loss.backward()
            if r:  # first run warms up
                best = min(best, time.perf_counter() - t)
        total += best / phase.interval
        lines.append(f"  phase {phase.name:<12} every {phase.interval:>2} steps: {best * 1000:8.1f} ms")
    return total, lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=400, help="timed pairs")
    p.add_argument("--warmup", type=int, default=4000, help="pairs before timing (fills glyph caches)")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data=synth_simple")
    args = p.parse_args()
    torch.set_num_threads(1)
    overrides = list(args.overrides)
    if not any(o.split("=")[0].lstrip("+~") == "data" for o in overrides):
        # the setting: data=synth at 64x256 (the default experiment trains on synth_simple)
        overrides.insert(0, "data=synth")
    cfg = compose_config(overrides, Path(tempfile.mkdtemp(prefix="tsb_bench_")))
    with open_dict(cfg):
        cfg.data.num_workers = 0
        cfg.data.persistent_workers = False
    dm = instantiate(cfg.data)
    ds = dm.train_dataset()
    collate = dm.collate_fn()
    sample = ds[0]
    shape = tuple(sample["style"].shape)
    print(f"data: {cfg.data._target_}  sample {shape}  {len(dm.fonts)} fonts")
    t0 = time.process_time()
    for i in range(args.warmup):
        ds[i]
    print(f"warm-up: {args.warmup} pairs in {time.process_time() - t0:.1f} CPU s")
    wall, cpu = rate(ds, args.warmup, args.n, collate)
    print(f"configured effects : {wall:7.1f} pairs/s wall, {cpu:7.1f} pairs/s per CPU core")
    if "effects" in cfg.data:
        eff_cfg = instantiate(cfg.data, effects=all_effects_on(dict(cfg.data.effects)))
        ds_all = eff_cfg.train_dataset()
        for i in range(args.warmup):
            ds_all[i]
        wall, cpu = rate(ds_all, args.warmup, args.n, collate)
        print(f"all effects on     : {wall:7.1f} pairs/s wall, {cpu:7.1f} pairs/s per CPU core")
    batch = collate([ds[i] for i in range(dm.batch_size)])
    res = step_time(cfg, batch)
    if res is None:
        print("training step: not available yet (tsb.tasks.stylebrush is not importable)")
        return
    total, lines = res
    print(f"training step ({cfg.model._target_}, batch {dm.batch_size}, {torch.get_num_threads()} thread):")
    print("\n".join(lines))
    print(f"  one step {total * 1000:.1f} ms -> consumes {dm.batch_size / total:.1f} pairs/s")


if __name__ == "__main__":
    main()
