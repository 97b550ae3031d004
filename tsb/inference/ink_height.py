"""Letter height and baseline from the old word's own ink (``inference.ink_height``).

The split design's layout sizes the new word from the *moments* of the old word's mask: its spread
across the line against that of the old word's plain rendering. On photos that mask holds more
than the old letters: the eraser's hole is grown, the refine step adds strokes of the detector's
whole text region, and a crop cut from a padded detector box shows pieces of the neighbouring
lines. Every one of them widens the spread, and the new letters come out too tall (the x-height
of ``morin`` drawn at the ascender height of ``first``) and run over the next line.

This step measures where the old word's letters are from their own rows instead: the old word's
row profile (ink pixels per row of the old word's mask, narrowed to the pixels that differ from
the eraser's background by at least half the letters' contrast: the letters, not the grown
mask around them, :func:`ink_in_mask`) is registered against the row profile of
the old word's text rendered plain (the same string, so the same ascenders, descenders and dots):
the vertical scale ``a`` and offset ``b`` (render rows -> crop rows) under which the template's
rows with ink are the measured ones (intersection over union of the row sets, the profiles'
correlation settling ties; a grid over ``a`` and ``b``, :func:`register_rows`), on the whole mask, on the mask without its parts that the crop's top
or bottom edge cuts (:func:`inner_part`) and on the line through the crop's middle row
(:func:`centre_line`: the detector's box is centred on its word; a box of small print can hold
three lines), whichever fits best. A letter's dot stays with its word (the template
has it too), a stray pixel is not a row of ink (under 5% of the fullest row). The new word, rendered by the same renderer on the same
baseline, is then drawn by the same map: its placed ink (and the layers drawn with it) is moved
and scaled vertically so that its rendered rows land at ``a * rows + b`` (:func:`refit_rows`).
Its width and its place along the line stay the layout's. With ``keep_word``, the parts of the
old word's mask that lie mostly outside its measured rows (the lines above and below, which the
eraser segments as text too) are dropped before the hole is cut, so they are not wiped out. Without the old word's text, or when
the fit is poor (the correlation under ``min_score``: a curved word, a mask with no word in it),
the layout's placement is kept. Owns no weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import Tensor

from tsb.errors import ConfigError
from tsb.utils.image import middle_line


def row_profile(ink: Tensor) -> Tensor:
    """Ink per row (B, H) of a map (B, 1, H, W) in [0, 1]."""
    return ink.float().sum(dim=(1, 3))


def row_extent(ink: Tensor, level: float = 0.5) -> Tensor:
    """(B, 2): the top and bottom edges of the rows where ``ink`` (B, 1, H, W) exceeds ``level``, in
    normalised coordinates ([-1, 1], as ``F.affine_grid``); NaN for a sample without ink."""
    h = ink.shape[-2]
    on = (ink.float() > level).flatten(3).any(dim=-1)[:, 0]  # (B, H)
    idx = torch.arange(h, device=ink.device).expand_as(on)
    first = torch.where(on, idx, h).amin(dim=1).float()
    last = torch.where(on, idx, -1).amax(dim=1).float()
    out = torch.stack([first / h * 2 - 1, (last + 1) / h * 2 - 1], dim=-1)
    return torch.where(on.any(dim=1, keepdim=True), out, torch.full_like(out, float("nan")))


def _resample(template: Tensor, scales: Tensor, h: int, offset_step: float) -> tuple[Tensor, Tensor]:
    """The profile ``template`` (H,) drawn by every map ``y = a * u + b`` (normalised rows), area
    weighted, for every scale of ``scales`` and every offset ``b`` of one ``offset_step`` (pixels,
    1 / an integer) from -h to h pixels: (drawn (len(scales), offsets, h), the offsets), each output
    row holding the template's ink that the map sends into it (so a squeezed template keeps its thin
    strokes). An output row edge minus an offset takes few distinct values (they lie on a grid of
    ``offset_step`` pixels), so the template is sampled once per value, not once per pair."""
    q = round(1 / offset_step)
    if q < 1 or abs(q * offset_step - 1) > 1e-9:
        raise ValueError(f"the offset step must be 1 / an integer number of pixels, got {offset_step}")
    n_off = 2 * h * q + 1
    offsets = (torch.arange(n_off, device=template.device).float() / q - h) * 2 / h
    n = template.shape[0]
    cum = torch.cat([template.new_zeros(1), template.cumsum(0)])  # ink above each row edge
    # row edge k minus offset j is 1 + 2 (q k - j) / (q h): one value per integer q k - j
    steps = torch.arange(-2 * h * q, h * q + 1, device=template.device).float()
    diffs = 1 + 2 * steps / (q * h)
    # the cumulative ink at u = diff / a, linear between the template's row edges (0 above, all below)
    pos = ((diffs[None, :] / scales[:, None] + 1) / 2 * n).clamp(0, n)  # (S, values)
    lo = pos.floor().long().clamp(max=n - 1)
    frac = pos - lo.float()
    table = cum[lo] + frac * (cum[lo + 1] - cum[lo])
    k = torch.arange(h + 1, device=template.device)
    j = torch.arange(n_off, device=template.device)
    at = table[:, (q * k[None, :] - j[:, None]) + 2 * h * q]  # (S, O, h + 1)
    return at[..., 1:] - at[..., :-1], offsets


def register_rows(measured: Tensor, template: Tensor, min_scale: float = 0.2, max_scale: float = 2.0) -> tuple[float, float, float]:
    """The vertical map ``y = a * u + b`` (normalised rows) that draws the profile ``template`` (H,)
    best onto ``measured`` (H,): ``(a, b, score)``, the score the rows with ink matched as sets
    (intersection over union, 1: the same rows) plus 0.01 x the profiles' correlation; the grid of
    maps as :func:`register_rows_each`."""
    return register_rows_each(measured[None], template, min_scale, max_scale)[0]


def register_rows_each(
    measured: Tensor,
    template: Tensor,
    min_scale: float = 0.2,
    max_scale: float = 2.0,
    scale_steps: int = 121,
    offset_step: float = 0.5,
    level: float = 0.05,
) -> list[tuple[float, float, float]]:
    """:func:`register_rows` of one ``template`` (H,) onto each of the profiles ``measured`` (K, H):
    the template is drawn under every map once for all of them. ``a`` over a geometric grid of
    ``scale_steps`` in [``min_scale``, ``max_scale``], ``b`` over every ``offset_step`` pixel; a row
    holds ink above ``level`` x the fullest row."""
    h = measured.shape[-1]
    scales = torch.logspace(
        torch.log10(torch.tensor(min_scale)), torch.log10(torch.tensor(max_scale)), scale_steps
    ).to(measured)
    drawn, offsets = _resample(template.float(), scales, h, offset_step)  # (S, O, H)
    # the rows that hold ink (a share ``level`` of the fullest row: no stray pixel), matched as
    # sets (intersection over union: the letters' full height, dots and all); the profiles'
    # correlation settles ties
    drawn_rows = drawn > level * drawn.amax(dim=-1, keepdim=True).clamp_min(1e-8)
    drawn_count = drawn_rows.sum(-1)
    drawn_rows_f = drawn_rows.float()
    xc = drawn - drawn.mean(dim=-1, keepdim=True)
    xn = xc.square().sum(dim=-1)
    out = []
    for profile in measured.float():
        rows = profile > level * profile.max()
        inter = drawn_rows_f @ rows.float()  # (S, O)
        iou = inter / (drawn_count + rows.sum() - inter).clamp_min(1)
        yc = profile - profile.mean()
        corr = (xc @ yc) / (xn * yc.square().sum()).sqrt().clamp_min(1e-8)
        score = iou + 0.01 * torch.nan_to_num(corr, nan=-1.0)
        best = int(score.argmax())
        i, j = divmod(best, len(offsets))
        out.append((float(scales[i]), float(offsets[j]), float(score.flatten()[best])))
    return out


def otsu(values: Tensor, bins: int = 64) -> float:
    """Otsu's threshold of ``values`` (N,): the one that best splits them into two classes."""
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return hi
    hist = torch.histc(values.float(), bins, lo, hi)
    centres = torch.linspace(lo, hi, bins + 1)[:-1] + (hi - lo) / bins / 2
    w0 = hist.cumsum(0)
    m0 = (hist * centres).cumsum(0)
    total, mean_all = w0[-1], m0[-1]
    w1 = total - w0
    between = (mean_all * w0 / total - m0).square() / (w0 * w1 / total).clamp_min(1e-8)
    return float(centres[int(between[:-1].argmax())] + (hi - lo) / bins / 2)


