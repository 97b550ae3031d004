"""A stand-in task for geometry tests: its 'generated' image is the style crop itself."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from tsb.models.generator import GeneratorOutput
from tsb.tasks.base import Task


class EchoTask(Task):
    """``generate(style, content, source)`` returns the style resized to the content's size, mask 0;
    it keeps the last ``source`` rendering it was given (``last_source``)."""

    def __init__(self, loss: Any = None) -> None:
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.last_source: Tensor | None = None

    def generate(self, style: Tensor, content: Tensor, source: Tensor | None = None) -> GeneratorOutput:
        self.last_source = source
        img = F.interpolate(style, size=content.shape[-2:], mode="bilinear", align_corners=False)
        mask = torch.zeros_like(content)
        return GeneratorOutput(image=img, mask=mask, masks=[mask])
