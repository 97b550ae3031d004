"""RecognizerTask: train the CRNN text recognizer on synthetic words, with CTC.

One phase (``recognize``, parameter group ``net``): CTC loss (``cfg.loss``, by default
``torch.nn.CTCLoss(blank=0, zero_infinity=True)``) on the batch's ``style`` and ``target``
images against ``text_src`` and ``text_tgt``. ``python train.py experiment=recognizer``; at the
end the trainer calls :meth:`export`, which writes the helper checkpoint the recognition loss and
evaluation load (``${paths.checkpoints_dir}/recognizer.ckpt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from tsb.errors import ConfigError
from tsb.metrics.recognition import normalized_edit_distance
from tsb.models.recognizer import CRNN
from tsb.pretrained.helpers import RECOGNIZER, helper_payload
from tsb.tasks.base import Batch, Phase, PhaseOutput, Task
from tsb.tasks.classifier import check_criterion, marked_grid, word_images
from tsb.tasks.export import export_helper

# the batch key of the string each image key shows
TEXT_OF = {"style": "text_src", "target": "text_tgt"}


class RecognizerTask(Task):
    """Scene-text recognition with CTC.

    Args:
        net: the recognizer (``CRNN``), its alphabet in its config.
        loss: a CTC criterion ``(log_probs, targets, input_lengths, target_lengths) -> scalar``;
            ``torch.nn.CTCLoss(blank=0, zero_infinity=True)`` when None.
        image_keys: batch keys of the images to read (``style`` -> ``text_src``, ``target`` -> ``text_tgt``).
        sample_size: images in the sample grid.
    """

    def __init__(
        self,
        net: CRNN,
        loss: nn.Module | None = None,
        image_keys: Sequence[str] = ("style", "target"),
        sample_size: int = 16,
    ) -> None:
        super().__init__()
        unknown = set(image_keys) - set(TEXT_OF)
        if unknown:
            raise ConfigError(
                f"RecognizerTask image_keys must be among {sorted(TEXT_OF)}, got {sorted(unknown)}"
            )
        self.net = net
        self.criterion = check_criterion(loss, "recognizer") or nn.CTCLoss(blank=0, zero_infinity=True)
        self.image_keys = tuple(image_keys)
        self.sample_size = int(sample_size)

    def _inputs(self, batch: Batch) -> tuple[Tensor, list[str]]:
        images, used = word_images(batch, self.image_keys)
        texts: list[str] = []
        for k in used:
            t = batch.get(TEXT_OF[k])
            if t is None:
                raise ConfigError(f"the batch has {k!r} images but no {TEXT_OF[k]!r} strings to read")
            texts.extend(list(t))  # type: ignore[call-overload]
        return images, texts

    def _ctc(self, logits: Tensor, texts: list[str]) -> Tensor:
        targets, lengths = self.net.alphabet.encode(texts)
        log_probs = logits.float().log_softmax(-1)
        t, b, _ = log_probs.shape
        input_lengths = torch.full((b,), t, dtype=torch.long, device=log_probs.device)
        dev = log_probs.device
        loss: Tensor = self.criterion(log_probs, targets.to(dev), input_lengths, lengths.to(dev))
        return loss

    def phases(self) -> list[Phase]:
        return [Phase("recognize", "net")]

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"net": list(self.net.parameters())}

    def phase_loss(self, phase: Phase, batch: Batch, step: int) -> PhaseOutput:
        images, texts = self._inputs(batch)
        logits = self.net(images)
        loss = self._ctc(logits, texts)
        preds = self.net.alphabet.decode_greedy(logits.detach())
        acc = torch.tensor(sum(p == t for p, t in zip(preds, texts)) / len(texts))
        return PhaseOutput(loss, {"ctc": loss.detach(), "word_acc": acc})

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Tensor]:
        """``word_acc`` (exact, case-sensitive), ``ned`` (mean normalised edit distance), ``ctc``."""
        images, texts = self._inputs(batch)
        logits = self.net(images)
        preds = self.net.alphabet.decode_greedy(logits)
        n = len(texts)
        return {
            "word_acc": torch.tensor(sum(p == t for p, t in zip(preds, texts)) / n),
            "ned": torch.tensor(sum(normalized_edit_distance(p, t) for p, t in zip(preds, texts)) / n),
            "ctc": self._ctc(logits, texts),
        }

    @torch.no_grad()
    def sample(self, batch: Batch) -> Tensor:
        """The first images, each under a green (read exactly) or red (misread) bar."""
        images, texts = self._inputs(batch)
        images, texts = images[: self.sample_size], texts[: self.sample_size]
        preds = self.net.read(images)
        return marked_grid(images, [p == t for p, t in zip(preds, texts)])

    # export --------------------------------------------------------------------------------------
    def helper_payload(self) -> dict[str, Any]:
        return helper_payload(RECOGNIZER, self.net, alphabet=self.net.alphabet.chars)

    def export(self, path: Path) -> Path:
        """Write the recognizer helper checkpoint (called by the trainer for ``trainer.export_path``)."""
        return export_helper(self, path)