def ink_in_mask(style: Tensor, background: Tensor, mask: Tensor, share: float = 0.5) -> Tensor:
    """The pixels of ``mask`` (B, 1, H, W) bool that are the old letters' ink: those that differ
    from the eraser's ``background`` (the crop without its word) by at least half the letters'
    contrast (the median difference of the mask's stronger class, :func:`otsu`) -- a letter's edge
    is where its contrast is half its full contrast. An eraser's mask is wider than the letters
    (grown, refined by colour); this is not."""
    diff = (style.float() - background.float()).norm(dim=1, keepdim=True)  # (B, 1, H, W)
    out = mask.clone()
    for i in range(len(mask)):
        inside = diff[i][mask[i]]
        if inside.numel() < 2:
            continue
        strong = inside[inside > otsu(inside)]
        if strong.numel():
            out[i] = mask[i] & (diff[i] >= share * strong.median())
    return out


def inner_part(mask: Tensor) -> Tensor:
    """``mask`` (H, W) bool without its connected parts that touch the top or the bottom row: the
    pieces of the lines above and below that a crop cuts through (all of it when every part does)."""
    on = mask.cpu().numpy()
    labels, _ = ndimage.label(on, structure=np.ones((3, 3), bool))
    cut = np.setdiff1d(np.union1d(labels[0], labels[-1]), [0])
    inner = on & ~np.isin(labels, cut)
    return torch.from_numpy(inner if inner.any() else on).to(mask.device)


