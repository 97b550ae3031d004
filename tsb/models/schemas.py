"""The networks' structured configs: each class's settings and defaults from its signature
(:func:`tsb.utils.schemas.class_schema`), registered in Hydra's ConfigStore as
``model/net/<module>`` (the network of ``tsb/models/<module>.py``). A model preset places them at
its nodes with its defaults list (``- net/split@net``: SplitBrushNet's settings at ``model.net``)
and holds only what differs. :mod:`tsb.configs` registers them with the others; the parameter
table (``python -m tsb.models.summary``) on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hydra.core.config_store import ConfigStore

from tsb.models.background import BackgroundNet
from tsb.models.baseline import UNetBaseline
from tsb.models.content_encoder import ContentEncoder
from tsb.models.discriminator import Discriminator
from tsb.models.generator import Generator
from tsb.models.layout import TextLayout
from tsb.models.recognizer import CRNN
from tsb.models.split import SplitBrushNet
from tsb.models.style_encoder import StyleEncoder
from tsb.models.stylebrush import StyleBrushNet
from tsb.models.typeface_classifier import TypefaceClassifier
from tsb.models.typeface_encoder import TypefaceEncoder
from tsb.models.unet import UNet
from tsb.utils.schemas import class_schema

#: ``group/name`` -> the network whose signature is the schema
NETWORK_SCHEMAS: dict[str, Callable[..., Any]] = {
    "model/net/stylebrush": StyleBrushNet,
    "model/net/style_encoder": StyleEncoder,
    "model/net/content_encoder": ContentEncoder,
    "model/net/generator": Generator,
    "model/net/discriminator": Discriminator,
    "model/net/split": SplitBrushNet,
    "model/net/background": BackgroundNet,
    "model/net/layout": TextLayout,
    "model/net/unet": UNet,
    "model/net/baseline": UNetBaseline,
    "model/net/typeface_classifier": TypefaceClassifier,
    "model/net/typeface_encoder": TypefaceEncoder,
    "model/net/recognizer": CRNN,
}

#: Keys built first (a schema's keys follow its class's signature otherwise): the split net's layout
#: before its text U-Net, the order its presets have always listed them in, so that a seed draws
#: the same initial weights
FIRST: dict[Callable[..., Any], tuple[str, ...]] = {SplitBrushNet: ("background", "layout", "text")}


def network_schema(cls: Callable[..., Any]) -> type:
    """A network's settings: its constructor's arguments, their types and defaults."""
    return class_schema(cls, first=FIRST.get(cls, ()))


def register_networks() -> None:
    """Put the network schemas in Hydra's ConfigStore (again is harmless)."""
    store = ConfigStore.instance()
    for path, cls in NETWORK_SCHEMAS.items():
        group, _, name = path.rpartition("/")
        store.store(group=group, name=name, node=network_schema(cls))
