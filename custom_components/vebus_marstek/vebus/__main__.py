"""Entry point for ``python -m custom_components.vebus_marstek.vebus``."""

import sys

from .cli import main

sys.exit(main())
