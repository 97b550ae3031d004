"""``python -m tsb.edit``."""

import sys

from tsb.edit.cli import main

sys.exit(main())
