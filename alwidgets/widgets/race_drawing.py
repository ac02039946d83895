"""The pictures of the classroom race: one PNG per lane, the shared learning curve, and the words under them.

:class:`RaceDrawing` draws what a :class:`~alwidgets.experiments.comparison.Comparison`
holds into PNG bytes and HTML strings; it writes no widget trait, so
:class:`~alwidgets.widgets.comparison.StrategyComparison` can draw on its worker
thread and then hand each result to the page with one assignment under its
``_ui_lock``. Its figures are reused from frame to frame and guarded by its own
lock: a click that reads where a point was drawn never sees a half-drawn figure.
"""

from __future__ import annotations

import html
import math
import threading

import numpy as np

from alwidgets import plots
from alwidgets._learners import take_rows
from alwidgets._validation import check_choice
from alwidgets.experiments.comparison import REFERENCE, YOU

__all__ = ["RaceDrawing", "caption", "choose_view", "lane_title", "saved_table", "your_candidates"]

VIEWS = ("auto", "boundary", "regression", "image")

PANEL_FIGSIZE = (4.0, 3.1)
PANEL_DPI = 96  # 384 x 298 pixels: sharp in a third of a projector-wide page
PANEL_RESOLUTION = 60
CURVE_FIGSIZE = (6.4, 3.4)
CURVE_DPI = 90
CLICK_RADIUS = 12.0  # PNG pixels: a click this close to a drawn point picks it
CURVE = "__curve__"


class RaceDrawing:
    """Draws a race's panels and learning curve; one drawing at a time.

    Parameters
    ----------
    view : {"boundary", "regression", "image"}
    projection : Projection or None
        The shared 2-D projection of the boundary view.
    images : array of shape (n_items, h, w) or None
        Pictures of the pool items, for the image view.
    X_grid : array-like, optional
        Where the regression view draws its mean and band.
    """

    def __init__(self, view: str, projection=None, images=None, X_grid=None):
        self.view = view
        self.projection = projection
        self.images = images
        self.X_grid = X_grid
        self.frames = 0  # how many panels were drawn (tests and the browser watch it)
        self._lock = threading.RLock()  # the figures below
        self.axes: dict[str, object] = {}  # lane -> its Axes, reused frame to frame (read them, never draw on them)

    def _ax(self, key: str, figsize, dpi):
        ax = self.axes.get(key)
        if ax is None:
            ax = self.axes[key] = plots.new_axes(figsize=figsize, dpi=dpi)
        return ax

    def panel(self, race, name: str, candidates: list[int]) -> bytes:
        """Lane ``name`` as a PNG: its model and next query, or the person's numbered ``candidates``."""
        session = race.sessions[name]
        with self._lock:
            ax = self._ax(name, PANEL_FIGSIZE, PANEL_DPI)
            query = race.next_query(name)
            if self.view == "boundary":
                plots.plot_decision_boundary(session, ax, query=query, projection=self.projection,
                                             resolution=PANEL_RESOLUTION, legend="below")
                if candidates:
                    plots.number_points(ax, self.projection.transform(take_rows(race.X, candidates)))
            elif self.view == "regression":
                plots.plot_regression(session, ax, X_grid=self.X_grid, query=query, y_true=race.y, legend="below")
                if candidates:
                    # Along the bottom, numbered left to right; neighbours alternate in height.
                    x = plots.numeric_rows(take_rows(race.X, candidates))[:, 0]
                    low, high = ax.get_ylim()
                    y = low + (high - low) * np.where(np.arange(len(x)) % 2 == 0, 0.05, 0.13)
                    plots.number_points(ax, np.column_stack([x, y]))
            else:
                self._draw_images(ax, session, query, candidates)
            if self.view != "image":
                # Panels share their axes: ticks and all but one legend only cost drawing time. A hidden
                # legend keeps its room beside the plot, so every panel's plot has the same size.
                ax.set_title("")
                ax.set_xticks([])
                ax.set_yticks([])
                legend = ax.get_legend()
                if legend is not None and name != race.strategy_names[0]:
                    legend.set_visible(False)
            self.frames += 1
            return plots.figure_to_png(ax)

    def _draw_images(self, ax, session, query: list[int], candidates: list[int]) -> None:
        if candidates:
            plots.plot_image(montage(self.images[candidates]), ax, title="your candidates")
            side = self.images.shape[1]
            columns = min(4, len(candidates))
            for k in range(len(candidates)):
                row, col = divmod(k, columns)
                ax.text(col * (side + 1) + 1, row * (side + 1) + 1, str(k + 1), color="#ffdd00", fontsize=9,
                        fontweight="bold", va="top", ha="left")
        elif len(query) > 1:  # a mini-batch: every item of it
            plots.plot_image(montage(self.images[query], columns=5), ax, title=f"asks next: {len(query)} items")
        elif query:
            plots.plot_image(self.images[query[0]], ax, title=f"asks next: item {query[0]}")
        elif session.labels:
            idx = list(session.labels)[-1]
            plots.plot_image(self.images[idx], ax, title=f"last asked: item {idx}")

    def curve(self, race, lanes: list[str], target: float | None) -> bytes:
        """The learning curves of ``lanes`` as a PNG, with the target and the stop signals marked."""
        curves = {name: history for name, history in race.curves.items() if name in lanes}
        with self._lock:
            ax = self._ax(CURVE, CURVE_FIGSIZE, CURVE_DPI)
            plots.plot_learning_curve(curves, ax, target=target, ylabel=race.score_name,
                                      budget=race.n_initial + race.budget,
                                      title="Learning curves (same pool, same start)",
                                      stops=race.stopping_points())
            return plots.figure_to_png(ax)

    def item_at(self, race, x: float, y: float) -> tuple[int | None, str]:
        """The person's unlabeled item drawn within ``CLICK_RADIUS`` pixels of ``(x, y)``, or None and why not."""
        if YOU not in race.sessions:
            return None, "turn on \"You vs the strategies\" first"
        session = race.sessions[YOU]
        with self._lock:
            ax = self.axes.get(YOU)
            if ax is None:
                return None, "your plot is not drawn yet"
            # The PNG is rendered at the figure's own dpi, so its pixels are the figure's.
            idx = plots.nearest_item(session, plots.pixel_to_data(ax, x, y), projection=self.projection)
            if idx is None:
                return None, "every item is labeled: nothing left to pick"
            point = self.projection.transform(take_rows(race.X, [idx]))[0]
            px, py = ax.transData.transform(point)
            py = ax.figure.bbox.height - py  # PNG rows count from the top
        if math.hypot(px - x, py - y) > CLICK_RADIUS:
            return None, "no unlabeled point where you clicked: click on a point, or pick one from the list"
        return idx, ""


