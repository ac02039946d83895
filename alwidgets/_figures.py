"""Figures, colours and small helpers shared by the plots in :mod:`alwidgets.plots`.

Nothing here uses pyplot's global state or any widget: a figure is a plain
``matplotlib.figure.Figure`` on an Agg canvas.
"""

from __future__ import annotations

import io
import zlib

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from . import _learners
from ._learners import take_rows

BASELINE_LABEL = "random (same budget)"
QUERY_LABEL = "next query"
QUERY_GID = "query"  # gids of artists that tests and widgets look up
UNCERTAINTY_GID = "uncertainty"
REGIONS_GID = "class regions"
_QUERY_COLOR = "#d62728"
_POOL_COLOR = "#a0a0a0"
_LABELED_COLOR = "#ff7f0e"
_MEAN_COLOR = "#1f77b4"
_BASELINE_COLOR = "#222222"

# Strategies named in alwidgets.strategies get fixed, distinct colours; any other
# name gets one from a hash of the name, the same in every plot and every run.
_STRATEGY_COLORS = {
    "random": "#8c8c8c",
    "least_confident": "#1f77b4",
    "margin": "#ff7f0e",
    "entropy": "#2ca02c",
    "vote_entropy": "#d62728",
    "consensus_entropy": "#9467bd",
    "max_disagreement": "#8c564b",
    "expected_error_reduction": "#e377c2",
    "information_density": "#bcbd22",
    "ranked_batch": "#17becf",
    "cluster_diversity": "#7f7f00",
    "max_std": "#1f77b4",
    "you": "#000000",
}
_EXTRA_COLORS = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1"]

_CLASS_COLORS = [to_rgba(c) for c in ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                                       "#393b79", "#bcbd22", "#17becf")]

_MARGINS_INCHES = {"left": 0.62, "right": 0.15, "bottom": 0.5, "top": 0.32}
_LEGEND = {"fontsize": 7, "framealpha": 0.85, "borderpad": 0.35, "labelspacing": 0.3, "handletextpad": 0.4}


# ----------------------------------------------------------------------------- figures


def new_axes(figsize: tuple[float, float] = (5, 3.5), dpi: int = 100) -> Axes:
    """A fresh ``Axes`` on its own Agg figure, with fixed margins.

    Fixed margins (not a layout engine) keep redraws fast and keep the picture
    from shifting between frames of a live plot.
    """
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    width, height = figsize
    fig.subplots_adjust(
        left=_MARGINS_INCHES["left"] / width,
        right=1 - _MARGINS_INCHES["right"] / width,
        bottom=_MARGINS_INCHES["bottom"] / height,
        top=1 - _MARGINS_INCHES["top"] / height,
    )
    return fig.add_subplot()


def _prepare(ax: Axes | None, kind: str, figsize: tuple[float, float] = (5, 3.5)) -> Axes:
    """A new Axes, or ``ax`` emptied for a redraw.

    Redrawing the same kind of plot removes only what the last call drew, so
    the axis ticks survive: rebuilding them, as ``ax.clear()`` does, is most
    of the cost of a small redraw. Anything else gets a full ``ax.clear()``.
    """
    if ax is None:
        ax = new_axes(figsize=figsize)
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (for example from alwidgets.plots.new_axes()); got {ax!r}")
    elif getattr(ax, "_alwidgets_plot", None) == kind:
        for artist in [*ax.lines, *ax.collections, *ax.images, *ax.texts, *ax.patches, *ax.artists]:
            artist.remove()
        if ax.legend_ is not None:
            ax.legend_.remove()
        ax.relim()
        ax.set_autoscale_on(True)
    else:
        ax.clear()
    ax._alwidgets_plot = kind
    return ax


