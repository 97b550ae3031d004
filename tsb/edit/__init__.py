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
   but only the pixels inside the given box change. ``--blend alpha`` (default): for a split
   design, only what it repainted: the hole its eraser cut (``GeneratorOutput.hole``) and the new
   letters with their effects (its mask), so the old word is gone even where it touches the box's
   edge and the rest of the box keeps the photo's own pixels; for a network that redraws the whole
   crop, a feathered box (a ramp of ``feather`` x the box height inwards from its edges) united
   with its text mask. The crop and the paste resample bicubic (:data:`tsb.edit.paste.RESAMPLE`). ``--blend poisson``: OpenCV's ``seamlessClone`` (normal clone) of the box,
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

The package: :mod:`~tsb.edit.edits` (what to edit), :mod:`~tsb.edit.image_io` (photos in and out),
:mod:`~tsb.edit.paste` (blending a patch back), :mod:`~tsb.edit.editor` (the :class:`Editor`),
:mod:`~tsb.edit.cli` (the command line).
"""

from tsb.edit.cli import main, preview, print_words
from tsb.edit.editor import HEIGHT, MAX_SQUEEZE, Editor, model_alphabet
from tsb.edit.edits import Edit, EditInfo, format_box, load_edits, parse_box, word_edits
from tsb.edit.image_io import as_rgb, decode_image, open_image, save_image, working_mode
from tsb.edit.paste import pixels_inside
from tsb.errors import EditError, ImageTooLarge

__all__ = [
    "HEIGHT",
    "MAX_SQUEEZE",
    "Edit",
    "EditError",
    "EditInfo",
    "Editor",
    "ImageTooLarge",
    "as_rgb",
    "decode_image",
    "format_box",
    "load_edits",
    "main",
    "model_alphabet",
    "open_image",
    "parse_box",
    "pixels_inside",
    "preview",
    "print_words",
    "save_image",
    "word_edits",
    "working_mode",
]
