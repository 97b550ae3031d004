"""``python -m tsb.photobench``."""

import sys

from tsb.photobench.cli import main

sys.exit(main())
