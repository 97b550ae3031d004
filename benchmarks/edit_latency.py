"""Per-word latency of the edit command (crop + render + generate + paste) on CPU.

    python benchmarks/edit_latency.py                        # the published weights, 1 thread, shared real words
    python benchmarks/edit_latency.py --preset stylebrush --threads 2   # random weights of a preset
    python benchmarks/edit_latency.py --ckpt RUN/checkpoints/last.ckpt
    python benchmarks/edit_latency.py --detect               # + finding the words (PP-OCRv6) in a scene

With ``--preset`` a checkpoint of the preset with random weights is written to a temporary folder
(latency does not depend on the weights). ``--detect``: per replaced word in
``shared/data/scenes/english.png``, detection (once per photo) shared among its words. Each image of ``shared/data/real-words`` (or a synthetic
photo when absent) gets ``--words`` edits of different lengths, box = the central part of the image;
printed: median / p90 / max seconds per word, and the share spent in the network. Target for the
small preset: under 0.5 s per word.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tsb.configs import compose_preset  # noqa: E402
from tsb.edit import Edit, Editor, parse_box  # noqa: E402
from tsb.training.checkpoint import save_checkpoint  # noqa: E402

WORDS = ["a", "Hi", "new", "word", "Hello", "coffee", "Station", "different", "underground", "TextStyleBrush"]


def random_checkpoint(preset: str, folder: Path) -> Path:
    model = compose_preset("model", preset)
    cfg = OmegaConf.create({"model": model})
    torch.manual_seed(0)
    task = instantiate(cfg.model, loss=None)
    OmegaConf.resolve(cfg)
    path = folder / f"{preset}.ckpt"
    save_checkpoint(path, {"task": task.state_dict(), "config": OmegaConf.to_yaml(cfg)})
    return path


def photos() -> list[tuple[str, Image.Image]]:
    folder = ROOT.parent / "shared" / "data" / "real-words"
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if files:
        return [(p.name, Image.open(p)) for p in files]
    return [("synthetic", Image.new("RGB", (640, 200), (30, 90, 160)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default=None, help="conf/model/<preset>.yaml with random weights")
    p.add_argument("--ckpt", help="a real checkpoint instead of random weights of --preset")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--words", type=int, default=len(WORDS), help="edits per image")
    p.add_argument("--blend", default="alpha", choices=["alpha", "poisson"])
    p.add_argument("--detect", action="store_true", help="find the words first (PP-OCRv6), as --replace does")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = random_checkpoint(args.preset, Path(tmp)) if args.preset else args.ckpt  # None: published
        editor = Editor(ckpt, "cpu", blend=args.blend)
        total, gen = [], []
        if args.detect:
            detect_latency(editor, args.words)
            return
        for _name, img in photos():
            w, h = img.size
            box = parse_box(f"{w // 8},{h // 8},{max(8, 3 * w // 4)},{max(8, 3 * h // 4)}")
            for word in WORDS[: args.words]:
                _, infos = editor.edit(img, [Edit(box, word)])
                total.append(infos[0].seconds)
                gen.append(infos[0].generate_seconds)
    total.sort()
    med = statistics.median(total)
    p90 = total[int(0.9 * (len(total) - 1))]
    label = args.ckpt or args.preset or "published weights"
    print(f"edit latency, {label}, CPU, {args.threads} thread(s), {len(total)} words, blend {args.blend}")
    print(f"  per word: median {med:.3f} s, p90 {p90:.3f} s, max {total[-1]:.3f} s")
    print(f"  network share: {sum(gen) / sum(total):.0%} (median generate {statistics.median(gen):.3f} s)")
    print(f"  target < 0.5 s: {'met' if p90 < 0.5 else 'NOT met'} (p90)")


def detect_latency(editor: Editor, n_words: int) -> None:
    """Seconds per replaced word of ``shared/data/scenes/english.png``: detection + edit."""
    import time

    from tsb.detect import find_words

    scene = Image.open(ROOT.parent / "shared" / "data" / "scenes" / "english.png")
    t0 = time.perf_counter()
    words = find_words(scene)
    t_detect = time.perf_counter() - t0
    t0 = time.perf_counter()
    words = find_words(scene)  # warm
    t_warm = time.perf_counter() - t0
    picked = words[:n_words]
    t0 = time.perf_counter()
    _, infos = editor.edit(scene, [Edit(w.box, "new") for w in picked])
    t_edit = time.perf_counter() - t0
    print(f"scene {scene.width}x{scene.height}: {len(words)} words found in {t_detect:.2f} s (warm {t_warm:.2f} s)")
    print(
        f"  {len(picked)} words replaced in {t_edit:.2f} s: {(t_warm + t_edit) / len(picked):.3f} s per word "
        f"with detection, {t_edit / len(picked):.3f} s without (median generate "
        f"{statistics.median(i.generate_seconds for i in infos):.3f} s)"
    )


if __name__ == "__main__":
    main()