def figure_to_png(fig_or_ax, dpi: float | None = None) -> bytes:
    """Render a figure, or the figure of an ``Axes``, to PNG bytes (e.g. for ``ipywidgets.Image``).

    An opaque figure at its own dpi is encoded as RGB with light compression:
    a third faster than ``savefig`` for a live plot, and the bytes are as
    small within a few percent.
    """
    fig = fig_or_ax.figure if isinstance(fig_or_ax, Axes) else fig_or_ax
    if not isinstance(fig, Figure):
        raise TypeError(f"fig_or_ax must be a matplotlib Figure or Axes; got {type(fig_or_ax).__name__}")
    buffer = io.BytesIO()
    opaque = fig.get_facecolor()[3] == 1
    if (dpi is None or dpi == fig.dpi) and opaque and isinstance(fig.canvas, FigureCanvasAgg):
        from PIL import Image

        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        Image.fromarray(rgba[:, :, :3]).save(buffer, format="png", compress_level=3)
    else:
        fig.savefig(buffer, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return buffer.getvalue()


def pixel_to_data(ax: Axes, x_pixel: float, y_pixel: float) -> tuple[float, float]:
    """Data coordinates of a point clicked on the PNG of ``ax``'s figure.

    Pixels count from the top-left corner of the image, as browsers report
    clicks; the PNG must have been rendered at the figure's own dpi.
    """
    height = ax.figure.bbox.height
    x, y = ax.transData.inverted().transform((x_pixel, height - y_pixel))
    return float(x), float(y)


def strategy_color(name: str) -> str:
    """The colour of a strategy: the same in every plot, every panel and every run."""
    name = str(name)
    if name in _STRATEGY_COLORS:
        return _STRATEGY_COLORS[name]
    return _EXTRA_COLORS[zlib.crc32(name.encode()) % len(_EXTRA_COLORS)]


def class_color(position: int, n_classes: int) -> tuple:
    """The colour of the class at ``position`` of ``n_classes``: tab10 (tab20 beyond ten classes).

    tab10's grey is swapped for indigo: grey means "unlabeled" and "uncertain" here.
    """
    if n_classes <= 10:
        return _CLASS_COLORS[position % len(_CLASS_COLORS)]
    cmap = colormaps["tab20"]
    return cmap(position % cmap.N)


def model_view(session):
    """``(snapshot, labels, base_X, base_y)`` of one model version, read once so a plot is self-consistent.

    ``labels`` are the ``{pool index: label}`` the model was taught and
    ``base_X, base_y`` the training data it came with (or None): the plot
    shows exactly what the model it draws knew, whatever was clicked since.
    """
    snapshot = session.snapshot
    labels = snapshot.label_dict()
    X, y = _learners.training_data(snapshot.learner)
    n_base = 0 if y is None else len(y) - len(labels)
    if n_base <= 0:
        return snapshot, labels, None, None
    return snapshot, labels, take_rows(X, np.arange(n_base)), np.asarray(y)[:n_base]


def _note(ax: Axes, text: str) -> None:
    ax.text(
        0.02, 0.97, text, transform=ax.transAxes, ha="left", va="top", fontsize=8, color="#333333",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#bbbbbb", "alpha": 0.9},
        zorder=10,
    )


def _check_query(query, n_pool: int) -> list[int]:
    if query is None:
        return []
    out = []
    for q in np.atleast_1d(np.asarray(query, dtype=object)).tolist():
        if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, np.integer)):
            raise TypeError(f"query must be a pool index or a list of pool indices; got {query!r}")
        if not 0 <= int(q) < n_pool:
            raise IndexError(f"query index {q} is out of range for a pool of {n_pool} items (0 to {n_pool - 1})")
        out.append(int(q))
    return out


def _query_handle() -> Line2D:
    return Line2D([], [], linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                  markeredgecolor=_QUERY_COLOR, markeredgewidth=2, label=QUERY_LABEL)


def _display_rows(n_pool: int, max_points: int) -> np.ndarray:
    """A fixed subset of the pool to draw (and, beyond 2-D, to predict on): the same at every redraw."""
    if n_pool <= max_points:
        return np.arange(n_pool)
    return np.sort(np.random.RandomState(0).choice(n_pool, max_points, replace=False))
