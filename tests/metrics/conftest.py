"""Fixtures of the metrics tests: an empty torch hub cache, so no test can find or fetch weights."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch


@pytest.fixture
def empty_hub(tmp_path: Path) -> Iterator[Path]:
    """Point torch.hub at an empty folder for the test."""
    old = torch.hub.get_dir()
    hub = tmp_path / "hub"
    torch.hub.set_dir(str(hub))
    yield hub
    torch.hub.set_dir(old)
