"""Which network a loss term or the evaluation reads: one name per pretrained network, or a file.

A term's ``recognizer`` / ``network`` option and evaluate's ``judge`` take a short name of a
network that ships in a pip package, or the path of a helper checkpoint this project trained
(``python train.py experiment=recognizer`` / ``experiment=typeface``), for alphabets and styles the
packaged networks do not cover. Networks are built once per process and shared between terms.

| option | names | else |
|---|---|---|
| ``loss.recognition.recognizer`` | ``easyocr`` (EasyOCR English g2, the default) | a CRNN helper checkpoint |
| ``loss.<perceptual/texture/embedding>.network`` | ``imagenet_vgg16`` | a typeface helper checkpoint |
| ``judge`` (evaluate.py) | ``ppocr`` (PP-OCRv6, the default), ``easyocr`` | a CRNN helper checkpoint |
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from tsb.errors import ConfigError
from tsb.pretrained.helpers import RECOGNIZER, TYPEFACE, load_helper

_BUILT: dict[str, Any] = {}


def _easyocr() -> nn.Module:
    from tsb.pretrained.easyocr import EasyOCRRecognizer

    return EasyOCRRecognizer()


def _vgg16() -> nn.Module:
    from tsb.pretrained.vgg import ImageNetVGG16

    return ImageNetVGG16()


def _ppocr() -> Any:
    from tsb.pretrained.ppocr import PPOCRReader

    return PPOCRReader()


RECOGNIZERS: dict[str, Callable[[], nn.Module]] = {"easyocr": _easyocr}
FEATURE_NETWORKS: dict[str, Callable[[], nn.Module]] = {"imagenet_vgg16": _vgg16}
JUDGES: dict[str, Callable[[], Any]] = {"ppocr": _ppocr, "easyocr": _easyocr}


def _shared(name: str, build: Callable[[], Any]) -> Any:
    if name not in _BUILT:
        _BUILT[name] = build()
    return _BUILT[name]


def _pick(spec: str, names: dict[str, Callable[[], Any]], kind: str, option: str) -> Any:
    if spec in names:
        return _shared(spec, names[spec])
    if not Path(spec).expanduser().exists() and not (spec.endswith(".ckpt") or "/" in spec):
        raise ConfigError(
            f"{option}={spec!r} is neither a pretrained network ({', '.join(sorted(names))}) nor a "
            f"checkpoint file; choose one of those names or give the path of a {kind} checkpoint"
        )
    return load_helper(spec, kind)


def recognizer(spec: str) -> nn.Module:
    """The differentiable recognizer ``spec`` names (a packaged network or a CRNN checkpoint)."""
    return _pick(spec, RECOGNIZERS, RECOGNIZER, "loss.recognition.recognizer")  # type: ignore[no-any-return]


def feature_network(spec: str) -> nn.Module:
    """The feature network of the typeface-style terms (``imagenet_vgg16`` or a classifier checkpoint)."""
    return _pick(spec, FEATURE_NETWORKS, TYPEFACE, "loss.<term>.network")  # type: ignore[no-any-return]


def judge(spec: str) -> Any:
    """The reader that scores generated words in evaluate.py: ``read(images) -> list[str]``."""
    return _pick(spec, JUDGES, RECOGNIZER, "judge")
