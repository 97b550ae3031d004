"""Fixtures of the data tests: a small synthetic module and effect settings."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tsb.data.render import EffectConfig
from tsb.data.synth import SynthData


def all_effects() -> dict[str, Any]:
    """Every effect at probability 1 (the hardest case for the pair invariants)."""
    return {f.name: 1.0 for f in dataclasses.fields(EffectConfig) if f.name.startswith("p_")}


def no_effects() -> dict[str, Any]:
    """Plain text: solid fill on a solid background, no geometry or degradation."""
    eff: dict[str, Any] = {f.name: 0.0 for f in dataclasses.fields(EffectConfig) if f.name.startswith("p_")}
    eff.update(fill={"solid": 1.0}, background={"solid": 1.0}, jitter=0.0)
    return eff


@pytest.fixture(scope="session")
def synth_all() -> SynthData:
    return SynthData(seed=7, train_size=1000, val_size=8, batch_size=4, effects=all_effects())


@pytest.fixture(scope="session")
def synth_default() -> SynthData:
    return SynthData(seed=3, train_size=1000, val_size=8, batch_size=4)
