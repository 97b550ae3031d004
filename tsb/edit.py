"""Edit the text in one's own photo: ``python -m tsb.edit --image photo.jpg
--box X,Y,W,H[,ANGLE] --text "new words" --out edited.png`` (the published weights,
``tsb/weights/``, docs/model_card.md; ``--ckpt CKPT`` for a run of your own), or remove a word:
``--box ... --erase`` (the background branch of ``model=stylebrush_bg``).

Boxes: ``X,Y`` is the top-left corner of the *unrotated* box, ``W,H`` its size in pixels, and the
box turns about its centre by ``ANGLE`` degrees counter-clockwise as seen on screen (IMGUR5K's
convention; IMGUR5K stores the centre instead: ``X = xc - W/2``, ``Y = yc - H/2``). Several
edits at once: ``--edits edits.json`` with ``[{"box": "X,Y,W,H[,ANGLE]", "text": "..."}, ...]``
(``box`` may also be a list of numbers); all style crops are cut from the original photo.

For each edit:

1. **style**: the box grown by ``context`` x its height on every side, cut out upright
   (:func:`tsb.data.crop.crop_rotated`) at 64 pixels high, keeping its aspect ratio;
2. **content**: the new string rendered plain at 64xW (:func:`tsb.data.content.render_content`),
   W following the string but never narrower than the style crop; and the *old* word rendered
   the same way when it is known (``--replace`` reads it, ``--source-text`` or an edit's
   ``"source"`` names it, else the packaged PP-OCRv6 recognizer reads the box): the split
   design's layout draws the new word with the old font's width and baseline from it;
3. **generate**: the inference pipeline (:mod:`tsb.inference.pipeline`; ``--inference``: the
   published weights' own photo steps by default) -> image and foreground mask, 64xW;
4. **paste back**: the output covers the grown box (rotated back with the crop's own affine map),
   but only the pixels inside the given box change. ``--blend alpha`` (default): a feathered box
   (a ramp of ``feather`` x the box height inwards from its edges) united with the predicted text
   mask and, for a split design, the hole its eraser repainted (``GeneratorOutput.hole``), so the
   new letters are fully opaque, the old word is gone even where it touches the box's edge, and
   the rest of the generated background fades into the photo at the box edges. ``--blend poisson``: OpenCV's ``seamlessClone`` (normal clone) of the box,
   which matches the generated background's colour to the photo around it; it needs a pixel of
   photo around the box and falls back to ``alpha`` where the box touches the image border.

A longer string than the box holds is squeezed into the box, up to ``MAX_SQUEEZE`` (4x) narrower
than its natural width (a longer one is refused); pixels outside the boxes are unchanged. Input
photos may be RGB, RGBA (alpha kept), grey (kept grey), 16-bit grey (kept 16-bit), palette,
CMYK, or EXIF-rotated JPEGs (edited as displayed); boxes are in the displayed orientation; an
animation (several frames) is refused. The photo is held as 8-bit; only the window around a box
is worked on in float, so a large photo costs little more than its pixels. Errors (box
outside the image, empty string, a character outside the model's alphabet, unreadable files)
print one message and exit with status 2. ``--verbose`` prints each word's latency.
"""

from __future__ import annotations

import argparse
import json
import math
import string
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from tsb.cli import report_error
from tsb.data.content import natural_width, render_content
from tsb.data.crop import Box, box_affine, box_corners, crop_rotated, expand_box
from tsb.detect import Word
from tsb.errors import EditError, ImageTooLarge, TsbError
from tsb.inference.font_match import FontMatch
from tsb.inference.pipeline import Pipeline, build_pipeline
from tsb.published import AUTO, default_inference, resolve_checkpoint
from tsb.utils.device import resolve_device
from tsb.utils.image import pil_to_tensor

HEIGHT = 64
WIDTH_MULTIPLE = 16
MAX_STYLE_WIDTH = 1024
BOX_TOLERANCE = 1.0  # pixels a box corner may stick out of the image (rounding)
MAX_SQUEEZE = 4.0  # a text may be drawn at most this many times narrower than its natural width
WIDE_GREY = ("I;16", "I;16B", "I;16L", "I")  # 16-bit grey (PNG): edited as grey, written as 16-bit


