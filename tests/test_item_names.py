"""Pages name an item by the id a person finds in their files and in the export, never by its pool index.

A Session given ``item_ids`` names item ``idx`` by ``item_ids[idx]``
(:meth:`Session.item_name`); every line of the Labeler that names an item
says that name: the caption, the batch cells, the status line, the review
cards, an error, and the plots' titles (what they mark, in words). A Session
given no ids names items by their index, as before. A page that follows a
campaign service says the campaign's ids.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from running_service import Running
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets import plots
from alwidgets.serving.service import CampaignService, NamedByPage
from alwidgets.store import MemoryStore
from alwidgets.store.remote import ServiceStore
from alwidgets.widgets.labeler import REVIEW_MODE

N = 60
ID_STYLES = {
    "dataset ids": lambda k: f"mnist-{900 + 7 * k}",  # the bundled MNIST campaign's ids
    "file names": lambda k: f"img_{k + 3}.png",  # a folder of images: the name is not the index
    "needs escaping": lambda k: f"<r&{k}>",
}


@pytest.fixture(scope="module")
def points():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(-2, 1, (N // 2, 2)), rng.normal(2, 1, (N // 2, 2))])
    y = np.array([0] * (N // 2) + [1] * (N // 2))
    return X, y


def make_labeler(points, cleanup, ids=None, n_taught=6, **options):
    X, y = points
    session = alw.Session(LogisticRegression(), X, "margin", classes=[0, 1], random_state=0, item_ids=ids)
    taught = [0, 1, 2, N - 1, N - 2, N - 3][:n_taught]
    session.teach(taught, [int(y[i]) for i in taught])
    labeler = alw.Labeler(session, y_true=y, sync=True, keyboard=False, **options)
    cleanup(labeler)
    return labeler


def text(value: str) -> str:
    """What a person reads: an HTML value without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", value))


# ---------------------------------------------------------------------- the engine's name


@pytest.mark.parametrize("style", list(ID_STYLES))
def test_an_item_is_named_by_the_id_the_session_was_given(points, style):
    ids = [ID_STYLES[style](k) for k in range(N)]
    session = alw.Session(LogisticRegression(), points[0], classes=[0, 1], random_state=0, item_ids=ids)
    assert [session.item_name(k) for k in (0, 22, N - 1)] == [ids[0], ids[22], ids[N - 1]]
    assert session.item_name(np.int64(22)) == ids[22]


def test_without_item_ids_an_item_is_named_by_its_index(points):
    session = alw.Session(LogisticRegression(), points[0], classes=[0, 1], random_state=0)
    assert session.item_name(22) == "22"
    assert session.item_ids[22] != "22"  # its id is a hash of the row: no name for a person


def test_naming_an_item_outside_the_pool_is_an_error_naming_the_pool(points):
    session = alw.Session(LogisticRegression(), points[0], classes=[0, 1], random_state=0)
    with pytest.raises(IndexError, match=f"pool of {N} items"):
        session.item_name(N)


# ---------------------------------------------------------------------- every line that names an item


def caption(labeler) -> str:
    return text(labeler.caption.value)


# where a name is said: each returns (what the line says, the item it should name)


def in_caption(labeler):
    return caption(labeler), labeler.current


def in_batch_cells(labeler):
    return " ".join(text(cell["box"].children[0].value) for cell in labeler._cells), labeler.shown[-1]


def on_a_review_card(labeler):
    labeler.label(0)  # a label of this page's own, newest first in the review
    labeler.mode.value = REVIEW_MODE
    card = labeler.review.items.children[0]
    return text(card.children[1].value) + " | " + card.children[-1].tooltip, labeler.review.rows()[0]["index"]


def in_the_relabel_caption(labeler):
    labeler.label(0)
    idx = labeler.session.labels_given()[0]["index"]
    labeler.open_for_relabel(idx)
    return caption(labeler), idx


def on_the_status_line_after_an_undone_relabel(labeler):
    labeler.label(0)
    idx = labeler.session.labels_given()[0]["index"]
    labeler.open_for_relabel(idx)
    labeler.label(1)
    labeler.undo()
    return text(labeler.status.value), idx


