"""alwidgets: Jupyter widgets for interactive active learning on modAL.

Importing alwidgets makes modAL-python work on today's numpy, scikit-learn and
pandas (see :mod:`alwidgets._compat`).
"""

from . import _compat

_compat.apply()

from . import datasets, strategies  # noqa: E402
from ._learners import make_committee  # noqa: E402
from .session import LabelingError, Session  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Session", "LabelingError", "make_committee", "strategies", "datasets"]
