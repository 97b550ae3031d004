"""Tiny random checkpoints and data for the evaluation and edit tests (built in seconds on CPU).

- :func:`make_task_checkpoint`: ``conf/model/stylebrush_small.yaml`` with tiny widths, random
  weights, written with the trainer's ``save_checkpoint`` so ``load_task`` reads it as a real one.
- :func:`make_recognizer_checkpoint`: a narrow CRNN as a helper checkpoint (``recognizer.ckpt``).
- :func:`make_paired_folder`: a Tamper-Syn2k-style folder (``i_s/``, ``t_f/``, ``i_t.txt``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image

from tsb.configs import compose_preset

ROOT = Path(__file__).resolve().parents[2]

TINY_MODEL = [
    "net.style_encoder.stem_channels=4",
    "net.style_encoder.widths=[4,4,8,8]",
    "net.style_encoder.style_dim=8",
    "net.content_encoder.stem_channels=4",
    "net.content_encoder.widths=[4,4,8,8]",
    "net.content_encoder.out_channels=8",
    "net.generator.channels=[8,8,8,4,4]",
    "discriminator=null",
]


def tiny_model_config(overrides: list[str] | None = None) -> object:
    model = compose_preset("model", "stylebrush_small")
    model.merge_with_dotlist(overrides if overrides is not None else TINY_MODEL)
    return model


def make_task_checkpoint(path: Path, overrides: list[str] | None = None, seed: int = 0) -> Path:
    from tsb.training.checkpoint import save_checkpoint

    torch.manual_seed(seed)
    cfg = OmegaConf.create({"model": tiny_model_config(overrides)})
    task = instantiate(cfg.model, loss=None)
    OmegaConf.resolve(cfg)
    save_checkpoint(path, {"task": task.state_dict(), "config": OmegaConf.to_yaml(cfg), "step": 0})
    return path


def make_recognizer_checkpoint(path: Path, alphabet: str | None = None) -> Path:
    from tsb.models.recognizer import CRNN, DEFAULT_ALPHABET
    from tsb.pretrained.helpers import helper_payload

    torch.manual_seed(0)
    net = CRNN(alphabet=alphabet or DEFAULT_ALPHABET, width=0.0625, hidden=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(helper_payload("recognizer", net, alphabet=net.alphabet.chars), path)
    return path


PAIRS = [
    ("a.png", "cat", "dog"),
    ("b.png", "Hello", "World"),
    ("c.png", "sun", "rain"),
    ("d.png", "red", "blue"),
]


def make_paired_folder(root: Path, size: tuple[int, int] = (128, 64)) -> Path:
    """Source/target word images (coloured noise + a bar as the 'word'); i_t.txt and i_s.txt."""
    rng = np.random.default_rng(0)
    for d in ("i_s", "t_f"):
        (root / d).mkdir(parents=True, exist_ok=True)
    w, h = size
    for name, _, _ in PAIRS:
        base = rng.integers(0, 255, 3)
        for d, x0 in (("i_s", 20), ("t_f", 40)):
            arr = np.empty((h, w, 3), np.uint8)
            arr[:] = base
            arr[20:44, x0 : x0 + 50] = 255 - base
            arr = np.clip(arr.astype(int) + rng.integers(-10, 10, arr.shape), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(root / d / name)
    (root / "i_t.txt").write_text("".join(f"{n} {t}\n" for n, _, t in PAIRS))
    (root / "i_s.txt").write_text("".join(f"{n} {s}\n" for n, s, _ in PAIRS))
    return root


TINY_SPLIT = [
    "net.background.channels=[4,8,8]",
    "net.layout.channels=[4,8]",
    "net.layout.hidden=8",
    "net.text.channels=[4,8,8]",
    "discriminator=null",
]


def make_split_checkpoint(path: Path, seed: int = 0, ema_shift: float = 0.0) -> Path:
    """``conf/model/stylebrush_bg.yaml`` with tiny widths; with ``ema_shift`` an EMA copy of ``net``
    whose weights differ from the live ones by that much (to see which ones a loader takes)."""
    from tsb.training.checkpoint import save_checkpoint

    torch.manual_seed(seed)
    model = compose_preset("model", "stylebrush_bg")
    model.merge_with_dotlist(TINY_SPLIT)
    cfg = OmegaConf.create({"model": model, "task_name": "stylebrush_bg"})
    task = instantiate(cfg.model, loss=None)
    OmegaConf.resolve(cfg)
    state: dict[str, object] = {"task": task.state_dict(), "config": OmegaConf.to_yaml(cfg), "step": 7}
    if ema_shift:
        state["ema"] = {
            f"net.{k}": v + ema_shift if v.is_floating_point() else v
            for k, v in task.net.state_dict().items()
        }
        state["ema_names"] = ["net"]
    save_checkpoint(path, state)
    return path
