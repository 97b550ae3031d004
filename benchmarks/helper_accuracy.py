"""Accuracy of the two helper networks the losses use (trained by experiment=typeface / recognizer).

    OMP_NUM_THREADS=1 python benchmarks/helper_accuracy.py [--n 1024] [--seed 777]
        [--typeface checkpoints/typeface.ckpt ...] [--recognizer checkpoints/recognizer.ckpt easyocr ...]
        [--real ../shared/data/real-words]

Prints:
- typeface classifier: top-1 / top-5 on ``n`` synthetic words drawn in the *training* fonts with a
  seed the training never used (new words, new styles: the classifier only knows these fonts);
- recognizer: exact-match word accuracy (case-sensitive and not) and mean normalised edit distance
  on ``n`` synthetic words drawn in the *held-out* fonts, and on the real word crops of ``--real``
  (``labels.tsv``: file, word), with each real prediction listed.
Both synthetic sets are rendered as the helpers were trained (the experiment configs' data).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
from hydra.utils import instantiate

from tsb.configs import ROOT, compose_config
from tsb.data.imageio import load_rgb
from tsb.data.scene_folder import read_labels_tsv
from tsb.metrics.recognition import RecognitionMetrics
from tsb.pretrained.helpers import load_helper, read_helper_checkpoint
from tsb.utils.image import pil_to_tensor


def synthetic(experiment: str, n: int, seed: int, font_split: str) -> torch.utils.data.DataLoader:
    cfg = compose_config(
        [
            f"experiment={experiment}",
            f"seed={seed}",
            f"data.val_size={n}",
            f"data.val_font_split={font_split}",
            "data.num_workers=0",
            "data.val_batch_size=64",
        ],
        Path("/tmp/tsb_helper_accuracy"),
    )
    loader = instantiate(cfg.data).val_loader()
    assert loader is not None
    return loader


@torch.no_grad()
def typeface(path: Path, n: int, seed: int) -> None:
    net = load_helper(path, "typeface")
    fonts = read_helper_checkpoint(path, "typeface").get("fonts") or []
    right = right5 = total = 0
    t = time.time()
    for batch in synthetic("typeface", n, seed, "train"):
        for key in ("style", "target"):
            logits = net(batch[key])
            y = batch["font_id"]
            right += int((logits.argmax(1) == y).sum())
            right5 += int((logits.topk(5, dim=1).indices == y[:, None]).any(1).sum())
            total += len(y)
    print(f"typeface classifier {path} ({len(fonts)} fonts listed)")
    print(
        f"  held-out words, training fonts: top-1 {100 * right / total:.1f}%  top-5 {100 * right5 / total:.1f}%"
        f"  ({total} images, {time.time() - t:.0f} s)"
    )


@torch.no_grad()
def recognizer(path: str, n: int, seed: int, real: Path | None) -> None:
    from tsb.pretrained.registry import recognizer as build

    net = build(path)  # a packaged network's name (easyocr) or a CRNN checkpoint
    synth = RecognitionMetrics()
    for batch in synthetic("recognizer", n, seed, "heldout"):
        for key, text in (("style", "text_src"), ("target", "text_tgt")):
            synth.update(net.read(batch[key]), batch[text])  # type: ignore[operator]
    print(f"recognizer {path}")
    s = synth.compute()
    print(
        f"  synthetic words, held-out fonts ({len(synth)}): word acc {s['rec_acc']:.1f}% "
        f"(case-insensitive {s['rec_acc_ci']:.1f}%), NED {s['ned']:.3f}"
    )
    if real is None or not (real / "labels.tsv").is_file():
        return
    items = read_labels_tsv(real)
    metrics = RecognitionMetrics()
    for item in items:
        image = pil_to_tensor(load_rgb(item.path))[None]
        pred = net.read(image)[0]  # type: ignore[operator]
        metrics.update([pred], [item.text])
        print(f"    {item.name:14s} {item.text:14s} -> {pred}")
    r = metrics.compute()
    print(
        f"  real words {real} ({len(metrics)}): word acc {r['rec_acc']:.1f}% "
        f"(case-insensitive {r['rec_acc_ci']:.1f}%), NED {r['ned']:.3f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1024, help="synthetic pairs per set (2 images each)")
    p.add_argument("--seed", type=int, default=777, help="a seed the helpers were not trained with")
    p.add_argument("--typeface", nargs="*", type=Path, default=[ROOT / "checkpoints" / "typeface.ckpt"])
    p.add_argument(
        "--recognizer", nargs="*", default=[str(ROOT / "checkpoints" / "recognizer.ckpt")],
        help="CRNN checkpoints or packaged recognizers (easyocr)",
    )  # fmt: skip
    p.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "data" / "real-words")
    args = p.parse_args()
    torch.set_num_threads(1)
    for path in args.typeface:
        if path.is_file():
            typeface(path, args.n, args.seed)
        else:
            print(f"{path} missing: python train.py experiment=typeface")
    for spec in args.recognizer:
        if spec.endswith(".ckpt") and not Path(spec).is_file():
            print(f"{spec} missing: python train.py experiment=recognizer")
            continue
        recognizer(spec, args.n, args.seed, args.real)


if __name__ == "__main__":
    main()
