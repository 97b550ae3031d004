"""Stand-in networks, batches and helper checkpoints for the loss, task and pretrained tests (tiny,
CPU, a few ms each)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsb.models.recognizer import CRNN
from tsb.models.typeface_classifier import TypefaceClassifier
from tsb.pretrained.helpers import RECOGNIZER, TYPEFACE, helper_payload

ALPHABET = "abcdefghijklmnopqrstuvwxyz"


@dataclass
class Out:
    image: Tensor
    mask: Tensor
    masks: list[Tensor] = field(default_factory=list)


class TinyNet(nn.Module):
    """The StyleBrushNet interface in a few parameters: style code (B, 2, 8) modulates content features."""

    def __init__(self) -> None:
        super().__init__()
        self.style = nn.Conv2d(3, 16, 3, padding=1)
        self.content = nn.Conv2d(1, 8, 3, padding=1)
        self.to_image = nn.Conv2d(8, 3, 1)
        self.to_mask = nn.Conv2d(8, 1, 1)

    def encode_style(self, style: Tensor) -> Tensor:
        return self.style(style).mean((2, 3)).view(-1, 2, 8)

    def synthesize(self, code: Tensor, content: Tensor, source: Tensor | None = None) -> Out:
        h = torch.relu(self.content(content) * (1 + code[:, 0, :, None, None]) + code[:, 1, :, None, None])
        mask = torch.sigmoid(self.to_mask(h))
        return Out(self.to_image(h), mask, [F.avg_pool2d(mask, 2), mask])

    def forward(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> Out:
        return self.synthesize(self.encode_style(style), content, source)


class CopyNet(nn.Module):
    """Returns the style image whatever the content: reconstruction and cycle are exact."""

    def __init__(self) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(()))

    def encode_style(self, style: Tensor) -> Tensor:
        return style * self.gain

    def synthesize(self, code: Tensor, content: Tensor, source: Tensor | None = None) -> Out:
        mask = (code.mean(1, keepdim=True) > 0).float()
        return Out(code, mask, [mask])

    def forward(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> Out:
        return self.synthesize(self.encode_style(style), content, source)


class TinyD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(torch.relu(self.conv(x)).mean((2, 3))).squeeze(1)


def make_batch(
    b: int = 2, h: int = 32, w: int = 64, seed: int = 0, texts: tuple[str, str] = ("abc", "de")
) -> dict:
    g = torch.Generator().manual_seed(seed)
    mask_src = (torch.rand(b, 1, h, w, generator=g) > 0.7).float()
    mask_tgt = (torch.rand(b, 1, h, w, generator=g) > 0.7).float()
    return {
        "style": torch.rand(b, 3, h, w, generator=g) * 2 - 1,
        "target": torch.rand(b, 3, h, w, generator=g) * 2 - 1,
        "content_src": 1 - 2 * mask_src,
        "content_tgt": 1 - 2 * mask_tgt,
        "mask_src": mask_src,
        "mask_tgt": mask_tgt,
        "text_src": [texts[0]] * b,
        "text_tgt": [texts[1]] * b,
        "font_id": torch.zeros(b, dtype=torch.long),
    }


def write_typeface_ckpt(path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    net = TypefaceClassifier(num_classes=4, width=0.0625, fc_dim=16, input_size=None)
    # a few batch-norm statistics that are not the defaults, so eval mode matters
    net.train()
    with torch.no_grad():
        net(torch.randn(4, 3, 32, 64))
    torch.save(helper_payload(TYPEFACE, net, fonts=["A", "B", "C", "D"]), path)
    return path


def write_recognizer_ckpt(path: Path, seed: int = 0, alphabet: str = ALPHABET) -> Path:
    torch.manual_seed(seed)
    net = CRNN(alphabet=alphabet, width=0.0625, hidden=8, input_size=(32, 64))
    torch.save(helper_payload(RECOGNIZER, net, alphabet=alphabet), path)
    return path


def dark_eraser_net() -> nn.Module:
    """A tiny split network (random text branch) whose eraser finds the style crop's dark pixels,
    grown by 2 pixels (an eraser's mask is wider than the ink) -- a neighbouring word's or line's
    too, as a photo's eraser does."""
    from tsb.models.background import BackgroundNet
    from tsb.models.layout import TextLayout
    from tsb.models.split import SplitBrushNet
    from tsb.models.unet import UNet
    from tsb.utils.image import grow_mask

    tiny = (4, 8, 8)
    torch.manual_seed(0)
    net = SplitBrushNet(BackgroundNet(tiny), UNet(7, 4, tiny), TextLayout(channels=(4, 8), hidden=8))

    def segment(style: Tensor) -> tuple[Tensor, Tensor]:
        dark = (style.mean(dim=1, keepdim=True) < 0).float()
        return torch.zeros_like(style), grow_mask(dark, 2)

    net.background.segment = segment  # type: ignore[method-assign]
    return net.eval()
