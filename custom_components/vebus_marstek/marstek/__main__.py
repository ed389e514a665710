"""Entry point for ``python -m custom_components.vebus_marstek.marstek``."""

import sys

from .cli import main

sys.exit(main())
