"""TextLayout: where the new word goes, as an affine warp of its plain rendering.

The renderer (and a photo) places the target word where the source word is: same centre, same
letter height, same rotation. The content image instead draws the word centred at a fixed height.
``TextLayout`` computes one affine map per sample from the *moments* of the eraser's mask of the
old word and of the content's ink (:func:`placement`: centre, angle, letter height), and adds a
learned correction (a spatial transformer, Jaderberg et al. 2015, that starts at zero):
``warp(ink, theta)`` moves the content's ink to the source word's place and size. The text branch
then only has to restyle glyphs that are already in place, which keeps the letters sharp.

Why moments and not a learned regressor alone: trained end to end on this project's CPU budget,
a spatial transformer from the style image learned one global correction and no per-sample
placement (docs/design.md); the moments of a mask that the eraser learns anyway place every word
from the first steps on.

``theta`` (B, 2, 3) maps output coordinates to input coordinates (``F.affine_grid``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.models.resnet import make_norm
from tsb.utils.image import grow_mask


def coordinates(x: Tensor) -> Tensor:
    """(B, 2, H, W): x and y pixel-centre coordinates in [-1, 1], like ``F.affine_grid``."""
    b, _, h, w = x.shape
    ys = (torch.arange(h, device=x.device, dtype=x.dtype) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=x.device, dtype=x.dtype) + 0.5) / w * 2 - 1
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"))
    return grid[None].expand(b, -1, -1, -1)


def warp(ink: Tensor, theta: Tensor) -> Tensor:
    """Resample ``ink`` (B, C, H, W; 0 = empty) by the affine maps ``theta`` (B, 2, 3)."""
    grid = F.affine_grid(theta.float(), list(ink.shape), align_corners=False)
    return F.grid_sample(ink.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False).to(
        ink.dtype
    )


def moments(weight: Tensor) -> tuple[Tensor, Tensor]:
    """Weighted centre (B, 2) in normalised coordinates and covariance (B, 2, 2) in pixels of a map
    ``weight`` (B, 1, H, W) >= 0 (a word's mask or ink)."""
    _, _, h, w = weight.shape
    p = weight.float().flatten(2)
    p = p / p.sum(-1, keepdim=True).clamp_min(1e-8)  # (B, 1, N)
    c = coordinates(weight.float()).flatten(2)  # (B, 2, N)
    centre = (c * p).sum(-1)
    half = torch.tensor([w / 2, h / 2], device=weight.device).view(1, 2, 1)
    d = (c - centre[..., None]) * half  # pixels
    cov = torch.einsum("bin,bjn->bij", d * p, d)
    return centre, cov


def placement(
    source_mask: Tensor,
    ink: Tensor,
    log_scale: Tensor | float = 0.0,
    source_ink: Tensor | None = None,
    max_aspect: float = 2.0,
    max_angle: float = 20.0,
) -> Tensor:
    """The affine map (B, 2, 3) that puts the content's ``ink`` where the old word is.

    Without ``source_ink``, from the moments of the two maps (both (B, 1, H, W)): the ink's centre
    goes to the old word's centre, it turns by the old word's angle (the long axis of its
    covariance) and is scaled by the ratio of their spreads across the writing direction (letter
    height), times ``exp(log_scale)``. The renderer (and most photos) put the new word so: same
    centre, same letter height, same angle.

    With ``source_ink`` (B, 1, H, W), the old word's *own text* rendered by the content renderer
    (same frame as ``ink``): the map is the one that draws that rendering onto the old word, and
    the new word's rendering is drawn by the same map. It then also takes the old font's width
    (the ratio of spreads along the line: a condensed or a wide typeface, letter spacing; within
    ``max_aspect`` of the height ratio) and its baseline (the content renderer draws every string
    on one baseline, so a word with descenders is not centred on its ink).

    The angle is clamped to ``max_angle`` degrees: photos are cropped along the word's box, the
    renderer turns words by at most 8 degrees, and the long axis of a short word (two letters) can
    point anywhere.
    """
    _, _, h, w = ink.shape
    c_src, cov_src = moments(source_mask)
    gain = torch.exp(torch.as_tensor(log_scale, device=ink.device))
    limit = math.radians(max_angle)
    if source_ink is None:
        c_ref, cov_ref = moments(ink)
        sxx, syy, sxy = cov_src[:, 0, 0], cov_src[:, 1, 1], cov_src[:, 0, 1]
        angle = (0.5 * torch.atan2(2 * sxy, sxx - syy)).clamp(-limit, limit)
        across = _spreads(cov_src, angle)[1]
        scale_y = torch.sqrt(across.clamp_min(1e-4) / cov_ref[:, 1, 1].clamp_min(1e-4)) * gain
        scale_x = scale_y
    else:
        c_ref, cov_ref = moments(source_ink)
        angle, scale_x, scale_y = _fit_rotation_and_scales(cov_src, cov_ref, limit)
        scale_x = scale_y * (scale_x / scale_y).clamp(1 / max_aspect, max_aspect) * gain
        scale_y = scale_y * gain
    scale = torch.stack([scale_x, scale_y], -1)  # along the line, across it
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot_t = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # R^T
    half = torch.tensor([w / 2, h / 2], device=ink.device)
    # q_ink = c_ref + S^-1 R^T (q_out - c_src) in pixels; a = D^-1 S^-1 R^T D in [-1, 1] units
    a = rot_t * half.view(1, 1, 2) / half.view(1, 2, 1) / scale.view(-1, 2, 1)
    t = c_ref - (a @ c_src[..., None])[..., 0]
    return torch.cat([a, t[..., None]], dim=-1)


#: the renderer's margin around the longest word of a pair, as a fraction of the crop's height
#: (tsb/data/render.py ``_fit_size``)
INSIDE_MARGIN = 0.06


def true_extent(on: Tensor) -> Tensor:
    """(B, 2): the first and last pixel edges of ``on`` (B, N) that are True, in [-1, 1]."""
    n = on.shape[1]
    idx = torch.arange(n, device=on.device).expand_as(on)
    first = torch.where(on, idx, n).amin(dim=1).clamp(max=n - 1)
    last = torch.where(on, idx, -1).amax(dim=1).clamp(min=0)
    return torch.stack([first.float() / n * 2 - 1, (last.float() + 1) / n * 2 - 1], -1)


def squeeze_inside(
    theta: Tensor, ink: Tensor, margin: float = INSIDE_MARGIN, bounds: Tensor | None = None
) -> Tensor:
    """``theta`` changed so that the warped ``ink`` stays within the crop, ``margin`` x height
    from its left and right edges: a word that would run past an edge is squeezed along the line
    about its centre (to the room there is) and moved back inside. The renderer sizes every pair
    so that its longer word fits so, and a photo's box holds its word; a placement from the old
    word's width can still overshoot (a long new word, a wider matched font), and the letters cut
    off at the edge are lost to a reader. ``bounds`` (B, 2) or (2,): the left and right edges the
    word must keep within, in [-1, 1] of the crop's width, instead of ``margin`` (a photo editor's
    box inside its context crop). Not differentiated (a map, not a learned quantity)."""
    h, w = ink.shape[-2:]
    with torch.no_grad():
        # the ink's box in its own frame, mapped to the output (not clipped by the crop's edges)
        ink = ink.detach().float()
        cols, rows = ink.amax(dim=(1, 2)) > 0.5, ink.amax(dim=(1, 3)) > 0.5  # (B, W), (B, H)
        any_ink = cols.any(dim=1) & rows.any(dim=1)
        ex, ey = true_extent(cols), true_extent(rows)  # (B, 2) each, in [-1, 1]
        corners = torch.stack(
            [torch.stack([ex[:, i], ey[:, j]], -1) for i in (0, 1) for j in (0, 1)], -1
        )  # (B, 2, 4)
        th = theta.detach().float()
        out = torch.linalg.solve(th[..., :2], corners - th[..., 2:])  # q = A^-1 (p - t)
        x0, x1 = out[:, 0].amin(dim=1), out[:, 0].amax(dim=1)
        if bounds is None:
            room = margin * h / w * 2
            lo, hi = torch.full_like(x0, -1 + room), torch.full_like(x0, 1 - room)
        else:
            edges = bounds.detach().to(x0).reshape(-1, 2).expand(x0.shape[0], 2)
            lo, hi = edges[:, 0], edges[:, 1]
        k = ((hi - lo) / (x1 - x0).clamp_min(1e-6)).clamp(max=1.0)
        k = torch.where(any_ink, k, torch.ones_like(k))
        c = (x0 + x1) / 2
        n0, n1 = c - k * (c - x0), c + k * (x1 - c)
        d = (lo - n0).clamp_min(0) - (n1 - hi).clamp_min(0)
        d = torch.where(any_ink, d, torch.zeros_like(d))
    # output x -> x before the squeeze: q / k + c - (c + d) / k
    a, t = theta[..., :2], theta[..., 2]
    scale = torch.stack([1 / k, torch.ones_like(k)], -1)  # (B, 2)
    shift = torch.stack([c - (c + d) / k, torch.zeros_like(k)], -1)
    a_new = a * scale.view(-1, 1, 2)
    t_new = t + (a @ shift[..., None])[..., 0]
    return torch.cat([a_new, t_new[..., None]], dim=-1)


def _spreads(cov: Tensor, angle: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The covariance ``cov`` (..., 2, 2) turned back by ``angle`` (...): variances along and across
    the direction ``angle``, and their covariance."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    sxx, syy, sxy = cov[..., 0, 0], cov[..., 1, 1], cov[..., 0, 1]
    along = cos**2 * sxx + 2 * cos * sin * sxy + sin**2 * syy
    across = sin**2 * sxx - 2 * cos * sin * sxy + cos**2 * syy
    mixed = (cos**2 - sin**2) * sxy + cos * sin * (syy - sxx)
    return along, across, mixed


def _fit_rotation_and_scales(
    cov_word: Tensor, cov_ref: Tensor, limit: float, steps: int = 81
) -> tuple[Tensor, ...]:
    """Angle (within +-``limit``) and scales along/across the line with ``R S cov_ref S R^T`` closest
    to ``cov_word`` (both (B, 2, 2)): a grid over the angle, the scales from the turned-back
    variances, the angle whose covariance term fits best. A word's own shape correlates x and y
    (a descender at its end): comparing with its plain rendering's covariance, and not taking
    the long axis as the angle, keeps that from turning the new word."""
    grid = torch.linspace(-limit, limit, steps, device=cov_word.device)  # (K,)
    along, across, mixed = _spreads(cov_word[:, None], grid[None])  # (B, K)
    ref = cov_ref[:, None]
    sx = torch.sqrt(along.clamp_min(1e-4) / ref[..., 0, 0].clamp_min(1e-4))
    sy = torch.sqrt(across.clamp_min(1e-4) / ref[..., 1, 1].clamp_min(1e-4))
    misfit = (mixed - sx * sy * ref[..., 0, 1]).square() / (along * across).clamp_min(1e-8)
    best = misfit.argmin(dim=1, keepdim=True)
    return grid[best[:, 0]], sx.gather(1, best)[:, 0], sy.gather(1, best)[:, 0]


def stroke(ink: Tensor, radius: Tensor, max_radius: int) -> Tensor:
    """``ink`` (B, 1, H, W) with strokes grown (``radius`` > 0) or thinned (< 0) by ``radius`` (B,)
    whole pixels (a max-pool, or a min-pool), each sample by its own radius in
    [-``max_radius``, ``max_radius``]."""
    out = ink.clone()
    for r in range(1, int(max_radius) + 1):
        grow = radius == r
        thin = radius == -r
        if bool(grow.any()):
            out[grow] = grow_mask(ink[grow], r)
        if bool(thin.any()):
            out[thin] = grow_mask(ink[thin], -r)
    return out


def _overlap(a: Tensor, b: Tensor) -> Tensor:
    """Soft intersection over union of maps in [0, 1], per sample: (B, ...) -> (B,)."""
    inter = (a * b).flatten(1).sum(1)
    return inter / (a.flatten(1).sum(1) + b.flatten(1).sum(1) - inter).clamp_min(1e-6)


def fit_weight(mask: Tensor, placed_source: Tensor, max_radius: int) -> Tensor:
    """The stroke radius (B,) in [-max_radius, max_radius] with which the old word's plain rendering,
    placed (``placed_source``), best covers the old word's ``mask`` (soft IoU): the typeface's
    weight (bold, an outline, a shadow) relative to the content font's."""
    b = mask.shape[0]
    radii = torch.arange(-max_radius, max_radius + 1, device=mask.device)
    scores = torch.stack([_overlap(stroke(placed_source, r.expand(b), max_radius), mask) for r in radii], 1)
    return radii[scores.argmax(1)]


class TextLayout(nn.Module):
    """Where the new word goes: ``forward(style, background, source_mask, ink, source_ink=None) -> theta``
    (B, 2, 3).

    The :func:`placement` of the ink on the confident part (> 0.5) of the eraser's mask of the old
    word (not differentiated: the layout does not train the eraser), times a learned global
    letter-height factor (starts at 1); with ``source_ink`` (the old word's text rendered plain,
    when known) the new word also takes the old font's width (``max_aspect`` bounds it).
    ``residual``: also add a per-sample correction from a small CNN (starts at zero); off by
    default: trained from the start it learned to compensate the early, diffuse masks (shifting and shearing every word) instead of refining good ones.
    Where the mask is nearly empty (no old word found) the map falls back towards the identity.

    ``keep_inside``: a new word that would run past the crop's left or right edge is squeezed and
    moved back inside (:func:`squeeze_inside`; owns no weight, so it can be switched on at inference).

    :meth:`place` warps the ink, and with ``source_ink`` also gives it the old font's stroke
    weight: the radius (up to ``max_stroke`` pixels, grown or thinned; 0: off) with which the old
    word's placed rendering best covers its mask (:func:`fit_weight`).
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32, 64, 64),
        norm: str = "batch",
        hidden: int = 64,
        min_mass: float = 0.005,
        residual: bool = False,
        max_aspect: float = 2.0,
        max_angle: float = 20.0,
        max_stroke: int = 0,
        keep_inside: bool = False,
    ) -> None:
        super().__init__()
        self.keep_inside = bool(keep_inside)
        if not 0 <= max_stroke <= 8:
            raise ConfigError(f"layout.max_stroke must be 0 (off) to 8 pixels, got {max_stroke}")
        self.max_stroke = int(max_stroke)
        if not max_aspect >= 1:
            raise ConfigError(f"layout.max_aspect must be >= 1 (a ratio of widths), got {max_aspect}")
        if not 0 <= max_angle <= 90:
            raise ConfigError(f"layout.max_angle must be in [0, 90] degrees, got {max_angle}")
        self.max_aspect = float(max_aspect)
        self.max_angle = float(max_angle)
        self.residual = bool(residual)
        layers: list[nn.Module] = []
        cin = 3 + 1 + 2  # style, old-word mask, coordinates
        for c in channels:
            layers += [
                nn.Conv2d(cin, c, 3, stride=2, padding=1, bias=False),
                make_norm(norm, c),
                nn.ReLU(inplace=True),
            ]
            cin = c
        self.features = nn.Sequential(*layers)
        # attention pooling: where to look (one softmax over positions) and what to read there,
        # the coordinates included, so the pooled vector knows *where* the word is
        self.attention = nn.Conv2d(cin, 1, 1)
        self.head = nn.Sequential(nn.Linear(2 * cin + 2, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 6))
        final = self.head[-1]
        assert isinstance(final, nn.Linear)
        nn.init.zeros_(final.weight)
        nn.init.zeros_(final.bias)
        self.log_scale = nn.Parameter(torch.zeros(()))
        self.min_mass = float(min_mass)

    def forward(
        self,
        style: Tensor,
        background: Tensor,
        source_mask: Tensor,
        ink: Tensor,
        source_ink: Tensor | None = None,
    ) -> Tensor:
        # only the confident part of the mask: a soft mask's low values spread over the whole crop
        # would inflate its spread, i.e. shrink the new word
        mask = ((source_mask.detach().float() - 0.5) * 2).clamp_min(0)
        ref = None if source_ink is None else source_ink.detach().float()
        theta = placement(mask, ink.detach().float(), self.log_scale, ref, self.max_aspect, self.max_angle)
        mass = mask.mean(dim=(1, 2, 3)).view(-1, 1, 1)
        gate = mass / (mass + self.min_mass)
        identity = torch.eye(2, 3, device=ink.device).expand_as(theta)
        theta = gate * theta + (1 - gate) * identity
        if self.keep_inside:
            theta = squeeze_inside(theta, ink)
        if not self.residual:
            return theta
        x = torch.cat([style, mask.to(style.dtype), coordinates(style)], dim=1)
        f = self.features(x)
        a = torch.softmax(self.attention(f).flatten(2), dim=-1)  # (B, 1, h*w)
        coords = coordinates(f).flatten(2)
        flat = f.flatten(2)
        pooled = torch.cat([(flat * a).sum(-1), flat.mean(-1), (coords * a).sum(-1)], dim=1)
        return theta + self.head(pooled).view(-1, 2, 3).float()

    def place(
        self,
        style: Tensor,
        background: Tensor,
        source_mask: Tensor,
        ink: Tensor,
        source_ink: Tensor | None = None,
    ) -> Tensor:
        """The content's ``ink`` where the new word goes (B, 1, H, W): warped by :meth:`forward`'s map,
        and, with ``source_ink``, with the old word's stroke weight."""
        theta = self(style, background, source_mask, ink, source_ink)
        placed = warp(ink, theta)
        if source_ink is None or not self.max_stroke:
            return placed
        with torch.no_grad():
            mask = ((source_mask.detach().float() - 0.5) * 2).clamp_min(0)
            radius = fit_weight(mask, warp(source_ink.float(), theta.detach()), self.max_stroke)
        return stroke(placed, radius, self.max_stroke)
