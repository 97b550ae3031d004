"""Where the project's configs live: the repository's ``conf/`` (composed by :mod:`tsb.configs`)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"