def in_the_error_on_another_persons_label(labeler):
    session = labeler.session
    other = alw.Session(LogisticRegression(), session.X_pool, classes=[0, 1], store=session.store,
                        annotator="alice", item_ids=session.item_ids if session._named_items else None)
    idx = int(other.unlabeled[0])
    other.record(idx, 0)
    session.sync()
    labeler.open_for_relabel(idx)
    assert labeler.errors
    labeler.errors.clear()
    return text(labeler.status.value), idx


def in_the_plots_title(labeler):
    title = next(p["image"].tooltip for p in labeler.live_plots.panels if p["name"] == "decision_boundary")
    return title, labeler.current


PLACES = {f.__name__: f for f in (in_caption, in_batch_cells, on_a_review_card, in_the_relabel_caption,
                                  on_the_status_line_after_an_undone_relabel, in_the_error_on_another_persons_label,
                                  in_the_plots_title)}


@pytest.mark.parametrize("style", list(ID_STYLES))
@pytest.mark.parametrize("place", list(PLACES))
def test_every_line_that_names_an_item_says_its_id(points, cleanup, place, style):
    ids = [ID_STYLES[style](k) for k in range(N)]
    labeler = make_labeler(points, cleanup, ids, batch_size=3 if place == "in_batch_cells" else 1, view="point")
    line, idx = PLACES[place](labeler)
    assert f"item {ids[idx]}" in line, line
    assert not re.search(rf"item {idx}\b", line), line  # the index is not what a person sees
    assert not labeler.errors, labeler.errors


@pytest.mark.parametrize("place", list(PLACES))
def test_without_item_ids_lines_name_the_index_as_before(points, cleanup, place):
    labeler = make_labeler(points, cleanup, batch_size=3 if place == "in_batch_cells" else 1, view="point")
    line, idx = PLACES[place](labeler)
    assert re.search(rf"item {idx}\b", line), line
    assert not labeler.errors, labeler.errors


# ---------------------------------------------------------------------- the name is the export's


@pytest.mark.parametrize("style", list(ID_STYLES))
@pytest.mark.parametrize("what", ["labels", "events"])
def test_the_id_on_the_page_is_the_item_id_of_the_export(points, cleanup, tmp_path, style, what):
    ids = [ID_STYLES[style](k) for k in range(N)]
    labeler = make_labeler(points, cleanup, ids)
    named = []
    for label in (1, 0, 1):
        named.append(re.fullmatch(r"item (.+)", caption(labeler)).group(1))
        labeler.label(label)
    exported = pd.read_csv(labeler.session.export(tmp_path / "labels.csv", what=what), dtype=str)
    if what == "events":
        assert list(exported.loc[exported["kind"] == "label", "item_id"])[-3:] == named
    else:
        assert set(named) <= set(exported["item_id"])


# ---------------------------------------------------------------------- the plots say what they mark


@pytest.mark.parametrize("kind", ["decision_boundary", "regression"])
def test_a_plots_title_names_the_item_on_screen_where_it_is_drawn(points, cleanup, kind):
    if kind == "regression":
        data = alw.datasets.load_sin(n_samples=60, noise=0.3, random_state=0)
        from sklearn.gaussian_process import GaussianProcessRegressor

        ids = [f"x-{k}" for k in range(len(data.X))]
        session = alw.Session(GaussianProcessRegressor(random_state=0), data.X, "max_std", random_state=0,
                              item_ids=ids)
        labeler = alw.Labeler(session, y_true=data.y, X_grid=data.X_grid, sync=True, keyboard=False)
        cleanup(labeler)
        for _ in range(3):
            labeler.label(float(data.y[labeler.current]))
    else:
        labeler = make_labeler(points, cleanup, [f"p-{k}" for k in range(N)])
        for _ in range(3):
            labeler.label(int(points[1][labeler.current]))
    panel = next(p for p in labeler.live_plots.panels if p["name"] == kind)
    title = panel["image"].tooltip
    shown = labeler.current
    asked = re.search(rf"{plots.QUERY_LABEL}: item (\S+) at (?:x = )?\(?([-\d.e, ]+)\)?", title)
    assert asked, title
    assert asked.group(1) == labeler.session.item_name(shown)
    where = [float(v) for v in asked.group(2).split(",")]
    np.testing.assert_allclose(where, np.ravel(labeler.session.X_pool[shown])[: len(where)], rtol=1e-3, atol=1e-3)
    # and that is where the red mark is drawn
    marks = [a for a in panel["ax"].get_children() if a.get_gid() == plots.QUERY_GID]
    assert marks and np.allclose(np.asarray(marks[0].get_offsets())[0][: len(where)], where, rtol=1e-3, atol=1e-3)