@dataclass(frozen=True)
class Edit:
    """One word to replace: ``box`` = (xc, yc, w, h, angle) as in :mod:`tsb.data.crop`, ``text``."""

    box: Box
    text: str
    #: remove the word instead (the background branch's output only; ``text`` is ignored)
    erase: bool = False
    #: the word the box holds now, when known (else the editor reads it)
    source: str | None = None


@dataclass
class EditInfo:
    text: str
    box: Box
    size: tuple[int, int]  # generated (W, H)
    seconds: float  # crop + render + generate + paste
    generate_seconds: float
    blend: str
    #: the font the new word was drawn in (matched to the old word; None: the content font)
    font: str | None = None


# --------------------------------------------------------------------------------------------------
# parsing


def parse_box(value: str | Sequence[float]) -> Box:
    """``"X,Y,W,H[,ANGLE]"`` (top-left corner of the unrotated box) -> (xc, yc, w, h, angle)."""
    try:
        nums = [float(v) for v in (value.split(",") if isinstance(value, str) else value)]
    except (TypeError, ValueError):
        raise EditError(
            f"box {value!r} is not X,Y,W,H or X,Y,W,H,ANGLE (numbers separated by commas)"
        ) from None
    if len(nums) not in (4, 5):
        raise EditError(f"box {value!r} has {len(nums)} numbers; give X,Y,W,H or X,Y,W,H,ANGLE")
    if not all(math.isfinite(v) for v in nums):
        raise EditError(f"box {value!r} holds a non-finite number")
    x, y, w, h = nums[:4]
    if w < 1 or h < 1:
        raise EditError(f"box {value!r} has width {w:g} and height {h:g}; both must be at least 1 pixel")
    angle = nums[4] if len(nums) == 5 else 0.0
    return (x + w / 2, y + h / 2, w, h, angle)


def format_box(box: Box) -> str:
    xc, yc, w, h, a = box
    return f"{xc - w / 2:g},{yc - h / 2:g},{w:g},{h:g}" + (f",{a:g}" if a else "")


def load_edits(path: str | Path) -> list[Edit]:
    """Edits from a JSON file: a list (or ``{"edits": [...]}``) of ``{"box": ..., "text": ...}``
    (or ``{"box": ..., "erase": true}`` to remove a word)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise EditError(f"cannot read the edits file {p}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise EditError(f"the edits file {p} is not valid JSON ({e})") from None
    if isinstance(data, dict):
        data = data.get("edits")
    if not isinstance(data, list) or not data:
        raise EditError(
            f'{p} must hold a non-empty list of {{"box": "X,Y,W,H[,ANGLE]", "text": "..."}} objects'
        )
    edits = []
    for i, item in enumerate(data):
        if isinstance(item, dict) and "box" in item and item.get("erase") is True and "text" not in item:
            edits.append(Edit(parse_box(item["box"]), "", erase=True))
            continue
        if not isinstance(item, dict) or "box" not in item or "text" not in item:
            raise EditError(
                f'edit {i} in {p} needs "box" and "text" keys (or "box" and "erase": true), got {item!r}'
            )
        if not isinstance(item["text"], str):
            raise EditError(f'edit {i} in {p}: "text" must be a string, got {item["text"]!r}')
        source = item.get("source")
        if source is not None and not isinstance(source, str):
            raise EditError(
                f'edit {i} in {p}: "source" (the word the box holds now) must be a string, got {source!r}'
            )
        edits.append(Edit(parse_box(item["box"]), item["text"], source=source or None))
    return edits


def open_image(path: str | Path) -> Image.Image:
    """Open a photo as displayed (EXIF orientation applied); the file is read fully."""
    p = Path(path)
    if not p.is_file():
        raise EditError(f"image {p} does not exist")
    return decode_image(p, str(p))


def decode_image(source: str | Path | BinaryIO, name: str, max_pixels: int | None = None) -> Image.Image:
    """A photo from a file or a stream, as displayed; ``name`` is what messages call it.

    Refused with one message: anything Pillow cannot read as an image, an animation, and an image
    of more than ``max_pixels`` pixels (checked from the header, before decoding).
    """
    try:
        with Image.open(source) as img:
            frames = int(getattr(img, "n_frames", 1))
            if frames > 1:
                raise EditError(
                    f"image {name} has {frames} frames (an animation); edit one frame: save it as a PNG first"
                )
            if max_pixels is not None and img.width * img.height > max_pixels:
                raise ImageTooLarge(
                    f"image {name} is {img.width}x{img.height} pixels, over the limit of "
                    f"{max_pixels / 1e6:g} megapixels; downscale it first"
                )
            img.load()
            return ImageOps.exif_transpose(img)
    except Image.DecompressionBombError as e:
        raise ImageTooLarge(
            f"image {name} is too large for Pillow's safety limit ({e}); downscale it first"
        ) from None
    except (UnidentifiedImageError, OSError) as e:
        raise EditError(f"cannot read {name} as an image ({e})") from None


def working_mode(img: Image.Image) -> str:
    """The mode the result is written in: RGB, RGBA (alpha kept) or L (grey kept)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return "RGBA"
    if img.mode in ("L", "1"):
        return "L"
    if img.mode in WIDE_GREY:
        return "I;16"
    return "RGB"


