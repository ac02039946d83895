"""alwidgets: Jupyter widgets for interactive active learning on modAL.

Importing alwidgets makes modAL-python work on today's numpy, scikit-learn and
pandas (see :mod:`alwidgets._compat`).
"""

from . import _compat

_compat.apply()

from . import datasets, plots, sqlstore, strategies  # noqa: E402,F401  (sqlstore: the SQLite/PostgreSQL back end)
from ._learners import make_committee  # noqa: E402
from .baseline import RandomBaseline  # noqa: E402
from .comparison import Comparison  # noqa: E402
from .session import LabelingError, Session  # noqa: E402
from .stream import Stream  # noqa: E402
from .widgets import Labeler, views  # noqa: E402
from .widgets.comparison import StrategyComparison  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Session", "Stream", "LabelingError", "make_committee", "strategies", "datasets", "plots", "RandomBaseline", "Labeler", "views", "Comparison", "StrategyComparison"]
