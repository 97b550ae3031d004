"""What is evaluated: the data set's samples with a target string and content image each (paired,
or scene words with sampled targets), batched by shape, and the ground truth at its own size."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from PIL import Image
from torch import Tensor

from tsb.data import keys as K
from tsb.errors import ConfigError, ImageReadError, TsbError
from tsb.metrics.image import SSIM_WINDOW


@dataclass
class Batch:
    style: Tensor  # (B, 3, H, W) [-1, 1]
    content: Tensor  # (B, 1, 64, W) [-1, 1]
    texts: list[str]
    names: list[str]
    target: Tensor | None = None  # (B, 3, H, W) [-1, 1]
    sources: list[str] | None = None
    files: list[str] | None = None
    source_content: Tensor | None = None  # (B, 1, 64, W') the source words rendered plain


# --------------------------------------------------------------------------------------------------
# helpers


def safe_name(name: str) -> str:
    """A file-system safe stem."""
    stem = Path(str(name)).stem or "sample"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:120]


class GroundTruthFolder:
    """Ground-truth images at their original size (``<data.root>/t_f/<name>``), as MOSTEL compares.

    Data modules resize targets to the model's 64xW; published numbers resize the *output* to the
    ground truth's own size instead. When the data config has a ``root`` with a ``t_f`` folder, the
    truth is read from there; otherwise (or with ``gt_original_size=false``) the data's tensor is used.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def find(cls, cfg: DictConfig) -> GroundTruthFolder | None:
        root = cfg.data.get("root") if cfg.get("data") is not None else None
        folder = Path(str(root)) / "t_f" if root else None
        return cls(folder) if folder is not None and folder.is_dir() else None

    def load(self, name: str) -> Tensor | None:
        """(1, 3, H, W) in [0, 1], or None when the file is missing."""
        path = self.folder / name
        if not name or not path.is_file():
            return None
        try:
            with Image.open(path) as opened:
                img = opened.convert("RGB")
        except (OSError, ValueError) as e:  # not an image, truncated, empty
            raise ImageReadError(f"cannot read ground truth {path}: {e}; is it a PNG/JPEG file?") from None
        if min(img.size) < SSIM_WINDOW:
            raise ConfigError(
                f"ground truth {path} is {img.width}x{img.height} pixels, smaller than the {SSIM_WINDOW}-pixel "
                "SSIM window; remove it, or compare at the data's size (gt_original_size=false)"
            )
        arr = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)
        return arr.permute(2, 0, 1)[None].contiguous()


# --------------------------------------------------------------------------------------------------
# batching: samples of one shape go together (word images of different widths cannot stack)


