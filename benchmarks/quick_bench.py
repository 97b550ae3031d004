"""PSNR and the judge's accuracy of a checkpoint on the fixed benchmark, with inference-time
changes of its network: the quick rows of docs/lab-notes.md (a minute on the CPU, where
``evaluate.py`` takes several with every metric).

    python benchmarks/quick_bench.py CKPT [--data data_cache/bench_heldout200] [--no-source]
        [--model-set background.dilate=4 --model-set layout.max_stroke=2 ...] [--ink-gain-factor 0.5]
        [--inference photo --set extrusion=null --set effect_ring=0]
        [--match-font [--font-split train|heldout|all] [--font-method model|embedding]
         [--font-sources matplotlib ...] [--font-choices FILE]] [--true-font]

PSNR is per image on the 64x256 crops, averaged (``evaluate.py`` compares at the ground truth's
own size, so its figure differs by a few hundredths); the judge is PP-OCRv6, exact match.
``--model-set`` changes a numeric setting of ``task.net`` that owns no weight (a dotted path) after
loading; ``--inference`` picks the photo steps (conf/inference) and ``--set`` changes one of them.
``--font-choices FILE`` keeps the matched fonts' renderings (a tensor file this script writes):
the first run computes and saves them (8 minutes), later runs with other ``--set`` changes reuse
them (a minute each; the fonts were chosen with the first run's settings). ``--font-method
embedding`` retrieves the font with the typeface encoder (``--font-sources``: only fonts of these
sources). ``--true-font`` draws both words in each pair's own font, read from the benchmark's
``font.txt`` (the oracle: an upper bound for any font choice, not a method).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import default_collate

from tsb.data.content import render_content
from tsb.data.fonts import PACKAGES, load_fonts
from tsb.data.paired import PairedFolderDataset
from tsb.errors import DataNotFoundError
from tsb.inference.font_match import FontMatch
from tsb.inference.pipeline import build_pipeline
from tsb.pretrained.ppocr import PPOCRReader
from tsb.training.checkpoint import load_task


def set_attributes(net: torch.nn.Module, items: list[str]) -> None:
    """``--model-set PATH=VALUE``: a numeric (or boolean: 0 / 1) setting of ``net`` at a dotted path
    that owns no weight (``background.smooth``, ``layout.keep_inside``)."""
    for item in items:
        path, _, value = item.partition("=")
        *parents, name = path.split(".")
        obj = net
        for part in parents:
            obj = getattr(obj, part)
        setattr(obj, name, type(getattr(obj, name))(float(value)))


def true_fonts(root: Path) -> list[str]:
    """The font file of every pair of a rendered benchmark, from its ``font.txt``
    (``NAME ID FAMILY | STYLE`` lines, in the order of the pairs)."""
    try:  # the font library's fonts too, where it is installed (python -m tsb.data.fontlib install)
        fonts = load_fonts(packages=(*PACKAGES, "fontlib")).fonts
    except DataNotFoundError:
        fonts = load_fonts().fonts
    by_name = {(f.family, f.style): str(f.path) for f in reversed(fonts)}  # the first of a name wins
    paths = []
    for line in (root / "font.txt").read_text(encoding="utf-8").splitlines():
        family, _, style = line.split(" ", 2)[2].partition(" | ")
        paths.append(by_name[(family, style)])
    return paths


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ckpt")
    p.add_argument("--data", default="data_cache/bench_heldout200")
    p.add_argument("--no-source", action="store_true", help="do not give the network the old word's text")
    p.add_argument("--model-set", action="append", default=[], metavar="PATH=VALUE")
    p.add_argument(
        "--inference", default="none", help="photo steps: a preset of conf/inference (none, photo)"
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="change a step of --inference"
    )
    p.add_argument(
        "--ink-gain-factor", type=float, default=1.0, help="scale the learned ink gain (mask sharpness)"
    )
    p.add_argument(
        "--match-font",
        action="store_true",
        help="draw both words in the matched font (tsb.inference.font_match.py)",
    )
    p.add_argument("--font-split", default="train", help="the fonts --match-font chooses from")
    p.add_argument("--font-method", default="model", help="model (the model redraws every font) | embedding | shortlist")
    p.add_argument("--shortlist", type=int, default=8, help="--font-method shortlist: the encoder's candidates")
    p.add_argument("--font-sources", nargs="*", help="--font-method embedding: only fonts of these sources")
    p.add_argument("--font-choices", type=Path, help="save the matched fonts here, or reuse them")
    p.add_argument(
        "--true-font", action="store_true", help="draw both words in each pair's own font (oracle)"
    )
    p.add_argument(
        "--font-inference",
        default=None,
        help="--match-font: the preset the model redraws the candidates with (default: --inference's "
        "less FontMatch.redraw_without)",
    )
    p.add_argument("--font-set", action="append", default=[], metavar="KEY=VALUE", help="change a step of --font-inference")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    task, _ = load_task(args.ckpt, use_ema=True)
    task.eval()
    set_attributes(task.net, args.model_set)
    pipeline = build_pipeline(args.inference, args.set)

    def generate(style: torch.Tensor, content: torch.Tensor, source: torch.Tensor | None = None) -> Any:
        return pipeline.generate(task, style, content, source)

    if args.ink_gain_factor != 1.0:
        with torch.no_grad():
            task.net.ink_gain.mul_(args.ink_gain_factor)
    ds = PairedFolderDataset(args.data)
    b = default_collate([ds[i] for i in range(len(ds))])
    if args.match_font and args.font_choices is not None and args.font_choices.is_file():
        saved = torch.load(args.font_choices, weights_only=True)
        b["content_tgt"], b["content_src"] = saved["content_tgt"], saved["content_src"]
    elif args.true_font:
        h, w = b["content_tgt"].shape[-2:]
        fonts = true_fonts(Path(args.data))
        b["content_tgt"] = torch.stack([render_content(t, h, w, f) for t, f in zip(b["text_tgt"], fonts)])
        b["content_src"] = torch.stack([render_content(t, h, w, f) for t, f in zip(b["text_src"], fonts)])
    elif args.match_font:
        matcher = FontMatch(
            split=args.font_split, method=args.font_method, sources=args.font_sources, shortlist=args.shortlist
        )
        redraw_pipeline = (
            build_pipeline(args.font_inference, args.font_set)
            if args.font_inference
            else pipeline.without(*matcher.redraw_without)
        )

        def redraw(style: torch.Tensor, content: torch.Tensor, source: torch.Tensor | None = None) -> Any:
            return redraw_pipeline.generate(task, style, content, source)

        t0 = time.perf_counter()
        choices = matcher.choose_each(redraw, b["style"], b["text_src"], b["text_tgt"])
        print(f"font matching: {time.perf_counter() - t0:.1f} s for {len(choices)} pairs")
        b["content_tgt"] = torch.stack([c.content for c in choices])
        b["content_src"] = torch.stack([c.source for c in choices])
        if args.font_choices is not None:
            torch.save({"content_tgt": b["content_tgt"], "content_src": b["content_src"]}, args.font_choices)
    images = []
    with torch.no_grad():
        for i in range(0, len(ds), 50):
            source = None if args.no_source else b["content_src"][i : i + 50]
            images.append(
                generate(b["style"][i : i + 50], b["content_tgt"][i : i + 50], source).image.clamp(-1, 1)
            )
    image = torch.cat(images)
    mse = (((image + 1) / 2 - (b["target"] + 1) / 2) ** 2).flatten(1).mean(1)
    psnr = float((10 * torch.log10(1 / mse.clamp_min(1e-10))).mean())
    reads = PPOCRReader(threads=args.threads).read(image)
    acc = sum(r == w for r, w in zip(reads, b["text_tgt"])) / len(reads)
    changes = (
        " ".join(
            [
                *args.model_set,
                *([f"inference={args.inference}", *args.set] if args.inference != "none" or args.set else []),
                *(["no source"] if args.no_source else []),
                *([f"font matched ({args.font_method}, {args.font_split})"] if args.match_font else []),
                *(["true font"] if args.true_font else []),
            ]
        )
        or "as trained"
    )
    print(f"{args.ckpt} [{changes}]: PSNR {psnr:.2f} dB, MSE {float(mse.mean()):.4f}, judge {100 * acc:.1f}%")


if __name__ == "__main__":
    main()
