"""The editors the benchmark runs, each behind one call: ``replace(photo, box, old, new) -> photo``.

- ``model`` (:class:`ModelEditor`): the project's editor, :class:`tsb.edit.Editor` with a
  checkpoint (default: the published weights) and its inference steps, exactly as
  ``python -m tsb.edit --replace OLD=NEW`` edits one word.
- ``font`` (:class:`FontEditor`): the trivial row to beat. The old word's box is cut out upright,
  its ink found by Otsu's threshold (the class rarer on the crop's rim), the ink's pixels (and two
  around them) filled by pull-push from the rest (:func:`tsb.utils.fill.pull_push`), and the new
  word painted over it in the standard content font (:func:`tsb.data.content.render_content_array`)
  in the old ink's median colour; only pixels inside the box change.
- ``copy`` (:class:`CopyEditor`): returns the photo unchanged (copying the source).
- ``erase`` (:class:`EraseEditor`): the model's eraser alone, as ``python -m tsb.edit --box ...
  --erase`` removes one word (the background branch of ``model=stylebrush_bg``, with the
  inference steps that shape its hole): no new word is written (:attr:`erases`), so the judge
  measures the old word gone, the neighbours, the pixels outside the box and the seam.

An editor refuses an edit by raising :class:`tsb.errors.EditError` (the benchmark counts it as
refused, with its message). ``font`` refuses the boxes ``model`` refuses for reaching past the
image (:meth:`tsb.edit.Editor.fit_box`: refused when mostly outside it); ``copy`` refuses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch
from PIL import Image

from tsb.data.content import render_content_array
from tsb.data.crop import Box, box_affine, crop_rotated, span_along
from tsb.edit import Edit, Editor
from tsb.edit.paste import RESAMPLE
from tsb.errors import BenchError
from tsb.photobench.judge import box_mask, ink_mask
from tsb.utils.fill import pull_push

METHODS = ("model", "font", "copy", "erase")
#: the height the font editor works at (the crop is resampled to it)
HEIGHT = 64


class PhotoEditor(Protocol):
    name: str

    def replace(
        self, photo: Image.Image, box: Box, old: str, new: str, letters: Box | None = None
    ) -> Image.Image:
        """``photo`` (RGB) with the word ``old`` in ``box`` replaced by ``new``; EditError to refuse.
        ``letters``: the part of the box the new word keeps within (the detected word's ink)."""
        ...


class ModelEditor:
    """:class:`tsb.edit.Editor`: ``ckpt`` None = the published weights."""

    name = "model"

    def __init__(
        self, ckpt: str | Path | None = None, inference: str = "auto", device: str = "cpu", match_font: str | None = None
    ) -> None:
        self.editor = Editor(ckpt, device, inference=inference, match_font=match_font or False)
        self.ckpt = str(self.editor.ckpt_path)

    def replace(
        self, photo: Image.Image, box: Box, old: str, new: str, letters: Box | None = None
    ) -> Image.Image:
        result, _ = self.editor.edit(photo, [Edit(box, new, source=old, letters=letters)])
        return result.convert("RGB")


class EraseEditor:
    """:class:`tsb.edit.Editor` in erase mode: the old word removed, nothing written (``new`` is
    ignored); ``ckpt`` None = the published weights. Refuses a checkpoint without an eraser."""

    name = "erase"
    #: the benchmark measures a removal: no new word to read, no round trip
    erases = True

    def __init__(
        self,
        ckpt: str | Path | None = None,
        inference: str = "auto",
        device: str = "cpu",
        editor: Editor | None = None,
    ) -> None:
        #: ``editor``: one already loaded (the ``model`` row's), shared instead of loaded again
        self.editor = editor if editor is not None else Editor(ckpt, device, inference=inference)
        self.ckpt = str(self.editor.ckpt_path)
        if not self.editor.can_erase:
            raise BenchError(
                f"--method erase needs a model with a background branch (model=stylebrush_bg); "
                f"{self.ckpt} has none: leave erase out or give such a checkpoint with --ckpt"
            )

    def replace(
        self, photo: Image.Image, box: Box, old: str, new: str, letters: Box | None = None
    ) -> Image.Image:
        result, _ = self.editor.edit(photo, [Edit(box, "", erase=True)])
        return result.convert("RGB")


def erases(editor: PhotoEditor) -> bool:
    """Whether ``editor`` removes the old word instead of replacing it (:class:`EraseEditor`)."""
    return bool(getattr(editor, "erases", False))


class CopyEditor:
    """Copying the source: the photo unchanged."""

    name = "copy"

    def replace(
        self, photo: Image.Image, box: Box, old: str, new: str, letters: Box | None = None
    ) -> Image.Image:
        return photo.convert("RGB").copy()


def paste_in_box(photo: Image.Image, patch: np.ndarray, box: Box) -> Image.Image:
    """An upright ``patch`` (h, w, 3) float [0, 255] mapped into ``box``; pixels outside it unchanged."""
    base = np.asarray(photo.convert("RGB"))
    ph, pw = patch.shape[:2]
    size = (base.shape[1], base.shape[0])
    m = box_affine(box, (pw, ph))
    warped = cv2.warpAffine(
        patch.astype(np.float32), m, size, flags=RESAMPLE, borderMode=cv2.BORDER_REPLICATE
    )
    inside = box_mask(box, size)[..., None]
    out = np.where(inside, np.clip(warped + 0.5, 0, 255).astype(np.uint8), base)
    return Image.fromarray(out, mode="RGB")


class FontEditor:
    """The standard font in the old ink's median colour over a pull-push fill of the old word."""

    name = "font"

    def replace(
        self, photo: Image.Image, box: Box, old: str, new: str, letters: Box | None = None
    ) -> Image.Image:
        rgb = photo.convert("RGB")
        box = Editor.fit_box(box, rgb.size)
        width = max(16, round(HEIGHT * box[2] / box[3]))
        crop = np.asarray(crop_rotated(rgb, box, (width, HEIGHT), RESAMPLE))
        ink = ink_mask(crop)
        core = cv2.erode(ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        colour = np.median(crop[core if core.sum() >= 8 else ink], axis=0) if ink.any() else np.zeros(3)
        known = ~cv2.dilate(ink.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        image = torch.from_numpy(crop.astype(np.float32)).permute(2, 0, 1)[None]
        weight = torch.from_numpy(known.astype(np.float32))[None, None]
        fill = pull_push(image, weight, smooth=8)[0].permute(1, 2, 0).numpy() if known.any() else crop
        # the new word drawn across the letters' part of the box
        lo, hi = span_along(box, letters)
        x0 = min(width - 1, max(0, round((lo / box[2] + 0.5) * width)))
        x1 = max(x0 + 1, min(width, round((hi / box[2] + 0.5) * width)))
        alpha = np.zeros((HEIGHT, width, 1), np.float32)
        alpha[:, x0:x1] = 1.0 - render_content_array(new, HEIGHT, x1 - x0).astype(np.float32)[..., None] / 255.0
        patch = fill * (1 - alpha) + colour.astype(np.float32) * alpha
        return paste_in_box(rgb, patch, box)


def build_editor(
    method: str,
    ckpt: str | None = None,
    inference: str = "auto",
    device: str = "cpu",
    loaded: Sequence[PhotoEditor] = (),
    match_font: str | None = None,
) -> PhotoEditor:
    """The editor ``method`` names; ``loaded``: editors built already (``erase`` shares the
    ``model`` row's loaded network); ``match_font``: the model's font choice (as tsb.edit's)."""
    if method == "erase":
        model = next((e for e in loaded if isinstance(e, ModelEditor)), None)
        return EraseEditor(ckpt, inference, device, model.editor if model is not None else None)
    if method == "model":
        return ModelEditor(ckpt, inference, device, match_font)
    if method == "font":
        return FontEditor()
    if method == "copy":
        return CopyEditor()
    raise BenchError(f"--method {method!r} is not one of {', '.join(METHODS)}")
