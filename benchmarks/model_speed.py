"""Speed of the model presets: forward and forward+backward time per batch and images per second.

    python benchmarks/model_speed.py                       # all presets, CPU (1 thread), CUDA if present
    python benchmarks/model_speed.py --presets stylebrush_small --device cpu --threads 2
    python benchmarks/model_speed.py --device cuda --batch-cuda 32

Measured per preset (64xW content, 64xW style, W=256 by default):
- ``net fwd``: style encoder + content encoder + generator forward, no autograd;
- ``net fwd+bwd``: the same forward plus backward of a loss on image and mask (one G step's
  network work, without losses or optimizer);
- ``D fwd+bwd``: discriminator forward plus backward (one of the D step's passes).
CPU runs fp32 at batch 8 (2 for the paper preset), ``channels_last`` off and on. CUDA runs, per preset, fp32 and bf16 autocast,
with ``channels_last`` and ``torch.compile`` off and on. Times are the best of ``--iters`` runs after
warm-up (``--stat median`` for medians; the best is the steadier figure on a shared machine);
``--clock process`` times CPU runs by this process's CPU time (with ``--threads 1``: the time on an
idle core, when other jobs share the machine); images/s = batch / time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.utils import instantiate
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRESETS = ("stylebrush_small", "baseline", "stylebrush")
CPU_BATCH = {"stylebrush_small": 8, "baseline": 8, "stylebrush": 2}


@dataclass
class Variant:
    name: str
    bf16: bool = False
    channels_last: bool = False
    compile: bool = False


CPU_VARIANTS = [Variant("fp32"), Variant("fp32+channels_last", channels_last=True)]
CUDA_VARIANTS = [
    Variant("fp32"),
    Variant("bf16", bf16=True),
    Variant("bf16+channels_last", bf16=True, channels_last=True),
    Variant("bf16+compile", bf16=True, compile=True),
    Variant("bf16+channels_last+compile", bf16=True, channels_last=True, compile=True),
]


def load_networks(preset: str, device: torch.device) -> tuple[nn.Module, nn.Module]:
    from tsb.configs import compose_preset

    cfg = compose_preset("model", preset)
    torch.manual_seed(0)
    return instantiate(cfg.net).to(device), instantiate(cfg.discriminator).to(device)


def timeit(
    fn: Callable[[], object],
    device: torch.device,
    iters: int,
    warmup: int,
    stat: str = "min",
    clock: str = "wall",
) -> float:
    """Seconds per call: the best (``min``) or the ``median`` of ``iters`` timed calls."""

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    # "process": CPU seconds of this process; with one thread that is the time on an idle core,
    # the fairer CPU figure when other jobs share the machine (never used for CUDA)
    now = time.process_time if (clock == "process" and device.type == "cpu") else time.perf_counter
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(iters):
        t0 = now()
        fn()
        sync()
        times.append(now() - t0)
    return min(times) if stat == "min" else statistics.median(times)


def bench_preset(
    preset: str,
    device: torch.device,
    batch: int,
    width: int,
    variant: Variant,
    iters: int,
    warmup: int,
    stat: str = "min",
    clock: str = "wall",
) -> dict[str, float]:
    net, disc = load_networks(preset, device)
    net.train()
    disc.train()
    fmt = torch.channels_last if variant.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    disc = disc.to(memory_format=fmt)
    g = torch.Generator().manual_seed(0)
    style = (torch.rand(batch, 3, 64, width, generator=g) * 2 - 1).to(device).contiguous(memory_format=fmt)
    content = (torch.rand(batch, 1, 64, width, generator=g) * 2 - 1).to(device).contiguous(memory_format=fmt)
    run_net: Callable = torch.compile(net) if variant.compile else net  # type: ignore[assignment]
    run_disc: Callable = torch.compile(disc) if variant.compile else disc  # type: ignore[assignment]

    def autocast() -> AbstractContextManager:
        if variant.bf16:
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return nullcontext()

    def net_fwd() -> None:
        with torch.no_grad(), autocast():
            run_net(style, content)

    def net_fwd_bwd() -> None:
        with autocast():
            out = run_net(style, content)
            loss = out.image.float().abs().mean() + out.mask.float().mean()
        loss.backward()
        net.zero_grad(set_to_none=True)

    def disc_fwd_bwd() -> None:
        with autocast():
            loss = torch.nn.functional.softplus(run_disc(style)).mean()
        loss.backward()
        disc.zero_grad(set_to_none=True)

    w = warmup + (2 if variant.compile else 0)
    return {
        "net fwd": timeit(net_fwd, device, iters, w, stat, clock),
        "net fwd+bwd": timeit(net_fwd_bwd, device, iters, w, stat, clock),
        "D fwd+bwd": timeit(disc_fwd_bwd, device, iters, w, stat, clock),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--width", type=int, default=256, help="image width (a multiple of 16)")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--stat", default="min", choices=["min", "median"], help="best or median of --iters")
    ap.add_argument(
        "--clock",
        default="wall",
        choices=["wall", "process"],
        help="CPU timing: wall clock, or this process's CPU time (fair on a shared machine with --threads 1)",
    )
    ap.add_argument("--batch-cuda", type=int, default=32)
    ap.add_argument("--batch-cuda-paper", type=int, default=8, help="CUDA batch of the paper preset")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    devices = []
    if args.device in ("auto", "cpu"):
        devices.append(torch.device("cpu"))
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is visible")
        devices.append(torch.device("cuda"))
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True

    header = "| preset | device | batch | variant | net fwd ms | net fwd+bwd ms | D fwd+bwd ms | fwd img/s | fwd+bwd img/s |"
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(
        f"64x{args.width}, torch {torch.__version__}, CPU threads {args.threads}{load}, {args.stat} of {args.iters}"
    )
    if torch.cuda.is_available():
        print(f"CUDA device: {torch.cuda.get_device_name()}")
    print(header)
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for device in devices:
        variants = CUDA_VARIANTS if device.type == "cuda" else CPU_VARIANTS
        for preset in args.presets:
            if device.type == "cuda":
                batch = args.batch_cuda_paper if preset == "stylebrush" else args.batch_cuda
            else:
                batch = CPU_BATCH[preset]
            iters = (
                args.iters if (device.type == "cuda" or preset != "stylebrush") else max(2, args.iters // 2)
            )
            warmup = args.warmup if (device.type == "cuda" or preset != "stylebrush") else 1
            for variant in variants:
                r = bench_preset(
                    preset, device, batch, args.width, variant, iters, warmup, args.stat, args.clock
                )
                print(
                    f"| {preset} | {device.type} | {batch} | {variant.name} | {r['net fwd'] * 1e3:.1f} | "
                    f"{r['net fwd+bwd'] * 1e3:.1f} | {r['D fwd+bwd'] * 1e3:.1f} | {batch / r['net fwd']:.1f} | "
                    f"{batch / r['net fwd+bwd']:.1f} |",
                    flush=True,
                )
                if device.type == "cuda":
                    torch._dynamo.reset()
                    torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
