"""Which source rendering each generator call of a loss context gets (the split design's layout
reads the old word's width from it): fake and recon the style's own text, cycle the fake's."""

from __future__ import annotations

import torch
from torch import Tensor

from tests.helpers.nets import Out, TinyNet, make_batch
from tsb.losses.base import G
from tsb.losses.context import LossContext


class RecordingNet(TinyNet):
    """TinyNet that records the ``source`` of every call, by the content it renders."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[Tensor, Tensor | None]] = []

    def synthesize(self, code: Tensor, content: Tensor, source: Tensor | None = None) -> Out:
        self.calls.append((content, source))
        return super().synthesize(code, content, source)


def test_fake_recon_and_cycle_get_the_text_of_their_style() -> None:
    batch = make_batch()
    net = RecordingNet()
    ctx = LossContext(net, None, batch, G)
    ctx.fake, ctx.recon, ctx.cycle  # noqa: B018 (evaluated lazily)
    (fake_c, fake_s), (recon_c, recon_s), (cycle_c, cycle_s) = net.calls
    assert fake_c is batch["content_tgt"] and fake_s is batch["content_src"]
    assert recon_c is batch["content_src"] and recon_s is batch["content_src"]
    # the cycle restyles the fake (whose text is the target's) back to the source text
    assert cycle_c is batch["content_src"] and cycle_s is batch["content_tgt"]


def test_without_the_source_text_the_fake_gets_none() -> None:
    batch = make_batch()
    del batch["content_src"]
    net = RecordingNet()
    ctx = LossContext(net, None, batch, G)
    ctx.fake  # noqa: B018
    assert net.calls[0][1] is None
    assert ctx.optional("content_tgt") is batch["content_tgt"] and ctx.optional("missing") is None
    batch["text_tgt"] = ["not a tensor"]
    assert ctx.optional("text_tgt") is None
    assert isinstance(ctx.fake.image, torch.Tensor)
