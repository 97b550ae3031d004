"""``python -m tsb.demo``: the browser demo (:mod:`tsb.demo.server`)."""

import sys

from tsb.demo.server import main

sys.exit(main())
