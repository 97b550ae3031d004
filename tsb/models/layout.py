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
placement (docs/models.md); the moments of a mask that the eraser learns anyway place every word
from the first steps on.

``theta`` (B, 2, 3) maps output coordinates to input coordinates (``F.affine_grid``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.models.resnet import make_norm


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


def placement(source_mask: Tensor, ink: Tensor, log_scale: Tensor | float = 0.0) -> Tensor:
    """The affine map (B, 2, 3) that puts the content's ``ink`` where the old word is.

    From the moments of the two maps (both (B, 1, H, W)): the ink's centre goes to the old word's
    centre, it turns by the old word's angle (the long axis of its covariance) and is scaled by
    the ratio of their spreads across the writing direction (letter height), times
    ``exp(log_scale)``. The renderer (and most photos) put the new word exactly so: same centre,
    same letter height, same angle.
    """
    _, _, h, w = ink.shape
    c_src, cov_src = moments(source_mask)
    c_ink, cov_ink = moments(ink)
    sxx, syy, sxy = cov_src[:, 0, 0], cov_src[:, 1, 1], cov_src[:, 0, 1]
    angle = 0.5 * torch.atan2(2 * sxy, sxx - syy)
    minor = (sxx + syy) / 2 - torch.sqrt(((sxx - syy) / 2) ** 2 + sxy**2)
    scale = torch.sqrt(minor.clamp_min(1e-4) / cov_ink[:, 1, 1].clamp_min(1e-4)) * torch.exp(
        torch.as_tensor(log_scale, device=ink.device)
    )
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot_t = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # R^T
    half = torch.tensor([w / 2, h / 2], device=ink.device)
    a = rot_t * half.view(1, 1, 2) / half.view(1, 2, 1) / scale.view(-1, 1, 1)  # D^-1 R^T D / s
    t = c_ink - (a @ c_src[..., None])[..., 0]
    return torch.cat([a, t[..., None]], dim=-1)


class TextLayout(nn.Module):
    """Where the new word goes: ``forward(style, background, source_mask, ink) -> theta`` (B, 2, 3).

    The :func:`placement` of the ink on the confident part (> 0.5) of the eraser's mask of the old
    word (not differentiated: the layout does not train the eraser), times a learned global
    letter-height factor (starts at 1). ``residual``: also add a per-sample correction from a
    small CNN (starts at zero); off by default: trained from the start it learned to compensate
    the early, diffuse masks (shifting and shearing every word) instead of refining good ones.
    Where the mask is nearly empty (no old word found) the map falls back towards the identity.
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32, 64, 64),
        norm: str = "batch",
        hidden: int = 64,
        min_mass: float = 0.005,
        residual: bool = False,
    ) -> None:
        super().__init__()
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

    def forward(self, style: Tensor, background: Tensor, source_mask: Tensor, ink: Tensor) -> Tensor:
        # only the confident part of the mask: a soft mask's low values spread over the whole crop
        # would inflate its spread, i.e. shrink the new word
        mask = ((source_mask.detach().float() - 0.5) * 2).clamp_min(0)
        theta = placement(mask, ink.detach().float(), self.log_scale)
        mass = mask.mean(dim=(1, 2, 3)).view(-1, 1, 1)
        gate = mass / (mass + self.min_mass)
        identity = torch.eye(2, 3, device=ink.device).expand_as(theta)
        theta = gate * theta + (1 - gate) * identity
        if not self.residual:
            return theta
        x = torch.cat([style, mask.to(style.dtype), coordinates(style)], dim=1)
        f = self.features(x)
        a = torch.softmax(self.attention(f).flatten(2), dim=-1)  # (B, 1, h*w)
        coords = coordinates(f).flatten(2)
        flat = f.flatten(2)
        pooled = torch.cat([(flat * a).sum(-1), flat.mean(-1), (coords * a).sum(-1)], dim=1)
        return theta + self.head(pooled).view(-1, 2, 3).float()
