"""Tests of alwidgets.plots: what a person sees in each plot, checked on the artists (Agg backend)."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.contour import ContourSet
from PIL import Image
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils import Bunch

import alwidgets as alw
from alwidgets import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- sessions


def _moons_session(n_labels: int):
    data = alw.datasets.make_moons(200, random_state=0)
    model = make_pipeline(PolynomialFeatures(3), StandardScaler(), LogisticRegression(C=3))
    session = alw.Session(model, data.X, strategy="margin", random_state=0, classes=[0, 1])
    session.simulate(data.y, n_labels)
    return session, data


def _digits_session(n_labels: int):
    digits = alw.datasets.load_digits()
    X, y = digits.X[:400], digits.y[:400]
    session = alw.Session(LogisticRegression(max_iter=300), X, strategy="entropy", random_state=0,
                          classes=list(range(10)))
    session.simulate(y, n_labels, batch_size=10)
    return session, Bunch(X=X, y=y)


def _gp_session(n_labels: int, committee: bool = False):
    data = alw.datasets.load_sin(n_samples=120, random_state=0)
    if committee:
        model = alw.make_committee(Ridge(), n_members=3, random_state=0)
    else:
        kernel = RBF(1.0, (1e-2, 1e3)) + WhiteKernel(1.0, (1e-10, 1e1))
        model = GaussianProcessRegressor(kernel=kernel, random_state=0)
    session = alw.Session(model, data.X, strategy="max_std" if not committee else "random", random_state=0)
    session.simulate(data.y, n_labels)
    return session, data


CLASSIFICATION_CASES = {
    "moons-unfitted": lambda: _moons_session(0),
    "moons-fitted": lambda: _moons_session(14),
    "digits64-unfitted": lambda: _digits_session(0),
    "digits64-fitted": lambda: _digits_session(40),
}
REGRESSION_CASES = {
    "gp-unfitted": lambda: _gp_session(0),
    "gp-fitted": lambda: _gp_session(8),
    "committee-fitted": lambda: _gp_session(8, committee=True),
}


@pytest.fixture(scope="module", params=sorted(CLASSIFICATION_CASES))
def classification(request):
    session, data = CLASSIFICATION_CASES[request.param]()
    return session, data


@pytest.fixture(scope="module", params=sorted(REGRESSION_CASES))
def regression(request):
    session, data = REGRESSION_CASES[request.param]()
    return session, data


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend is not None else []


def _by_gid(ax, gid):
    return [c for c in ax.collections if c.get_gid() == gid]


def _by_label(artists, label):
    return [a for a in artists if a.get_label() == label]


# ----------------------------------------------------------------------------- figures


def test_new_axes_is_an_agg_figure_of_the_asked_size_without_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    ax = plots.new_axes(figsize=(4, 3), dpi=50)
    assert type(ax.figure.canvas).__name__ == "FigureCanvasAgg"
    assert tuple(ax.figure.bbox.size) == (200, 150)
    assert plt.get_fignums() == before  # nothing registered with pyplot


@pytest.mark.parametrize("give", ["figure", "axes"])
def test_figure_to_png_gives_png_bytes_of_the_figure_size(give):
    ax = plots.plot_learning_curve([{"n_labels": 1, "score": 0.5}, {"n_labels": 2, "score": 0.7}])
    png = plots.figure_to_png(ax.figure if give == "figure" else ax)
    assert png.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(png)).size == (500, 350)
    bigger = plots.figure_to_png(ax, dpi=200)
    assert bigger.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(bigger)).size == (1000, 700)


def test_figure_to_png_rejects_other_objects():
    with pytest.raises(TypeError, match="Figure or Axes"):
        plots.figure_to_png("not a figure")


def test_plots_module_imports_neither_widgets_nor_pyplot():
    package = Path(alw.__file__).parent
    modules = sorted(str(p.relative_to(package)) for p in (package / "plots").glob("*.py"))
    assert len(modules) >= 8  # __init__ and the modules it re-exports from
    for module in [*modules, "experiments/baseline.py"]:
        tree = ast.parse((package / module).read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        assert not any(name.startswith("ipywidgets") for name in imported), module
        assert "matplotlib.pyplot" not in imported, module


def test_pixel_to_data_inverts_a_click_on_the_png():
    ax = plots.plot_learning_curve([{"n_labels": n, "score": n / 10} for n in range(1, 10)])
    height = ax.figure.bbox.height
    x_display, y_display = ax.transData.transform((4.0, 0.6))
    x, y = plots.pixel_to_data(ax, x_display, height - y_display)
    assert x == pytest.approx(4.0)
    assert y == pytest.approx(0.6)


def test_strategy_colors_are_stable_and_distinct_for_builtin_strategies():
    names = ["random", "least_confident", "margin", "entropy", "vote_entropy", "consensus_entropy"]
    colors = [plots.strategy_color(n) for n in names]
    assert len(set(colors)) == len(names)
    assert plots.strategy_color("my_own_strategy") == plots.strategy_color("my_own_strategy")


def test_every_registered_strategy_has_its_own_colour_in_the_one_colour_map():
    registered = alw.strategies.available()
    assert set(registered) <= set(plots.STRATEGY_COLORS)
    colors = [plots.STRATEGY_COLORS[name] for name in registered]
    assert len(set(colors)) == len(colors)


RACERS = ["random", "least_confident", "margin", "entropy", "vote_entropy", "consensus_entropy", "max_std", "you"]


@pytest.mark.parametrize("other", RACERS[1:])
def test_the_usual_racers_are_easy_to_tell_apart(other):
    for name in RACERS:
        if name != other:
            assert plots.color_distance(plots.strategy_color(name), plots.strategy_color(other)) >= (
                plots.DISTINCT_DELTA_E), (name, other)


@pytest.mark.parametrize("extra", ["stream, threshold 0.30", "stream, threshold 0.55", "my model", "x"])
def test_a_line_that_is_no_strategy_gets_a_colour_unlike_every_other_line_of_its_plot(extra):
    names = ["random", "least_confident", "margin", "entropy", "vote_entropy", extra]
    colors = plots.strategy_colors(names)
    for name in names[:-1]:
        assert colors[name] == plots.strategy_color(name)  # strategies keep their own colour
        assert plots.color_distance(colors[extra], colors[name]) >= plots.DISTINCT_DELTA_E, name
    assert plots.strategy_colors(list(reversed(names))) == colors  # the order of the lines does not matter


def test_two_extra_lines_differ_from_each_other():
    colors = plots.strategy_colors(["least_confident", "stream A", "stream B"])
    assert plots.color_distance(colors["stream A"], colors["stream B"]) >= plots.DISTINCT_DELTA_E


def test_the_stream_line_and_least_confident_are_distinguishable_on_the_learning_curve():
    curves = {"random": _history([(10, 0.5), (20, 0.6)], "random"),
              "least_confident": _history([(10, 0.5), (20, 0.7)], "least_confident"),
              "stream, threshold 0.30": _history([(10, 0.5), (20, 0.65)], "least_confident")}
    ax = plots.plot_learning_curve(curves)
    color = {line.get_label(): line.get_color() for line in ax.lines}
    assert plots.color_distance(color["stream, threshold 0.30"], color["least_confident"]) >= plots.DISTINCT_DELTA_E
    assert plots.color_distance(color["stream, threshold 0.30"], color["random"]) >= plots.DISTINCT_DELTA_E


def _clipped_sides(ax) -> list[str]:
    """Sides of the figure that a label, tick label, title or legend of ``ax`` sticks out of."""
    fig = ax.figure
    outer = ax.get_tightbbox(fig.canvas.get_renderer())
    sides = {"left": outer.x0 < 0, "bottom": outer.y0 < 0, "right": outer.x1 > fig.bbox.width,
             "top": outer.y1 > fig.bbox.height}
    return [side for side, out in sides.items() if out]


def _wide_labels_axes():
    ax = plots.new_axes(figsize=(4, 3))
    ax.plot([0, 1], [-123456.5, 987654.25])
    ax.set_ylabel("a long label for the y axis\non two lines")
    ax.set_xlabel("x\nwith a second line\nand a third")
    ax.set_title("A title\nover two lines")
    return ax


def test_figure_to_png_grows_the_margins_so_no_axis_label_is_cut_off():
    ax = _wide_labels_axes()
    ax.figure.canvas.draw()
    assert _clipped_sides(ax), "the example should overflow the fixed margins"
    png = plots.figure_to_png(ax)
    assert _clipped_sides(ax) == []
    assert Image.open(io.BytesIO(png)).size == (400, 300)  # the figure keeps its size; the axes shrink


def test_fitted_margins_only_grow_so_a_live_plot_settles():
    ax = _wide_labels_axes()
    plots.figure_to_png(ax)
    fitted = ax.get_position().bounds
    ax.set_ylabel("y")  # narrower now
    ax.figure.canvas.draw()
    assert not plots.fit_margins(ax.figure)
    assert ax.get_position().bounds == fitted


@pytest.mark.parametrize("ylabel", ["test accuracy", "F1 of the class 3"])
def test_learning_curves_with_three_decimal_ticks_keep_their_y_label(ylabel):
    history = _history([(10, 0.9012), (20, 0.9125), (30, 0.9251), (40, 0.9387)])
    ax = plots.plot_learning_curve({"random": history, "least_confident": history}, plots.new_axes((7, 4)),
                                   ylabel=ylabel, title="3 vs not 3 (10% threes): random vs least confident (seed 0)")
    plots.figure_to_png(ax)
    assert _clipped_sides(ax) == []


def test_legends_let_the_data_show_through():
    drawn = [plots.plot_decision_boundary(_moons_session(14)[0]), plots.plot_regression(_gp_session(8)[0]),
             plots.plot_learning_curve(_history([(1, 0.5), (2, 0.6)]))]
    for ax in drawn:
        assert ax.get_legend().get_frame().get_alpha() < 0.8


def test_number_points_never_lets_two_discs_overlap():
    ax = plots.new_axes()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    rng = np.random.RandomState(0)
    xy = np.vstack([5 + 0.05 * rng.randn(8, 2), [[1, 1], [9, 9]]])  # eight points on top of each other
    placed = plots.number_points(ax, xy)

    pixels = ax.transData.transform(placed)
    diameter = np.sqrt(170) * ax.figure.dpi / 72
    gaps = np.linalg.norm(pixels[:, None] - pixels[None], axis=2)[np.triu_indices(len(xy), 1)]
    assert gaps.min() >= diameter - 1e-6
    assert [t.get_text() for t in ax.texts] == [str(k) for k in range(1, 11)]
    np.testing.assert_allclose(placed[-2:], xy[-2:])  # lone points keep their place
    assert len(ax.lines) >= 6  # the moved discs are tied to their points
    (discs,) = [c for c in ax.collections if c.get_gid() == plots.NUMBERED_GID]
    assert len(discs.get_offsets()) == 10


def test_number_points_rejects_labels_of_another_length():
    ax = plots.new_axes()
    with pytest.raises(ValueError, match="one text per point"):
        plots.number_points(ax, [[0, 0], [1, 1]], labels=["a"])


# ----------------------------------------------------------------------------- learning curve


def _history(scores, strategy="margin"):
    return [{"n_labels": n, "score": s, "strategy": strategy} for n, s in scores]


def test_learning_curve_of_one_history_skips_missing_scores():
    history = _history([(1, None), (2, 0.5), (3, 0.6), (4, 0.8)])
    ax = plots.plot_learning_curve(history)
    (line,) = ax.lines
    assert list(line.get_xdata()) == [2, 3, 4]
    assert list(line.get_ydata()) == [0.5, 0.6, 0.8]
    assert line.get_label() == "margin"
    assert ax.get_title() == "Learning curve"
    assert ax.get_xlabel() == "labels given"
    assert ax.get_ylabel() == "held-out score"
    assert _legend_texts(ax) == ["margin"]


def test_learning_curve_after_undo_shows_the_latest_score_per_label_count():
    history = _history([(1, 0.5), (2, 0.6), (3, 0.7), (2, 0.65), (3, 0.75)])
    (line,) = plots.plot_learning_curve(history).lines
    assert list(line.get_xdata()) == [1, 2, 3]
    assert list(line.get_ydata()) == [0.5, 0.65, 0.75]


def test_learning_curve_of_several_strategies_keeps_each_colour():
    curves = {"random": _history([(5, 0.5), (10, 0.6)]), "margin": _history([(5, 0.55), (10, 0.8)])}
    ax = plots.plot_learning_curve(curves)
    assert [line.get_label() for line in ax.lines] == ["random", "margin"]
    first = {line.get_label(): to_rgba(line.get_color()) for line in ax.lines}
    reordered = plots.plot_learning_curve(dict(reversed(list(curves.items()))), ax)
    second = {line.get_label(): to_rgba(line.get_color()) for line in reordered.lines}
    assert first == second
    assert first["random"] != first["margin"]
    assert first["margin"] == to_rgba(plots.strategy_color("margin"))


def test_learning_curve_draws_the_baseline_dashed_and_the_target():
    history = _history([(5, 0.6), (10, 0.9)])
    baseline = [{"n_labels": 5, "score": 0.55}, {"n_labels": 10, "score": 0.7}]
    ax = plots.plot_learning_curve(history, baseline=baseline, target=0.85, ylabel="accuracy")
    (dashed,) = _by_label(ax.lines, plots.BASELINE_LABEL)
    assert dashed.get_linestyle() == "--"
    assert to_rgba(dashed.get_color()) == to_rgba(plots.strategy_color("random"))  # random's colour, dashed
    assert list(dashed.get_ydata()) == [0.55, 0.7]
    (target,) = _by_label(ax.lines, "target 0.85")
    assert list(target.get_ydata()) == [0.85, 0.85]
    assert ax.get_ylabel() == "accuracy"
    assert _legend_texts(ax) == ["margin", plots.BASELINE_LABEL, "target 0.85"]


def test_learning_curve_budget_fixes_the_x_axis():
    ax = plots.plot_learning_curve(_history([(1, 0.5), (2, 0.6)]), budget=50)
    assert ax.get_xlim()[1] >= 50


def test_learning_curve_without_scores_says_so():
    ax = plots.plot_learning_curve(_history([(1, None), (2, None)]))
    assert not ax.lines
    assert any("no held-out scores yet" in t.get_text() for t in ax.texts)


def test_learning_curve_redraw_on_the_same_axes_does_not_pile_up():
    ax = plots.new_axes()
    history = _history([(1, 0.5), (2, 0.6)])
    for n in range(3, 7):
        history.append({"n_labels": n, "score": 0.6 + n / 100, "strategy": "margin"})
        plots.plot_learning_curve(history, ax, baseline=history, target=0.9)
    assert len(ax.lines) == 3
    assert len(ax.lines[0].get_xdata()) == 6
    assert _legend_texts(ax) == ["margin", plots.BASELINE_LABEL, "target 0.9"]


@pytest.mark.parametrize(
    "curves, error",
    [(42, TypeError), ([{"n_labels": 1}], ValueError), ({"margin": [{"score": 0.5}]}, ValueError)],
)
def test_learning_curve_rejects_what_is_not_a_history(curves, error):
    with pytest.raises(error, match="n_labels"):
        plots.plot_learning_curve(curves)


# ----------------------------------------------------------------------------- regression


def test_regression_plot(regression):
    session, data = regression
    query = session.query()[0]
    ax = plots.plot_regression(session, query=query, y_true=data.y)
    x_pool = data.X[:, 0]
    labeled = sorted(session.labels)

    # The next query: a vertical line and a ring at its x.
    (vline,) = _by_label(ax.lines, plots.QUERY_LABEL)
    assert list(vline.get_xdata()) == [x_pool[query], x_pool[query]]
    (ring,) = _by_gid(ax, plots.QUERY_GID)
    assert ring.get_offsets()[0][0] == pytest.approx(x_pool[query])
    # The pool in grey at its true values, the labeled points apart.
    (pool,) = _by_label(ax.collections, "pool")
    assert len(pool.get_offsets()) == len(x_pool) - len(labeled)
    if labeled:
        (points,) = _by_label(ax.collections, f"labeled ({len(labeled)})")
        np.testing.assert_allclose(points.get_offsets()[:, 0], x_pool[labeled])
        np.testing.assert_allclose(points.get_offsets()[:, 1], [session.labels[i] for i in labeled])

    if session.is_fitted:
        (mean_line,) = _by_label(ax.lines, "mean")
        grid = mean_line.get_xdata()
        mean, std = session.learner.predict(grid.reshape(-1, 1), return_std=True)
        np.testing.assert_allclose(mean_line.get_ydata(), np.ravel(mean))
        (band1,) = _by_label(ax.collections, "±1 std")
        (band2,) = _by_label(ax.collections, "±2 std")
        assert isinstance(band1, PolyCollection) and isinstance(band2, PolyCollection)
        top1 = band1.get_paths()[0].vertices[:, 1].max()
        top2 = band2.get_paths()[0].vertices[:, 1].max()
        assert top1 == pytest.approx(np.max(np.ravel(mean) + np.ravel(std)))
        assert top2 == pytest.approx(np.max(np.ravel(mean) + 2 * np.ravel(std)))
        assert ring.get_offsets()[0][1] == pytest.approx(np.interp(x_pool[query], grid, np.ravel(mean)))
        assert "mean ± std" in ax.get_title()
        assert {"mean", "±1 std", "±2 std", "pool", plots.QUERY_LABEL} <= set(_legend_texts(ax))
        assert not any("no model yet" in t.get_text() for t in ax.texts)
    else:
        assert not _by_label(ax.lines, "mean")
        assert not _by_label(ax.collections, "±1 std")
        assert any("no model yet" in t.get_text() for t in ax.texts)


def test_regression_without_true_values_shows_the_pool_as_ticks_and_a_true_function():
    session, data = _gp_session(6)
    ax = plots.plot_regression(session, y_true=np.sin)
    (ticks,) = _by_label(ax.lines, "pool (x only)")
    assert len(ticks.get_xdata()) == len(data.X) - session.n_labeled
    (truth,) = _by_label(ax.lines, "true function")
    np.testing.assert_allclose(truth.get_ydata(), np.sin(truth.get_xdata()))


def test_regression_with_a_model_without_std_draws_the_mean_only():
    data = alw.datasets.load_sin(n_samples=60, random_state=0)
    session = alw.Session(Ridge(), data.X, strategy="random", random_state=0)
    session.simulate(data.y, 5)
    ax = plots.plot_regression(session)
    assert _by_label(ax.lines, "mean")
    assert not _by_label(ax.collections, "±1 std")
    assert "no std" in ax.get_title()


def test_regression_of_a_large_pool_draws_a_fixed_subset_and_every_label():
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 10, size=(5000, 1))
    y = np.sin(X).ravel()
    session = alw.Session(Ridge(), X, strategy="random", random_state=0)
    session.simulate(y, 7)
    ax = plots.plot_regression(session, y_true=y, max_points=300)
    (pool,) = _by_label(ax.collections, "pool")
    assert len(pool.get_offsets()) <= 300
    again = plots.plot_regression(session, y_true=y, max_points=300)
    np.testing.assert_array_equal(_by_label(again.collections, "pool")[0].get_offsets(), pool.get_offsets())
    assert len(_by_label(ax.collections, "labeled (7)")[0].get_offsets()) == 7


def test_regression_grid_is_the_one_given():
    session, data = _gp_session(5)
    ax = plots.plot_regression(session, X_grid=data.X_grid)
    (mean_line,) = _by_label(ax.lines, "mean")
    np.testing.assert_allclose(mean_line.get_xdata(), data.X_grid.ravel())


def test_regression_refuses_classifiers_and_many_features():
    session, _ = _moons_session(0)
    with pytest.raises(ValueError, match="regressor"):
        plots.plot_regression(session)
    X = np.random.RandomState(0).rand(20, 3)
    two_d = alw.Session(Ridge(), X, strategy="random", random_state=0)
    with pytest.raises(ValueError, match="3 features"):
        plots.plot_regression(two_d)


def test_regression_rejects_a_query_outside_the_pool():
    session, data = _gp_session(3)
    with pytest.raises(IndexError, match="out of range"):
        plots.plot_regression(session, query=len(data.X))


# ----------------------------------------------------------------------------- decision boundary


def test_decision_boundary(classification):
    session, data = classification
    query = session.query()[0]
    ax = plots.plot_decision_boundary(session, query=query)
    projection, P, _ = plots.pool_xy(session)
    n_features = data.X.shape[1]

    # The query is ringed where the projection puts it.
    (ring,) = _by_gid(ax, plots.QUERY_GID)
    np.testing.assert_allclose(ring.get_offsets()[0], projection.transform(data.X[[query]])[0])
    if n_features == 2:
        np.testing.assert_allclose(ring.get_offsets()[0], data.X[query])
    # Unlabeled pool in grey; labeled points in their class colour.
    (pool,) = _by_label(ax.collections, "unlabeled")
    assert len(pool.get_offsets()) == len(data.X) - session.n_labeled
    classes = plots.class_order(session)
    for position, c in enumerate(classes):
        rows = [i for i in sorted(session.labels) if session.labels[i] == c]
        found = _by_label(ax.collections, f"label {c}")
        if not rows:
            assert not found
            continue
        (points,) = found
        np.testing.assert_allclose(points.get_offsets(), P[rows])
        np.testing.assert_allclose(points.get_facecolor()[0], plots.class_color(position, len(classes)))
    legend = _legend_texts(ax)
    assert {"unlabeled", plots.QUERY_LABEL} <= set(legend)
    assert f"label {classes[0]}" in legend
    assert ("PCA of 64 features" in ax.get_title()) == (n_features == 64)

    regions = [a for a in [*ax.collections, *ax.images] if a.get_gid() == plots.REGIONS_GID]
    if session.is_fitted:
        (heat,) = [image for image in ax.images if image.get_gid() == plots.UNCERTAINTY_GID]
        values = np.ma.compressed(heat.get_array())
        assert 0 <= values.min() and values.max() <= 1 - 1 / len(classes) + 1e-9
        assert regions
        # 2-D data get smooth filled contours; a projection a blocky image of class colours.
        assert all(isinstance(r, ContourSet) == (n_features == 2) for r in regions)
        assert "uncertain (darker)" in legend
        assert not any("no model yet" in t.get_text() for t in ax.texts)
    else:
        assert not ax.images
        assert not regions
        assert any("no model yet" in t.get_text() for t in ax.texts)


def test_decision_boundary_shows_the_models_own_uncertainty_and_classes_in_2d():
    session, data = _moons_session(14)
    resolution = 30
    ax = plots.plot_decision_boundary(session, resolution=resolution)
    (heat,) = [image for image in ax.images if image.get_gid() == plots.UNCERTAINTY_GID]
    x0, x1, y0, y1 = heat.get_extent()
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    proba = session.learner.predict_proba(np.column_stack([xx.ravel(), yy.ravel()]))
    np.testing.assert_allclose(np.asarray(heat.get_array()).ravel(), 1 - proba.max(axis=1))
    # Both classes have a region, and the boundary line is drawn.
    regions = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert any(c.filled for c in regions)
    assert any(not c.filled for c in regions)


def test_decision_boundary_of_three_classes_has_no_false_bands():
    data = alw.datasets.make_blobs(150, centers=3, random_state=0)
    session = alw.Session(LogisticRegression(), data.X, strategy="entropy", random_state=0)
    session.simulate(data.y, 12)
    ax = plots.plot_decision_boundary(session, resolution=40)
    filled = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    # One filled region per predicted class, each in that class's own colour only.
    colors = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in filled}
    expected = {tuple(np.round(plots.class_color(k, 3)[:3], 3)) for k in range(3)}
    assert colors == expected
    assert len(filled) == 3


def test_projection_is_made_once_per_session_so_the_picture_does_not_jump():
    session, data = _digits_session(20)
    query = 7
    ax = plots.new_axes()
    first = plots.plot_decision_boundary(session, ax, query=query)
    ring_before = _by_gid(first, plots.QUERY_GID)[0].get_offsets().copy()
    projection_before = plots.pool_xy(session)[0]
    session.simulate(data.y, 10, batch_size=10)  # the model moves on...
    plots.plot_decision_boundary(session, ax, query=query)
    assert plots.pool_xy(session)[0] is projection_before  # ...the projection does not
    np.testing.assert_array_equal(_by_gid(ax, plots.QUERY_GID)[0].get_offsets(), ring_before)
    # A projection made afresh from the same pool is the same map.
    again = plots.make_projection(data.X)
    np.testing.assert_allclose(again.transform(data.X), projection_before.transform(data.X))


def test_a_given_projection_is_used():
    session, data = _digits_session(20)
    projection = plots.make_projection(data.X[::-1] * 2.0)  # another PCA: another picture
    ax = plots.plot_decision_boundary(session, query=3, projection=projection)
    np.testing.assert_allclose(_by_gid(ax, plots.QUERY_GID)[0].get_offsets()[0],
                               projection.transform(data.X[[3]])[0])


def test_decision_boundary_redraw_on_the_same_axes_replaces_the_picture():
    session, data = _moons_session(10)
    ax = plots.new_axes()
    plots.plot_decision_boundary(session, ax, query=session.query()[0])
    counts = (len(ax.collections), len(ax.images))
    session.simulate(data.y, 2)
    plots.plot_decision_boundary(session, ax, query=session.query()[0])
    assert (len(ax.collections), len(ax.images)) == counts
    assert len(_by_gid(ax, plots.QUERY_GID)) == 1
    assert "12 labels" in ax.get_title()


def test_decision_boundary_draws_at_most_max_points_but_every_label():
    X = np.random.RandomState(0).randn(3000, 2)
    y = (X[:, 0] > 0).astype(int)
    session = alw.Session(LogisticRegression(), X, strategy="margin", random_state=0)
    session.simulate(y, 6)
    ax = plots.plot_decision_boundary(session, max_points=500)
    assert len(_by_label(ax.collections, "unlabeled")[0].get_offsets()) <= 500
    shown = sum(len(c.get_offsets()) for c in ax.collections if c.get_label().startswith("label "))
    assert shown == 6


@pytest.mark.parametrize("resolution", [1, 2.5, True])
def test_decision_boundary_rejects_a_bad_resolution(resolution):
    session, _ = _moons_session(4)
    with pytest.raises(ValueError, match="resolution"):
        plots.plot_decision_boundary(session, resolution=resolution)


def test_decision_boundary_refuses_regressors_and_one_feature():
    session, _ = _gp_session(3)
    with pytest.raises(ValueError, match="classifier"):
        plots.plot_decision_boundary(session)
    X = np.linspace(0, 1, 30).reshape(-1, 1)
    one = alw.Session(LogisticRegression(), X, strategy="margin", random_state=0)
    with pytest.raises(ValueError, match="1 feature"):
        plots.plot_decision_boundary(one)


def test_nearest_item_finds_the_clicked_point():
    session, data = _moons_session(4)
    target = int(session.unlabeled[5])
    assert plots.nearest_item(session, data.X[target] + 1e-6) == target
    labeled = next(iter(session.labels))
    assert plots.nearest_item(session, data.X[labeled]) != labeled
    assert plots.nearest_item(session, data.X[labeled], unlabeled_only=False) == labeled


# ----------------------------------------------------------------------------- projection


def test_projection_is_identity_for_2d_and_pca_beyond():
    X2 = np.random.RandomState(0).randn(50, 2)
    identity = plots.make_projection(X2)
    assert identity.kind == "identity"
    np.testing.assert_array_equal(identity.transform(X2), X2)
    X64 = alw.datasets.load_digits().X[:300]
    pca = plots.make_projection(X64)
    assert pca.kind == "pca"
    Z = pca.transform(X64)
    assert Z.shape == (300, 2)
    assert Z[:, 0].var() >= Z[:, 1].var()  # the first component carries the most variance
    assert pca.axis_labels[0].startswith("PC1")
    with pytest.raises(ValueError, match="64"):
        pca.transform(X2)


def test_projection_of_a_large_pool_is_reproducible():
    X = np.random.RandomState(0).randn(3000, 5)
    first = plots.make_projection(X, max_rows=1000)
    second = plots.make_projection(X, max_rows=1000)
    np.testing.assert_array_equal(first.transform(X), second.transform(X))


# ----------------------------------------------------------------------------- images


@pytest.mark.parametrize(
    "image, shape",
    [(np.random.RandomState(0).rand(8, 8), (8, 8)), (np.random.RandomState(0).rand(784), (28, 28)),
     (np.random.RandomState(0).rand(5, 6, 1), (5, 6)), (np.random.RandomState(0).rand(4, 4, 3), (4, 4, 3))],
)
def test_plot_image_shows_crisp_pixels(image, shape):
    ax = plots.plot_image(image, title="item 3")
    (shown,) = ax.images
    assert shown.get_interpolation() == "nearest"
    assert shown.get_array().shape == shape
    if len(shape) == 2:
        assert shown.get_cmap().name == "gray"
        assert shown.get_clim() == (0.0, 1.0)
    assert ax.get_title() == "item 3"
    assert not ax.get_xticks().size


def test_plot_image_rejects_what_is_not_an_image():
    with pytest.raises(ValueError, match="not a square"):
        plots.plot_image(np.zeros(10))
    with pytest.raises(ValueError, match="shape"):
        plots.plot_image(np.zeros((2, 2, 2, 2)))


def test_projected_regions_follow_the_models_predictions_on_the_pool():
    session, data = _digits_session(40)
    ax = plots.plot_decision_boundary(session, resolution=50)
    (regions,) = [image for image in ax.images if image.get_gid() == plots.REGIONS_GID]
    _, P, _ = plots.pool_xy(session)
    x0, x1, y0, y1 = regions.get_extent()
    rgba = np.asarray(regions.get_array())
    predicted = session.learner.predict(data.X)
    agree = 0
    for i in range(len(P)):  # the cell under each pool item is mostly that item's predicted class
        col = int(round((P[i, 0] - x0) / (x1 - x0) * 49))
        row = int(round((P[i, 1] - y0) / (y1 - y0) * 49))
        agree += np.allclose(rgba[row, col, :3], plots.class_color(int(predicted[i]), 10)[:3])
    assert agree / len(P) > 0.7


def test_an_axes_can_switch_from_one_kind_of_plot_to_another():
    ax = plots.plot_image(np.eye(8))
    assert not ax.get_xticks().size
    plots.plot_learning_curve(_history([(1, 0.5), (5, 0.9)]), ax)
    assert ax.get_xticks().size and not ax.images
    assert _legend_texts(ax) == ["margin"]


def test_mean_curve_averages_the_runs_that_reached_each_label_count():
    runs = [_history([(10, 0.5), (20, 0.7), (30, None)]), [[10, 0.7], [20, 0.9], [30, 0.95]]]
    curve = plots.mean_curve(runs)
    assert [(e["n_labels"], e["runs"]) for e in curve] == [(10, 2), (20, 2), (30, 1)]
    assert [e["score"] for e in curve] == pytest.approx([0.6, 0.8, 0.95])
    (line,) = plots.plot_learning_curve({"margin": curve}).lines
    assert list(line.get_xdata()) == [10, 20, 30]


# ----------------------------------------------------------------------------- over seeds


def test_seed_curves_draw_the_median_and_the_band_of_each_strategy():
    n = np.arange(10, 60, 10)
    runs = {"random": [(n, n / 100), (n, n / 100 + 0.1), (n, n / 100 + 0.2)],
            "min_max_margin": [(n, n / 50), (n[:3], n[:3] / 50)]}  # a shorter seed: the median uses the others
    ax = plots.plot_seed_curves(runs, mark=30)
    lines = {line.get_label(): line for line in ax.lines}
    np.testing.assert_allclose(lines["random (3 seeds)"].get_ydata(), n / 100 + 0.1)
    np.testing.assert_allclose(lines["min_max_margin (2 seeds)"].get_ydata(), n / 50)
    assert lines["random (3 seeds)"].get_color() == plots.STRATEGY_COLORS["random"]
    assert "B = 30" in lines
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.1 + 0.02) and band.max() == pytest.approx(0.5 + 0.18)  # 10-90% of 3 seeds
    with pytest.raises(TypeError, match="runs must be a dict"):
        plots.plot_seed_curves([(n, n)])


def test_ratio_curve_draws_the_median_ratio_the_break_even_line_and_the_claim():
    ax = plots.plot_ratio_curve({100: [1.0, 2.0, 3.0], 50: [0.5, 0.7, 0.9], 200: []}, name="min_max_margin",
                                claim=(100, 2.5), mark=100)
    median = next(line for line in ax.lines if line.get_label() == "min_max_margin")
    np.testing.assert_allclose(median.get_xdata(), [50, 100])  # sorted; a budget with no ratio left out
    np.testing.assert_allclose(median.get_ydata(), [0.7, 2.0])
    assert not any("at most" in line.get_label() for line in ax.lines)  # every seed reached: no bound drawn
    star = next(line for line in ax.lines if line.get_label() == "the article: 2.5x")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (100, 2.5)
    assert any(line.get_label() == "as many labels as random" and set(line.get_ydata()) == {1.0} for line in ax.lines)


def test_ratio_curve_draws_a_budget_some_seed_never_reached_as_an_upper_bound():
    ratios = {50: [0.5, 0.7, 0.9], 100: [1.0, 2.0, 3.0], 200: [1.5, 1.8, 2.2]}
    reached = {50: [True, True, True], 100: [True, False, True], 200: [False, False, False]}
    ax = plots.plot_ratio_curve(ratios, name="min_max_margin", reached=reached)
    exact = next(line for line in ax.lines if line.get_label() == "min_max_margin")
    bound = next(line for line in ax.lines if "at most" in line.get_label())
    np.testing.assert_allclose(exact.get_xdata(), [50])
    np.testing.assert_allclose(bound.get_xdata(), [100, 200])
    np.testing.assert_allclose(bound.get_ydata(), [2.0, 1.8])
    assert bound.get_marker() == "v" and bound.get_markerfacecolor() == "white"
    with pytest.raises(ValueError, match=r"reached\[100\] has 2 entries for 3 ratios"):
        plots.plot_ratio_curve(ratios, reached={100: [True, False]})
