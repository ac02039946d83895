"""What a teacher projecting the page sees: legends beside the data, no meaningless ticks, texts inside the
page, whole lines in text boxes, a config error that shows how to write the config, and one store folder.

Plots are drawn with Agg and checked on their artists' window extents, after
``figure_to_png`` fitted the margins as a widget's picture would be.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from ports import free_port
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets import plots
from alwidgets.serving import config as alw_config
from alwidgets.serving.config import ConfigError, config_from_dict, load_config
from alwidgets.widgets import keys, views

# ---------------------------------------------------------------------------------------------- legends


def _moons(n_labels: int) -> alw.Session:
    data = alw.datasets.make_moons(200, random_state=0)
    session = alw.Session(LogisticRegression(), data.X, strategy="margin", random_state=0, classes=[0, 1])
    session.simulate(data.y, n_labels)
    return session


def _digits(n_labels: int) -> alw.Session:
    digits = alw.datasets.load_digits()
    session = alw.Session(LogisticRegression(max_iter=300), digits.X[:300], strategy="entropy", random_state=0,
                          classes=list(range(10)))
    session.simulate(digits.y[:300], n_labels, batch_size=10)
    return session


def _gp(n_labels: int) -> alw.Session:
    data = alw.datasets.load_sin(n_samples=120, random_state=0)
    model = GaussianProcessRegressor(kernel=RBF(1.0, (1e-2, 1e3)) + WhiteKernel(1.0, (1e-10, 1e1)), random_state=0)
    session = alw.Session(model, data.X, strategy="max_std", random_state=0)
    session.simulate(data.y, n_labels)
    return session


def _history(pairs, strategy="margin"):
    return [{"n_labels": n, "score": s, "strategy": strategy} for n, s in pairs]


PLOTS_WITH_LEGENDS = {
    # labeled points in every corner, as in the issue: the old legend sat top right, over them
    "decision boundary": lambda: plots.plot_decision_boundary(_moons(40), query=[3], next_query=[5]),
    "decision boundary, unfitted": lambda: plots.plot_decision_boundary(_moons(0), query=[3]),
    "decision boundary, ten classes in PCA": lambda: plots.plot_decision_boundary(_digits(60), query=[0]),
    "decision boundary, legend below": lambda: plots.plot_decision_boundary(
        _moons(40), plots.new_axes((4.0, 3.1), dpi=96), query=[3], legend="below"),
    "regression": lambda: plots.plot_regression(_gp(8), query=[3]),
    "regression, legend below": lambda: plots.plot_regression(_gp(8), plots.new_axes((4.0, 3.1), dpi=96),
                                                              query=[3], legend="below"),
    "learning curves": lambda: plots.plot_learning_curve(
        {"margin": _history([(10, 0.5), (20, 0.7), (30, 0.95)]),
         "random": _history([(10, 0.45), (20, 0.6), (30, 0.7)], "random")},
        baseline=_history([(10, 0.4), (30, 0.6)]), target=0.9, stops={"margin": 20}),
    "seed curves": lambda: plots.plot_seed_curves(
        {"margin": [([10, 20, 30], [0.5, 0.7, 0.8]), ([10, 20, 30], [0.55, 0.72, 0.82])]}, mark=20),
    "ratio curve": lambda: plots.plot_ratio_curve(
        {100: [1.2, 1.4], 200: [1.5, 1.8]}, reached={100: [True, True], 200: [True, False]}, claim=(200, 2.0)),
}


@pytest.mark.parametrize("name", list(PLOTS_WITH_LEGENDS))
def test_a_legend_covers_no_data_and_is_not_cut_off(name):
    ax = PLOTS_WITH_LEGENDS[name]()
    plots.figure_to_png(ax)  # fits the margins, as a widget's picture
    renderer = ax.figure.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    data_area = ax.get_window_extent(renderer)
    assert not legend.overlaps(data_area), f"the legend {legend} overlaps the axes {data_area}"
    figure = ax.figure.bbox
    assert figure.x0 <= legend.x0 and legend.x1 <= figure.x1 and figure.y0 <= legend.y0 and legend.y1 <= figure.y1
    (x_low, x_high), (y_low, y_high) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label,  # and the tick labels drawn: those inside the limits
             *(t for t in ax.get_xticklabels() if x_low <= t.get_position()[0] <= x_high),
             *(t for t in ax.get_yticklabels() if y_low <= t.get_position()[1] <= y_high)]
    for text in texts:
        if text.get_text():
            assert not legend.overlaps(text.get_window_extent(renderer)), f"the legend covers {text.get_text()!r}"
    # and no drawn point sits under it (every scatter and line point, in pixels)
    for artist in [*ax.collections, *ax.lines]:
        if hasattr(artist, "get_offsets") and len(artist.get_offsets()):
            xy = artist.get_offset_transform().transform(artist.get_offsets())
        elif hasattr(artist, "get_xydata"):
            xy = artist.get_transform().transform(artist.get_xydata())
        else:
            continue
        assert not legend.count_contains(xy), f"{artist} has points under the legend"


def test_a_hidden_legend_keeps_its_room_so_race_panels_have_plots_of_one_size():
    session = _moons(20)
    shown, hidden = plots.new_axes((4.0, 3.1), dpi=96), plots.new_axes((4.0, 3.1), dpi=96)
    plots.plot_decision_boundary(session, shown)
    plots.plot_decision_boundary(session, hidden)
    hidden.get_legend().set_visible(False)
    plots.figure_to_png(shown)
    plots.figure_to_png(hidden)
    assert shown.get_position().bounds == hidden.get_position().bounds


@pytest.mark.parametrize("legend", ["left", 1, "top"])
def test_a_legend_place_that_is_none_of_the_places_is_refused(legend):
    with pytest.raises(ValueError, match="legend must be True, False, 'right' or 'below'"):
        plots.plot_decision_boundary(_moons(0), legend=legend)


def test_race_panels_show_one_legend_and_keep_one_size():
    data = alw.datasets.make_blobs(n_samples=120, centers=3, random_state=0)
    widget = alw.StrategyComparison(LogisticRegression(), data.X, data.y, ("random", "margin"), budget=4,
                                    random_state=0, speed=20.0)
    try:
        widget.run(2)
        first, second = (widget.drawing.axes[name] for name in ("random", "margin"))
        assert first.get_legend().get_visible() and not second.get_legend().get_visible()
        assert first.get_position().bounds == second.get_position().bounds
    finally:
        widget.close()


# ---------------------------------------------------------------------------------------------- empty curves


@pytest.mark.parametrize("budget", [None, 30])
def test_an_empty_learning_curve_shows_a_scores_range_not_ticks_around_nothing(budget):
    ax = plots.plot_learning_curve([{"n_labels": 2, "score": None}], budget=budget)
    plots.figure_to_png(ax)
    assert ax.get_ylim() == (0.0, 1.0)
    y_ticks = [t for t in ax.get_yticks() if 0 <= t <= 1]
    assert min(y_ticks) == 0 and max(y_ticks) == 1 and len(y_ticks) >= 3
    x_ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert all(float(t).is_integer() for t in x_ticks), f"labels given are whole numbers: {x_ticks}"
    assert "no held-out scores yet" in [t.get_text() for t in ax.texts]


def test_a_learning_curve_keeps_its_limits_once_scores_arrive_on_the_same_axes():
    ax = plots.plot_learning_curve([])
    plots.plot_learning_curve(_history([(2, 0.55), (3, 0.6)]), ax)
    assert ax.get_ylim()[1] == pytest.approx(1.02) and ax.get_ylim()[0] == pytest.approx(0.52)
    assert [t.get_text() for t in ax.texts] == []


# ---------------------------------------------------------------------------------------------- texts


def _text_session(texts):
    return alw.Session(LogisticRegression(), list(texts), classes=[0, 1])


def _style(html_value: str) -> dict[str, str]:
    style = re.search(r'class="alw-text" style="([^"]*)"', html_value).group(1)
    return dict(part.split(":", 1) for part in style.split(";") if part)


def test_a_text_wraps_inside_the_page_width_even_a_long_address():
    session = _text_session(["see https://example.org/" + "x" * 400, "short"])
    box = views.text()(session, 0)
    style = _style(box.value)
    assert style["white-space"] == "pre-wrap" and style["overflow-wrap"] == "anywhere"
    # a width of 100% plus the widget's own margins ran 4 pixels past the page's right edge
    assert box.layout.width in (None, "auto")


@pytest.mark.parametrize("which, lines", [("item", 9), ("thumbnail", 4)])
def test_a_text_box_is_cut_between_lines_never_through_one(which, lines):
    view = views.text()
    session = _text_session(["word " * 2000, "short"])
    box = view(session, 0) if which == "item" else view.thumbnail(session, 0)
    style = _style(box.value)
    line_height = float(style["line-height"])
    assert style["max-height"] == f"{lines * line_height:g}em"
    assert style["box-sizing"] == "content-box"  # the height is the text's, not the padding's or border's
    assert style["overflow-y"] == "auto"
    # the padding under the last line shows no part of the next one: less than half the gap between lines
    top_bottom = float(style["padding"].split()[0].removesuffix("em"))
    assert top_bottom <= (line_height - 1.0) / 2


def test_a_review_card_shows_whole_lines_of_its_text():
    data = ["word " * 300, "plot text " * 50, "short"] * 4
    session = alw.Session(LogisticRegression(), data, classes=["a", "b"], random_state=0)
    labeler = alw.Labeler(session, view="text", classes=["a", "b"], plots=None)
    labeler.session.record(0, "a")
    labeler.session.record(1, "b")
    labeler.mode.value = "Labeled"
    cards = list(labeler.review.items.children)
    assert cards, "the review panel should list the two labels"
    for card in cards:
        (text,) = [w for w in card.children if "alw-text" in getattr(w, "value", "")]
        assert _style(text.value)["max-height"] == "5.8em"  # 4 lines of 1.45em


# ---------------------------------------------------------------------------------------------- armed ring


def test_the_armed_ring_lies_in_the_labelers_padding_not_over_its_caption():
    css = keys._CSS
    outline = re.search(r"\.alw-labeler\.alw-keys-armed\s*{[^}]*outline:\s*(\d+)px", css)
    padding = re.search(r"\.alw-labeler\s*{[^}]*padding:\s*(\d+)px", css)
    assert outline and padding
    assert int(padding.group(1)) > int(outline.group(1))


# ---------------------------------------------------------------------------------------------- config errors


def test_a_section_written_as_one_value_says_it_is_a_section_and_shows_how_to_write_it():
    with pytest.raises(ConfigError) as error:
        config_from_dict({"data": "reviews.csv"}, base=Path("."))
    message = str(error.value)
    assert "'data' is a section (a TOML table)" in message
    assert '[data]\nsource = "csv"\npath = "reviews.csv"' in message
    assert "unknown key" not in message


def test_a_top_level_key_of_a_section_names_its_section(tmp_path):
    path = tmp_path / "campaign.toml"
    path.write_text('source = "csv"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'source' at the top level; it belongs in the \[data\]"):
        load_config(path)


def test_a_section_error_never_shows_the_value_given():
    with pytest.raises(ConfigError) as error:
        config_from_dict({"store": "postgresql://alice:hunter2@db/labels"}, base=Path("."))
    assert "hunter2" not in str(error.value) and "[store]\nurl =" in str(error.value)


@pytest.mark.parametrize("raw, words", [
    ({"stor": {"url": "x.db"}}, "unknown key 'stor'; the known sections are [data], [labels], [model], [store]"),
    ({"title": {"text": "x"}}, "'title' is a single value, not a section"),
])
def test_other_misplaced_keys_are_named(raw, words):
    with pytest.raises(ConfigError) as error:
        config_from_dict(raw, base=Path("."))
    assert words in str(error.value)


# ---------------------------------------------------------------------------------------------- store folder


VOILA_VARIABLES = ("SERVER_SOFTWARE", "VOILA_BASE_URL", "VOILA_PREHEAT", "VOILA_REQUEST_URL")


def test_outside_voila_the_default_store_is_under_the_working_folder(monkeypatch, tmp_path):
    for name in (*VOILA_VARIABLES, alw_config.ENV_WORKDIR, alw_config.ENV_CONFIG, "ALW_QUICK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert alw_config.start_folder() is None
    assert Path(alw_config.load_campaign().config.store) == tmp_path / "labels" / "labels.db"


def test_a_quick_test_page_store_goes_with_its_process(tmp_path):
    """Under the suite's quick mode a page's default store is a folder of its own, removed when its kernel exits."""
    env = {k: v for k, v in os.environ.items() if k not in (*VOILA_VARIABLES, alw_config.ENV_WORKDIR,
                                                           alw_config.ENV_CONFIG)}
    code = ("from alwidgets.serving.config import load_campaign\n"
            "print(load_campaign().config.store)")
    done = subprocess.run([sys.executable, "-c", code], env={**env, "ALW_QUICK": "1"}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=True)
    store = Path(done.stdout.strip().splitlines()[-1])
    assert store.name == "labels.db" and store.parent.parent.name.startswith("alw-dashboard-")
    assert not store.parent.parent.exists()


@pytest.mark.parametrize("variable, value", [("SERVER_SOFTWARE", "voila/0.5.8"),  # a page's kernel
                                             ("VOILA_PREHEAT", "True")])  # a page kept ready, before any request
def test_in_a_voila_kernel_the_default_store_is_under_the_folder_voila_started_in(monkeypatch, tmp_path, variable,
                                                                                   value):
    started, notebooks = tmp_path / "project", tmp_path / "project" / "notebooks"
    notebooks.mkdir(parents=True)
    for name in (*VOILA_VARIABLES, alw_config.ENV_WORKDIR, alw_config.ENV_CONFIG, "ALW_QUICK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, value)
    # The server is this process's parent in a real kernel; here a child started in the project folder.
    server = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], cwd=started,
                              stdin=subprocess.PIPE)
    try:
        monkeypatch.setenv("JPY_PARENT_PID", str(server.pid))
        monkeypatch.chdir(notebooks)  # Voila runs the notebook in its own folder
        assert alw_config.start_folder() == str(started)
        assert Path(alw_config.load_campaign().config.store) == started / "labels" / "labels.db"
        monkeypatch.setenv(alw_config.ENV_WORKDIR, str(tmp_path))  # serve's word comes first
        assert Path(alw_config.load_campaign().config.store) == tmp_path / "labels" / "labels.db"
    finally:
        server.communicate(b"")


def test_a_real_voila_kernel_finds_the_folder_voila_was_started_in(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "from alwidgets.serving.config import start_folder\nprint('START=' + str(start_folder()) + '=')")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, notebooks / "where.ipynb")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in (alw_config.ENV_WORKDIR, "MPLBACKEND")}
    server = subprocess.Popen(
        [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--Voila.port_retries=0", "notebooks/where.ipynb"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline, page = time.monotonic() + 180, ""
        while time.monotonic() < deadline and "START=" not in page:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120).read().decode()
            except OSError:
                if server.poll() is not None:
                    pytest.fail("voila exited before it served the page")
                time.sleep(0.2)  # polling a server that is starting
        assert f"START={tmp_path}=" in page
    finally:
        server.terminate()
        server.wait(timeout=30)
