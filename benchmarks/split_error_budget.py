"""Where the split design's error is: PSNR of the model against oracle compositions.

    python benchmarks/split_error_budget.py CKPT [--data data_cache/synth_shards_val] [--n 64]

On synthetic pairs (shards with ``background`` and masks), with the checkpoint's EMA weights:
the model; copying the source; the predicted and the true background alone; and compositions
that swap one predicted part (mask, text colour, background) for the truth. The part whose
swap gains most is where the error is (docs/lab-notes.md).
"""

from __future__ import annotations

import argparse

import torch

from tsb.data.synth import ShardDataset
from tsb.training.checkpoint import load_task


def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    mse = (((x.clamp(-1, 1) + 1) / 2 - (y + 1) / 2) ** 2).flatten(1).mean(1)
    return float((10 * torch.log10(1 / mse.clamp_min(1e-10))).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ckpt")
    p.add_argument("--data", default="data_cache/synth_shards_val")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    task, _ = load_task(args.ckpt, use_ema=True)
    ds = ShardDataset(args.data)
    b = torch.utils.data.default_collate([ds[i] for i in range(min(args.n, len(ds)))])
    with torch.no_grad():
        out = task.generate(b["style"], b["content_tgt"], b["content_src"])
    t, bg, m = b["target"], b["background"], b["mask_tgt"]
    rows = {
        "model": out.image,
        "copy the source": b["style"],
        "predicted background alone": out.background,
        "true background alone": bg,
        "true mask; model colours and background": m * out.foreground + (1 - m) * out.background,
        "model mask; true colours (target) and background": out.mask * t + (1 - out.mask) * bg,
        "true mask and background; model colours": m * out.foreground + (1 - m) * bg,
    }
    if out.layout is not None:  # the placed content ink as the mask: sharp letters, content font
        ink = torch.sigmoid(task.net.ink_gain * (out.layout * 2 - 1))
        rows["placed ink as the mask; model colours and background"] = ink * out.foreground + (1 - ink) * out.background
    hard = (out.mask > 0.5).float()
    rows["model mask > 0.5; model colours and background"] = hard * out.foreground + (1 - hard) * out.background
    print(f"PSNR (dB) on {len(t)} pairs of {args.data}, {args.ckpt}")
    for name, img in rows.items():
        print(f"  {name:50s} {psnr(img, t):6.2f}")
    print(f"  {'predicted vs true background':50s} {psnr(out.background, bg):6.2f}")


if __name__ == "__main__":
    main()