def centre_line(mask: Tensor) -> Tensor:
    """``mask`` (H, W) bool kept to the line through the crop's middle row: its connected parts
    that reach that row, and the parts that lie within their rows (a letter's dot, a comma). A word's
    crop is cut around its detector box, so the word's line runs through its middle; the lines
    above and below do not (all of it when no part reaches the middle)."""
    on = mask.cpu().numpy()
    line = middle_line(on)
    if line is None:
        return mask
    parts, top, bottom = line
    labels, _ = ndimage.label(on & ~parts, structure=np.ones((3, 3), bool))
    keep = parts.copy()
    for k, part in enumerate(ndimage.find_objects(labels), start=1):
        if part is not None and part[0].start >= top and part[0].stop - 1 <= bottom:
            keep |= labels == k
    return torch.from_numpy(keep).to(mask.device)


def word_parts(mask: Tensor, top: float, bottom: float, level: float = 0.1) -> Tensor:
    """``mask`` (H, W) in [0, 1] without its connected parts (where it is over ``level``) that lie
    mostly outside the rows ``top`` .. ``bottom`` (normalised): the strokes of the lines above and
    below, which the eraser's hole would otherwise wipe out."""
    h = mask.shape[0]
    on = (mask > level).cpu().numpy()
    labels, count = ndimage.label(on, structure=np.ones((3, 3), bool))
    if not count:
        return mask
    rows = (np.arange(h) + 0.5) / h * 2 - 1
    inside = (rows >= top) & (rows <= bottom)
    weight = mask.float().cpu().numpy()
    total = ndimage.sum(weight, labels, index=np.arange(1, count + 1))
    within = ndimage.sum(weight * inside[:, None], labels, index=np.arange(1, count + 1))
    drop = np.nonzero(within < 0.5 * np.maximum(total, 1e-8))[0] + 1
    keep = torch.from_numpy(~np.isin(labels, drop)).to(mask.device)
    return mask * keep.to(mask.dtype)


def refit_rows(x: Tensor, src: Tensor, dst: Tensor, padding: str = "zeros") -> Tensor:
    """``x`` (B, C, H, W) moved and scaled vertically so that its rows ``src`` (B, 2: top, bottom,
    normalised) land on ``dst`` (B, 2); columns unchanged; from outside come zeros (``padding``
    zeros: a mask) or the edge rows (border: a colour layer)."""
    b = x.shape[0]
    k = (src[:, 1] - src[:, 0]) / (dst[:, 1] - dst[:, 0]).clamp_min(1e-6)  # input rows per output row
    t = src[:, 0] - k * dst[:, 0]
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=torch.float32)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = k
    theta[:, 1, 2] = t
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x.float(), grid, mode="bilinear", padding_mode=padding, align_corners=False).to(x.dtype)


@dataclass(frozen=True)
class RowFit:
    """The old word's measured rows: the map from its plain rendering's rows to the crop's."""

    scale: float  # a: crop rows per rendered row
    offset: float  # b: normalised
    score: float  # the profiles' correlation
    ink: tuple[float, float]  # the old word's letters' top and bottom edges in the crop (normalised)

    def place(self, rows: Tensor) -> Tensor:
        """Rendered rows (..., 2) -> crop rows."""
        return self.scale * rows + self.offset


