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
