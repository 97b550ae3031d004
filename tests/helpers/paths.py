"""Where the tests find the repository and the shared data (real word crops, a scene photo); the
tests that need the shared data skip without it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
REAL_WORDS = SHARED / "data" / "real-words"
SCENE = SHARED / "data" / "scenes" / "english.png"
