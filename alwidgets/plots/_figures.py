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
from matplotlib.transforms import Bbox

from alwidgets import _learners
from alwidgets._learners import take_rows
from alwidgets._validation import InvalidParameterError

BASELINE_LABEL = "random (same budget)"
QUERY_LABEL = "asked now"  # the item on screen, which the person is labeling
QUERY_GID = "query"  # gids of artists that tests and widgets look up
NEXT_QUERY_LABEL = "model's next pick"  # where the latest model would ask next, when that is another item
NEXT_QUERY_GID = "next query"
UNCERTAINTY_GID = "uncertainty"
REGIONS_GID = "class regions"
_QUERY_COLOR = "#d62728"
_NEXT_QUERY_COLOR = "#3a3a3a"
_POOL_COLOR = "#a0a0a0"
_LABELED_COLOR = "#ff7f0e"
_MEAN_COLOR = "#1f77b4"

# The one colour map of strategies: a strategy has the same colour in every plot,
# panel title and table. The usual racers get the strongest colours.
STRATEGY_COLORS = {
    "random": "#7f7f7f",
    "least_confident": "#1f77b4",
    "margin": "#ff7f0e",
    "entropy": "#2ca02c",
    "vote_entropy": "#d62728",
    "consensus_entropy": "#9467bd",
    "max_disagreement": "#8c564b",
    "expected_error_reduction": "#e377c2",
    "information_density": "#bcbd22",
    "ranked_batch": "#17becf",
    "cluster_diversity": "#393b79",
    "representative": "#637939",
    "transfer_uncertainty": "#1b9e77",
    "atlas": "#7b4173",
    "transfer_representative": "#e7ba52",
    "max_std": "#a6761d",
    "min_max_margin": "#000080",
    # multi-label strategies (alwidgets.strategies.multilabel)
    "svm_binary_minimum": "#d95f02",
    "mean_max_loss": "#1a9850",
    "max_loss": "#e7298a",
    "min_confidence": "#6baed6",
    "avg_confidence": "#cab2d6",
    "max_score": "#8dd3c7",
    "avg_score": "#fdb462",
    "you": "#000000",
}
# Lines that are no strategy (a stream, a model of your own) take the first of these
# that is far enough from every other colour of the same plot.
EXTRA_COLORS = ["#f0027f", "#00a08a", "#6a3d9a", "#b15928", "#e6ab02", "#a6cee3", "#fb9a99",
                "#00441b", "#4d004b"]
# Colours closer than this (CIE76 distance in Lab) are hard to tell apart in a thin line.
DISTINCT_DELTA_E = 25.0
_BASELINE_COLOR = STRATEGY_COLORS["random"]  # the dashed "random (same budget)" line is random sampling

_CLASS_COLORS = [to_rgba(c) for c in ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                                       "#393b79", "#bcbd22", "#17becf")]

_MARGINS_INCHES = {"left": 0.62, "right": 0.15, "bottom": 0.5, "top": 0.32}
_FIT_PAD_PIXELS = 3  # room left around labels when a margin grows to fit them
# Legends sit beside the axes (:func:`_legend_outside`), where they cover no data; see-through all the same.
_LEGEND = {"fontsize": 7, "framealpha": 0.6, "borderpad": 0.35, "labelspacing": 0.3, "handletextpad": 0.4}
_LEGEND_GAP = 0.02  # between the axes' right edge and the legend, in axes widths


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
        raise InvalidParameterError(
            f"ax must be a matplotlib Axes (for example from alwidgets.plots.new_axes()); got {ax!r}")
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


LEGEND_PLACES = ("right", "below")


def _legend_place(legend) -> str | None:
    """Where a plot's ``legend`` argument puts the legend: "right", "below", or None for no legend."""
    if legend is True:
        return "right"
    if legend is False or legend is None:
        return None
    if legend not in LEGEND_PLACES:
        raise InvalidParameterError(f"legend must be True, False, 'right' or 'below'; got {legend!r}")
    return legend


def _legend_outside(ax: Axes, handles=None, ncol: int | None = None, where: str = "right"):
    """The legend beside the axes, where it covers no data, wherever the data is.

    ``"right"``: right of the axes, top-aligned with them, in one column (two
    past 16 entries). ``"below"``: along the figure's bottom edge, in rows,
    for a small panel whose plot should keep its width. :func:`fit_margins`
    widens the right or bottom margin to make room for it, so the axes shrink
    rather than the legend being cut off or covering the axis labels.
    """
    given = {} if handles is None else {"handles": handles}
    count = len(handles) if handles is not None else len(ax.get_legend_handles_labels()[0])
    if where == "below":
        legend = ax.legend(**given, loc="lower center", bbox_to_anchor=(0.5, 0.0), bbox_transform=ax.figure.transFigure,
                           borderaxespad=0.2, ncol=ncol or (3 if count <= 6 else 4), **_LEGEND)
    else:
        legend = ax.legend(**given, loc="upper left", bbox_to_anchor=(1 + _LEGEND_GAP, 1.0), borderaxespad=0.0,
                           ncol=ncol or (2 if count > 16 else 1), **_LEGEND)
    legend._alwidgets_place = where
    return legend


