"""``python -m tsb.release``: see :mod:`tsb.release`."""

from tsb.release.cli import main

raise SystemExit(main())
