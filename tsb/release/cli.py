"""``python -m tsb.release``: the command line (``python -m tsb.publish`` is the same command)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tsb.cli import report_error
from tsb.errors import TsbError
from tsb.published import DEFAULT

USAGE = """\
  python -m tsb.release RUN/checkpoints/last.ckpt --report EVAL/report.json [--name NAME]
      [--model-setting model.PATH=VALUE ...] [--inference PRESET] [--machine TEXT] [--no-card]
  python -m tsb.release --card-only --report EVAL/report.json [--name NAME]
  python -m tsb.release [--name NAME] --model-setting model.PATH=VALUE [--drop-model-setting model.PATH]
      [--inference PRESET]"""


def main(argv: Sequence[str] | None = None, prog: str = "python -m tsb.release") -> int:
    p = argparse.ArgumentParser(
        prog=prog,
        usage=USAGE,
        description=(
            "Publish a trained run's weights (tsb/weights/NAME.safetensors, the manifest, the model card), "
            "rewrite a model card, or edit how published weights are used (the manifest entry's "
            "model_settings and inference preset; no weight file is rewritten)."
        ),
    )
    p.add_argument("ckpt", nargs="?", help="the run's checkpoint (RUN/checkpoints/last.ckpt)")
    p.add_argument("--card-only", action="store_true", help="only rewrite the model card (needs --report)")
    p.add_argument("--report", help="evaluate.py's report.json of these weights (for the model card)")
    p.add_argument("--name", default=DEFAULT, help=f"name of the published weights (default {DEFAULT})")
    p.add_argument("--machine", default="2 CPU cores", help="what it was trained on, for the card")
    p.add_argument(
        "--no-card",
        action="store_true",
        help="do not write the model card (docs/model_card.md; docs/model_card_NAME.md for --name NAME)",
    )
    p.add_argument(
        "--model-setting",
        action="append",
        default=[],
        metavar="model.PATH=VALUE",
        help="a setting of the stored model config that owns no weight, applied when the weights are "
        "loaded (recorded in the manifest entry; repeatable)",
    )
    p.add_argument(
        "--drop-model-setting",
        action="append",
        default=[],
        metavar="model.PATH",
        help="remove a model setting from the manifest entry (repeatable)",
    )
    p.add_argument("--inference", metavar="PRESET", help="the inference preset (conf/inference/PRESET.yaml)")
    args = p.parse_args(argv)
    editing = bool(args.model_setting or args.drop_model_setting or args.inference)
    try:
        if args.card_only:
            if args.ckpt or editing or not args.report:
                p.error("--card-only takes --report EVAL/report.json (and --name), nothing else")
            from tsb.release.card import card_only

            print(f"wrote {card_only(args.report, args.name)}")
            return 0
        if args.ckpt:
            if args.drop_model_setting:
                p.error("--drop-model-setting edits published weights: give no checkpoint")
            from tsb.release.export import publish
            from tsb.release.manifest import parse_settings

            entry = publish(
                args.ckpt,
                args.report,
                args.name,
                machine=args.machine,
                model_settings=parse_settings(args.model_setting),
                inference=args.inference,
                write_card=not args.no_card,
            )
            print(
                f"published {args.name}: tsb/weights/{entry['file']} ({entry['bytes'] / 1e6:.1f} MB, "
                f"sha256 {entry['sha256']}); model settings {entry['model_settings'] or 'none'}, "
                f"inference preset {entry['inference'] or 'none'}"
            )
            return 0
        if not editing:
            p.error("give the run's checkpoint, --card-only, or --model-setting / --drop-model-setting / --inference")
        if args.report or args.no_card:
            p.error(
                "editing the settings leaves the model card alone: its numbers were measured with the old "
                "ones; evaluate again, then --card-only --report EVAL/report.json"
            )
        from tsb.release.manifest import edit_settings, parse_settings

        entry = edit_settings(
            args.name, parse_settings(args.model_setting), args.drop_model_setting, args.inference
        )
        print(
            f"{args.name}: model settings {entry['model_settings'] or 'none'}, inference preset "
            f"{entry.get('inference') or 'none'} (tsb/weights/manifest.json; the weights file is unchanged)"
        )
        return 0
    except TsbError as e:
        return report_error(e)
