"""Live plots of an active-learning session: pure functions ``plot_*(..., ax=None) -> ax``.

Every function draws into the matplotlib ``Axes`` it is given (clearing it
first, so a widget can redraw the same axes after each label) or into a new
one from :func:`new_axes`. Nothing here touches pyplot's global state or any
widget: figures are plain :class:`matplotlib.figure.Figure` objects on an Agg
canvas, and :func:`figure_to_png` turns one into PNG bytes for an
``ipywidgets.Image``. That works the same in JupyterLab, Notebook 7, VS Code
and Voila, and from a worker thread.

Colours are stable: a strategy keeps its colour in every plot, panel and
table (:data:`STRATEGY_COLORS`, :func:`strategy_color`); a line that is no
strategy (a stream, your own run) gets a colour that differs from the other
lines of its plot (:func:`strategy_colors`); and a class keeps its colour
across redraws (its position in ``session.classes``). Margins grow when a
label would be cut off (:func:`fit_margins`), and legends sit beside the axes
(right of them, or below for a small panel: ``legend="below"``), where they
cover no data.

The package is laid out by job: :mod:`~alwidgets.plots._figures` (axes,
PNG, colours), :mod:`~alwidgets.plots._projection` (the pool in 2-D),
:mod:`~alwidgets.plots._curves` (learning curves), :mod:`~alwidgets.plots._seeds`
(curves and ratios over seeds), :mod:`~alwidgets.plots._regression` (1-D
regression with its std bands), :mod:`~alwidgets.plots._boundary` (decision
regions) and :mod:`~alwidgets.plots._images` (images, numbered points); this
module re-exports their public names.
"""

from __future__ import annotations

from alwidgets.plots._boundary import class_order, plot_decision_boundary
from alwidgets.plots._curves import STOP_LABEL, mean_curve, plot_learning_curve
from alwidgets.plots._figures import (
    BASELINE_LABEL,
    DISTINCT_DELTA_E,
    EXTRA_COLORS,
    NEXT_QUERY_GID,
    NEXT_QUERY_LABEL,
    QUERY_GID,
    QUERY_LABEL,
    REGIONS_GID,
    STRATEGY_COLORS,
    UNCERTAINTY_GID,
    class_color,
    color_distance,
    figure_to_png,
    fit_margins,
    new_axes,
    pixel_to_data,
    strategy_color,
    strategy_colors,
)
from alwidgets.plots._images import NUMBERED_GID, number_points, plot_image
from alwidgets.plots._projection import Projection, make_projection, nearest_item, numeric_rows, pool_xy
from alwidgets.plots._regression import plot_regression
from alwidgets.plots._seeds import BAND_PERCENTILES, plot_ratio_curve, plot_seed_curves

__all__ = [
    "BAND_PERCENTILES",
    "BASELINE_LABEL",
    "DISTINCT_DELTA_E",
    "EXTRA_COLORS",
    "STRATEGY_COLORS",
    "NEXT_QUERY_GID",
    "NEXT_QUERY_LABEL",
    "QUERY_GID",
    "QUERY_LABEL",
    "REGIONS_GID",
    "STOP_LABEL",
    "UNCERTAINTY_GID",
    "Projection",
    "class_color",
    "class_order",
    "color_distance",
    "figure_to_png",
    "fit_margins",
    "make_projection",
    "mean_curve",
    "nearest_item",
    "numeric_rows",
    "NUMBERED_GID",
    "new_axes",
    "number_points",
    "pixel_to_data",
    "plot_decision_boundary",
    "plot_image",
    "plot_learning_curve",
    "plot_ratio_curve",
    "plot_seed_curves",
    "plot_regression",
    "pool_xy",
    "strategy_color",
    "strategy_colors",
]
