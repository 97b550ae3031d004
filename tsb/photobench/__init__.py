"""The real-photo benchmark: ``python -m tsb.photobench DIR [--edits FILE] [--out REPORT]``.

Replaces words in a folder of photos (an edits file of ``photo<TAB>old<TAB>new`` lines, or every
word the judge finds, each by a word of similar length) with the project's editor and with
trivial ones (``--method model,font,copy``; ``erase`` or ``--erase``: the model's eraser alone,
judged on the old word gone), and measures each edit with an independent judge:
PP-OCRv6 detection + recognition on the whole edited photo (:class:`tsb.detect.WordFinder`,
never the model's own recognizer). Per edit: the new word read at the old word's place, the old
word gone, every other word of the photo read as before, the pixels changed outside the old
word's box, a seam score, the ink's contrast against its background (after over before), the
round trip old -> new -> old against the original inside the box (PSNR, LPIPS), and the time. Writes ``report.json``, ``report.md`` and ``sheet.png`` (every
edit, before and after). The project's own photo set: ``python -m tsb.photobench.photoset DIR``.

Modules: :mod:`~tsb.photobench.edits` (photos, edits files, replacement words),
:mod:`~tsb.photobench.judge` (the checks), :mod:`~tsb.photobench.editors` (model, font, copy),
:mod:`~tsb.photobench.bench` (the protocol), :mod:`~tsb.photobench.report` (JSON, markdown,
sheet), :mod:`~tsb.photobench.photoset` (the project's photo set), :mod:`~tsb.photobench.cli`.
"""

from tsb.photobench.bench import EditResult, Run, run_bench
from tsb.photobench.cli import main

__all__ = ["EditResult", "Run", "main", "run_bench"]
