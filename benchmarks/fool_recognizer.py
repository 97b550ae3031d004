"""Can a frozen differentiable recognizer be fooled? Why the judge of evaluate.py is another network.

Optimises the pixels of a rendered word image with Adam so that EasyOCR g2 (the recognition loss's
network) reads another word, then asks PP-OCRv6 (the judge) what it reads. Prints both readings
every few steps, and the mean absolute pixel change.

    python benchmarks/fool_recognizer.py --source World --target Hello --steps 80
"""

from __future__ import annotations

import argparse

import torch

from tsb.data.content import render_content
from tsb.losses.recognition import ctc_loss
from tsb.pretrained import registry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="World", help="the word drawn in the image")
    ap.add_argument("--target", default="Hello", help="the word the attack wants EasyOCR to read")
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args()
    torch.manual_seed(0)
    easyocr, judge = registry.recognizer("easyocr"), registry.judge("ppocr")
    start = render_content(args.source, 64, None).expand(3, -1, -1)[None].clone() * 0.98
    raw = torch.atanh(start).requires_grad_(True)  # image = tanh(raw): always a valid image
    opt = torch.optim.Adam([raw], lr=args.lr)
    print(f"{'step':>5}  {'EasyOCR reads':<16} {'PP-OCRv6 reads':<16} {'mean |change|':>13}")
    for step in range(args.steps + 1):
        if step % args.every == 0 or step == args.steps:
            with torch.no_grad():
                x = torch.tanh(raw)
                change = float((x - start).abs().mean()) / 2  # in [0, 1] units
                print(f"{step:>5}  {easyocr.read(x)[0]!r:<16} {judge.read(x)[0]!r:<16} {change:>13.4f}")
        if step == args.steps:
            break
        loss = ctc_loss(easyocr, torch.tanh(raw), [args.target])  # type: ignore[arg-type]
        opt.zero_grad()
        loss.backward()
        opt.step()


if __name__ == "__main__":
    main()
