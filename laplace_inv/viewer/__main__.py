"""``python -m laplace_inv.viewer``: the same as ``laplace-inv view``."""

import sys

from laplace_inv.viewer import main

sys.exit(main())
