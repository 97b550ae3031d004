"""Fixed synthetic pairs for task tests: words drawn in the content font, recoloured.

A pair: ``style`` = word A in ink colour c1 on background c2; ``target`` = word B in the same
colours; contents and masks from ``tsb.data.content.render_content``. Independent of the data
module, so the loss/task tests only depend on the losses and the model.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tsb.data.content import render_content

WORDS = [("cat", "dog"), ("sun", "sky"), ("red", "map"), ("ink", "pen"), ("box", "fox"), ("hat", "bat")]
COLOURS = [
    ((0.9, 0.1, 0.1), (0.1, 0.1, 0.3)),
    ((0.1, 0.2, 0.9), (0.9, 0.9, 0.7)),
    ((0.1, 0.8, 0.2), (0.2, 0.1, 0.1)),
    ((0.9, 0.9, 0.2), (0.3, 0.3, 0.8)),
    ((0.0, 0.0, 0.0), (0.9, 0.6, 0.3)),
    ((1.0, 1.0, 1.0), (0.5, 0.1, 0.5)),
]


def _paint(content: Tensor, ink: tuple[float, ...], paper: tuple[float, ...]) -> tuple[Tensor, Tensor]:
    alpha = (1.0 - content) / 2  # 1 on text
    fg = torch.tensor(ink).view(3, 1, 1) * 2 - 1
    bg = torch.tensor(paper).view(3, 1, 1) * 2 - 1
    return alpha * fg + (1 - alpha) * bg, alpha


def make_pairs(n: int = 4, width: int = 64) -> dict[str, object]:
    """A batch of ``n`` (<= 6) fixed pairs at 64 x ``width``, with every StyleBrush batch key."""
    keys: dict[str, list[object]] = {
        k: []
        for k in (
            "style",
            "target",
            "content_src",
            "content_tgt",
            "mask_src",
            "mask_tgt",
            "text_src",
            "text_tgt",
        )
    }
    for i in range(n):
        a, b = WORDS[i % len(WORDS)]
        ink, paper = COLOURS[i % len(COLOURS)]
        c_src, c_tgt = render_content(a, width=width), render_content(b, width=width)
        style, m_src = _paint(c_src, ink, paper)
        target, m_tgt = _paint(c_tgt, ink, paper)
        for k, v in zip(keys, (style, target, c_src, c_tgt, m_src, m_tgt, a, b)):
            keys[k].append(v)
    batch: dict[str, object] = {k: torch.stack(v) for k, v in keys.items() if isinstance(v[0], Tensor)}  # type: ignore[misc]
    batch["text_src"] = keys["text_src"]
    batch["text_tgt"] = keys["text_tgt"]
    batch["font_id"] = torch.zeros(n, dtype=torch.long)
    return batch