def as_rgb(img: Image.Image) -> Image.Image:
    """The photo as 8-bit RGB for the network (16-bit grey scaled down, not clipped to white)."""
    if img.mode in WIDE_GREY:
        grey = np.asarray(img).astype(np.float64) / 257.0
        return Image.fromarray(np.clip(grey + 0.5, 0, 255).astype(np.uint8), mode="L").convert("RGB")
    return img.convert("RGB")


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
        match_font: bool = False,
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
        self.font_match = FontMatch() if match_font else None
        self._reader: Any = None
        self._warmup()

    def _warmup(self) -> None:
        """Load the content font and run the network once, so per-word latencies are steady."""
        style = torch.zeros(1, 3, HEIGHT, 4 * WIDTH_MULTIPLE, device=self.device)
        content = render_content("a", HEIGHT, 4 * WIDTH_MULTIPLE)[None].to(self.device)
        with torch.inference_mode():
            self.generate(style, content)

    def generate(self, style: torch.Tensor, content: torch.Tensor, source: torch.Tensor | None = None) -> Any:
        """The network with this editor's inference steps (:class:`~tsb.inference.pipeline.Pipeline`)."""
        return self.pipeline.generate(self.task, style, content, source)

    # checks --------------------------------------------------------------------------------------
    def check_text(self, text: str) -> None:
        if not text.strip():
            raise EditError("the new text is empty; give the word to write with --text")
        bad = sorted({c for c in text if c != " " and c not in self.alphabet})
        if bad:
            raise EditError(
                f"the text {text!r} has characters {''.join(bad)!r} outside the model's alphabet "
                f"({self.alphabet_source}: {self.alphabet!r}); use only those characters and spaces"
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
    def check_box(box: Box, size: tuple[int, int]) -> None:
        w, h = size
        corners = box_corners(box)
        # pixel centres are integers: the image spans [-0.5, w - 0.5] x [-0.5, h - 0.5]
        out = [
            (x, y)
            for x, y in corners
            if x < -0.5 - BOX_TOLERANCE
            or y < -0.5 - BOX_TOLERANCE
            or x > w - 0.5 + BOX_TOLERANCE
            or y > h - 0.5 + BOX_TOLERANCE
        ]
        if out:
            x, y = out[0]
            raise EditError(
                f"box {format_box(box)} reaches outside the {w}x{h} image (corner at {x:.0f},{y:.0f}); "
                "give a box inside the image (X,Y = top-left corner, then width, height, angle)"
            )

    # one word ------------------------------------------------------------------------------------
    def _style(self, photo: Image.Image, box: Box) -> tuple[torch.Tensor, Box, int]:
        """The style crop (1, 3, 64, W) of ``box`` grown by the context margin, the grown box, W."""
        w, h = box[2], box[3]
        m = self.context * h
        grown = expand_box(box, (w + 2 * m) / w, (h + 2 * m) / h)
        gw, gh = grown[2], grown[3]
        style_w = int(min(MAX_STYLE_WIDTH, max(WIDTH_MULTIPLE, round(HEIGHT * gw / gh))))
        style_img = _crop_local(photo, grown, (style_w, HEIGHT))
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
        crop = pil_to_tensor(_crop_local(photo, box, (w, HEIGHT)), "RGB")
        word = self._reader.read_one(crop).strip()
        return word or None

    def source_text(self, photo: Image.Image, edit: Edit) -> str | None:
        """The old word of ``edit``: as given, else read (``read_source``), else None."""
        if edit.source is not None or not self.read_source:
            return edit.source
        return self.read_word(photo, edit.box)

    def _generate(
        self, photo: Image.Image, box: Box, text: str, source: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, Box, float, str | None]:
        """Generated patch (64, W, 3) float [0, 255], the mask pasted whole (64, W) [0, 1]: the new
        letters and the old word's hole, if the model has one; the grown box, seconds and
        the matched font (None: the content font); ``source``: the word the box holds now, when known."""
        style, grown, style_w = self._style(photo, box)
        width = max(natural_width(text, HEIGHT), _round_up(style_w, WIDTH_MULTIPLE))
        if source:
            width = max(width, natural_width(source, HEIGHT))
        t0 = time.perf_counter()
        src: torch.Tensor | None
        font = None
        if source and self.font_match is not None:
            choice = self.font_match.choose(self.generate, style, source, text, width=width)
            content, src, font = choice.content[None], choice.source[None], choice.font
        else:
            content = render_content(text, HEIGHT, width)[None].to(self.device)
            src = render_content(source, HEIGHT, width)[None].to(self.device) if source else None
        with torch.inference_mode():
            out = self.generate(style, content, src)
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

    def _alpha(self, shape: tuple[int, int], grown: Box, box: Box, mask: np.ndarray) -> np.ndarray:
        """Blend weights over the generated patch: a feathered box (0 in the context margin) united
        with ``mask`` (the new letters and the old word's hole), which is pasted whole."""
        ph, pw = shape
        mx = (grown[2] - box[2]) / 2 / grown[2] * pw  # margin in patch pixels
        my = (grown[3] - box[3]) / 2 / grown[3] * ph
        ramp = max(1.0, self.feather * (ph - 2 * my))
        xs = np.arange(pw, dtype=np.float32) + 0.5
        ys = np.arange(ph, dtype=np.float32) + 0.5
        ax = np.clip(np.minimum(xs - mx, pw - mx - xs) / ramp, 0, 1)
        ay = np.clip(np.minimum(ys - my, ph - my - ys) / ramp, 0, 1)
        rect = np.minimum(ay[:, None], ax[None, :])
        # the mask in the context margin too: the box's edge pixels are resampled from both sides of
        # it, and ``_paste`` changes no pixel outside the box
        return np.asarray(np.maximum(rect, mask), dtype=np.float32)

    def edit(self, image: Image.Image, edits: Sequence[Edit]) -> tuple[Image.Image, list[EditInfo]]:
        """Apply ``edits`` to ``image`` (any mode); returns the edited image (same size and mode family)."""
        if not edits:
            raise EditError("nothing to edit: give --box and --text, or --edits FILE")
        mode = working_mode(image)
        rgb = as_rgb(image)
        for e in edits:
            self.check_box(e.box, rgb.size)
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
                patch, mask, grown, t_gen, font = self._generate(rgb, e.box, e.text, self.source_text(rgb, e))
            alpha = self._alpha(mask.shape, grown, e.box, mask)
            used = self._paste(out, patch, alpha, grown, e.box)
            size = (patch.shape[1], patch.shape[0])
            infos.append(EditInfo(e.text, e.box, size, time.perf_counter() - t0, t_gen, used, font))
        result = Image.fromarray(out, mode="RGB")
        return _restore_mode(result, image, mode, base, out), infos

    def _paste(self, out: np.ndarray, patch: np.ndarray, alpha: np.ndarray, grown: Box, box: Box) -> str:
        """Blend ``patch`` into ``out`` (H, W, 3) uint8 in place; only pixels inside ``box`` change."""
        H, W = out.shape[:2]
        ph, pw = alpha.shape
        corners = box_corners(box)
        x0 = max(0, math.floor(corners[:, 0].min()) - 2)
        y0 = max(0, math.floor(corners[:, 1].min()) - 2)
        x1 = min(W, math.ceil(corners[:, 0].max()) + 3)
        y1 = min(H, math.ceil(corners[:, 1].max()) + 3)
        roi_size = (x1 - x0, y1 - y0)
        m = box_affine(grown, (pw, ph))
        m[:, 2] -= (x0, y0)
        warped = cv2.warpAffine(patch, m, roi_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        a = cv2.warpAffine(
            alpha, m, roi_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        # hard limit: pixels whose centre lies in the box, so nothing outside the box changes
        inside = pixels_inside(box, (x0, y0), roi_size)
        a *= inside
        window = out[y0:y1, x0:x1]
        region = window.astype(np.float32)
        used = self._blend(region, warped, a, inside, (x0, y0, x1, y1), (W, H))
        window[...] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
        return used

    def _blend(
        self,
        region: np.ndarray,
        warped: np.ndarray,
        a: np.ndarray,
        inside: np.ndarray,
        bounds: tuple[int, int, int, int],
        size: tuple[int, int],
    ) -> str:
        """Blend ``warped`` into ``region`` (float, in place) with weights ``a``; the blend used."""
        x0, y0, x1, y1 = bounds
        W, H = size
        roi_size = (x1 - x0, y1 - y0)
        used = self.blend
        if used == "poisson":
            ys, xs = np.nonzero(inside)
            if (
                len(xs)
                and xs.min() >= 1
                and ys.min() >= 1
                and xs.max() < roi_size[0] - 1
                and ys.max() < roi_size[1] - 1
                and x0 > 0
                and y0 > 0
                and x1 < W
                and y1 < H
            ):
                dst = np.clip(region + 0.5, 0, 255).astype(np.uint8)
                src = np.clip(warped + 0.5, 0, 255).astype(np.uint8)
                bx, by, bw, bh = cv2.boundingRect((inside * 255).astype(np.uint8))
                cloned = cv2.seamlessClone(
                    src, dst, inside * 255, (bx + bw // 2, by + bh // 2), cv2.NORMAL_CLONE
                )
                keep = inside[..., None].astype(bool)
                region[...] = np.where(keep, cloned.astype(np.float32), region)
                return used
            used = "alpha (poisson needs a pixel of photo around the box)"
        region[...] = region * (1 - a[..., None]) + warped * a[..., None]
        return used


def _plane(mask: torch.Tensor) -> np.ndarray:
    """The first sample's (1, 1, H, W) mask as an (H, W) float32 array in [0, 1]."""
    return np.asarray(mask[0, 0].float().clamp(0, 1).cpu().numpy(), dtype=np.float32)


def pixels_inside(box: Box, origin: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """uint8 (h, w) mask of the window at ``origin`` of ``size`` (w, h): 1 where the pixel centre is in ``box``."""
    xc, yc, w, h, a = box
    t = math.radians(a)
    xs = np.arange(origin[0], origin[0] + size[0], dtype=np.float64) - xc
    ys = np.arange(origin[1], origin[1] + size[1], dtype=np.float64) - yc
    # box axes in pixel coordinates: u along (cos a, -sin a), v along (sin a, cos a)
    u = xs[None, :] * math.cos(t) - ys[:, None] * math.sin(t)
    v = xs[None, :] * math.sin(t) + ys[:, None] * math.cos(t)
    return ((np.abs(u) <= w / 2) & (np.abs(v) <= h / 2)).astype(np.uint8)


def _crop_local(photo: Image.Image, box: Box, out_size: tuple[int, int]) -> Image.Image:
    """``crop_rotated`` on a window around the box only (large photos stay cheap)."""
    corners = box_corners(box)
    W, H = photo.size
    x0 = max(0, math.floor(corners[:, 0].min()) - 2)
    y0 = max(0, math.floor(corners[:, 1].min()) - 2)
    x1 = min(W, math.ceil(corners[:, 0].max()) + 3)
    y1 = min(H, math.ceil(corners[:, 1].max()) + 3)
    if x1 <= x0 or y1 <= y0:
        raise EditError(f"box {format_box(box)} does not overlap the image")
    window = photo.crop((x0, y0, x1, y1))
    local = (box[0] - x0, box[1] - y0, box[2], box[3], box[4])
    return crop_rotated(window, local, out_size)


def _restore_mode(
    result: Image.Image, original: Image.Image, mode: str, base: np.ndarray, out: np.ndarray
) -> Image.Image:
    """Back to the input's mode family; untouched pixels keep their original values exactly."""
    if mode == "RGB":
        return result
    changed = np.any(out != base, axis=2)
    if mode == "I;16":
        wide = np.asarray(original).astype(np.int64)
        edited = np.asarray(result.convert("L")).astype(np.int64) * 257
        return Image.fromarray(np.where(changed, edited, wide).astype(np.uint16))
    if mode == "RGBA":
        alpha = np.asarray(original.convert("RGBA"))[..., 3]
        return Image.fromarray(np.dstack([np.asarray(result), alpha]), mode="RGBA")
    grey = np.asarray(original.convert("L")).copy()
    grey[changed] = np.asarray(result.convert("L"))[changed]
    return Image.fromarray(grey, mode="L")


def save_image(img: Image.Image, path: str | Path) -> Path:
    p = Path(path)
    if p.parent and not p.parent.exists():
        raise EditError(f"the output folder {p.parent} does not exist")
    if p.suffix.lower() in (".jpg", ".jpeg") and img.mode == "RGBA":
        img = img.convert("RGB")
    if p.suffix.lower() in (".jpg", ".jpeg") and img.mode.startswith("I"):
        img = Image.fromarray(np.clip(np.asarray(img) / 257.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    try:
        img.save(p)
    except (ValueError, OSError) as e:
        raise EditError(f"cannot write {p} ({e}); use a .png or .jpg file name") from None
    return p


def _normal(text: str, exact: bool) -> str:
    return text if exact else text.strip(string.punctuation + " ").casefold()


def word_edits(
    words: Sequence[Word], replace: Sequence[str], erase: str | None, exact: bool = False
) -> list[Edit]:
    """The edits that ``--replace OLD=NEW`` and ``--erase WORD`` ask for on the detected ``words``.

    A word is matched as read, case-insensitive and without surrounding punctuation unless
    ``exact``; a request that matches nothing is one error listing what was found.
    """
    requests: list[tuple[str, str | None]] = []
    for item in replace:
        before, sep, after = item.partition("=")
        if not sep or not before.strip() or not after.strip():
            raise EditError(f"--replace {item!r}: write OLD=NEW, e.g. --replace SALE=OPEN")
        requests.append((before, after))
    if erase is not None:
        requests.append((erase, None))
    edits = []
    for old, new in requests:
        hits = [w for w in words if _normal(w.text, exact) == _normal(old, exact)]
        if not hits:
            found = ", ".join(repr(w.text) for w in words[:30]) + (" ..." if len(words) > 30 else "")
            raise EditError(
                f"no word reads {old!r} in the photo (found: {found or 'no words'}); "
                "check the spelling (--list shows what was read)"
            )
        edits += [
            Edit(w.box, "", erase=True) if new is None else Edit(w.box, new, source=w.text) for w in hits
        ]
    return edits


def print_words(words: Sequence[Word]) -> None:
    if not words:
        print("no words found")
    for i, w in enumerate(words, start=1):
        box = tuple(round(v, 1) for v in w.box)
        print(f"{i:3d}  {w.text!r:24}  confidence {w.score:.2f}  --box={format_box(box)}")  # type: ignore[arg-type]


def preview(image: Image.Image, words: Sequence[Word]) -> Image.Image:
    """The photo with each word's box drawn and numbered as ``--list`` prints them."""
    from PIL import ImageDraw

    out = as_rgb(image).copy()
    draw = ImageDraw.Draw(out)
    for i, w in enumerate(words, start=1):
        corners = [tuple(map(float, c)) for c in box_corners(w.box)]
        draw.polygon(corners, outline=(255, 0, 0), width=2)
        x, y = corners[0]
        draw.text((x + 2, max(0.0, y - 12)), str(i), fill=(255, 0, 0))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tsb.edit",
        description="Replace words in a photo with new text in the same style.",
        epilog='example: python -m tsb.edit --image photo.jpg --box 120,40,200,60,5 --text "new words" --out edited.png',
    )
    p.add_argument(
        "--ckpt",
        default=None,
        help="model checkpoint (RUN/checkpoints/last.ckpt); default: the published weights",
    )
    p.add_argument("--image", required=True, help="the photo (RGB, RGBA, grey; EXIF rotation is applied)")
    p.add_argument(
        "--box",
        help="X,Y,W,H[,ANGLE]: top-left corner, size, degrees counter-clockwise (write --box=X,... when X is negative)",
    )
    p.add_argument("--text", help="the new text")
    p.add_argument(
        "--source-text",
        help="with --box: the word the box holds now (default: read by the packaged PP-OCRv6 recognizer); "
        "the model draws the new word in its width and on its baseline",
    )
    p.add_argument(
        "--no-read", action="store_true", help="do not read the old word: place the new one by the box alone"
    )
    p.add_argument(
        "--match-font",
        action="store_true",
        help="draw the new word in the shipped training font whose rendering of the old word the model "
        "redraws best, instead of the content font (about 2 s per word on a CPU)",
    )
    p.add_argument(
        "--erase",
        nargs="?",
        const=True,
        default=None,
        metavar="WORD",
        help="remove a word instead: the one in --box, or every detected word that reads WORD "
        "(needs a model with a background branch: model=stylebrush_bg)",
    )
    p.add_argument(
        "--list", action="store_true", help="print the words found in the photo (text, confidence, --box)"
    )
    p.add_argument("--preview", help="with --list: write the photo with numbered word boxes here")
    p.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="replace every detected word that reads OLD by NEW (repeatable; case-insensitive unless --exact)",
    )
    p.add_argument(
        "--exact", action="store_true", help="--replace / --erase WORD match case and punctuation exactly"
    )
    p.add_argument("--edits", help='JSON file: [{"box": "X,Y,W,H[,ANGLE]", "text": "..."}, ...]')
    p.add_argument("--out", help="where to write the edited image (.png, .jpg); not needed for --list alone")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, ...")
    p.add_argument("--blend", default="alpha", choices=["alpha", "poisson"], help="paste-back blending")
    p.add_argument("--context", type=float, default=0.15, help="style context around the box, x box height")
    p.add_argument(
        "--inference",
        default=AUTO,
        help="photo steps around the network (conf/inference: photo, none); default auto: the published "
        "weights' own (photo), none for a checkpoint of your own",
    )
    p.add_argument("--verbose", action="store_true", help="print each word's latency")
    args = p.parse_args(argv)
    try:
        edits: list[Edit] = load_edits(args.edits) if args.edits else []
        by_box = args.erase is True
        if by_box:
            if args.box is None or args.text is not None:
                raise EditError("--erase takes --box (the word to remove) and no --text; or --erase WORD")
            edits.append(Edit(parse_box(args.box), "", erase=True))
        elif (args.box is None) != (args.text is None):
            raise EditError("--box and --text go together: give both (or neither with --edits FILE)")
        elif args.box is not None:
            edits.append(Edit(parse_box(args.box), args.text, source=args.source_text or None))
        if args.source_text is not None and (args.box is None or by_box):
            raise EditError("--source-text goes with --box and --text (the word that box holds now)")
        if args.preview and not args.list:
            raise EditError("--preview goes with --list")
        image = open_image(args.image)
        words = None
        if args.list or args.replace or isinstance(args.erase, str):
            from tsb.detect import find_words

            t0 = time.perf_counter()
            words = find_words(image)
            t_detect = time.perf_counter() - t0
            if args.verbose:
                print(f"found {len(words)} words in {t_detect:.2f} s")
        if args.list:
            assert words is not None
            print_words(words)
            if args.preview:
                save_image(preview(image, words), args.preview)
                print(f"wrote {args.preview}")
        if words is not None:
            edits += word_edits(
                words, args.replace, args.erase if isinstance(args.erase, str) else None, args.exact
            )
        if not edits:
            if args.list:
                return 0
            raise EditError(
                "nothing to edit: give --box and --text, --replace OLD=NEW, --erase (WORD, or with --box), "
                "or --edits FILE"
            )
        if not args.out:
            raise EditError("give --out: where to write the edited image")
        t0 = time.perf_counter()
        editor = Editor(
            args.ckpt, args.device, context=args.context, blend=args.blend, read_source=not args.no_read,
            match_font=args.match_font, inference=args.inference,
        )
        t_load = time.perf_counter() - t0
        result, infos = editor.edit(image, edits)
        save_image(result, args.out)
    except TsbError as e:
        return report_error(e)
    if args.verbose:
        dev = "CPU" if editor.device.type == "cpu" else str(editor.device)
        print(f"model loaded in {t_load:.2f} s; image {image.width}x{image.height} {image.mode}")
        for i in infos:
            print(
                f"{i.text!r} box {format_box(i.box)}: generated {i.size[0]}x{i.size[1]}, "
                f"{dev} latency {i.seconds:.3f} s (generate {i.generate_seconds:.3f} s), blend {i.blend}"
                + (f", font {Path(i.font).stem}" if i.font else "")
            )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
