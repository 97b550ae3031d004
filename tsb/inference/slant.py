"""The old word's slant given to the new word (``inference.slant``).

The text branch restyles the content rendering's letters; at our budgets it keeps their shapes,
so an italic or oblique old word comes back upright (the real-photo issue's "bold italic returned
upright"). This step measures how far the old word's letters lean against the same word drawn
plain, and leans the new word's placed ink (and the layers drawn with it) by as much.

The lean is measured the way handwriting recognisers correct slant: the shear under which a
word's vertical strokes line up, i.e. its column profile is the most peaked (the sum of the
squared column sums is largest; :func:`slant`), searched over a grid of shears. It is measured on
the old word's letters (its mask narrowed to the pixels that differ from the eraser's background
by half the letters' contrast, :func:`~tsb.inference.ink_height.ink_in_mask`) and on the old
word's text rendered in the content font (or the matched font), and the difference is the lean
given to the new word: a typeface whose upright letters peak a little off zero (round letters, a
diagonal ``A`` or ``V``) measures the same off-set in its plain rendering, and a matched italic
font is not leaned twice. The new word is sheared about the middle row of its ink, so its centre
stays where the layout put it. Owns no weight.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.errors import ConfigError
from tsb.models.layout import warp


def shear_theta(shear: Tensor, pivot: Tensor, size: tuple[int, int]) -> Tensor:
    """(B, 2, 3) affine maps (output -> input, normalised coordinates as ``F.affine_grid``) that
    lean a (B, C, H, W) map by ``shear`` (B,) pixels to the right per pixel up (an italic's lean;
    negative: to the left) about the row ``pivot`` (B,) in [-1, 1]."""
    h, w = size
    s = shear.float() * h / w  # normalised x per normalised y
    theta = torch.zeros(shear.shape[0], 2, 3, device=shear.device)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    # output (x, y) samples input (x + s (y - pivot), y): above the pivot the ink moves right
    theta[:, 0, 1] = s
    theta[:, 0, 2] = -s * pivot.float()
    return theta


def pixel_rows(h: int, device: torch.device) -> Tensor:
    """The centres of ``h`` rows in normalised coordinates (as ``warp`` samples them)."""
    return (torch.arange(h, device=device) + 0.5) * 2 / h - 1


def middle_row(ink: Tensor) -> Tensor:
    """The ink-weighted middle row (B,) of ``ink`` (B, 1, H, W), normalised (0 for no ink)."""
    profile = ink.float().sum(dim=(1, 3))
    return (profile * pixel_rows(ink.shape[-2], ink.device)).sum(-1) / profile.sum(-1).clamp_min(1e-6)


def slant(ink: Tensor, shears: Tensor) -> Tensor:
    """The lean (B,) of the strokes of ``ink`` (B, 1, H, W) in [0, 1], pixels right per pixel up:
    the shear of ``shears`` (S,) that, undone, makes the column profile most peaked. A map
    without ink measures 0."""
    ink = ink.float()
    b, _, h, w = ink.shape
    weight = ink.sum(dim=(1, 2, 3))
    rows, pivot = pixel_rows(h, ink.device), middle_row(ink)
    # every shear at once, (S, B) maps: each row of the ink sampled where a stroke leaning by k
    # would be (rows stay rows: the grid is built directly, not by ``F.affine_grid``)
    k = shears.to(ink.device).float()[:, None, None, None] * h / w  # normalised x per normalised y
    xs = (torch.arange(w, device=ink.device) + 0.5) * 2 / w - 1
    along = (rows[None, :] - pivot[:, None])[None, :, :, None]  # (1, B, H, 1)
    gx = (xs[None, None, None, :] - k * along).expand(-1, b, h, w)  # (S, B, H, W)
    gy = rows[None, None, :, None].expand_as(gx)
    grid = torch.stack([gx, gy], dim=-1).flatten(0, 1)
    upright = F.grid_sample(
        ink.repeat(shears.shape[0], 1, 1, 1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    scores = upright.sum(dim=2).square().sum(dim=(1, 2)).view(-1, b)
    best = scores.argmax(dim=0)
    return torch.where(weight > 0, shears.to(ink.device)[best], torch.zeros_like(weight))


class Slant:
    """Lean the new word as the old word leans against its plain rendering.

    Args:
        max_shear: the largest lean searched, pixels per pixel (0.5: about 27 degrees).
        step: the grid's step (0.04: about 2 degrees).
        max_plain: the most the old word's plain rendering may lean for its lean to count: a word
            without upright strokes (``wavy``) peaks anywhere, and its letters' lean says nothing.
    """

    def __init__(self, max_shear: float = 0.5, step: float = 0.04, max_plain: float = 0.08) -> None:
        if not 0 < step <= max_shear <= 1.5:
            raise ConfigError(
                f"inference.slant needs 0 < step <= max_shear <= 1.5, got step {step}, max_shear {max_shear}"
            )
        n = round(max_shear / step)
        self.shears = torch.arange(-n, n + 1).float() * step
        self.max_plain = float(max_plain)

    def measure(self, old_ink: Tensor, old_plain: Tensor) -> Tensor:
        """The lean (B,) to give the new word, in pixels per pixel of the old word's frame: the old
        word's letters ``old_ink`` (B, 1, H, W) against its text drawn plain ``old_plain``
        (B, 1, H', W'), each measured in its own frame (both are the crop's height)."""
        plain = slant(old_plain, self.shears)
        lean = slant(old_ink, self.shears) - plain
        # a word whose plain letters have no upright strokes to line up (``wavy``) measures no lean
        return torch.where(plain.abs() <= self.max_plain, lean, torch.zeros_like(lean))

    def __call__(self, lean: Tensor, frame: tuple[int, int], ink: Tensor, *layers: Tensor) -> list[Tensor]:
        """``ink`` (B, 1, H, W) and ``layers`` (B, C, H, W) sheared by ``lean`` (B,) measured in a
        frame of size ``frame`` (H, W) that was stretched to (H, W) of ``ink``, about the middle
        row of ``ink``."""
        b, h, w = ink.shape[0], ink.shape[-2], ink.shape[-1]
        lean = lean.to(ink.device).float().expand(b) * (w / h) / (frame[1] / frame[0])  # the angle kept
        theta = shear_theta(lean, middle_row(ink), (h, w))
        return [warp(x, theta) for x in (ink, *layers)]
