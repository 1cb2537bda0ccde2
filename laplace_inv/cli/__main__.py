"""``python -m laplace_inv.cli``."""

import sys

from laplace_inv.cli import main

sys.exit(main())
