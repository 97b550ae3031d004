"""Training throughput: images per second and the fraction of the device's peak it reaches.

    python benchmarks/train_speed.py                                  # paper preset, batch 64
    python benchmarks/train_speed.py --model stylebrush_small --loss quickstart --batch 8
    python benchmarks/train_speed.py --precision bf16 --channels-last --compile --fused-adam

Runs the real trainer's ``train_step`` (every phase that is due, optimizer steps, EMA) on the
real data pipeline (``--reuse-batch`` times the model alone on one batch kept on the device).
Loss terms that need the helper networks get randomly initialised helpers written to a
temporary folder (speed does not depend on their weights). Model FLOPs per image come from
``torch.utils.flop_counter.FlopCounterMode`` over whole training steps (forward and backward of
every phase, averaged over a full lazy-regularisation cycle), and the achieved fraction of peak
is (FLOPs/image x images/s) / peak. Peak bf16 dense TFLOP/s is looked up from the device name
(H100 SXM 989, H200 989, A100 312) or given with ``--peak-tflops``.

It also prints how long each step waits for its next batch (data loading keeps the device busy
when this is near 0), and with ``--profile N`` the operators that take the time over N more steps
(``--trace t.json`` writes a Chrome trace). ``benchmarks/gpu_check.sh`` runs the GPU presets.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import open_dict
from torch.utils.flop_counter import FlopCounterMode, _FlopCounterMode

from tsb.configs import compose_config
from tsb.tasks.export import export_helper
from tsb.train import build_trainer
from tsb.training.trainer import Trainer, move_batch


class GlobalFlopCounter(FlopCounterMode):
    """``FlopCounterMode`` without its per-module tracker, whose backward hooks break
    ``autograd.grad`` with respect to leaf inputs (the R1 and path-length penalties)."""

    def __enter__(self) -> GlobalFlopCounter:
        self.flop_counts.clear()
        self.mode = _FlopCounterMode(self)
        self.mode.__enter__()
        return self

    def __exit__(self, *args: object) -> None:
        assert self.mode is not None
        self.mode.__exit__(*args)
        self.mode = None


PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0}


def peak_tflops(device: torch.device, given: float | None) -> float | None:
    if given:
        return given
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in name:
            return value
    return None


def write_random_helpers(folder: Path) -> None:
    for experiment, name in (("typeface", "typeface.ckpt"), ("recognizer", "recognizer.ckpt")):
        cfg = compose_config([f"experiment={experiment}"], folder)
        export_helper(instantiate(cfg.model, loss=None), folder / "checkpoints" / name)


def profile_steps(trainer: Trainer, steps: int, device: torch.device, trace: str | None) -> None:
    """Print the operators that take the time over ``steps`` training steps (and a Chrome trace)."""
    from torch.profiler import ProfilerActivity, profile

    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            trainer.train_step()
            trainer.step += 1
        if cuda:
            torch.cuda.synchronize()
    sort = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort, row_limit=25))
    if trace:
        prof.export_chrome_trace(trace)
        print(f"trace             : {trace}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="stylebrush")
    ap.add_argument("--loss", default="paper")
    ap.add_argument("--data", default="synth")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=32, help="timed steps (a multiple of 16 runs every lazy phase)")
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="bf16", help="bf16 | fp16 | none (CUDA only)")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--fused-adam", action="store_true")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--reuse-batch", action="store_true", help="time the model alone on one device batch")
    ap.add_argument("--peak-tflops", type=float, default=None)
    ap.add_argument(
        "--profile", type=int, default=0, metavar="N", help="after timing, profile N steps and print the top operators"
    )
    ap.add_argument("--trace", default=None, help="with --profile: write a Chrome trace (JSON) here")
    ap.add_argument(
        "overrides", nargs="*", help="extra Hydra overrides, e.g. model.net.generator.channels=[...]"
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        write_random_helpers(tmp_path)
        cfg = compose_config(
            [f"model={args.model}", f"loss={args.loss}", f"data={args.data}", "logger=none", *args.overrides],
            tmp_path,
        )
        with open_dict(cfg):
            cfg.data.batch_size = args.batch
            cfg.data.num_workers = args.workers
            cfg.data.pin_memory = True
            cfg.trainer.device = args.device
            cfg.trainer.precision = None if args.precision == "none" else args.precision
            cfg.trainer.channels_last = args.channels_last
            cfg.trainer.compile = args.compile
            cfg.trainer.progress_bar = False
            if args.fused_adam:
                cfg.optimizer.default.fused = True
        trainer = build_trainer(cfg, tmp_path / "run")
        task = trainer.task
        trainer.setup()
        device = trainer.device
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        if args.reuse_batch:
            fixed = trainer._next_batch()
            trainer._next_batch = lambda: move_batch(fixed, device)  # type: ignore[method-assign]
        # time the training loop waits for (and copies) its next batch
        waited = [0.0]
        next_batch = trainer._next_batch

        def timed_next_batch() -> dict[str, object]:
            t = time.perf_counter()
            batch = next_batch()
            waited[0] += time.perf_counter() - t
            return batch

        trainer._next_batch = timed_next_batch  # type: ignore[method-assign]

        for _ in range(args.warmup):
            trainer.train_step()
            trainer.step += 1
        sync()
        # FLOPs per image: every phase once (eagerly: the counter sees aten ops), weighted by how
        # often it runs (1/interval)
        batches = [trainer._next_batch()]
        phase_flops: dict[str, float] = {}
        with torch.compiler.set_stance("force_eager"):
            for phase in task.phases():
                with GlobalFlopCounter(display=False) as counter:
                    trainer._run_phase(phase, batches)
                phase_flops[f"{phase.name}/{phase.interval}"] = counter.get_total_flops() / phase.interval / args.batch
        flops_per_image = sum(phase_flops.values())
        sync()
        waited[0] = 0.0
        t0 = time.perf_counter()
        for _ in range(args.steps):
            trainer.train_step()
            trainer.step += 1
        sync()
        dt = time.perf_counter() - t0
        data_wait = waited[0]
        if args.profile:
            profile_steps(trainer, args.profile, device, args.trace)
        # stop the loader's (persistent) workers now: left to the interpreter's exit, joining them hangs
        trainer._train_iter = None

    images_per_s = args.steps * args.batch / dt
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{device.type} ({torch.get_num_threads()} threads)"
    )
    print(f"device            : {name}")
    print(
        f"preset            : model={args.model} loss={args.loss} batch={args.batch} precision={args.precision} "
        f"channels_last={args.channels_last} compile={args.compile} fused_adam={args.fused_adam} "
        f"reuse_batch={args.reuse_batch}"
    )
    print(f"phases            : {[f'{p.name}/{p.interval}' for p in task.phases()]}")
    print(f"step time         : {1000 * dt / args.steps:.1f} ms")
    print(f"data wait         : {1000 * data_wait / args.steps:.1f} ms/step ({100 * data_wait / dt:.0f}% of the step)")
    print(f"images/s          : {images_per_s:.1f}")
    print(f"model GFLOP/image : {flops_per_image / 1e9:.2f} (forward+backward, all phases)")
    print("  by phase        : " + ", ".join(f"{k} {v / 1e9:.2f}" for k, v in phase_flops.items()))
    peak = peak_tflops(device, args.peak_tflops)
    achieved = flops_per_image * images_per_s / 1e12
    if peak:
        print(
            f"achieved          : {achieved:.1f} TFLOP/s = {100 * achieved / peak:.1f}% of {peak:.0f} TFLOP/s bf16 peak"
        )
        print(f"ceiling           : {peak * 1e12 / flops_per_image:.0f} images/s at 100% of that peak")
    else:
        print(
            f"achieved          : {achieved:.3f} TFLOP/s (no peak known for this device; pass --peak-tflops)"
        )


if __name__ == "__main__":
    main()