class InkHeight:
    """The ``ink_height`` step: ``measure(source_mask, source_ink)`` fits the old word's rows,
    ``__call__(fit, content_ink, placed, *layers)`` moves the placed new word to them (module doc).

    Args:
        sure: the mask value above which a pixel is the old word's (as the layout takes it).
        min_score: the fit's score (rows matched) under which it is not trusted (layout kept).
        min_scale, max_scale: the range of vertical scales searched (crop rows per rendered row).
        keep_word: drop the parts of the old word's mask outside its measured rows before the hole
            is cut (:meth:`keep_word`).
        refit: move the new word's rows to those the fit gives it (:meth:`__call__`); off, only
            ``keep_word`` acts (the layout then places the new word from the cleaned mask).
    """

    def __init__(
        self,
        sure: float = 0.5,
        min_score: float = 0.6,
        min_scale: float = 0.2,
        max_scale: float = 2.0,
        keep_word: bool = True,
        refit: bool = True,
    ) -> None:
        if not 0 <= sure < 1 or not -1 <= min_score <= 1 or not 0 < min_scale < max_scale:
            raise ConfigError(
                "inference.ink_height needs sure in [0, 1), min_score in [-1, 1] and "
                f"0 < min_scale < max_scale; got {sure}, {min_score}, {min_scale}, {max_scale}"
            )
        self.sure, self.min_score = float(sure), float(min_score)
        self.min_scale, self.max_scale = float(min_scale), float(max_scale)
        self.keep_word_parts = bool(keep_word)
        self.refit = bool(refit)

    def measure(
        self,
        source_mask: Tensor,
        source_ink: Tensor,
        style: Tensor | None = None,
        background: Tensor | None = None,
    ) -> list[RowFit | None]:
        """Per sample, the old word's rows (None: no ink on either side, or a poor fit).
        ``source_mask`` (B, 1, H, W') the old word's mask, ``source_ink`` (B or 1, 1, H, W) its text
        rendered plain (1 = ink), both at the same height H; with the crop ``style`` and the
        eraser's ``background`` (B, 3, H, W'), the mask is narrowed to the old ink itself
        (:func:`ink_in_mask`: an eraser's mask is wider than the letters)."""
        if source_mask.shape[-2] != source_ink.shape[-2]:
            raise ValueError(
                f"the old word's mask and its rendering must have one height; got {tuple(source_mask.shape)} "
                f"and {tuple(source_ink.shape)}"
            )
        sure = source_mask > self.sure
        if style is not None and background is not None:
            sure = ink_in_mask(style, background, sure)
        template = row_profile(source_ink)
        out: list[RowFit | None] = []
        for i in range(len(sure)):
            tmpl = template[min(i, len(template) - 1)]
            parts = [
                m for m in (sure[i, 0], inner_part(sure[i, 0]), centre_line(sure[i, 0])) if bool(m.any())
            ]
            fits = (
                register_rows_each(
                    torch.stack([row_profile(m[None, None].float())[0] for m in parts]),
                    tmpl,
                    self.min_scale,
                    self.max_scale,
                )
                if parts and float(tmpl.sum()) > 0
                else []
            )
            if not fits:
                out.append(None)
                continue
            a, b, score = max(fits, key=lambda f: f[2])
            if score < self.min_score:
                out.append(None)
                continue
            edges = row_extent(source_ink[min(i, len(source_ink) - 1)][None])[0]
            top, bottom = (a * edges + b).tolist()
            out.append(RowFit(a, b, score, (top, bottom)))
        return out

    def __call__(
        self, fits: list[RowFit | None], content_ink: Tensor, *maps: Tensor, colours: tuple[Tensor, ...] = ()
    ) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
        """``maps[0]``: the new word's ink where the layout put it (B, 1, H, W); it and the other
        ``maps`` (masks drawn with it) and ``colours`` (colour layers drawn with it) moved so that
        the new word's rows are those its rendering ``content_ink`` (B, 1, H, W) takes under each
        sample's fit; samples without a fit unchanged. Returns (maps, colours)."""
        placed = maps[0]
        batch = placed.shape[0]
        have = row_extent(placed)  # (B, 2)
        want = row_extent(content_ink)
        src = torch.tensor([[-1.0, 1.0]]).repeat(batch, 1)
        dst = src.clone()
        use = False
        for i in range(batch):
            fit = fits[min(i, len(fits) - 1)]
            rows = want[min(i, len(want) - 1)].cpu()
            if fit is None or bool(torch.isnan(rows).any()) or bool(torch.isnan(have[i]).any()):
                continue
            src[i], dst[i], use = have[i].cpu(), fit.place(rows), True
        if not use:
            return maps, colours
        src, dst = src.to(placed.device), dst.to(placed.device)
        return (
            tuple(refit_rows(x, src, dst) for x in maps),
            tuple(refit_rows(x, src, dst, "border") for x in colours),
        )

    def keep_word(self, source_mask: Tensor, fits: list[RowFit | None]) -> Tensor:
        """``source_mask`` (B, 1, H, W) without the parts that lie mostly outside each sample's
        measured rows of ink (:func:`word_parts`): the eraser's hole then leaves the neighbouring
        lines alone. Samples without a fit unchanged."""
        out = source_mask.clone()
        for i in range(len(source_mask)):
            fit = fits[min(i, len(fits) - 1)]
            if fit is not None:
                out[i, 0] = word_parts(source_mask[i, 0], *fit.ink)
        return out
