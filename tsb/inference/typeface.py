"""Typeface retrieval: the library font that looks most like the old word, in milliseconds.

The typeface encoder (:class:`~tsb.models.typeface_encoder.TypefaceEncoder`, trained by
``python train.py experiment=typeface_library``) maps a word crop to a unit vector. The *index*
holds the encoder and one prototype per font (the normalised mean embedding of
:data:`PROTOTYPE_WORDS` drawn in that font, :func:`~tsb.data.fontcrops.draw_word`), for every font
of the package fonts and the font library. Retrieval embeds the old word once and takes the
prototype with the largest cosine among the fonts that are installed here and draw the new word.

``python -m tsb.inference.typeface build --ckpt RUN/checkpoints/typeface_library.ckpt --out F``
writes an index (safetensors: the encoder's weights and the prototypes; metadata: the encoder's
settings and the font keys). The published one is ``tsb/weights/typeface_index.safetensors``.

A crop is fitted into the encoder's 32x128 with its aspect kept (the rest filled by repeating the
crop's border), as the training crops were drawn.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.data.content import render_content
from tsb.data.fontcrops import draw_word
from tsb.data.fonts import PACKAGES, FontInfo, load_fonts
from tsb.errors import CheckpointError, ConfigError, DataNotFoundError
from tsb.models.typeface_encoder import TypefaceEncoder
from tsb.utils.io import file_digest

#: words every font draws for its prototype (a font that lacks a character skips that word)
PROTOTYPE_WORDS = ("Hamburg", "fonts", "QUIVER", "Jackdaws", "lovely", "BOXING", "wizard", "Sphinx",
                   "gravity", "2048", "Mixup", "yellow")  # fmt: skip
INDEX_FORMAT = "tsb.typeface_index/1"


def font_key(font: FontInfo) -> str:
    """A font's name in an index, the same on every machine: its source and its path's tail."""
    parts = Path(font.path).parts
    tail = "/".join(parts[-3:]) if font.source in ("fontlib", "folder", "system") else parts[-1]
    return f"{font.source}:{tail}"


def fit_crop(images: Tensor, size: tuple[int, int]) -> Tensor:
    """(B, C, H, W) -> (B, C, *size): scaled to fit with the aspect kept, the rest the border's."""
    h, w = images.shape[-2:]
    th, tw = size
    scale = min(th / h, tw / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    x = F.interpolate(images.float(), size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
    top, left = (th - nh) // 2, (tw - nw) // 2
    return F.pad(x, (left, tw - nw - left, top, th - nh - top), mode="replicate")


def prototypes(encoder: TypefaceEncoder, fonts: Sequence[FontInfo], batch_size: int = 256) -> Tensor:
    """One unit vector per font: the mean embedding of the prototype words it draws."""
    h, w = encoder.input_size
    crops: list[np.ndarray] = []
    owner: list[int] = []
    for i, font in enumerate(fonts):
        words = [t for t in PROTOTYPE_WORDS if font.covers(t)] or [PROTOTYPE_WORDS[0]]
        for text in words:
            crops.append(draw_word(font, text, h, w))
            owner.append(i)
    x = torch.from_numpy(np.stack(crops)).float().div(127.5).sub(1.0)[:, None]
    with torch.no_grad():
        emb = torch.cat([encoder.embed(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    sums = torch.zeros(len(fonts), emb.shape[1]).index_add_(0, torch.tensor(owner), emb)
    return F.normalize(sums, dim=1)


@dataclass(frozen=True)
class Match:
    font: FontInfo
    similarity: float


class TypefaceIndex:
    """The encoder and a prototype per font key; :meth:`search` finds the nearest installed fonts."""

    def __init__(
        self, encoder: TypefaceEncoder, keys: Sequence[str], protos: Tensor, legible: Sequence[bool] | None = None
    ) -> None:
        if len(keys) != protos.shape[0]:
            raise ConfigError(f"typeface index: {len(keys)} font keys but {protos.shape[0]} prototypes")
        if legible is not None and len(legible) != len(keys):
            raise ConfigError(f"typeface index: {len(keys)} font keys but {len(legible)} legibility marks")
        #: per font, whether a reader reads plain text drawn in it (None: not measured, all are)
        self.legible = [bool(x) for x in legible] if legible is not None else None
        self.encoder = encoder.eval()
        self.keys = list(keys)
        self.protos = F.normalize(protos.float(), dim=1)
        self._fonts: list[FontInfo | None] | None = None

    # ------------------------------------------------------------------------------- files
    @classmethod
    def build(cls, encoder: TypefaceEncoder, fonts: Sequence[FontInfo]) -> TypefaceIndex:
        return cls(encoder, [font_key(f) for f in fonts], prototypes(encoder.eval(), fonts))

    def save(self, path: Path) -> Path:
        from safetensors.torch import save_file

        from tsb.utils.io import atomic_write_bytes

        spec = dict(self.encoder.hparams)
        tensors = {f"encoder.{k}": v.detach().cpu().contiguous() for k, v in self.encoder.state_dict().items()}
        tensors = {k: v for k, v in tensors.items() if k != "encoder.classes"}  # the classifier is training only
        tensors["prototypes"] = self.protos.half().contiguous()
        meta = {"format": INDEX_FORMAT, "encoder": json.dumps(spec), "fonts": json.dumps(self.keys)}
        if self.legible is not None:
            meta["legible"] = json.dumps(self.legible)
        tmp = path.with_suffix(".tmp")
        save_file(tensors, str(tmp), metadata=meta)
        atomic_write_bytes(path, tmp.read_bytes())
        tmp.unlink()
        return path

    @classmethod
    def load(cls, path: str | Path) -> TypefaceIndex:
        """Read an index; where a card (``<path>.json``) stands beside it, its SHA-256 must match."""
        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"typeface index {path} does not exist; build one with "
                                  "`python -m tsb.inference.typeface build --ckpt ...`")  # fmt: skip
        card = path.with_suffix(".json")
        if card.is_file():
            want = json.loads(card.read_text(encoding="utf-8")).get("sha256")
            if want and file_digest(path, "sha256") != want:
                raise CheckpointError(f"{path} does not match the SHA-256 of its card {card.name}; "
                                      "reinstall tsb or rebuild the index")  # fmt: skip
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - a safe_open handle, not a dict
            if meta.get("format") != INDEX_FORMAT:
                raise ValueError(f"format {meta.get('format')!r}")
            spec = json.loads(meta["encoder"])
            keys = json.loads(meta["fonts"])
            legible = json.loads(meta["legible"]) if "legible" in meta else None
        except Exception as e:  # any unreadable file gets the same message
            raise CheckpointError(f"{path} is not a typeface index ({e}); rebuild it") from e
        encoder = TypefaceEncoder(**spec)
        state = {k[len("encoder.") :]: v for k, v in tensors.items() if k.startswith("encoder.")}
        state["classes"] = encoder.classes.detach()
        encoder.load_state_dict(state)
        protos = tensors["prototypes"].float()
        if not torch.isfinite(protos).all() or not all(torch.isfinite(v).all() for v in state.values()):
            raise CheckpointError(f"{path} holds NaN or infinite values; rebuild it")
        return cls(encoder, keys, protos, legible)

    # ------------------------------------------------------------------------------- search
    def fonts(self) -> list[FontInfo | None]:
        """The installed font of each key (None where this machine lacks it: no font library)."""
        if self._fonts is None:
            installed: dict[str, FontInfo] = {}
            for packages in ((*PACKAGES, "fontlib"), PACKAGES):
                try:
                    installed = {font_key(f): f for f in load_fonts(packages=packages).fonts}
                    break
                except DataNotFoundError:  # the font library is not installed: the package fonts
                    continue
            self._fonts = [installed.get(k) for k in self.keys]
        return self._fonts

    @torch.no_grad()
    def embed(self, images: Tensor) -> Tensor:
        """(B, C, H, W) crops in [-1, 1] -> (B, dim) unit vectors."""
        return self.encoder.embed(fit_crop(images.cpu(), self.encoder.input_size))

    def search(
        self,
        images: Tensor,
        text: str | Sequence[str] = "",
        k: int = 5,
        split: str = "all",
        exclude_families: Sequence[str] = (),
        sources: Sequence[str] | None = None,
        legible_only: bool = True,
    ) -> list[list[Match]]:
        """Per crop, the ``k`` nearest installed fonts of ``split`` that draw ``text`` (its word);
        ``sources``: only fonts from these (e.g. the pip packages, not ``fontlib``);
        ``legible_only``: only fonts whose plain text a reader reads (:func:`legibility`)."""
        texts = [text] * images.shape[0] if isinstance(text, str) else list(text)
        sims = self.embed(images) @ self.protos.t()
        fonts = self.fonts()
        banned = {f.lower() for f in exclude_families}
        legible = self.legible if legible_only and self.legible is not None else [True] * len(fonts)
        out: list[list[Match]] = []
        for row, t in zip(sims, texts, strict=True):
            found: list[Match] = []
            for j in row.argsort(descending=True).tolist():
                f = fonts[j]
                if f is None or not legible[j] or not f.covers(t) or f.family.lower() in banned:
                    continue
                if (split != "all" and f.split != split) or (sources is not None and f.source not in sources):
                    continue
                found.append(Match(f, float(row[j])))
                if len(found) == k:
                    break
            out.append(found)
        return out


#: words a legible text face draws so that a reader reads them back exactly (case included)
LEGIBILITY_WORDS = ("Garden", "stone", "PARK", "Hotel", "water", "Bridge")


def legibility(index: TypefaceIndex, read: Callable[[Tensor], list[str]], min_share: float = 0.5) -> list[bool]:
    """Per font of the index, whether ``read`` (a text recognizer: images (B, 1, 64, 256) in
    [-1, 1] -> strings) reads more than ``min_share`` of :data:`LEGIBILITY_WORDS` drawn plain in it
    exactly, letter case included (anything but letters and digits in a reading is ignored). Decorative, symbol, segment-display and capitals-only faces
    fail: as content they draw a different word than the one asked for. Fonts not installed here
    keep True."""
    fonts = index.fonts()
    out = [True] * len(fonts)
    for i, font in enumerate(fonts):
        if font is None:
            continue
        words = [w for w in LEGIBILITY_WORDS if font.covers(w)]
        if not words:
            out[i] = False
            continue
        images = torch.stack([render_content(w, 64, 256, str(font.path)) for w in words])
        reads = read(images)
        clean = ["".join(c for c in r if c.isalnum()) for r in reads]  # stray marks and spaces aside
        out[i] = sum(r == w for r, w in zip(clean, words, strict=True)) > min_share * len(words)
    return out


def neighbours(index: TypefaceIndex, k: int = 8, split: str = "train") -> dict[str, list[str]]:
    """For every installed font of ``split``, the paths of its ``k`` nearest fonts of ``split`` from
    other families (cosine of the prototypes, nearest first): what retrieval offers for a typeface
    that is not in the library (``data.content_fonts.neighbours``)."""
    fonts = index.fonts()
    keep = [i for i, f in enumerate(fonts) if f is not None and (split == "all" or f.split == split)]
    protos = index.protos[keep]
    sims = protos @ protos.t()
    table: dict[str, list[str]] = {}
    for row, i in zip(sims, keep, strict=True):
        font = fonts[i]
        assert font is not None
        near: list[str] = []
        for j in row.argsort(descending=True).tolist():
            other = fonts[keep[j]]
            assert other is not None
            if other.family.lower() != font.family.lower():
                near.append(str(other.path))
                if len(near) == k:
                    break
        table[str(font.path)] = near
    return table


def default_index_path() -> Path:
    return Path(__file__).resolve().parents[1] / "weights" / "typeface_index.safetensors"


def _encoder_of(ckpt: Path) -> TypefaceEncoder:
    """The encoder of a run checkpoint (``last.ckpt``) or of its helper export."""
    from tsb.pretrained.helpers import TYPEFACE, read_helper_checkpoint
    from tsb.training.checkpoint import load_task

    try:
        payload: dict[str, Any] = read_helper_checkpoint(ckpt, TYPEFACE)
    except CheckpointError:
        task, _ = load_task(ckpt)
        net = getattr(task, "net", None)
        if not isinstance(net, TypefaceEncoder):
            raise CheckpointError(f"{ckpt} is not a run of experiment=typeface_library") from None
        return net.eval()
    encoder = TypefaceEncoder(**{k: v for k, v in payload["net"].items() if k != "_target_"})
    encoder.load_state_dict(payload["state_dict"])
    return encoder.eval()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tsb.inference.typeface", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="an index from a trained encoder over the installed fonts")
    b.add_argument("--ckpt", required=True, type=Path,
                   help="a run checkpoint of experiment=typeface_library (last.ckpt) or its export")  # fmt: skip
    b.add_argument("--out", type=Path, default=default_index_path())
    b.add_argument(
        "--card",
        action="store_true",
        help="also write <out>.json: its SHA-256 (checked on load), size, source",
    )
    n = sub.add_parser("neighbours", help="every training font's nearest fonts of other families (JSON "
                       "for data.content_fonts.neighbours)")  # fmt: skip
    n.add_argument("--index", type=Path, default=default_index_path())
    n.add_argument("--k", type=int, default=8)
    n.add_argument("--out", type=Path, required=True)
    g = sub.add_parser("legibility", help="mark the index's fonts whose plain text EasyOCR reads "
                       "(retrieval skips the rest)")  # fmt: skip
    g.add_argument("--index", type=Path, default=default_index_path())
    g.add_argument("--card", action="store_true", help="also update <index>.json (SHA-256, size, counts)")
    args = p.parse_args(argv)
    if args.command == "legibility":
        return _mark_legibility(args.index, args.card)
    if args.command == "neighbours":
        try:
            table = neighbours(TypefaceIndex.load(args.index), args.k)
        except (CheckpointError, DataNotFoundError, ConfigError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        from tsb.utils.io import atomic_write_bytes

        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(args.out, (json.dumps(table, indent=0) + "\n").encode("utf-8"))
        print(f"wrote {args.out}: the {args.k} nearest other-family fonts of {len(table)} fonts")
        return 0
    try:
        encoder = _encoder_of(args.ckpt)
        fonts = load_fonts(packages=(*PACKAGES, "fontlib")).fonts
        index = TypefaceIndex.build(encoder, fonts)
        index.save(args.out)
        if args.card:
            card = {"file": args.out.name, "sha256": file_digest(args.out, "sha256"), "bytes": args.out.stat().st_size,
                    "fonts": len(index.keys), "checkpoint": str(args.ckpt), "built": time.strftime("%Y-%m-%d"),
                    "parameters": sum(p.numel() for n, p in encoder.named_parameters() if n != "classes")}  # fmt: skip
            args.out.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    except (CheckpointError, DataNotFoundError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {len(index.keys)} fonts, {args.out.stat().st_size / 1e6:.1f} MB")
    return 0


def _mark_legibility(path: Path, card: bool) -> int:
    from tsb.errors import PretrainedUnavailable
    from tsb.pretrained.easyocr import EasyOCRRecognizer

    try:
        index = TypefaceIndex.load(path)
        reader = EasyOCRRecognizer()
        marks = legibility(index, lambda x: reader.read(x))
        index.legible = marks
        index.save(path)
    except (CheckpointError, DataNotFoundError, ConfigError, PretrainedUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if card:
        card_path = path.with_suffix(".json")
        info = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {"file": path.name}
        info.update(sha256=file_digest(path, "sha256"), bytes=path.stat().st_size, legible=sum(marks),
                    legibility="EasyOCR g2 reads most of LEGIBILITY_WORDS drawn plain, case included")  # fmt: skip
        card_path.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(f"marked {path}: {sum(marks)} of {len(marks)} fonts legible")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
