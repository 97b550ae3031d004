"""Release: published weights (``tsb/weights/``), their manifest and the model card.

``python -m tsb.release RUN/checkpoints/last.ckpt --report EVAL/report.json [--name stylebrush_bg]``

1. loads the checkpoint as evaluation does (allow-listed config, ``weights_only``), with its EMA
   weights applied and the model config as trained (:mod:`tsb.release.export`);
2. validates every input (the name, the report, the settings, the preset) and loads the exported
   file back before anything is written;
3. writes ``tsb/weights/<name>.safetensors``: the generator network's weights, and in the file's
   metadata its model config (no discriminator) and the step;
4. records its SHA-256, size, the run's steps, wall time and command in
   ``tsb/weights/manifest.json`` (:mod:`tsb.release.manifest`), with how the weights are used:
   ``model_settings`` (``--model-setting model.PATH=VALUE``: settings that own no weight, applied
   at load) and ``inference`` (``--inference photo``: the preset ``conf/inference/photo.yaml``);
5. writes ``docs/model_card.md`` (``docs/model_card_<name>.md`` for another name) from the
   template ``model_card_template.txt``, that entry and ``evaluate.py``'s report
   (:mod:`tsb.release.card`).

``python -m tsb.release --card-only --report EVAL/report.json`` rewrites the model card of weights
already published. ``python -m tsb.release --model-setting model.PATH=VALUE`` /
``--drop-model-setting model.PATH`` / ``--inference NAME`` edit the manifest entry of published
weights (checked by loading them with the new settings); no command rewrites a shipped weights
file. The file itself is the network as trained: ``load_task(path, model_settings={})``, or a
copy of it outside ``tsb/weights/``, loads it without the manifest's settings.

``python -m tsb.publish`` is the same command under its former name.
"""

from tsb.release.card import CARD, card_only, card_path, model_card
from tsb.release.cli import main
from tsb.release.export import check_name, encode_weights, export_weights, publish
from tsb.release.manifest import edit_settings, parse_settings, write_manifest

__all__ = [
    "CARD",
    "card_only",
    "card_path",
    "check_name",
    "edit_settings",
    "encode_weights",
    "export_weights",
    "main",
    "model_card",
    "parse_settings",
    "publish",
    "write_manifest",
]
