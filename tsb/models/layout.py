"""TextLayout: where the new word goes, as an affine warp of its plain rendering.

The renderer (and a photo) places the target word where the source word is: same centre, same
letter height, same rotation and slant. The content image instead draws the word centred at a
fixed height. ``TextLayout`` looks at the style image (and the text evidence
``|style - background|``, plus two coordinate channels) and predicts one affine map per sample,
a spatial transformer (Jaderberg et al., 2015): ``warp(ink, theta)`` moves the content's ink to
the source word's place and size. The text branch then only has to restyle glyphs that are
already in place, which is what keeps the letters sharp and legible on a CPU budget.

``theta`` (B, 2, 3) maps output coordinates to input coordinates (``F.affine_grid``), starts at
the identity and is trained by :class:`tsb.losses.layout.LayoutLoss` and the image terms.
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


class TextLayout(nn.Module):
    """Localisation network: ``forward(style, background) -> theta`` (B, 2, 3)."""

    def __init__(
        self, channels: Sequence[int] = (16, 32, 64, 64), norm: str = "batch", hidden: int = 64
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3 + 1 + 2  # style, text evidence, coordinates
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
        with torch.no_grad():
            final.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))

    def forward(self, style: Tensor, background: Tensor) -> Tensor:
        evidence = (style - background).abs().mean(dim=1, keepdim=True)
        x = torch.cat([style, evidence, coordinates(style)], dim=1)
        f = self.features(x)
        a = torch.softmax(self.attention(f).flatten(2), dim=-1)  # (B, 1, h*w)
        coords = coordinates(f).flatten(2)
        flat = f.flatten(2)
        pooled = torch.cat([(flat * a).sum(-1), flat.mean(-1), (coords * a).sum(-1)], dim=1)
        return self.head(pooled).view(-1, 2, 3)
