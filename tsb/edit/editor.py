"""The :class:`Editor`: a loaded model and its inference pipeline, editing words in photos."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from tsb.data.content import natural_width, render_content
from tsb.data.crop import Box, clip_box, expand_box, span_along
from tsb.data.fonts import PACKAGES
from tsb.edit.edits import Edit, EditInfo, format_box
from tsb.edit.image_io import as_rgb, restore_mode, working_mode
from tsb.edit.paste import blend_weights, crop_local, paste
from tsb.errors import EditError
from tsb.inference.font_match import FontMatch
from tsb.inference.pipeline import Pipeline, build_pipeline
from tsb.published import AUTO, default_inference, resolve_checkpoint
from tsb.utils.device import resolve_device
from tsb.utils.image import pil_to_tensor

HEIGHT = 64
WIDTH_MULTIPLE = 16
MAX_STYLE_WIDTH = 1024
BOX_TOLERANCE = 1.0  # pixels a box corner may stick out of the image (rounding)
MIN_INSIDE = 0.5  # a box is edited when at least this share of it lies inside the image
MAX_SQUEEZE = 4.0  # a text may be drawn at most this many times narrower than its natural width


def model_alphabet(cfg: Any) -> tuple[str, str]:
    """The characters the model was trained to draw (the checkpoint's ``data.alphabet``) and where from."""
    from tsb.data.fonts import DEFAULT_ALPHABET

    data = cfg.get("data") if cfg is not None else None
    name = data.get("alphabet") if data is not None and hasattr(data, "get") else None
    if not name:
        return DEFAULT_ALPHABET, "the default Latin alphabet (the checkpoint names none)"
    try:
        from tsb.data.synth import resolve_alphabet

        return resolve_alphabet(str(name)), f"data.alphabet={name} of the checkpoint"
    except Exception:
        return str(name), "data.alphabet of the checkpoint"


# --------------------------------------------------------------------------------------------------
# the editor


def _round_up(x: float, m: int) -> int:
    return max(m, math.ceil(x / m) * m)


class Editor:
    """A loaded model that edits words in photos. ``context``/``feather`` are fractions of box height."""

    def __init__(
        self,
        ckpt: str | Path | None = None,
        device: str | torch.device = "cpu",
        context: float = 0.15,
        feather: float = 0.08,
        blend: str = "alpha",
        read_source: bool = True,
        match_font: bool | str = False,
        inference: str | Pipeline | None = AUTO,
    ) -> None:
        from tsb.training.checkpoint import load_task

        if blend not in ("alpha", "poisson"):
            raise EditError(f"--blend must be alpha or poisson, got {blend!r}")
        if not 0 <= context <= 2:
            raise EditError(f"--context must be between 0 and 2 (fraction of the box height), got {context}")
        self.device = resolve_device(str(device), "--device", mps=False)
        self.ckpt_path = resolve_checkpoint(ckpt)
        task, self.cfg = load_task(self.ckpt_path, self.device)
        self.task: Any = task  # a Task with generate(style, content)
        self.task.eval()
        self.pipeline = build_pipeline(default_inference(self.ckpt_path) if inference == AUTO else inference)
        self.alphabet, self.alphabet_source = model_alphabet(self.cfg)
        self.context, self.feather, self.blend = float(context), float(feather), blend
        self.read_source = bool(read_source)
        #: with the old word known: the new word in the shipped font that redraws it best (off by
        #: default: on photos the eraser's traces make thin faces win, docs/lab-notes.md)
        # (True or "model": the model redraws every candidate; "embedding": the typeface encoder's
        # nearest font among the pip packages' fonts, the ones the text branch was trained on;
        # "shortlist": the model redraws the encoder's nearest legible fonts of the whole index)
        self.font_match: FontMatch | None = None
        if match_font == "embedding":
            self.font_match = FontMatch(method="embedding", sources=PACKAGES)
        elif match_font == "shortlist":
            self.font_match = FontMatch(method="shortlist")
        elif match_font:
            self.font_match = FontMatch()
        self._reader: Any = None
        self._warmup()

    def _warmup(self) -> None:
        """Load the content font and run the network once, so per-word latencies are steady."""
        style = torch.zeros(1, 3, HEIGHT, 4 * WIDTH_MULTIPLE, device=self.device)
        content = render_content("a", HEIGHT, 4 * WIDTH_MULTIPLE)[None].to(self.device)
        with torch.inference_mode():
            self.generate(style, content)

    def generate(
        self,
        style: torch.Tensor,
        content: torch.Tensor,
        source: torch.Tensor | None = None,
        bounds: torch.Tensor | None = None,
    ) -> Any:
        """The network with this editor's inference steps (:class:`~tsb.inference.pipeline.Pipeline`);
        ``bounds``: the box's left and right edges in the style crop (:func:`box_bounds`)."""
        return self.pipeline.generate(self.task, style, content, source, bounds)

    def redraw(self, style: torch.Tensor, content: torch.Tensor, source: torch.Tensor | None = None) -> Any:
        """:meth:`generate` less the steps the font matcher leaves out when it redraws candidates."""
        skip = self.font_match.redraw_without if self.font_match is not None else ()
        return self.pipeline.without(*skip).generate(self.task, style, content, source)

    # checks --------------------------------------------------------------------------------------
    def check_text(self, text: str, what: str = "--text") -> None:
        """Refuse an empty text or one with characters the model was not trained to draw;
        ``what`` names the option in the message (``--text``, ``--source-text``)."""
        if not text.strip():
            raise EditError(
                "the new text is empty; give the word to write with --text"
                if what == "--text"
                else f"{what} is empty; give the word the box holds now"
            )
        bad = sorted({c for c in text if c != " " and c not in self.alphabet})
        if bad:
            named = "the text" if what == "--text" else what
            raise EditError(
                f"{named} {text!r} has characters {''.join(bad)!r} outside the model's alphabet "
                f"({self.alphabet_source}: {self.alphabet!r}); use only those characters and spaces"
            )

    @staticmethod
    def check_conflicts(edits: Sequence[Edit]) -> None:
        """Refuse two edits of one word (their boxes overlap by half or more): the second would
        silently overwrite the first."""
        rects = [_extent(e.box) for e in edits]
        for i in range(len(edits)):
            for j in range(i + 1, len(edits)):
                share = _overlap(rects[i], rects[j])
                if share >= 0.5:
                    raise EditError(
                        f"edits {i + 1} and {j + 1} change the same word (boxes {format_box(edits[i].box)} "
                        f"and {format_box(edits[j].box)} overlap by {share:.0%}); give one edit per word"
                    )

    def check_fits(self, text: str, box: Box) -> None:
        """Refuse a text far longer than its box holds (it would be squeezed past reading)."""
        need = natural_width(text, HEIGHT) * box[3] / HEIGHT  # pixels at the box's height
        if need > MAX_SQUEEZE * box[2]:
            raise EditError(
                f"the text {text[:40]!r}{'...' if len(text) > 40 else ''} ({len(text)} characters) needs a box "
                f"about {need:.0f} pixels wide at its height of {box[3]:g}, and the box is {box[2]:g} wide; "
                f"give a wider box or a shorter text (at most {MAX_SQUEEZE:g}x squeezed)"
            )

    @staticmethod
    def fit_box(box: Box, size: tuple[int, int]) -> Box:
        """``box`` as given when at least half of it lies in the image (a detected word at the photo's
        edge, its padding or its end past it: the pixels outside are never painted, and the crop
        repeats the photo's edge pixels there); refused otherwise (a box given in the wrong place)."""
        inside = clip_box(box, size, BOX_TOLERANCE)
        if inside[2] * inside[3] < MIN_INSIDE * box[2] * box[3]:
            w, h = size
            raise EditError(
                f"box {format_box(box)} lies mostly outside the {w}x{h} image; "
                "give a box inside the image (X,Y = top-left corner, then width, height, angle)"
            )
        return box

    # one word ------------------------------------------------------------------------------------
    def _style(self, photo: Image.Image, box: Box) -> tuple[torch.Tensor, Box, int]:
        """The style crop (1, 3, 64, W) of ``box`` grown by the context margin, the grown box, W."""
        w, h = box[2], box[3]
        m = self.context * h
        grown = expand_box(box, (w + 2 * m) / w, (h + 2 * m) / h)
        gw, gh = grown[2], grown[3]
        style_w = int(min(MAX_STYLE_WIDTH, max(WIDTH_MULTIPLE, round(HEIGHT * gw / gh))))
        style_img = crop_local(photo, grown, (style_w, HEIGHT))
        return pil_to_tensor(style_img, "RGB")[None].to(self.device), grown, style_w

    def read_word(self, photo: Image.Image, box: Box) -> str | None:
        """The word in ``box`` as the packaged PP-OCRv6 recognizer reads it (None: nothing read, or
        the recognizer is not installed)."""
        if self._reader is None:
            from tsb.pretrained.packages import PretrainedUnavailable
            from tsb.pretrained.ppocr import PPOCRReader

            try:
                self._reader = PPOCRReader(threads=max(1, torch.get_num_threads()))
            except PretrainedUnavailable:
                self._reader = False
        if self._reader is False:
            return None
        w = int(min(MAX_STYLE_WIDTH, max(WIDTH_MULTIPLE, round(HEIGHT * box[2] / box[3]))))
        crop = pil_to_tensor(crop_local(photo, box, (w, HEIGHT)), "RGB")
        word = self._reader.read_one(crop).strip()
        return word or None

    def source_text(self, photo: Image.Image, edit: Edit) -> str | None:
        """The old word of ``edit``: as given, else read (``read_source``), else None."""
        if edit.source is not None or not self.read_source:
            return edit.source
        return self.read_word(photo, edit.box)

    def _generate(
        self, photo: Image.Image, box: Box, text: str, source: str | None = None, letters: Box | None = None
    ) -> tuple[np.ndarray, np.ndarray, Box, float, str | None]:
        """Generated patch (64, W, 3) float [0, 255], the mask pasted whole (64, W) [0, 1]: the new
        letters and the old word's hole, if the model has one; the grown box, seconds and
        the matched font (None: the content font); ``source``: the word the box holds now, when
        known; ``letters``: the part of the box the new letters keep within (None: all of it)."""
        style, grown, style_w = self._style(photo, box)
        width = max(natural_width(text, HEIGHT), _round_up(style_w, WIDTH_MULTIPLE))
        if source:
            width = max(width, natural_width(source, HEIGHT))
        t0 = time.perf_counter()
        src: torch.Tensor | None
        font = None
        if source and self.font_match is not None:
            choice = self.font_match.choose(self.redraw, style, source, text, width=width)
            content, src, font = choice.content[None], choice.source[None], choice.font
        else:
            content = render_content(text, HEIGHT, width)[None].to(self.device)
            src = render_content(source, HEIGHT, width)[None].to(self.device) if source else None
        with torch.inference_mode():
            out = self.generate(style, content, src, box_bounds(box, grown, letters).to(self.device))
        image = ((out.image[0].float().clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).cpu().numpy()
        mask = out.mask if out.hole is None else torch.maximum(out.mask, out.hole)
        return image, _plane(mask), grown, time.perf_counter() - t0, font

    @property
    def can_erase(self) -> bool:
        """Whether the model has a background branch (``model=stylebrush_bg``)."""
        return self.pipeline.split_net(self.task) is not None

    def _erase(self, photo: Image.Image, box: Box) -> tuple[np.ndarray, np.ndarray, Box, float]:
        """The box's crop with its word removed, as :meth:`_generate` returns a patch (mask: the hole)."""
        if not self.can_erase:
            raise EditError(
                f"--erase needs a model with a background branch (a run of model=stylebrush_bg); "
                f"{self.ckpt_path} has none"
            )
        style, grown, _ = self._style(photo, box)
        t0 = time.perf_counter()
        with torch.inference_mode():
            bg, hole = self.pipeline.erase(self.task, style)
        image = ((bg[0].float().clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).cpu().numpy()
        return image, _plane(hole), grown, time.perf_counter() - t0

    def edit(self, image: Image.Image, edits: Sequence[Edit]) -> tuple[Image.Image, list[EditInfo]]:
        """Apply ``edits`` to ``image`` (any mode); returns the edited image (same size and mode family)."""
        if not edits:
            raise EditError("nothing to edit: give --box and --text, or --edits FILE")
        mode = working_mode(image)
        rgb = as_rgb(image)
        edits = [replace(e, box=self.fit_box(_upright_angle(e.box), rgb.size)) for e in edits]
        self.check_conflicts(edits)
        for e in edits:
            if e.erase:
                continue
            self.check_text(e.text)
            self.check_fits(e.text, e.box)
        # uint8 for the whole photo; only the window around each box is worked on in float
        base = np.asarray(rgb)
        out = base.copy()
        infos = []
        for e in edits:
            t0 = time.perf_counter()
            font = None
            if e.erase:
                patch, mask, grown, t_gen = self._erase(rgb, e.box)
            else:
                patch, mask, grown, t_gen, font = self._generate(
                    rgb, e.box, e.text, self.source_text(rgb, e), e.letters
                )
            # a split design's mask says which pixels it repainted (the old word's hole, the new
            # letters and their effects): only those are pasted, and the rest of the box keeps the
            # photo's own pixels (no tinted rectangle); a network that redraws the whole crop is
            # pasted as a feathered box united with its mask
            alpha = mask if self.can_erase else blend_weights(mask.shape, grown, e.box, mask, self.feather)
            used = paste(out, patch, alpha, grown, e.box, self.blend)
            size = (patch.shape[1], patch.shape[0])
            infos.append(EditInfo(e.text, e.box, size, time.perf_counter() - t0, t_gen, used, font))
        result = Image.fromarray(out, mode="RGB")
        return restore_mode(result, image, mode, base, out), infos


def box_bounds(box: Box, grown: Box, letters: Box | None = None) -> torch.Tensor:
    """Where the new letters may go in the crop of ``grown`` (``box`` grown by the context margin):
    the ends of ``letters`` (the part of the box for them; None: the box) along the box's line,
    within the box, in [-1, 1] of the crop's width (only the box is pasted)."""
    lo, hi = span_along(box, letters)
    return torch.tensor([lo, hi]) * (2 / grown[2])


def _upright_angle(box: Box) -> Box:
    """``box`` with its angle in (-180, 180]: 360 and 0 are the same box, and the same pixels."""
    angle = float(box[4]) % 360.0
    return (box[0], box[1], box[2], box[3], angle - 360.0 if angle > 180.0 else angle)


def _extent(box: Box) -> tuple[float, float, float, float]:
    """The upright rectangle (x0, y0, x1, y1) around a (possibly turned) box."""
    from tsb.data.crop import box_corners

    corners = np.asarray(box_corners(box), dtype=np.float64)
    return (*corners.min(axis=0), *corners.max(axis=0))  # type: ignore[return-value]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two rectangles."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _plane(mask: torch.Tensor) -> np.ndarray:
    """The first sample's (1, 1, H, W) mask as an (H, W) float32 array in [0, 1]."""
    return np.asarray(mask[0, 0].float().clamp(0, 1).cpu().numpy(), dtype=np.float32)
