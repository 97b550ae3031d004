"""FontMatch: draw the new word in the shipped font that looks most like the old word.

The typeface is the hard part of style transfer (docs/lab-notes.md): the text branch restyles the
*content rendering*'s letters, so at CPU budgets the new word keeps the content font's shapes, and
most of the pixel error left on held-out fonts is in those shapes (rendered in the benchmark's
true font, the published weights gain 1.2 dB). Where the old word's text is known (the benchmark's
``i_s.txt``, ``tsb.edit``'s reader or ``--source-text``), the model can be asked which typeface
explains the old word: each candidate font renders the old word's text with the content
renderer's conventions (:func:`~tsb.data.content.render_content` with ``font``), the model redraws
the style image from that rendering (``generate(style, rendered_source, rendered_source)``), and
the font whose redrawing is closest to the style image (mean squared error) draws the new word.

This is retrieval, not synthesis: the candidates are the fonts of one split of
:func:`~tsb.data.fonts.load_fonts` (``train`` by default, so the held-out benchmark never sees
its own fonts) that cover both words, plus the content font. It works with any model whose
``generate`` takes a content image (the paper's generator too); it costs one batched forward pass
per candidate chunk, about 70 candidates for a Latin word.

``method="embedding"`` asks the typeface encoder instead (:mod:`tsb.inference.typeface`): the old
word's crop is embedded once and the nearest font of the index (package fonts and, where installed,
the font library's ~1,900) that draws both words is taken; no forward pass of the model, a few
milliseconds, and the old word's text is not needed.

``method="shortlist"`` joins the two: the encoder's ``shortlist`` nearest fonts of the index (the
font library included) are the candidates, plus the content font, and the model's redrawing
chooses among them (``shortlist`` + 1 forward passes instead of ~70).

The callers redraw the candidates with their inference pipeline less the steps named in
``redraw_without`` (:meth:`tsb.inference.pipeline.Pipeline.without`; default the letter-height
step, whose measurement runs once per candidate and does not change the choice: on the held-out
benchmark the same 16.89 dB in 71 instead of 108 s for 200 pairs, docs/lab-notes.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.data.content import content_font_path, render_content
from tsb.data.fonts import load_fonts
from tsb.errors import ConfigError
from tsb.inference.typeface import TypefaceIndex, default_index_path
from tsb.models.generator import GeneratorOutput

Generate = Callable[[Tensor, Tensor, Tensor | None], GeneratorOutput]
METHODS = ("model", "embedding", "shortlist")


@dataclass(frozen=True)
class FontChoice:
    """The matched font and the two words rendered in it, (1, H, W) each in [-1, 1]."""

    font: str
    content: Tensor
    source: Tensor
    #: mean squared error of the model's redrawing of the style image with this font
    error: float
    #: the same error with the content font (the unmatched baseline)
    content_font_error: float


class FontMatch:
    """``choose(generate, style, source_text, target_text) -> FontChoice``.

    Args:
        split: the fonts to choose from: "train" (default: never the held-out fonts a benchmark
            is rendered in), "heldout" or "all".
        batch_size: candidates per forward pass.
        font_dirs: more font folders to choose from (as ``data.fonts.font_dirs``; method "model").
        method: "model" (the model redraws the old word in every candidate), "embedding" (the
            typeface encoder's nearest font) or "shortlist" (the model redraws the old word in the
            encoder's ``shortlist`` nearest fonts and the content font).
        index: the typeface index for method "embedding" (null: the published one).
        sources: methods "embedding" and "shortlist" choose only among fonts from these sources
            (null: every font of the index installed here, the font library included).
        shortlist: the encoder's candidates for method "shortlist" (4: the same PSNR as 8 within
            0.02 dB on the held-out fonts and handwriting, in two thirds of the time; docs/lab-notes.md).
        redraw_without: the inference steps the callers leave out when the model redraws the
            candidates (``Pipeline.without``).
    """

    def __init__(
        self,
        split: str = "train",
        batch_size: int = 32,
        font_dirs: tuple[str, ...] = (),
        method: str = "model",
        index: str | None = None,
        sources: tuple[str, ...] | None = None,
        shortlist: int = 4,
        redraw_without: tuple[str, ...] = ("ink_height",),
    ) -> None:
        if split not in ("train", "heldout", "all"):
            raise ConfigError(f"font_match.split must be 'train', 'heldout' or 'all', got {split!r}")
        if method not in METHODS:
            raise ConfigError(f"font_match.method must be one of {METHODS}, got {method!r}")
        if batch_size < 1:
            raise ConfigError(f"font_match.batch_size must be >= 1, got {batch_size}")
        if shortlist < 1:
            raise ConfigError(f"font_match.shortlist must be >= 1, got {shortlist}")
        self.shortlist = int(shortlist)
        self.redraw_without = tuple(str(n) for n in redraw_without)
        self.split = split
        self.batch_size = int(batch_size)
        self.font_dirs = tuple(str(d) for d in font_dirs)
        self.method = method
        self.index_path = index
        self.sources = tuple(sources) if sources is not None else None
        self._index: TypefaceIndex | None = None

    @property
    def index(self) -> TypefaceIndex:
        """The typeface index (loaded on first use)."""
        if self._index is None:
            self._index = TypefaceIndex.load(self.index_path or default_index_path())
        return self._index

    def candidates(self, text: str) -> list[str]:
        """The content font, then every font of the split that draws every character of ``text``."""
        fonts = load_fonts(font_dirs=self.font_dirs).candidates(text, self.split)
        base = content_font_path()
        return [base, *(p for p in (str(f.path) for f in fonts) if p != base)]

    def choose_each(
        self, generate: Generate, styles: Tensor, source_texts: Sequence[str], target_texts: Sequence[str]
    ) -> list[FontChoice]:
        """:meth:`choose` for every style image of a batch (B, 3, H, W) and its two words."""
        if not len(source_texts) == len(target_texts) == styles.shape[0]:
            raise ConfigError(
                f"font matching needs a source and a target word per style image; got {styles.shape[0]} "
                f"images, {len(source_texts)} source and {len(target_texts)} target words"
            )
        return [
            self.choose(generate, styles[i : i + 1], s, t, height=int(styles.shape[-2]))
            for i, (s, t) in enumerate(zip(source_texts, target_texts))
        ]

    @torch.no_grad()
    def choose(
        self,
        generate: Generate,
        style: Tensor,
        source_text: str,
        target_text: str,
        height: int = 64,
        width: int | None = None,
    ) -> FontChoice:
        """The font for ``target_text`` in the style of ``style`` (1, 3, H, W), whose word reads
        ``source_text``: the candidate whose rendering of ``source_text`` the model turns back into
        ``style`` best. The renderings are ``height`` x ``width`` (default: the style's width); the
        redrawing is compared with the style image resized to that size, as the models see it."""
        if style.ndim != 4 or style.shape[0] != 1 or style.shape[1] != 3:
            raise ConfigError(f"font matching takes one style image (1, 3, H, W); got {tuple(style.shape)}")
        width = int(style.shape[-1]) if width is None else int(width)
        reference = style.float()
        if reference.shape[-2:] != (height, width):
            reference = F.interpolate(
                reference, size=(height, width), mode="bilinear", align_corners=False, antialias=True
            )
        if self.method == "embedding":
            return self._retrieve(style, source_text, target_text, height, width)
        if self.method == "shortlist":
            found = self.index.search(style, source_text + target_text, k=self.shortlist, split=self.split,
                                      sources=self.sources)[0]  # fmt: skip
            base = content_font_path()
            fonts = [base, *(p for p in dict.fromkeys(str(m.font.path) for m in found) if p != base)]
        else:
            fonts = self.candidates(source_text + target_text)
        sources = torch.stack([render_content(source_text, height, width, f) for f in fonts]).to(style)
        errors = []
        for i in range(0, len(fonts), self.batch_size):
            chunk = sources[i : i + self.batch_size]
            # one style for the whole chunk: a network may erase it once (the split design does)
            redrawn = generate(style, chunk, chunk).image.float().clamp(-1, 1)
            errors.append((redrawn - reference).square().flatten(1).mean(1))
        error = torch.cat(errors)
        k = int(error.argmin())
        return FontChoice(
            font=fonts[k],
            content=render_content(target_text, height, width, fonts[k]).to(style),
            source=sources[k],
            error=float(error[k]),
            content_font_error=float(error[0]),
        )

    def _retrieve(self, style: Tensor, source_text: str, target_text: str, height: int, width: int) -> FontChoice:
        """The typeface encoder's nearest font that draws both words (the content font if none)."""
        found = self.index.search(style, source_text + target_text, k=1, split=self.split, sources=self.sources)[0]
        font = str(found[0].font.path) if found else content_font_path()
        return FontChoice(
            font=font,
            content=render_content(target_text, height, width, font).to(style),
            source=render_content(source_text, height, width, font).to(style),
            error=1.0 - found[0].similarity if found else float("nan"),
            content_font_error=float("nan"),
        )
