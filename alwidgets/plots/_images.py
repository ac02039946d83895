"""Pictures on axes: an image with crisp pixels, and numbered discs on points that never cover each other."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from alwidgets.plots._figures import _prepare, fit_margins, new_axes

__all__ = ["plot_image", "number_points", "NUMBERED_GID"]


def plot_image(image, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Show an image with crisp pixels (no smoothing), in grey-scale for 2-D arrays.

    Accepts (h, w), (h, w, 1), (h, w, 3) or (h, w, 4) arrays, or a flat row
    whose length is a square (64 -> 8x8 digits, 784 -> 28x28 MNIST). Values
    in [0, 1] (or uint8) are shown on a fixed scale, so a faint digit looks faint.
    """
    array = np.asarray(image)
    if array.ndim == 1:
        side = int(round(np.sqrt(array.size)))
        if side * side != array.size:
            raise ValueError(
                f"image is a flat array of {array.size} values, which is not a square; pass it as (height, width)"
            )
        array = array.reshape(side, side)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"image must have shape (h, w), (h, w, 1), (h, w, 3) or (h, w, 4); got {array.shape}")
    if ax is None:
        ax = new_axes(figsize=(3, 3.2))
        ax.figure.subplots_adjust(left=0.03, right=0.97, bottom=0.03, top=0.9)  # no tick labels to make room for
    ax = _prepare(ax, "image")
    kwargs: dict = {"interpolation": "nearest"}
    if array.ndim == 2:
        kwargs["cmap"] = "gray"
        if array.dtype.kind in "fc" and array.size and array.min() >= 0 and array.max() <= 1:
            kwargs.update(vmin=0.0, vmax=1.0)
        elif array.dtype == np.uint8:
            kwargs.update(vmin=0, vmax=255)
    ax.imshow(array, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(str(title), fontsize=10)
    return ax


# ----------------------------------------------------------------------------- numbered points

NUMBERED_GID = "numbered"
_NUMBER_MARKER_SIZE = 170  # points², the area of the white disc behind a number


def number_points(ax: Axes, xy, labels=None, *, size: float = _NUMBER_MARKER_SIZE) -> np.ndarray:
    """Draw numbered discs on the points ``xy`` (data coordinates) so that no two discs overlap.

    A disc that would cover an earlier one moves to the nearest free spot
    around its point and is tied to it by a thin line. Call it after the
    axes limits, labels and legend are set: the margins are fitted to them
    first (:func:`fit_margins`), so the axes keep the size the discs were
    placed in. Returns where the discs were drawn, in data coordinates.

    Parameters
    ----------
    ax : Axes
    xy : array-like of shape (n, 2)
        The points, in order: the first gets "1" unless ``labels`` says otherwise.
    labels : sequence of str, optional
        The text of each disc; default 1, 2, 3, ...
    size : float
        The area of a disc in points², as for ``scatter``.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    labels = [str(k) for k in range(1, len(xy) + 1)] if labels is None else [str(t) for t in labels]
    if len(labels) != len(xy):
        raise ValueError(f"labels must hold one text per point ({len(xy)}); got {len(labels)}")
    if not len(xy):
        return xy
    for _ in range(3):  # the margins the picture will have (a legend beside the axes narrows them)
        if not fit_margins(ax.figure):
            break
    diameter = np.sqrt(size) * ax.figure.dpi / 72  # pixels
    points = ax.transData.transform(xy)
    box = ax.bbox
    low = np.array([box.x0, box.y0]) + diameter / 2
    high = np.array([box.x1, box.y1]) - diameter / 2
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    rings = [np.zeros((1, 2))] + [r * diameter * np.column_stack([np.cos(angles), np.sin(angles)])
                                  for r in (1.05, 1.6, 2.2, 2.9)]
    offsets = np.concatenate(rings)
    placed: list[np.ndarray] = []
    for point in points:
        candidates = np.clip(point + offsets, low, np.maximum(low, high))
        if placed:
            gaps = np.min(np.linalg.norm(candidates[:, None, :] - np.array(placed)[None], axis=2), axis=1)
            free = np.flatnonzero(gaps >= diameter)
            choice = candidates[free[0]] if len(free) else candidates[int(np.argmax(gaps))]
        else:
            choice = candidates[0]
        placed.append(choice)
    where = np.array(placed)
    data = ax.transData.inverted().transform(where)
    moved = np.linalg.norm(where - points, axis=1) > 0.5
    for (x0, y0), (x1, y1) in zip(xy[moved], data[moved], strict=True):
        ax.plot([x0, x1], [y0, y1], color="black", linewidth=0.7, zorder=7)
    ax.scatter(xy[moved, 0], xy[moved, 1], s=6, color="black", zorder=7)
    ax.scatter(data[:, 0], data[:, 1], s=size, facecolors="white", edgecolors="black", linewidths=1.0, zorder=8,
               gid=NUMBERED_GID)
    for (x, y), text in zip(data, labels, strict=True):
        ax.text(x, y, text, ha="center", va="center", fontsize=7, fontweight="bold", zorder=9)
    return data
