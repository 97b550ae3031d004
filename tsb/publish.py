"""Publish a trained run: inference weights into ``tsb/weights/``, the manifest, the model card.

``python -m tsb.publish RUN/checkpoints/last.ckpt --report EVAL/report.json [--name stylebrush_bg]``

1. loads the checkpoint as evaluation does (allow-listed config, ``weights_only``), with its EMA
   weights applied;
2. writes ``tsb/weights/<name>.ckpt``: the model config (no discriminator) and the generator
   network's weights only, float32 — what ``tsb.edit`` and ``evaluate.py`` need, nothing more;
3. records its SHA-256, size, the run's steps, wall time and command in ``tsb/weights/manifest.json``;
4. writes ``docs/model_card.md`` from that entry and the evaluation report (``evaluate.py``'s
   ``report.json`` on the held-out benchmark), copy-source and standard-font rows included.

``python -m tsb.publish --card-only --report EVAL/report.json`` rewrites the model card of weights
already published (their manifest entry, a new report: an evaluation with other inference
settings) without exporting anything.

``--set model.net.background.smooth=4`` changes an inference setting of the stored model config
while exporting (a setting that owns no weight: one that changes the network's parameters is
refused when the exported file is loaded back). ``python -m tsb.publish --reconfigure --set ...
--report EVAL/report.json`` does that to weights already published, keeping their manifest's
record of the training run; the manifest and the card list the settings changed after training.

``python -m tsb.publish --as-trained OUT.ckpt`` writes the published weights with the model
settings of their training run again (each ``--set`` undone: the value the run's recorded command
composes from ``conf/``): the recipe's row of the ablation in docs/models.md, whose rows are all
evaluated as trained.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsb.data.remote import file_digest
from tsb.errors import CheckpointError, TsbError
from tsb.published import DEFAULT, MANIFEST, WEIGHTS_DIR, published_checkpoint, read_manifest
from tsb.training.checkpoint import load_checkpoint, load_task, save_checkpoint

#: the largest file the repository takes (docs: published weights <= 25 MB)
MAX_BYTES = 25 * 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "docs" / "model_card.md"


def card_path(name: str) -> Path:
    """The model card of published weights ``name``: ``docs/model_card.md`` for the default ones
    (those ``tsb.edit`` and ``evaluate.py`` use), ``docs/model_card_<name>.md`` for the others."""
    return CARD if name == DEFAULT else CARD.with_name(f"model_card_{name}.md")


def _run_dir(ckpt: Path) -> Path:
    return ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent


def _command(run: Path) -> str:
    overrides = run / ".hydra" / "overrides.yaml"
    if not overrides.is_file():
        return "(unknown: the run folder has no .hydra/overrides.yaml)"
    items = OmegaConf.load(overrides)
    # shell-quoted, so that the command is one to paste and as_trained() reads it back word for word
    return shlex.join(["python", "train.py", *(str(o) for o in items)])  # type: ignore[union-attr]


def _run_summary(run: Path) -> dict[str, Any]:
    """The run's ``summary.json`` (wall time, last step), or {}."""
    summary = run / "summary.json"
    if summary.is_file():
        data = json.loads(summary.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    return {}


def parse_settings(items: Sequence[str]) -> dict[str, Any]:
    """``["model.net.background.smooth=4", ...]`` as ``{path: value}`` (values read as YAML scalars)."""
    settings: dict[str, Any] = {}
    for item in items:
        path, eq, text = item.partition("=")
        if not eq or not path.startswith("model.") or not text:
            raise TsbError(
                f"--set {item!r}: write a model setting as model.PATH=VALUE "
                "(for example model.net.background.smooth=4)"
            )
        settings[path] = _scalar(text)
    return settings


def _scalar(text: str) -> Any:
    import yaml

    value = yaml.safe_load(text)
    if isinstance(value, (dict, list)):
        raise TsbError(f"--set value {text!r} is not a single number, word or boolean")
    return value


def _apply_settings(model_cfg: dict[Any, Any], settings: dict[str, Any], source: Path) -> None:
    """Set each ``model.PATH`` of ``settings`` in ``model_cfg``.

    The parent of each path must be a component of the stored config (a node with a
    ``_target_``); the key itself may be new (an option the run left at its default): building
    the exported file then tells whether the component takes it. ``PATH._target_=CLASS`` puts a
    new component at ``PATH`` (an option the run left null, such as
    ``model.net.background.refine``); later settings may then set its arguments.
    """
    cfg = OmegaConf.create({"model": model_cfg})
    for path, value in settings.items():
        parent, _, key = path.rpartition(".")
        if key == "_target_":
            owner, _, name = parent.rpartition(".")
            node = OmegaConf.select(cfg, owner, default=None)
            if isinstance(node, DictConfig) and "_target_" in node and name:
                OmegaConf.update(cfg, parent, {"_target_": value}, merge=False)
                continue
        node = OmegaConf.select(cfg, parent, default=None)
        if not isinstance(node, DictConfig) or "_target_" not in node:
            raise TsbError(
                f"--set {path}: the model config of {source} has no component {parent!r} "
                "(see the checkpoint's config, or conf/model/)"
            )
        OmegaConf.update(cfg, path, value, merge=False)
    model_cfg.clear()
    model_cfg.update(OmegaConf.to_container(cfg.model, resolve=True))  # type: ignore[arg-type]


def export_weights(ckpt: Path, out: Path, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the inference-only checkpoint; returns what the manifest records of the run.

    ``settings`` (``{"model.net.background.smooth": 4}``) change the stored model config; the
    file is loaded back, so a setting that does not fit the trained weights is refused.
    """
    state = load_checkpoint(ckpt)
    task, cfg = load_task(ckpt, "cpu", use_ema=True)
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(model_cfg, dict)
    model_cfg["discriminator"] = None
    if settings:
        _apply_settings(model_cfg, settings, ckpt)
    net_state = {
        f"net.{k}": v.detach().cpu().clone() for k, v in task.get_submodule("net").state_dict().items()
    }
    save_checkpoint(
        out,
        {
            "task": net_state,
            "ema": None,
            "ema_names": [],
            "step": int(state.get("step", 0)),
            "config": OmegaConf.to_yaml(
                OmegaConf.create({"model": model_cfg, "task_name": cfg.get("task_name")})
            ),
        },
    )
    if settings:
        try:
            load_task(out, "cpu")
        except CheckpointError as e:
            out.unlink()
            raise TsbError(f"--set {', '.join(settings)} does not fit the trained weights: {e}") from e
    run = _run_dir(ckpt)
    summary = _run_summary(run)
    wall = summary.get("wall_s")
    return {
        "steps": int(state.get("step", 0)),
        "run_steps": int(summary.get("step", state.get("step", 0))),
        "checkpoint": ckpt.name,
        "wall_s": float(wall) if wall is not None else None,
        "command": _command(run),
        "parameters": sum(v.numel() for v in net_state.values() if v.is_floating_point()),
        "data": _data_paths(OmegaConf.to_container(cfg.data, resolve=True)) if "data" in cfg else None,
    }


def _data_paths(data: Any) -> Any:
    """The data config with its folders relative to the repository (no machine's absolute path)."""
    if not isinstance(data, dict):
        return data
    return {k: _relative(v) if k in ("root", "val_root") and v else v for k, v in data.items()}


def _fmt(v: Any, digits: int) -> str:
    return "n/a" if v is None else f"{float(v):.{digits}f}"


def model_card(name: str, entry: dict[str, Any], report: dict[str, Any] | None) -> str:
    """The model card (markdown) of published weights ``name``."""
    wall = entry.get("wall_s")
    lines = [
        f"# Model card: `{name}` (published weights)",
        "",
        "Written by `python -m tsb.publish` from the training run and its evaluation report; do not edit by hand.",
        "",
        "## What it is",
        f"- file: `tsb/weights/{entry['file']}`, {entry['bytes'] / 1e6:.1f} MB, sha256 `{entry['sha256']}` "
        "(checked on every load)",
        f"- network: `{entry.get('target')}`, {entry.get('parameters', 0) / 1e6:.2f} M parameters, EMA weights, float32",
        "- used by `python -m tsb.edit` and `python evaluate.py` when no checkpoint is given",
        *_settings_lines(entry.get("inference_settings") or {}),
        "",
        "## How it was trained",
        f"- command: `{entry.get('command')}`",
        f"- weights: `{entry.get('checkpoint', 'last.ckpt')}` of the run, step {entry.get('steps')} "
        f"(the run took {entry.get('run_steps', entry.get('steps'))} steps"
        + (f", {wall / 60:.1f} min wall" if isinstance(wall, (int, float)) else "")
        + f" on {entry.get('machine', 'n/a')}; `best.ckpt` is the step with the best `val/psnr` on 64 "
        "held-out-font validation pairs, which are not the benchmark's)",
    ]
    data = entry.get("data") or {}
    if data:
        lines.append(
            "- data: `"
            + str(data.get("_target_"))
            + "`"
            + (f" from `{data.get('root')}`" if data.get("root") else "")
            + " (synthetic pairs rendered by `python -m tsb.data.synth`, training fonts only; docs/data.md)"
        )
    lines += [f"- published: {entry.get('published')}", ""]
    if report:
        m = report.get("metrics", {})
        rows = report.get("rows", {})
        lines += [
            "## Measured",
            f"`python evaluate.py` on `{report.get('data')}` ({report.get('num_samples')} pairs, {report.get('mode')} "
            f"mode, judge `{report.get('judge')}`, {report.get('device')}):",
            "",
            *_inputs(report),
            "| row | MSE ↓ | PSNR (dB) ↑ | SSIM ↑ | LPIPS ↓ | FID ↓ | judge acc. (%) ↑ | NED ↓ |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key, label in rows.items():
            r = m.get(key, {})
            lines.append(
                f"| {label} | {_fmt(r.get('mse'), 4)} | {_fmt(r.get('psnr'), 2)} | {_fmt(r.get('ssim'), 3)} | "
                f"{_fmt(r.get('lpips'), 3)} | {_fmt(r.get('fid'), 1)} | {_fmt(r.get('rec_acc'), 1)} | {_fmt(r.get('ned'), 3)} |"
            )
        lines.append("")
    lines += [
        "## Known limits",
        "- Trained on synthetic words only (Latin alphabet, the fonts of `tsb.data.fonts` train split, 64x256 crops);",
        "  real photos are out of its training distribution (README grid).",
        "- The typeface is the part of the style it transfers least (docs/models.md): the network restyles",
        "  the letters it is given: the content font's, or (evaluate.py's default, `tsb.edit --match-font`)",
        "  the *training* font whose rendering of the old word it redraws best, never a new typeface;",
        "  on photos that matching often picks a thin face where the eraser leaves old letters.",
        "  Colour, size, placement and background are what it does well.",
        "- Text effects: what the mask correction draws within `model.net.effect_ring` pixels of the",
        "  letters (an outline, a bolder stroke), and, with `model.net.extrusion`, a sign's extruded 3-D",
        "  sides fitted on the photo (the content font's faces swept along them); never a drop shadow",
        "  further away, a curved or perspective extrusion, or a texture inside the letters.",
        "- One word per box; long strings in a short box are squeezed.",
        "- The new word is placed from the old word's own text (its width, height and baseline):",
        "  `tsb.edit` reads it with PP-OCRv6 (or `--replace` / `--source-text` name it); a misread old",
        "  word misplaces the new one, and with `--no-read` only the letter height is matched.",
        "",
    ]
    return "\n".join(lines)


def _settings_lines(settings: dict[str, Any]) -> list[str]:
    """The card's line on inference settings changed after training (``--set``), if any."""
    if not settings:
        return []
    changes = ", ".join(f"`{k}={v}`" for k, v in settings.items())
    return [
        f"- inference settings changed after training (no weight changed; `python -m tsb.publish --set`): {changes}"
    ]


def _inputs(report: dict[str, Any]) -> list[str]:
    """The report's line on the model's inputs (evaluate.py's ``inputs``), when it has one."""
    from tsb.evaluate import inputs_line

    return [f"{line.removeprefix('- ').capitalize()}.\n" for line in inputs_line(report.get("inputs"))]


def card_only(
    report: str | Path, name: str = DEFAULT, weights_dir: Path = WEIGHTS_DIR, card: Path | None = None
) -> None:
    """Rewrite the model card of published weights ``name`` from their manifest entry and ``report``."""
    entries = read_manifest(weights_dir / MANIFEST.name)
    if name not in entries:
        raise TsbError(
            f"no published weights named {name!r} in {weights_dir / MANIFEST.name}; publish a run first"
        )
    rep = json.loads(Path(report).read_text(encoding="utf-8"))
    (card or card_path(name)).write_text(model_card(name, entries[name], rep), encoding="utf-8")


def _relative(path: Any) -> str:
    """A data path as the run saw it, relative to the repository when inside it."""
    p = Path(str(path))
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def _export_checked(source: Path, out: Path, settings: dict[str, Any] | None) -> tuple[dict[str, Any], int]:
    """Export ``source`` to ``out`` through a temporary file (the old ``out`` survives a failure)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        info = export_weights(source, tmp, settings)
        size = tmp.stat().st_size
        if size > MAX_BYTES:
            raise TsbError(
                f"{out} would be {size / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB the repository takes"
            )
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return info, size


def _record(
    name: str,
    entry: dict[str, Any],
    weights_dir: Path,
    card: Path | None,
    report: str | Path | None,
) -> dict[str, Any]:
    """Write ``entry`` into the manifest under ``name`` and, unless ``card`` is None, the model card."""
    manifest_path = weights_dir / MANIFEST.name
    entries = read_manifest(manifest_path)
    entries[name] = entry
    manifest_path.write_text(json.dumps({"weights": entries}, indent=2) + "\n", encoding="utf-8")
    if card is not None:
        rep = json.loads(Path(report).read_text(encoding="utf-8")) if report else None
        card.parent.mkdir(parents=True, exist_ok=True)
        card.write_text(model_card(name, entry, rep), encoding="utf-8")
    return entry


def publish(
    ckpt: str | Path,
    report: str | Path | None = None,
    name: str = DEFAULT,
    weights_dir: Path = WEIGHTS_DIR,
    card: Path | None = CARD,
    machine: str = "2 CPU cores",
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Export a run's checkpoint as published weights ``name`` (manifest entry, model card)."""
    out = weights_dir / f"{name}.ckpt"
    info, size = _export_checked(Path(ckpt), out, settings)
    target = OmegaConf.create(load_checkpoint(out)["config"]).model.net._target_
    entry = {
        "file": out.name,
        "sha256": file_digest(out, "sha256"),
        "bytes": size,
        "target": str(target),
        "machine": machine,
        "published": _dt.date.today().isoformat(),
        **info,
        **({"inference_settings": dict(settings)} if settings else {}),
    }
    return _record(name, entry, weights_dir, card, report)


def reconfigure(
    settings: dict[str, Any],
    report: str | Path | None = None,
    name: str = DEFAULT,
    weights_dir: Path = WEIGHTS_DIR,
    card: Path | None = CARD,
) -> dict[str, Any]:
    """Change inference settings of published weights ``name``; the record of their run is kept."""
    if not settings:
        raise TsbError("--reconfigure needs at least one --set model.PATH=VALUE")
    manifest_path = weights_dir / MANIFEST.name
    entries = read_manifest(manifest_path)
    if name not in entries:
        raise TsbError(f"no published weights named {name!r} in {manifest_path}; publish a run first")
    old = entries[name]
    out = weights_dir / str(old["file"])
    _export_checked(published_checkpoint(name, manifest_path), out, settings)
    entry = {
        **old,
        "sha256": file_digest(out, "sha256"),
        "bytes": out.stat().st_size,
        "published": _dt.date.today().isoformat(),
        "inference_settings": {**old.get("inference_settings", {}), **settings},
    }
    return _record(name, entry, weights_dir, card, report)


def as_trained(out: str | Path, name: str = DEFAULT, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Write published weights ``name`` to ``out`` with their training run's model settings.

    Each path of the manifest's ``inference_settings`` gets the value that the run's command
    (``python train.py OVERRIDES``) composes; a component that ``--set`` added (``PATH._target_``)
    is set back to what the run had (``null``), and a key the run's config did not have is
    removed (the component's default again). The weights are the published ones, untouched.
    """
    from tsb.utils.config import compose_config

    manifest_path = weights_dir / MANIFEST.name
    entries = read_manifest(manifest_path)
    if name not in entries:
        raise TsbError(f"no published weights named {name!r} in {manifest_path}; publish a run first")
    entry = entries[name]
    words = shlex.split(str(entry.get("command", "")))
    if words[:2] != ["python", "train.py"]:
        raise TsbError(
            f"the manifest records no training command for {name!r} ({entry.get('command')!r}): "
            "the settings of its run are unknown"
        )
    with tempfile.TemporaryDirectory() as tmp:
        trained = compose_config(words[2:], run_root=Path(tmp))
    state = load_checkpoint(published_checkpoint(name, manifest_path))
    cfg = OmegaConf.create(state["config"])
    missing = object()
    for setting in entry.get("inference_settings") or {}:
        path = setting.removesuffix("._target_")
        parent, _, key = path.rpartition(".")
        node = OmegaConf.select(cfg, parent, default=None)
        if not isinstance(node, DictConfig):  # inside a component already set back to null
            continue
        value = OmegaConf.select(trained, path, default=missing)
        if value is missing:
            node.pop(key, None)
        else:
            plain = OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value
            OmegaConf.update(cfg, path, plain, merge=False)
    out = Path(out)
    save_checkpoint(out, {**state, "config": OmegaConf.to_yaml(cfg)})
    try:
        load_task(out, "cpu")
    except CheckpointError as e:
        out.unlink()
        raise TsbError(f"the settings of {name!r}'s training run do not fit its weights: {e}") from e
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tsb.publish", description=__doc__.splitlines()[0])
    p.add_argument("ckpt", nargs="?", help="the run's checkpoint (RUN/checkpoints/last.ckpt)")
    p.add_argument(
        "--card-only",
        action="store_true",
        help="only rewrite the model card of the published weights (needs --report)",
    )
    p.add_argument("--report", help="evaluate.py's report.json of this checkpoint (for the model card)")
    p.add_argument("--name", default=DEFAULT, help=f"name of the published weights (default {DEFAULT})")
    p.add_argument("--machine", default="2 CPU cores", help="what it was trained on, for the card")
    p.add_argument("--no-card", action="store_true", help="do not write the model card (docs/model_card.md; docs/model_card_NAME.md for --name NAME)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="model.PATH=VALUE",
        help="change an inference setting of the stored model config (repeatable)",
    )
    p.add_argument(
        "--reconfigure",
        action="store_true",
        help="apply --set to the weights already published (no run checkpoint needed)",
    )
    p.add_argument(
        "--as-trained",
        metavar="OUT.ckpt",
        help="write the published weights with their training run's model settings (each --set undone) to OUT.ckpt",
    )
    args = p.parse_args(argv)
    if args.as_trained:
        if args.ckpt or args.reconfigure or args.set:
            p.error("--as-trained writes the published weights as trained: give no checkpoint, --set or --reconfigure")
        try:
            out = as_trained(args.as_trained, args.name)
        except TsbError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(f"wrote {out}: {args.name} with the model settings of its training run")
        return 0
    card = None if args.no_card else card_path(args.name)
    if args.card_only:
        if not args.report:
            p.error("--card-only needs --report EVAL/report.json")
        try:
            card_only(args.report, args.name)
        except (TsbError, OSError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(f"wrote {card_path(args.name)}")
        return 0
    if args.reconfigure and args.ckpt:
        p.error("--reconfigure changes the published weights: give no checkpoint")
    if not args.ckpt and not args.reconfigure:
        p.error("give the run's checkpoint (RUN/checkpoints/last.ckpt), or --card-only / --reconfigure")
    try:
        settings = parse_settings(args.set)
        if args.reconfigure:
            entry = reconfigure(settings, args.report, args.name, card=card)
        else:
            entry = publish(
                args.ckpt, args.report, args.name, card=card, machine=args.machine, settings=settings
            )
    except TsbError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(
        f"published {args.name}: tsb/weights/{entry['file']} ({entry['bytes'] / 1e6:.1f} MB, sha256 {entry['sha256']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
