"""``python -m alwidgets serve|export``: see :mod:`alwidgets.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