def test_the_learning_curve_has_no_title_of_marks(points, cleanup):
    X, y = points
    session = alw.Session(LogisticRegression(), X, classes=[0, 1], random_state=0, X_test=X, y_test=y)
    labeler = alw.Labeler(session, sync=True, keyboard=False)
    cleanup(labeler)
    labeler.label(0)
    curve = next(p for p in labeler.live_plots.panels if p["name"] == "learning_curve")
    assert curve["image"].tooltip is None


# ---------------------------------------------------------------------- a page that follows a campaign service


def test_a_page_following_a_campaign_service_names_items_by_the_campaigns_ids(points, cleanup):
    X, y = points
    ids = [f"mnist-{900 + 7 * k}" for k in range(N)]
    store = MemoryStore()
    campaign = alw.Session(LogisticRegression(), X, classes=[0, 1], store=store, annotator="campaign service",
                           random_state=0, item_ids=ids)
    running = Running(CampaignService(campaign, NamedByPage()).start())
    try:
        page = alw.Session(LogisticRegression(), X, classes=[0, 1], item_ids=ids,
                           store=ServiceStore(running.url, annotator="carol"))
        labeler = alw.Labeler(page, keyboard=False, choose_strategy=False, plots=None, review=False)
        cleanup(labeler)
        shown = labeler.current
        assert caption(labeler) == f"item {ids[shown]}"
        labeler.label(int(y[shown]))
        assert [e.item_id for e in store.events() if e.kind == "label"] == [ids[shown]]
        assert caption(labeler) == f"item {ids[labeler.current]}"
    finally:
        running.stop()


# ---------------------------------------------------------------------- "Why this one?" after a refit


@pytest.mark.parametrize("latest_asks_it_too", [True, False])
def test_why_says_whether_the_latest_model_asks_for_the_item_on_screen_too(points, latest_asks_it_too):
    from alwidgets.widgets.item_area import why_html

    X, y = points
    session = alw.Session(LogisticRegression(), X, "margin", classes=[0, 1], random_state=0)
    session.teach([0, N - 1], [int(y[0]), int(y[N - 1])])
    idx = int(session.peek(1)[0])
    other = next(int(i) for i in session.unlabeled if i != idx)
    line = text(why_html(session, idx, shown_version=session.model_version - 1, multi_label=False,
                         next_picks=[idx] if latest_asks_it_too else [other]))
    older, latest = session.model_version - 1, session.model_version
    if latest_asks_it_too:  # nothing is marked apart on the plots: it would say so for no mark
        assert f"chosen by model version {older}; version {latest} asks for it too" in line, line
    else:
        assert f"version {latest}'s own next pick is marked apart on the plots" in line, line


@pytest.mark.parametrize("plots, said", [(("learning_curve",), "is another item"),
                                         (("decision_boundary",), "is marked apart on the plots")])
def test_why_says_the_next_pick_is_marked_apart_only_where_a_plot_marks_it(points, cleanup, plots, said):
    X, y = points
    session = alw.Session(LogisticRegression(), X, "margin", classes=[0, 1], random_state=0)
    session.teach([0, N - 1], [int(y[0]), int(y[N - 1])])
    labeler = alw.Labeler(session, keyboard=False, choose_strategy=False, plots=plots, review=False, sync=True)
    cleanup(labeler)
    assert labeler.live_plots.marks_items == ("decision_boundary" in plots)
    shown = labeler.current
    session.teach([i for i in session.unlabeled if i != shown][:2], [0, 1])  # newer models than the one that asked
    labeler.updates.run_now()
    line = text(labeler.why.value)
    assert f"version {session.model_version}'s own next pick {said}" in line, line
