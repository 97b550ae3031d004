"""``python -m tsb.publish``: the former name of ``python -m tsb.release`` (the same command).

See :mod:`tsb.release`.
"""

from __future__ import annotations

from collections.abc import Sequence

from tsb.release.cli import main as _release_main


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tsb.release``'s main under this name."""
    return _release_main(argv, prog="python -m tsb.publish")


if __name__ == "__main__":
    raise SystemExit(main())