def figure_to_png(fig_or_ax, dpi: float | None = None) -> bytes:
    """Render a figure, or the figure of an ``Axes``, to PNG bytes (e.g. for ``ipywidgets.Image``).

    An opaque figure at its own dpi is encoded as RGB with light compression:
    a third faster than ``savefig`` for a live plot, and the bytes are as
    small within a few percent.
    """
    fig = fig_or_ax.figure if isinstance(fig_or_ax, Axes) else fig_or_ax
    if not isinstance(fig, Figure):
        raise InvalidParameterError(f"fig_or_ax must be a matplotlib Figure or Axes; got {type(fig_or_ax).__name__}")
    buffer = io.BytesIO()
    opaque = fig.get_facecolor()[3] == 1
    if (dpi is None or dpi == fig.dpi) and opaque and isinstance(fig.canvas, FigureCanvasAgg):
        from PIL import Image

        _draw_fitted(fig)
        rgba = np.asarray(fig.canvas.buffer_rgba())
        Image.fromarray(rgba[:, :, :3]).save(buffer, format="png", compress_level=3)
    else:
        if isinstance(fig.canvas, FigureCanvasAgg):
            _draw_fitted(fig)
        fig.savefig(buffer, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return buffer.getvalue()


def _draw_fitted(fig: Figure, rounds: int = 3) -> None:
    """Draw the figure, growing its margins until nothing sticks out (new room can change the ticks)."""
    fig.canvas.draw()
    for _ in range(rounds):
        if not fit_margins(fig):
            return
        fig.canvas.draw()


def fit_margins(fig: Figure) -> bool:
    """Widen the figure's margins wherever a tick label, axis label or title sticks out; True if any moved.

    Margins only grow, so a live plot settles after a frame or two and does not
    jitter as its tick labels change. Needs a drawn figure (``fig.canvas.draw()``).
    """
    signature = _label_signature(fig)
    if getattr(fig, "_alwidgets_fitted", None) == signature:
        return False  # the same texts as when they last fitted: measuring them again would only cost time
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    params = fig.subplotpars
    margins = {"left": params.left * width, "right": (1 - params.right) * width,
               "bottom": params.bottom * height, "top": (1 - params.top) * height}
    need = dict(margins)
    pad = _FIT_PAD_PIXELS
    decorations = _label_signature(fig, legends=False)
    for ax in fig.axes:
        outer = _decorations_box(ax, renderer, decorations) if ax.get_visible() else None
        if outer is None:
            continue
        legend = ax.get_legend()
        if legend is not None:
            # A legend beside the axes needs room too; a hidden one keeps it (a panel that hides the legend
            # its neighbour shows keeps the same size of plot). One along the figure's bottom edge needs the
            # axis labels above it.
            box = legend.get_window_extent(renderer)
            if getattr(legend, "_alwidgets_place", None) == "below":
                need["bottom"] = max(need["bottom"], margins["bottom"] + box.y1 + pad - outer.y0)
            else:
                outer = Bbox.union([outer, box])
        # How far the labels stick out of the figure (or come closer than the pad to its edge), per side.
        need["left"] = max(need["left"], margins["left"] + pad - outer.x0)
        need["bottom"] = max(need["bottom"], margins["bottom"] + pad - outer.y0)
        need["right"] = max(need["right"], margins["right"] + outer.x1 - (width - pad))
        need["top"] = max(need["top"], margins["top"] + outer.y1 - (height - pad))
    grown = {side: need[side] for side in margins if need[side] > margins[side] + 0.5}
    if not grown or need["left"] + need["right"] >= 0.8 * width or need["bottom"] + need["top"] >= 0.8 * height:
        # Nothing sticks out, or no room to grow (a tiny figure keeps its margins rather than losing its plot).
        fig._alwidgets_fitted = signature
        return False
    fig.subplots_adjust(left=need["left"] / width, right=1 - need["right"] / width,
                        bottom=need["bottom"] / height, top=1 - need["top"] / height)
    return True


def _decorations_box(ax: Axes, renderer, signature: tuple):
    """The box of ``ax`` with its titles, axis labels and tick labels, measured again only when they changed.

    Only the decorations: the artists inside are clipped to the axes anyway.
    Measuring them is most of the cost of :func:`fit_margins`, and a legend
    whose texts change at each label ("labeled (8)") must not bring it back.
    """
    cached = getattr(ax, "_alwidgets_decorations", None)
    if cached is not None and cached[0] == signature:
        return cached[1]
    outer = ax.get_tightbbox(renderer, bbox_extra_artists=[])
    ax._alwidgets_decorations = (signature, outer)
    return outer


def _label_signature(fig: Figure, legends: bool = True) -> tuple:
    """What decides how far the labels of a drawn figure reach: its size, margins and texts (and legends')."""
    texts = []
    for ax in fig.axes:
        legend = ax.get_legend() if legends else None
        texts.append((ax.get_visible(), ax.get_position(original=True).bounds, ax.get_title(), ax.get_xlabel(),
                      ax.get_ylabel(),
                      tuple(t.label1.get_text() for t in ax.xaxis.majorTicks if t.label1.get_visible()),
                      tuple(t.label1.get_text() for t in ax.yaxis.majorTicks if t.label1.get_visible()),
                      ax.xaxis.offsetText.get_text(), ax.yaxis.offsetText.get_text(),
                      None if legend is None else tuple(t.get_text() for t in legend.get_texts())))
    params = fig.subplotpars
    return (fig.bbox.width, fig.bbox.height, params.left, params.right, params.bottom, params.top, tuple(texts))


def pixel_to_data(ax: Axes, x_pixel: float, y_pixel: float) -> tuple[float, float]:
    """Data coordinates of a point clicked on the PNG of ``ax``'s figure.

    Pixels count from the top-left corner of the image, as browsers report
    clicks; the PNG must have been rendered at the figure's own dpi.
    """
    height = ax.figure.bbox.height
    x, y = ax.transData.inverted().transform((x_pixel, height - y_pixel))
    return float(x), float(y)


def strategy_color(name: str) -> str:
    """The colour of a strategy: the same in every plot, every panel and every run.

    A name that is no strategy gets one of :data:`EXTRA_COLORS`, from a hash of
    the name; :func:`strategy_colors` makes sure it differs from the other
    lines of its plot.
    """
    name = str(name)
    if name in STRATEGY_COLORS:
        return STRATEGY_COLORS[name]
    return EXTRA_COLORS[zlib.crc32(name.encode()) % len(EXTRA_COLORS)]


def strategy_colors(names) -> dict[str, str]:
    """A colour for each of ``names`` drawn together: strategies their own, other lines distinct from all.

    Lines that are no strategy take, in the order of their names, the first
    colour of :data:`EXTRA_COLORS` (starting from their hash) at least
    :data:`DISTINCT_DELTA_E` from every colour already in the plot, so a line
    named "stream" is never a second blue next to least-confident's.
    """
    names = [str(n) for n in names]
    colors = {n: STRATEGY_COLORS[n] for n in names if n in STRATEGY_COLORS}
    taken = [_lab(c) for c in colors.values()] + [_lab(_BASELINE_COLOR)]
    for name in sorted(set(names) - set(colors)):
        start = zlib.crc32(name.encode()) % len(EXTRA_COLORS)
        ordered = EXTRA_COLORS[start:] + EXTRA_COLORS[:start]
        free = [c for c in ordered if c not in colors.values()]
        choice = next((c for c in free if all(_delta_e(_lab(c), t) >= DISTINCT_DELTA_E for t in taken)),
                      max(free or ordered, key=lambda c: min((_delta_e(_lab(c), t) for t in taken), default=0.0)))
        colors[name] = choice
        taken.append(_lab(choice))
    return {n: colors[n] for n in names}


def color_distance(a, b) -> float:
    """How different two colours look: the CIE76 distance of their Lab values (above ~25: easy to tell apart)."""
    return _delta_e(_lab(a), _lab(b))


def _lab(color) -> np.ndarray:
    """CIE Lab (D65) of a matplotlib colour."""
    rgb = np.array(to_rgba(color)[:3])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


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
            raise InvalidParameterError(f"query must be a pool index or a list of pool indices; got {query!r}")
        if not 0 <= int(q) < n_pool:  # an index outside the pool: an IndexError, as for Session.record
            raise IndexError(f"query index {q} is out of range for a pool of {n_pool} items (0 to {n_pool - 1})")
        out.append(int(q))
    return out


def _query_handle() -> Line2D:
    return Line2D([], [], linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                  markeredgecolor=_QUERY_COLOR, markeredgewidth=2, label=QUERY_LABEL)


def _next_query_handle() -> Line2D:
    return Line2D([], [], linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                  markeredgecolor=_NEXT_QUERY_COLOR, markeredgewidth=1.5, label=NEXT_QUERY_LABEL)


def _next_queries(next_query, queries: list[int], n_pool: int) -> list[int]:
    """The model's next picks that are not the items asked now (those are marked as asked)."""
    return [q for q in _check_query(next_query, n_pool) if q not in queries]


def _display_rows(n_pool: int, max_points: int) -> np.ndarray:
    """A fixed subset of the pool to draw (and, beyond 2-D, to predict on): the same at every redraw."""
    if n_pool <= max_points:
        return np.arange(n_pool)
    return np.sort(np.random.RandomState(0).choice(n_pool, max_points, replace=False))