def caption(race, name: str) -> str:
    """The line under a lane's panel: score, labels asked, wrong answers, stop signal, time per step."""
    session = race.sessions[name]
    score = race.scores()[name]
    score_text = "no score yet" if score is None else f"{race.score_name} {score:.3f}"
    wrong = race.wrong_answers[name]
    noisy = f" · {wrong} wrong answer{'s' * (wrong != 1)}" if wrong else ""
    parts = [f"{score_text} · {race.used(name)}/{race.budget} labels asked ({session.n_labeled} known){noisy}"]
    first_stop = session.stopping()["first_stop"]
    if first_stop is not None and first_stop.get("n_labels") is not None:
        parts.append(f"stop signal at {first_stop['n_labels']} labels")
    seconds = race.step_seconds[name]
    if seconds:
        parts.append(f"{1000 * float(np.mean(seconds)):.0f} ms per step")
    return f"<span style='font-size:0.9em'>{' · '.join(parts)}</span>"


def panel_title(name: str) -> str:
    color = plots.strategy_color(name)
    return f"<b style='color:{color};font-size:1.05em'>{html.escape(lane_title(name))}</b>"


def lane_title(name: str) -> str:
    if name == YOU:
        return "you"
    if name == REFERENCE:
        return "random (reference)"
    return name


def montage(images: np.ndarray, columns: int = 4) -> np.ndarray:
    """Tile pictures into one, with a one-pixel white gap, for the person's numbered candidates."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:  # flat rows: square pictures
        side = int(round(math.sqrt(images.shape[1])))
        images = images.reshape(len(images), side, side)
    n, h, w = images.shape[:3]
    columns = min(columns, n)
    rows = -(-n // columns)
    top = images.max() if images.size else 1.0
    sheet = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1) + images.shape[3:], top)
    for k in range(n):
        r, c = divmod(k, columns)
        sheet[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = images[k]
    return sheet


def saved_table(saved: dict, target, score_name: str) -> str:
    """The "labels saved" readout: one row per lane, against random."""
    if not saved:
        return "<i>Labels saved appear once random has a score.</i>"
    rows = []
    for name, result in saved.items():
        color = plots.strategy_color(name)
        cells = [html.escape(cell) for cell in result.cells()]
        rows.append(
            f"<tr><td style='color:{color};font-weight:bold;padding:0 8px'>{html.escape(name)}</td>"
            + "".join(f"<td style='padding:0 8px'>{c}</td>" for c in cells) + "</tr>"
        )
    return (
        f"<div><b>Labels saved</b> to reach {html.escape(score_name)} {target:.3f}"
        "<table style='border-collapse:collapse'>"
        "<tr>" + "".join(f"<th style='text-align:left;padding:0 8px'>{head}</th>"
                         for head in ("strategy", "labels", "random", "saved")) + "</tr>"
        + "".join(rows) + "</table></div>"
    )


def choose_view(view: str, is_classifier: bool, images) -> str:
    """What the panels draw: ``view``, or for "auto" regression, image (with ``images``) or boundary."""
    check_choice(view, "view", VIEWS)
    if view == "auto":
        if not is_classifier:
            return "regression"
        return "image" if images is not None else "boundary"
    if view == "regression" and is_classifier:
        raise ValueError("view='regression' needs a regressor; use 'boundary' or 'image' for a classifier")
    if view == "boundary" and not is_classifier:
        raise ValueError("view='boundary' needs a classifier; use 'regression' for a regressor")
    if view == "image" and images is None:
        raise ValueError("view='image' needs images=: the pictures of the pool items")
    return view


def your_candidates(race, k: int, view: str) -> list[int]:
    """The person's ``k`` candidates (:meth:`Comparison.candidates`), numbered left to right on a 1-D regression plot."""
    candidates = race.candidates(k)
    if view == "regression":
        x = plots.numeric_rows(take_rows(race.X, candidates))[:, 0]
        candidates = [candidates[i] for i in np.argsort(x, kind="stable")]
    return candidates


def as_number(text: str) -> float | None:
    """``text`` as a finite number, or None (also for an empty text)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def fmt_value(value) -> str:
    """A label or a value for a person: floats to 3 significant digits."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)


def note(text: str) -> str:
    """``text`` (HTML) in red: a refusal or a problem of the person's input."""
    return f"<span style='color:#b00020'>{text}</span>"
