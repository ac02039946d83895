"""``python -m alwidgets serve|export``: see :mod:`alwidgets.serving.cli`."""

import sys

from alwidgets.serving.cli import main

if __name__ == "__main__":
    sys.exit(main())
