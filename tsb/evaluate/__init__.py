"""Evaluation: a checkpoint over a benchmark folder -> generated images, report.json, report.md.

``python evaluate.py ckpt_path=RUN/checkpoints/last.ckpt data=paired data.root=DIR`` calls
:func:`evaluate`. Two modes, chosen by what the data set provides:

- **paired** (samples hold ``target``, e.g. Tamper-Syn2k / ScenePair / our rendered folders):
  image metrics against the ground truth (MSE, PSNR, SSIM, the MOSTEL script's SSIM, LPIPS, FID)
  and recognition metrics of an independent judge (PP-OCRv6 by default) on the generated words;
- **scene** (real photos without ground truth, ``data=scene_folder``): for each word, target
  strings are sampled (from ``scene.lexicon``, else the data set's own words, else a built-in
  list, kept to the judge's alphabet where it has one); recognition metrics only.

Every report has the model's row and reference rows computed on the same data, so a reader sees
how far above trivial the model is: ``copy_source`` (output = the style image unchanged) and
``rendered_target`` (output = the target string in the standard content font), plus
``ground_truth`` in paired mode (the judge on the true targets: the ceiling of recognition).

Each row holds every metric key; a value that cannot be computed is ``null`` in ``report.json``
and "n/a" in ``report.md``, and ``unavailable`` says why (missing backbone weights, no recognizer
checkpoint, no ground truth, not requested). No number is ever filled in.

Outputs in ``output_dir`` (the Hydra run folder): ``images/<name>.png`` (the model's outputs at
their generated size), ``samples.tsv`` (per-word targets, readings and image metrics),
``grid.png`` (source | target string | output | ground truth), ``report.json``, ``report.md``.

The package: :mod:`~tsb.evaluate.items` (the samples and their targets), :mod:`~tsb.evaluate.judge`
(the reader), :mod:`~tsb.evaluate.report` (table, grid, loggers), :mod:`~tsb.evaluate.run`
(:func:`evaluate`).
"""

from tsb.evaluate.items import safe_name, sample_targets
from tsb.evaluate.judge import load_judge
from tsb.evaluate.report import METRICS, ROWS, inputs_line, make_grid, render_markdown
from tsb.evaluate.run import evaluate

__all__ = [
    "METRICS",
    "ROWS",
    "evaluate",
    "inputs_line",
    "load_judge",
    "make_grid",
    "render_markdown",
    "safe_name",
    "sample_targets",
]
