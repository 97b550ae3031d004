"""The benchmark's outputs: ``report.json`` (settings, photos, every edit, the summary),
``report.md`` (the summary per editor and a row per edit) and ``sheet.png`` (every edit: the
crop around the old word before, and after each editor, with the old -> new label).

The summary's shares are over all edits of an editor, refused and not-found ones included:
``refused``, ``not found``, ``new word read`` (none for an eraser, whose edits write no word),
``old word gone``, ``nothing read`` (the judge reads no word at the old word's place: an
eraser's aim); ``neighbours as before`` is
over the other words of the photos of the done edits (and ``edits with all neighbours`` over
the edits); means (outside change, seam, ink contrast, stroke weight, letter size, round-trip PSNR / LPIPS, seconds) are over the done
edits that have the number.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from tsb.data.content import content_font_path
from tsb.photobench.bench import DONE, NOT_FOUND, REFUSED, EditResult, Run, Tile
from tsb.utils.io import atomic_write, atomic_write_bytes


def _mean(values: Sequence[float | None]) -> float | None:
    vs = [v for v in values if v is not None and math.isfinite(v)]
    return float(statistics.fmean(vs)) if vs else None


def _share(n: int, total: int) -> float | None:
    return n / total if total else None


def summarise(edits: Sequence[EditResult]) -> dict[str, Any]:
    """The summary of one editor's edits (see the module's doc)."""
    n = len(edits)
    removal = n > 0 and all(e.new == "" for e in edits)  # an eraser's edits: no word written
    done = [e for e in edits if e.status == DONE]
    neighbours = sum(e.neighbours for e in done)
    kept = sum(e.neighbours_kept for e in done)
    seconds = [e.seconds for e in done if e.seconds is not None]
    return {
        "edits": n,
        "done": len(done),
        "refused": _share(sum(e.status == REFUSED for e in edits), n),
        "not_found": _share(sum(e.status == NOT_FOUND for e in edits), n),
        "new_word_read": None if removal else _share(sum(e.new_read for e in edits), n),
        "old_word_gone": _share(sum(e.old_gone for e in edits), n),
        "nothing_read": _share(sum(e.status == DONE and not e.read for e in edits), n),
        "neighbours_as_before": _share(kept, neighbours),
        "neighbour_words": neighbours,
        "edits_with_all_neighbours": _share(sum(e.neighbours_kept == e.neighbours for e in done), n),
        "outside_change": _mean([e.outside_change for e in done]),
        "edits_changing_outside": sum((e.outside_change or 0) > 0 for e in done),
        "seam": _mean([e.seam for e in done]),
        "background_change": _mean([e.background_change for e in done]),
        "ink_contrast": _mean([e.ink_contrast for e in done]),
        "stroke_weight": _mean([e.stroke_weight for e in done]),
        "letter_size": _mean([e.letter_size for e in done]),
        "round_trip_psnr": _mean([e.round_trip_psnr for e in done]),
        "round_trip_lpips": _mean([e.round_trip_lpips for e in done]),
        "seconds_per_edit": _mean(seconds),
        "median_seconds_per_edit": float(statistics.median(seconds)) if seconds else None,
    }


def summaries(run: Run, methods: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {m: summarise([e for e in run.edits if e.method == m]) for m in methods}


def write_json(path: Path, run: Run, settings: dict[str, Any], summary: dict[str, dict[str, Any]]) -> Path:
    data = {"settings": settings, "summary": summary, "notes": run.notes, **run.to_json()}
    atomic_write_bytes(path, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


# markdown -----------------------------------------------------------------------------------------
def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f}%"


def _num(v: float | None, fmt: str = ".2f") -> str:
    return "–" if v is None else format(v, fmt)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_table(summary: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        "| editor | edits | refused | not found | new word read | old word gone | nothing read there "
        "| neighbours as before | edits with all neighbours | outside change | seam | background change "
        "| ink contrast | stroke weight | letter size | round-trip PSNR | round-trip LPIPS | s / edit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m, s in summary.items():
        rows.append(
            f"| {m} | {s['edits']} | {_pct(s['refused'])} | {_pct(s['not_found'])} | {_pct(s['new_word_read'])} "
            f"| {_pct(s['old_word_gone'])} | {_pct(s['nothing_read'])} "
            f"| {_pct(s['neighbours_as_before'])} ({s['neighbour_words']} words) "
            f"| {_pct(s['edits_with_all_neighbours'])} | {_num(s['outside_change'], '.4f')} "
            f"| {_num(s['seam'])} | {_num(s['background_change'], '.1f')} | {_num(s['ink_contrast'])} | {_num(s['stroke_weight'])} | {_num(s['letter_size'])} "
            f"| {_num(s['round_trip_psnr'], '.1f')} dB | {_num(s['round_trip_lpips'], '.3f')} "
            f"| {_num(s['seconds_per_edit'])} |"
        )
    return rows


def edit_table(edits: Sequence[EditResult]) -> list[str]:
    rows = [
        "| # | photo | old -> new | editor | status | read after | new read | old gone | neighbours "
        "| outside | seam | background | ink contrast | stroke weight | letter size | RT PSNR | RT LPIPS | s |",
        "|---:|---|---|---|---|---|:-:|:-:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, e in enumerate(edits, start=1):
        status = e.status if e.status == DONE else f"{e.status}: {(e.reason or '')[:120]}"
        done = e.status == DONE
        rows.append(
            f"| {i} | {_cell(e.photo)} | {_cell(e.old)} -> {_cell(e.new or '(erased)')} | {e.method} "
            f"| {_cell(status)} "
            f"| {_cell(repr(e.read)) if e.read is not None else '–'} | {'yes' if e.new_read else 'no'} "
            f"| {'yes' if e.old_gone else 'no'} | {f'{e.neighbours_kept}/{e.neighbours}' if done else '–'} "
            f"| {_pct(e.outside_change) if e.outside_change is None else f'{100 * e.outside_change:.2f}%'} "
            f"| {_num(e.seam)} | {_num(e.background_change, '.1f')} | {_num(e.ink_contrast)} | {_num(e.stroke_weight)} | {_num(e.letter_size)} | {_num(e.round_trip_psnr, '.1f')} | {_num(e.round_trip_lpips, '.3f')} "
            f"| {_num(e.seconds)} |"
        )
    return rows


def markdown(
    run: Run, settings: dict[str, Any], summary: dict[str, dict[str, Any]], sheet: str | None
) -> str:
    lines = ["# Real-photo benchmark", ""]
    lines += [f"- {k}: `{v}`" for k, v in settings.items()]
    lines += ["", "## Summary", "", *summary_table(summary), ""]
    lines += [
        "Shares over all edits (refused and not found count as failures); neighbours: the other words of "
        "the photo read with the same text at the same place after the edit; outside change: the share of "
        "the pixels outside the old word's box that changed; seam: gradient energy on the border of the "
        "changed region, edited over original (1 = as before); background change: the mean grey-level change "
        "of the box's pixels that are ink neither before nor after (0 = left as it was); ink contrast: the word's ink against its "
        "background in the box after the edit over before (1 = as strong; under 1: washed out); stroke "
        "weight: the letters' stroke width in the box after over before (1 = as heavy; above 1: bolder); letter "
        "size: the word's ink height after over before, over that of the two words drawn plain (1 = as tall; "
        "above 1: taller); round "
        "trip: old -> new -> old against the original inside the box. The `erase` row removes the old word and writes none: nothing read there "
        "is its aim (no new word, no round trip).",
        "",
    ]
    read = [p.detect_seconds for p in run.photos if p.detect_seconds is not None]
    if read:
        lines += [
            f"The judge read a photo in {statistics.fmean(read):.2f} s on average ({len(read)} photos).",
            "",
        ]
    if sheet:
        lines += [f"![every edit: before, then after each editor]({sheet})", ""]
    lines += ["## Photos", "", "| photo | size | words read | s to read | note |", "|---|---|---:|---:|---|"]
    for p in run.photos:
        size = f"{p.size[0]}x{p.size[1]}" if p.size else "–"
        note = p.error or (
            f"not edited (no letter or digit): {', '.join(p.not_edited)}" if p.not_edited else ""
        )
        if not p.error and not p.words:
            note = "no word found"
        lines.append(
            f"| {_cell(p.name)} | {size} | {len(p.words)} | {_num(p.detect_seconds)} | {_cell(note)} |"
        )
    lines += ["", "## Edits", "", *edit_table(run.edits), ""]
    lines += [f"Note: {n}" for n in run.notes]
    return "\n".join(lines) + "\n"


# the sheet ----------------------------------------------------------------------------------------
def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` scaled to fit ``size``, centred on grey."""
    w, h = size
    scale = min(w / image.width, h / image.height)
    shown = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS
    )
    tile = Image.new("RGB", size, (128, 128, 128))
    tile.paste(shown, ((w - shown.width) // 2, (h - shown.height) // 2))
    return tile


def _verdict(r: EditResult) -> str:
    if r.status != DONE:
        return r.status
    if not r.new:  # erased
        return f"{'gone' if r.old_gone else 'old kept'}, nb {r.neighbours_kept}/{r.neighbours}"
    return (
        f"{'read' if r.new_read else 'NOT read'}, {'gone' if r.old_gone else 'old kept'}, "
        f"nb {r.neighbours_kept}/{r.neighbours}"
    )


def contact_sheet(
    tiles: Sequence[Tile],
    methods: Sequence[str],
    tile_size: tuple[int, int] = (200, 72),
    max_width: int = 1400,
) -> Image.Image:
    """Every edit as a cell: the label, then before | after (one per editor), each with a verdict."""
    tw, th = tile_size
    font = ImageFont.truetype(content_font_path(), 11)
    label_h, gap = 15, 8
    cell_w = tw * (1 + len(methods)) + 2 * (len(methods))
    cell_h = label_h + th + label_h
    cols = max(1, min(len(tiles), (max_width + gap) // (cell_w + gap)))
    rows = max(1, math.ceil(len(tiles) / cols))
    header = label_h + 4
    sheet = Image.new(
        "RGB", (cols * (cell_w + gap) + gap, header + rows * (cell_h + gap) + gap), (255, 255, 255)
    )
    draw = ImageDraw.Draw(sheet)
    draw.text((gap, 2), "before | " + " | ".join(f"after: {m}" for m in methods), fill=(0, 0, 0), font=font)
    for i, t in enumerate(tiles):
        x = gap + (i % cols) * (cell_w + gap)
        y = header + gap + (i // cols) * (cell_h + gap)
        draw.text((x, y), f"{i + 1}. {t.label}"[:70], fill=(0, 0, 0), font=font)
        panels = [t.before] + [t.after.get(m) for m in methods]
        for k, panel in enumerate(panels):
            px = x + k * (tw + 2)
            if panel is None:
                draw.rectangle((px, y + label_h, px + tw - 1, y + label_h + th - 1), fill=(225, 225, 225))
                res = t.results.get(methods[k - 1]) if k else None
                what = res.status if res is not None else "no crop"
                draw.text((px + 6, y + label_h + th // 2 - 6), what, fill=(160, 0, 0), font=font)
            else:
                sheet.paste(_fit(panel, (tw, th)), (px, y + label_h))
            if k:
                res = t.results.get(methods[k - 1])
                if res is not None:
                    good = (
                        res.status == DONE
                        and (res.new_read if res.new else not res.read)
                        and res.old_gone
                        and res.neighbours_kept == res.neighbours
                    )
                    colour = (0, 110, 0) if good else (170, 0, 0)
                    draw.text((px, y + label_h + th + 1), _verdict(res), fill=colour, font=font)
    return sheet


def save_sheet(image: Image.Image, path: Path, colours: int | None = None) -> Path:
    """Write the sheet as PNG; ``colours``: reduced to that many (a small file for docs)."""
    out = image.quantize(colours, method=Image.Quantize.MEDIANCUT) if colours else image
    return atomic_write(path, lambda f: out.save(f, format="PNG", optimize=True))