def group_by_shape(items: Sequence[dict[str, Any]], batch_size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        if batch and (len(batch) >= batch_size or not _same_shapes(batch[0], item)):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _same_shapes(a: dict[str, Any], b: dict[str, Any]) -> bool:
    for k in (K.STYLE, K.CONTENT_TGT, K.TARGET):
        ta, tb = a.get(k), b.get(k)
        if isinstance(ta, Tensor) and isinstance(tb, Tensor) and ta.shape != tb.shape:
            return False
    return True


def stack(items: list[dict[str, Any]]) -> Batch:
    target = torch.stack([i[K.TARGET] for i in items]) if K.TARGET in items[0] else None
    sources = [str(i[K.TEXT_SRC]) for i in items] if all(K.TEXT_SRC in i for i in items) else None
    src = [i.get(K.CONTENT_SRC) for i in items]
    first = src[0]
    same = isinstance(first, Tensor) and all(isinstance(t, Tensor) and t.shape == first.shape for t in src)
    return Batch(
        style=torch.stack([i[K.STYLE] for i in items]),
        content=torch.stack([i[K.CONTENT_TGT] for i in items]),
        texts=[str(i[K.TEXT_TGT]) for i in items],
        names=[str(i["_out_name"]) for i in items],
        target=target,
        sources=sources,
        files=[str(i.get("_file", "")) for i in items],
        source_content=torch.stack(src) if same else None,  # type: ignore[arg-type]
    )


def _lexicon_words(lexicon: str) -> list[str]:
    """Words of a shipped list (``en``, ``ru``: tsb/data/wordlists) or of a text file, one per line."""
    from tsb.data.words import BUILTIN

    path = BUILTIN.get(lexicon, Path(lexicon).expanduser())
    if not path.is_file():
        raise ConfigError(
            f"scene.lexicon={lexicon} is neither a shipped word list ({', '.join(sorted(BUILTIN))}) nor a file; "
            "give a text file with one word per line"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.startswith("#")]


def sample_targets(
    source: str | None, words: Sequence[str], k: int, rng: random.Random, alphabet: str | None
) -> list[str]:
    """``k`` target strings for a real word: from ``words``, different from the source where possible."""
    pool = [w for w in dict.fromkeys(words) if w and (alphabet is None or all(c in alphabet for c in w))]
    if not pool:
        raise ConfigError(
            "no target word fits the judge's alphabet; give scene.lexicon=FILE with words of its characters"
        )
    others = [w for w in pool if w != source] or pool
    return [rng.choice(others) for _ in range(k)]


def load_dataset(cfg: DictConfig) -> Sequence[dict[str, Any]]:
    try:
        data = instantiate(cfg.data)
    except Exception as e:
        cause = e if isinstance(e, TsbError) else e.__cause__  # Hydra wraps what the data module raised
        if isinstance(cause, TsbError):
            raise cause from None  # already names the thing and the fix
        raise ConfigError(f"cannot build the data set of data={cfg.data.get('_target_')}: {e}") from e
    ds = data.val_dataset()
    if ds is None:
        raise ConfigError(
            f"{type(data).__name__} has no evaluation set (val_dataset() is None); choose another data="
        )
    return ds  # type: ignore[no-any-return]


def prepare_items(
    ds: Sequence[dict[str, Any]], cfg: DictConfig, alphabet: str | None
) -> tuple[list[dict[str, Any]], str]:
    """Samples with a target string and content image each, and the mode ("paired" or "scene")."""
    from tsb.data.content import natural_width, render_content

    n = len(ds)
    if cfg.max_samples:
        n = min(n, int(cfg.max_samples))
    if n == 0:
        raise ConfigError("the evaluation data set is empty; check data.root")
    first = ds[0]
    mode = "paired" if K.TARGET in first else "scene"
    items: list[dict[str, Any]] = []
    if mode == "paired":
        for i in range(n):
            s = dict(ds[i])
            if K.CONTENT_TGT not in s:
                s[K.CONTENT_TGT] = render_content(str(s[K.TEXT_TGT]))
            s["_out_name"] = safe_name(str(s.get(K.NAME, f"{i:06d}")))
            s["_file"] = str(s.get(K.NAME, ""))
            items.append(s)
        return items, mode
    scene: Any = cfg.scene
    k = int(scene.targets_per_image)
    rng = random.Random(int(cfg.seed))
    samples = [dict(ds[i]) for i in range(n)]
    lexicon = scene.lexicon
    words = (
        _lexicon_words(str(lexicon))
        if lexicon
        else [str(s[K.TEXT_SRC]) for s in samples if s.get(K.TEXT_SRC)]
    )
    # targets the data set names itself (a paired folder without t_f/: i_t.txt) are kept; sampled
    # ones (scene_folder's self-supervised targets) only when scene.lexicon is null
    given = not bool(cfg.data.get("self_supervised", False)) if cfg.get("data") is not None else True
    for i, s in enumerate(samples):
        if K.TEXT_TGT in s and (given or not lexicon):
            targets = [str(s[K.TEXT_TGT])]
        else:
            targets = sample_targets(s.get(K.TEXT_SRC), words, k, rng, alphabet)
        for j, t in enumerate(targets):
            item = {key: v for key, v in s.items() if key not in (K.TARGET, K.CONTENT_TGT, K.TEXT_TGT)}
            item[K.TEXT_TGT] = t
            width = s[K.STYLE].shape[-1] if isinstance(s.get(K.STYLE), Tensor) else None
            item[K.CONTENT_TGT] = render_content(t, 64, max(width or 0, natural_width(t)))
            item["_out_name"] = f"{safe_name(str(s.get(K.NAME, f'{i:06d}')))}__{j}"
            items.append(item)
    return items, mode
