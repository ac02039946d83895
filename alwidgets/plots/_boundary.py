"""The decision-boundary plot: class regions, uncertainty, labeled points, the item asked and the model's next pick."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from alwidgets import _learners
from alwidgets._learners import take_rows
from alwidgets._validation import InvalidParameterError, check_int, to_plain
from alwidgets.plots._figures import (
    _NEXT_QUERY_COLOR,
    _POOL_COLOR,
    _QUERY_COLOR,
    NEXT_QUERY_GID,
    NEXT_QUERY_LABEL,
    QUERY_GID,
    QUERY_LABEL,
    REGIONS_GID,
    UNCERTAINTY_GID,
    _check_query,
    _display_rows,
    _legend_outside,
    _legend_place,
    _next_queries,
    _next_query_handle,
    _note,
    _prepare,
    _query_handle,
    class_color,
    model_view,
)
from alwidgets.plots._projection import PoolView, Projection, pool_xy

__all__ = ["class_order", "plot_decision_boundary"]




def class_order(session, view=None) -> list:
    """The classes of a session in the order of their colours (``class_color(position, len(order))``).

    The session's declared classes first, then any the model or the labels
    add, so a class keeps its colour from one redraw to the next.
    """
    snapshot, taught, _, base_y = view if view is not None else model_view(session)
    classes = [to_plain(c) for c in session.classes] if session.classes is not None else []
    if snapshot.fitted:
        learned = _learners.proba_classes(snapshot.learner)
        classes += [c for c in map(to_plain, learned if learned is not None else []) if c not in classes]
    seen = list(taught.values()) + ([] if base_y is None else list(np.asarray(base_y).ravel()))
    classes += sorted({to_plain(c) for c in seen} - set(classes), key=str)
    return classes


def _predict_classes(learner, X, classes: list) -> tuple[np.ndarray, np.ndarray | None]:
    """Position in ``classes`` of each predicted class, and 1 - max probability (None without probabilities)."""
    position = {c: k for k, c in enumerate(classes)}
    try:
        proba = np.asarray(learner.predict_proba(X), dtype=float)
    except (AttributeError, NotImplementedError):
        proba = None
    if proba is not None:
        columns = _learners.proba_classes(learner)
        columns = list(columns) if columns is not None else classes[: proba.shape[1]]
        column_position = np.array([position.get(to_plain(c), 0) for c in columns], dtype=int)
        return column_position[np.argmax(proba, axis=1)], 1.0 - proba.max(axis=1)
    predicted = np.asarray(learner.predict(X))
    values, inverse = np.unique(predicted, return_inverse=True)
    value_position = np.array([position.get(to_plain(v), 0) for v in values], dtype=int)
    return value_position[inverse.ravel()], None


def _grid(P: np.ndarray, resolution: int):
    low, high = P.min(axis=0), P.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - 0.06 * span, high + 0.06 * span
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    return xx, yy, (float(low[0]), float(high[0]), float(low[1]), float(high[1]))


def _fill(view: PoolView, projection: Projection, P: np.ndarray, shown: np.ndarray):
    """A nearest-neighbour index over the shown pool items, and how far from all of them a cell stays blank."""
    if view.fill is None or view.fill[0] is not projection or not np.array_equal(view.fill[1], shown):
        from scipy.spatial import cKDTree  # here: a page that draws only a learning curve needs no scipy

        tree = cKDTree(P[shown])
        spacing = float(np.median(tree.query(P[shown], k=2)[0][:, 1])) if len(shown) > 1 else 0.0
        diagonal = float(np.linalg.norm(P.max(axis=0) - P.min(axis=0))) or 1.0
        view.fill = (projection, shown, tree, max(4 * spacing, 0.06 * diagonal))
    return view.fill[2], view.fill[3]


def _boundary_on_grid(session, learner, view, projection, P, shown, xx, yy, classes, neighbors: int):
    """The predicted class position, the uncertainty and the blank cells of every grid cell.

    2-D data: the model predicts on the grid itself. More features: a grid
    point stands for many inputs, so the model predicts on the shown pool
    items and a cell takes the majority class and the mean uncertainty of its
    ``neighbors`` nearest items in the projection.
    """
    cells = np.column_stack([xx.ravel(), yy.ravel()])
    if projection.kind == "identity":
        X_cells = cells
        if hasattr(session.X_pool, "columns"):
            import pandas as pd

            X_cells = pd.DataFrame(cells, columns=session.X_pool.columns)
        index, uncertainty = _predict_classes(learner, X_cells, classes)
        return index, uncertainty, np.zeros(len(cells), dtype=bool)
    tree, radius = _fill(view, projection, P, shown)
    item_index, item_uncertainty = _predict_classes(learner, take_rows(session.X_pool, shown), classes)
    k = min(neighbors, len(shown))
    distance, nearest = tree.query(cells, k=k)
    distance, nearest = distance.reshape(len(cells), k), nearest.reshape(len(cells), k)
    n_classes = max(len(classes), int(item_index.max()) + 1)
    cell_class = np.arange(len(cells))[:, None] * n_classes + item_index[nearest]
    votes = np.bincount(cell_class.ravel(), minlength=len(cells) * n_classes).reshape(len(cells), n_classes)
    index = votes.argmax(axis=1)
    uncertainty = item_uncertainty[nearest].mean(axis=1) if item_uncertainty is not None else None
    return index, uncertainty, distance[:, 0] > radius


def _draw_regions(ax, xx, yy, index, uncertainty, blank, colors, extent, smooth: bool) -> None:
    """The uncertainty heatmap, the class regions over it, and (for 2-D data) the boundary lines.

    2-D data get smooth filled contours, one per class. The nearest-item fill
    of a projection is blocky by nature; it is drawn as one image of class
    colours, which costs the same for 10 classes as for 2.
    """
    shape = xx.shape
    mask = blank.reshape(shape) if blank.any() else None

    def masked(values):
        return values if mask is None else np.ma.masked_array(values, mask)

    if uncertainty is not None:
        worst = 1 - 1 / len(colors)
        ax.imshow(masked(uncertainty.reshape(shape)), origin="lower", extent=extent, aspect="auto", cmap="Greys",
                  vmin=0, vmax=1.5 * worst, interpolation="bilinear" if smooth else "nearest", zorder=0,
                  gid=UNCERTAINTY_GID)
    index = index.reshape(shape)
    if not smooth:
        rgba = np.asarray(colors, dtype=float)[index]
        rgba[..., 3] = 0.38 if mask is None else np.where(mask, 0.0, 0.38)
        ax.imshow(rgba, origin="lower", extent=extent, aspect="auto", interpolation="nearest", zorder=1,
                  gid=REGIONS_GID)
        return
    present = np.unique(index)
    line = {"colors": "#333333", "linewidths": 0.8, "alpha": 0.7, "zorder": 1.5}
    if len(present) <= 2:
        # Two classes: one filled contour of "is it the second class" and its 0.5 line.
        second = (index == present[-1]).astype(float)
        regions = ax.contourf(xx, yy, second, levels=[-0.5, 0.5, 1.5],
                              colors=[colors[present[0]], colors[present[-1]]], alpha=0.38, zorder=1)
        regions.set_gid(REGIONS_GID)
        if len(present) == 2:
            ax.contour(xx, yy, second, levels=[0.5], **line)
        return
    for k in present:
        # One filled region per class: contouring the class number itself would
        # paint thin bands of the classes numbered in between at every boundary.
        inside = (index == k).astype(float)
        regions = ax.contourf(xx, yy, inside, levels=[0.5, 1.5], colors=[colors[k]], alpha=0.38, zorder=1)
        regions.set_gid(REGIONS_GID)
        ax.contour(xx, yy, inside, levels=[0.5], **line)


def plot_decision_boundary(
    session,
    ax: Axes | None = None,
    *,
    query=None,
    next_query=None,
    projection: Projection | None = None,
    resolution: int = 80,
    max_points: int = 2000,
    neighbors: int = 10,
    legend: bool | str = True,
) -> Axes:
    """Class regions, the model's uncertainty under them, the labeled points and the item asked.

    For 2-D data the model predicts on a ``resolution`` x ``resolution`` grid:
    each class's region is filled in its colour over a grey heatmap of the
    uncertainty ``1 - max probability`` (darker = less sure), with the
    boundary drawn as a thin line. Data with more features are drawn in a 2-D
    projection (PCA fitted once on the pool and cached per session, or the
    ``projection`` given). A point of that plane stands for many inputs, so
    there the model predicts on the pool items themselves, and each grid cell
    shows (as a blocky image) the majority class and the mean uncertainty of
    its ``neighbors`` nearest items in the projection; cells far from every
    item stay blank. Overlapping regions in a projection mean the classes
    overlap in that view, not that the model mixes them up.
    Labeled points are coloured by label, the unlabeled pool is grey, the
    item asked now (``query``) is ringed in red and, when the latest model
    would ask another one next (``next_query``), that one has a dashed dark
    ring, named apart. Before the model is fitted only the points are drawn.

    Parameters
    ----------
    session : Session
        A classifier's session over a numeric pool with at least 2 features.
    ax : Axes, optional
        Cleared and reused; a new one when None.
    query : int or list of int, optional
        Pool index(es) of the item(s) asked now (on screen), ringed in red.
    next_query : int or list of int, optional
        Pool index(es) the latest model would ask next; drawn only where they
        are not asked now.
    projection : Projection, optional
        From :func:`make_projection`; give the same one to every plot of a pool.
    resolution : int, default=80
        Grid cells per axis.
    max_points : int, default=2000
        At most this many pool items are drawn (a fixed subset; labeled items
        and the query always are).
    neighbors : int, default=10
        Beyond 2-D, how many projected pool items decide a grid cell.
    legend : bool or {"right", "below"}, default=True
        Beside the axes, where it covers no point: right of them (True), or
        along the figure's bottom edge ("below", for a small panel); False: none.
    """
    if not session.is_classifier:
        raise InvalidParameterError(
            "plot_decision_boundary needs a classifier's session; for a regressor use plot_regression")
    resolution = check_int(resolution, "resolution (grid cells per axis)", 2)
    legend_place = _legend_place(legend)
    projection, P, view = pool_xy(session, projection)
    queries = _check_query(query, len(P))
    next_queries = _next_queries(next_query, queries, len(P))
    ax = _prepare(ax, "decision_boundary")
    model = model_view(session)
    snapshot, taught = model[0], model[1]
    classes = class_order(session, model)
    colors = [class_color(k, max(len(classes), 2)) for k in range(max(len(classes), 2))]
    xx, yy, extent = _grid(P, resolution)
    ax.set_xlim(extent[0], extent[1])  # fixed limits first: no autoscaling as each artist is added
    ax.set_ylim(extent[2], extent[3])
    ax.locator_params(nbins=5)  # fewer tick labels: text is most of the cost of drawing
    shown = _display_rows(len(P), max_points)

    fitted = snapshot.fitted
    if fitted:
        index, uncertainty, blank = _boundary_on_grid(session, snapshot.learner, view, projection, P, shown, xx, yy, classes, neighbors)
        _draw_regions(ax, xx, yy, index, uncertainty, blank, colors, extent, smooth=projection.kind == "identity")

    labeled = np.array(sorted(taught), dtype=int)
    unlabeled = np.setdiff1d(shown, labeled)
    ax.scatter(P[unlabeled, 0], P[unlabeled, 1], s=8, color=_POOL_COLOR, alpha=0.85, linewidths=0,
               label="unlabeled", zorder=2)
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=3.5, color=_POOL_COLOR, label="unlabeled")]
    for k, c in enumerate(classes):
        rows = [i for i in labeled if taught[i] == c]
        if rows:
            ax.scatter(P[rows, 0], P[rows, 1], s=34, color=colors[k], edgecolors="black", linewidths=0.7,
                       label=f"label {c}", zorder=4)
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=5.5, markerfacecolor=colors[k],
                              markeredgecolor="black", markeredgewidth=0.7, label=f"label {c}"))
    if queries:
        ax.scatter(P[queries, 0], P[queries, 1], s=240, facecolors="none", edgecolors="white", linewidths=4.5,
                   zorder=5)
        ax.scatter(P[queries, 0], P[queries, 1], s=240, facecolors="none", edgecolors=_QUERY_COLOR, linewidths=2.2,
                   label=QUERY_LABEL, zorder=6, gid=QUERY_GID)
        handles.append(_query_handle())
    if next_queries:
        ax.scatter(P[next_queries, 0], P[next_queries, 1], s=200, facecolors="none", edgecolors=_NEXT_QUERY_COLOR,
                   linewidths=1.5, linestyle="--", label=NEXT_QUERY_LABEL, zorder=5, gid=NEXT_QUERY_GID)
        handles.append(_next_query_handle())

    ax.set_xlabel(projection.axis_labels[0])
    ax.set_ylabel(projection.axis_labels[1])
    where = "" if projection.kind == "identity" else f" (PCA of {projection.n_features} features)"
    ax.set_title(f"Decision boundary{where} · {snapshot.n_labels} labels", fontsize=10)
    if fitted:
        handles.append(Patch(facecolor="#909090", edgecolor="none", label="uncertain (darker)"))
    else:
        _note(ax, "no model yet: label points of two classes")
    if legend_place:
        _legend_outside(ax, handles, where=legend_place)
    return ax
