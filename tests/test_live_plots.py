"""The Labeler's plots are drawn again only when what they show changed (a page's CPU goes to rendering)."""

from __future__ import annotations

import pytest
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets.widgets import live_plots


@pytest.fixture
def moons_session():
    data = alw.datasets.make_moons(n_samples=120)
    pool, test = alw.datasets.split(data)
    session = alw.Session(LogisticRegression(), pool.X, X_test=test.X, y_test=test.y, random_state=0)
    for idx in range(6):
        session.record(idx, int(pool.y[idx]))
    session.update()
    return session, pool.y


@pytest.fixture
def draws(monkeypatch) -> dict[str, int]:
    """How many times each plot was rendered."""
    counts: dict[str, int] = {}
    for name, draw in dict(live_plots.DRAW).items():
        def counted(*args, _name=name, _draw=draw):
            counts[_name] = counts.get(_name, 0) + 1
            return _draw(*args)
        monkeypatch.setitem(live_plots.DRAW, name, counted)
    return counts


@pytest.mark.parametrize("name", ["learning_curve", "decision_boundary"])
def test_the_same_model_and_marks_are_not_drawn_twice(moons_session, draws, name):
    session, y = moons_session
    plots = live_plots.LivePlots(session, [name], y_true=y)
    first = plots.draw([10], session.snapshot)
    again = plots.draw([10], session.snapshot)
    assert draws == {name: 1}
    assert again == first


def test_a_new_model_is_drawn(moons_session, draws):
    session, y = moons_session
    plots = live_plots.LivePlots(session, ["learning_curve"], y_true=y)
    plots.draw([], session.snapshot)
    session.record(7, int(y[7]))
    session.update()
    plots.draw([], session.snapshot)
    assert draws == {"learning_curve": 2}


@pytest.mark.parametrize("name, redrawn", [("decision_boundary", 2), ("learning_curve", 1)])
def test_other_marks_redraw_only_the_plots_that_show_them(moons_session, draws, name, redrawn):
    session, y = moons_session
    plots = live_plots.LivePlots(session, [name], y_true=y)
    plots.draw([10], session.snapshot)
    plots.draw([11], session.snapshot)
    assert draws == {name: redrawn}


# ----------------------------------------------------------------------------- the item asked is the item marked


def _marked(ax, gid: str) -> list[tuple[float, float]]:
    points = []
    for artist in ax.collections + ax.lines:
        if artist.get_gid() != gid:
            continue
        if hasattr(artist, "get_offsets"):
            points += [tuple(map(float, p)) for p in artist.get_offsets()]
        else:
            points.append((float(artist.get_xdata()[0]), float("nan")))
    return points


@pytest.mark.parametrize("sync", [True, False])
@pytest.mark.parametrize("refits", [1, 4])
def test_the_boundary_plot_rings_the_item_on_screen_after_refits(refits, sync, cleanup):
    data = alw.datasets.make_moons(n_samples=120)
    pool, test = alw.datasets.split(data)
    session = alw.Session(LogisticRegression(), pool.X, X_test=test.X, y_test=test.y, random_state=0)
    labeler = alw.Labeler(session, plots=["decision_boundary"], sync=sync)
    for _ in range(refits + 3):
        idx = labeler.current
        labeler.label(int(pool.y[idx]))
        labeler.wait(120)
    ax = labeler.live_plots.panels[0]["ax"]
    shown = labeler.current
    assert _marked(ax, alw.plots.QUERY_GID) == [tuple(map(float, pool.X[shown]))]
    # where the latest model asks next is drawn apart, and never on the item asked
    nexts = _marked(ax, alw.plots.NEXT_QUERY_GID)
    assert tuple(map(float, pool.X[shown])) not in nexts
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert alw.plots.QUERY_LABEL in labels
    assert (alw.plots.NEXT_QUERY_LABEL in labels) == bool(nexts)


@pytest.mark.parametrize("plot", ["decision_boundary", "regression"])
def test_a_next_pick_is_drawn_apart_and_not_on_the_item_asked(plot):
    if plot == "regression":
        from sklearn.gaussian_process import GaussianProcessRegressor

        data = alw.datasets.load_sin(n_samples=60)
        session = alw.Session(GaussianProcessRegressor(), data.X, "max_std", random_state=0)
        draw = alw.plots.plot_regression
    else:
        data = alw.datasets.make_moons(n_samples=60)
        session = alw.Session(LogisticRegression(), data.X, random_state=0)
        draw = alw.plots.plot_decision_boundary
    for idx in range(4):
        session.record(idx, data.y[idx].item())
    session.update()
    ax = draw(session, query=10, next_query=[10, 20])
    assert len(_marked(ax, alw.plots.QUERY_GID)) == 1
    (next_pick,) = _marked(ax, alw.plots.NEXT_QUERY_GID)
    assert next_pick[0] == pytest.approx(float(data.X[20][0]))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert alw.plots.QUERY_LABEL in labels and alw.plots.NEXT_QUERY_LABEL in labels
    ax = draw(session, query=10, next_query=10)  # the model asks next what is asked now: one mark
    assert _marked(ax, alw.plots.NEXT_QUERY_GID) == []
