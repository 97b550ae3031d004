"""TypefaceTask: train the VGG19-style typeface classifier on synthetic words (font id labels).

One phase (``classify``, parameter group ``net``): cross entropy (``cfg.loss``, by default
``torch.nn.CrossEntropyLoss``) of the classifier on the batch's ``style`` and ``target`` images
(the same font, two words), against ``font_id``. ``python train.py experiment=typeface``; at the
end the trainer calls :meth:`export`, which writes the helper checkpoint the typeface losses load
(``${paths.checkpoints_dir}/typeface.ckpt``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.utils import make_grid

from tsb.errors import ConfigError
from tsb.models.typeface_classifier import TypefaceClassifier
from tsb.pretrained.helpers import TYPEFACE, helper_payload
from tsb.pretrained.vgg import start_from_imagenet
from tsb.tasks.base import Batch, Phase, PhaseOutput, Task
from tsb.tasks.export import export_helper
from tsb.utils.image import to_unit


def check_criterion(loss: Any, experiment: str) -> nn.Module | None:
    """``cfg.loss`` for a helper task: a plain criterion, not the StyleBrush LossSet."""
    from tsb.losses.lossset import LossSet

    if isinstance(loss, LossSet) or (loss is not None and not callable(loss)):
        raise ConfigError(
            f"the {experiment} task needs its own criterion (loss={experiment}), not {type(loss).__name__}; "
            f"train it with `python train.py experiment={experiment}`"
        )
    return loss  # type: ignore[no-any-return]


def word_images(batch: Batch, keys: Sequence[str]) -> tuple[Tensor, list[str]]:
    """The images of ``keys`` present in the batch, concatenated, and which key each row came from."""
    images: list[Tensor] = []
    used: list[str] = []
    for k in keys:
        v = batch.get(k)
        if isinstance(v, Tensor):
            images.append(v)
            used.append(k)
    if not images:
        raise ConfigError(f"the batch has none of the image keys {list(keys)} (it has {sorted(batch)})")
    if len({tuple(x.shape[1:]) for x in images}) > 1:
        images = [
            F.interpolate(x, size=images[0].shape[-2:], mode="bilinear", align_corners=False) for x in images
        ]
    return torch.cat(images), used


def marked_grid(images: Tensor, correct: Sequence[bool], nrow: int = 4) -> Tensor:
    """Images in [-1, 1] with a green (right) or red (wrong) bar above each, as a (3, H, W) grid."""
    x = to_unit(images.detach().float().cpu())
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    bar = torch.zeros(x.shape[0], 3, 4, x.shape[-1])
    for i, ok in enumerate(correct):
        bar[i, 1 if ok else 0] = 1.0
    return make_grid(torch.cat([bar, x], dim=2), nrow=nrow, padding=2, pad_value=1.0)


class TypefaceTask(Task):
    """Font classification.

    Args:
        net: the classifier (built with ``init=imagenet``, its trunk is filled with the ImageNet
            VGG16 weights here: :func:`tsb.pretrained.vgg.start_from_imagenet`).
        loss: a criterion ``(logits, labels) -> scalar`` (``cfg.loss``); cross entropy when None.
        image_keys: batch keys of the images to classify (all carry the sample's ``font_id``).
        fonts: names of the fonts by id (recorded in the exported checkpoint), or a mapping of
            ``tsb.data.fonts.load_fonts`` arguments (``alphabet``, ``font_dirs``, ``system_fonts``,
            ``min_coverage``; the model config passes the data's) from which the list is made at
            export, the same list whose indices are the data's ``font_id``.
        sample_size: images in the sample grid.
    """

    def __init__(
        self,
        net: TypefaceClassifier,
        loss: nn.Module | None = None,
        image_keys: Sequence[str] = ("style", "target"),
        fonts: Sequence[str] | Mapping[str, Any] | None = None,
        sample_size: int = 16,
    ) -> None:
        super().__init__()
        self.net = start_from_imagenet(net)
        self.criterion = check_criterion(loss, "typeface") or nn.CrossEntropyLoss()
        self.image_keys = tuple(image_keys)
        self.fonts = fonts
        self.sample_size = int(sample_size)

    def _inputs(self, batch: Batch) -> tuple[Tensor, Tensor]:
        images, used = word_images(batch, self.image_keys)
        labels = batch.get("font_id")
        if not isinstance(labels, Tensor):
            raise ConfigError("the typeface classifier needs `font_id` labels: train it on data=synth")
        labels = labels.long().repeat(len(used))
        top = int(labels.max())
        if top >= self.net.num_classes:
            raise ConfigError(
                f"font id {top} does not fit model.net.num_classes={self.net.num_classes}; set it to at least "
                "the number of fonts `python -m tsb.data.fonts` lists"
            )
        return images, labels

    def phases(self) -> list[Phase]:
        return [Phase("classify", "net")]

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"net": list(self.net.parameters())}

    def phase_loss(self, phase: Phase, batch: Batch, step: int) -> PhaseOutput:
        images, labels = self._inputs(batch)
        logits = self.net(images)
        loss = self.criterion(logits.float(), labels)
        acc = (logits.argmax(1) == labels).float().mean()
        return PhaseOutput(loss, {"ce": loss.detach(), "acc": acc.detach()})

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Tensor]:
        """``acc`` (top-1), ``top5`` and ``ce`` (the trainer logs them as ``val/<name>``)."""
        images, labels = self._inputs(batch)
        logits = self.net(images).float()
        k = min(5, logits.shape[1])
        top5 = (logits.topk(k, dim=1).indices == labels[:, None]).any(1).float().mean()
        return {
            "acc": (logits.argmax(1) == labels).float().mean(),
            "top5": top5,
            "ce": F.cross_entropy(logits, labels),
        }

    @torch.no_grad()
    def sample(self, batch: Batch) -> Tensor:
        """The first images, each under a green (correct font) or red (wrong) bar."""
        images, labels = self._inputs(batch)
        images, labels = images[: self.sample_size], labels[: self.sample_size]
        pred = self.net(images).argmax(1)
        return marked_grid(images, (pred == labels).tolist())

    # export --------------------------------------------------------------------------------------
    def font_names(self) -> list[str] | None:
        """The font names by font id, when known."""
        if self.fonts is None:
            return None
        if isinstance(self.fonts, Mapping):
            from tsb.data.fonts import load_fonts
            from tsb.utils.alphabets import resolve_alphabet

            kw = dict(self.fonts)
            kw["alphabet"] = resolve_alphabet(str(kw.get("alphabet", "latin")))
            kw["font_dirs"] = tuple(kw.get("font_dirs") or ())
            return [f"{f.family} {f.style}" for f in load_fonts(**kw).fonts]
        return [str(f) for f in self.fonts]

    def helper_payload(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"num_classes": self.net.num_classes}
        names = self.font_names()
        if names is not None:
            extra["fonts"] = names
        return helper_payload(TYPEFACE, self.net, **extra)

    def export(self, path: Path) -> Path:
        """Write the typeface helper checkpoint (called by the trainer for ``trainer.export_path``)."""
        return export_helper(self, path)
