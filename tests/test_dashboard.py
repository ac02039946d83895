"""The labeling dashboard without a browser: its TOML config, bad data, the widget, ``serve --check``.

Bad configs and bad data are reported with the config key they are about,
before anything is written: the store file must not even exist afterwards.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from ports import free_port

from alwidgets import config as alw_config
from alwidgets.serving.config import ConfigError, build_campaign, load_config
from alwidgets.store import StoreError
from alwidgets.widgets.dashboard import Dashboard, annotator_from_environment

REPO = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def texts_csv(tmp_path):
    frame = pd.DataFrame({"id": [f"r{k}" for k in range(40)],
                          "review": [f"{'great fun' if k % 2 else 'dull and slow'} film number {k}" for k in range(40)]})
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    return tmp_path / "reviews.csv"


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.RandomState(0)
    for k in range(12):
        Image.fromarray((rng.rand(16, 16) * 255).astype(np.uint8)).save(folder / f"img{k:02d}.png")
    return folder


def csv_config(tmp_path, column="review", extra="") -> Path:
    return write(tmp_path / "campaign.toml", f"""
title = "Reviews"
[data]
source = "csv"
path = "reviews.csv"
text_column = "{column}"
id_column = "id"
[labels]
classes = ["good", "bad"]
[store]
url = "labels.db"
{extra}
""")


# ---------------------------------------------------------------------- config


def test_the_default_config_is_bundled_mnist_with_a_sqlite_store_in_labels(tmp_path):
    config = load_config(None, workdir=tmp_path)
    assert (config.source, config.strategy, config.overlap) == ("mnist", "margin", 1)
    assert Path(config.store) == tmp_path / "labels" / "labels.db"
    campaign = build_campaign(config)
    assert campaign.n_items == 3750 and len(campaign.y_test) == 1250 and campaign.classes == list(range(10))
    assert len(set(campaign.item_ids)) == campaign.n_items


def test_a_csv_config_resolves_paths_next_to_the_file(tmp_path, texts_csv):
    config = load_config(csv_config(tmp_path, extra="overlap = 2\nlease_timeout = 30.5"))
    assert config.path == texts_csv and Path(config.store) == tmp_path / "labels.db"
    assert (config.overlap, config.lease_timeout) == (2, 30.5)
    campaign = build_campaign(config)
    assert campaign.item_ids[:2] == ["r0", "r1"] and campaign.is_text


@pytest.mark.parametrize(
    "text, key",
    [
        ('[data]\nsource = "mnist"\ncolour = 3', "data.colour"),
        ('[data]\nsource = "videos"', "data.source"),
        ('[data]\nsource = "csv"\ntext_column = "t"\n[labels]\nclasses = ["a", "b"]', "data.path"),
        ('[data]\nsource = "images"\npath = "nowhere"\n[labels]\nclasses = ["a", "b"]', "data.path"),
        ('[store]\noverlap = "two"', "store.overlap"),
        ('[store]\nlease_timeout = -1', "store.lease_timeout"),
        ('[model]\nestimator = "svm"', "model.estimator"),
        ('[model]\nstrategy = "marginal"', "model.strategy"),
        ('[model]\nstrategy = "vote_entropy"', "model.strategy"),
        ('[labels]\nclasses = [1, 12]', "labels.classes"),
        ('[stor]\nurl = "x.db"', "stor"),
        ('title = ', "not valid TOML"),
    ],
    ids=["unknown-key", "source", "csv-no-path", "images-missing-folder", "overlap-type", "timeout",
         "estimator", "strategy-name", "strategy-model", "mnist-classes", "unknown-section", "toml-syntax"],
)
def test_a_bad_config_names_the_key_and_writes_nothing(tmp_path, text, key):
    path = write(tmp_path / "campaign.toml", text)
    with pytest.raises(ConfigError, match=re.escape(key)):
        load_config(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign.toml"]


def test_a_csv_without_the_named_column_is_a_clear_error_and_nothing_is_written(tmp_path, texts_csv):
    config = load_config(csv_config(tmp_path, column="text"))
    with pytest.raises(ConfigError, match=r"data\.text_column 'text' is not a column of reviews\.csv"):
        Dashboard.from_config(tmp_path / "campaign.toml")
    assert not Path(config.store).exists()


def test_an_image_folder_with_a_non_image_file_is_a_clear_error_and_nothing_is_written(tmp_path, image_folder):
    (image_folder / "notes.txt").write_text("not a picture")
    path = write(tmp_path / "campaign.toml", f"""
[data]
source = "images"
path = "{image_folder.name}"
[labels]
classes = ["noise", "signal"]
[store]
url = "labels.db"
""")
    with pytest.raises(ConfigError, match=r"data\.path: .*not images: notes\.txt"):
        Dashboard.from_config(path)
    assert not (tmp_path / "labels.db").exists()


def test_serve_check_reports_a_bad_config_with_exit_code_2(tmp_path):
    path = write(tmp_path / "campaign.toml", '[store]\noverlap = 0')
    done = subprocess.run([sys.executable, "-m", "alwidgets", "serve", str(path), "--check"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 2 and "store.overlap must be at least 1" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign.toml"]


def test_serve_check_accepts_a_good_config_and_creates_the_store(tmp_path, texts_csv):
    csv_config(tmp_path)
    done = subprocess.run([sys.executable, "-m", "alwidgets", "serve", "campaign.toml", "--check"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "40 items to label" in done.stdout and (tmp_path / "labels.db").is_file()


def test_serve_without_a_config_checks_the_default_campaign_and_makes_its_store(tmp_path):
    done = subprocess.run([sys.executable, "-m", "alwidgets", "serve", "--check"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3,750 items to label" in done.stdout and (tmp_path / "labels" / "labels.db").is_file()


def test_serve_refuses_a_negative_cull_time_before_touching_anything(tmp_path):
    done = subprocess.run([sys.executable, "-m", "alwidgets", "serve", "--cull-after", "-5", "--check"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 2 and "--cull-after must be 0 or more seconds" in done.stderr
    assert list(tmp_path.iterdir()) == []




def test_serve_culls_the_kernel_of_a_page_nobody_has_open(tmp_path):
    """A visitor who closes the tab leaves a kernel behind; serve shuts it down once idle."""
    import time
    import urllib.request

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "alwidgets", "serve", "--port", str(port),
                                   "--cull-after", "3"], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        page = None
        while page is None and time.monotonic() < deadline:
            try:  # loading the page starts a kernel; no websocket stays connected to it
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60).read()
            except OSError:
                time.sleep(0.5)
        assert page is not None, f"the page never loaded within 120 s:\n{log.read_text()}"
        deadline = time.monotonic() + 120  # the cull comes 3 s after the kernel idles; this only bounds a failure
        while "Culling 'idle' kernel" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "Culling 'idle' kernel" in log.read_text(), f"no kernel culled within 120 s:\n{log.read_text()}"
        assert "with 0 connections" in log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # SIGTERM, as a service manager sends it, stops Voila too: nothing is left listening on the port
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)


def test_the_packaged_dashboard_notebook_is_the_one_in_notebooks():
    assert (REPO / "alwidgets" / "dashboard.ipynb").read_bytes() == (REPO / "notebooks" / "dashboard.ipynb").read_bytes()


# ---------------------------------------------------------------------- the widget


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"JUPYTERHUB_USER": "ada", "QUERY_STRING": "annotator=bob"}, ("ada", True)),
        ({"HTTP_X_FORWARDED_USER": "grace"}, ("grace", True)),
        ({"QUERY_STRING": "annotator=bob&x=1"}, ("bob", False)),
        ({}, (None, False)),
    ],
    ids=["jupyterhub", "proxy-header", "query-string", "nothing"],
)
def test_who_opened_the_page(environ, expected):
    assert annotator_from_environment(environ) == expected


@pytest.fixture
def csv_dashboard(tmp_path, texts_csv):
    def make(**kwargs) -> Dashboard:
        kwargs.setdefault("poll_seconds", None)
        kwargs.setdefault("environ", {})
        kwargs.setdefault("labeler_options", {"keyboard": False})
        return Dashboard(build_campaign(load_config(csv_config(tmp_path, extra="overlap = 2"))), **kwargs)

    made: list[Dashboard] = []
    yield lambda **kw: made.append(make(**kw)) or made[-1]
    for dashboard in made:
        dashboard.close()


def test_a_name_is_needed_before_labeling(csv_dashboard):
    dashboard = csv_dashboard()
    dashboard.start_button.click()
    assert dashboard.labeler is None and "type your name" in dashboard.message.value
    dashboard.name.value = "<b>x</b>"
    dashboard.start_button.click()
    assert dashboard.labeler is None and "cannot be a name" in dashboard.message.value
    dashboard.name.value = "alice"
    dashboard.start_button.click()
    assert dashboard.labeler is not None and dashboard.session.annotator == "alice" and dashboard.name.disabled


def test_two_pages_label_different_items_and_share_progress_export_and_agreement(csv_dashboard):
    alice = csv_dashboard(annotator="alice")
    bob = csv_dashboard(annotator="bob")
    carol = csv_dashboard(annotator="carol")
    shown = [alice.labeler.current, bob.labeler.current, carol.labeler.current]
    assert shown[0] == shown[1] != shown[2]  # overlap 2: two people per item, never three
    for page, label in ((alice, "good"), (bob, "bad"), (carol, "good")):
        page.labeler.label_buttons[label].click()
        page.labeler.wait()
    progress = alice.refresh()
    assert progress["per_annotator"] == {"alice": 1, "bob": 1, "carol": 1}
    assert progress["ties"] == 1 and progress["labeled"] == 1
    assert f"of {progress['total']} items labeled" in alice.campaign_line.value and alice.bar.value == 1
    link = re.search(r"href='data:text/csv;base64,([^']+)'", alice.download.value)
    exported = pd.read_csv(io.BytesIO(base64.b64decode(link.group(1))))
    assert sorted(exported["annotators"]) == ["alice;bob", "carol"]
    assert "Fleiss" in alice.admin_html.value and "alice" in alice.admin_html.value


def _items_in_link(page) -> int:
    return int(re.search(r"\((\d+) items, as of", page.download.value).group(1))


def test_the_poll_rebuilds_the_download_link_at_most_every_few_seconds_and_refresh_at_once(csv_dashboard):
    from alwidgets.widgets.dashboard import DOWNLOAD_EVERY_SECONDS

    alice = csv_dashboard(annotator="alice")
    alice.labeler.label_buttons["good"].click()
    alice.labeler.wait()
    alice._poll()
    assert _items_in_link(alice) == 1
    alice.labeler.label_buttons["bad"].click()
    alice.labeler.wait()
    alice._poll()  # within the window: the link (the whole campaign as CSV) waits
    assert _items_in_link(alice) == 1
    alice._download_at -= DOWNLOAD_EVERY_SECONDS  # as if that long had passed
    alice._poll()  # no new event since, but the link was left behind: rebuilt
    assert _items_in_link(alice) == 2
    alice.labeler.label_buttons["good"].click()
    alice.labeler.wait()
    alice.refresh()  # the Refresh button, or a caller, always gets the link as of now
    assert _items_in_link(alice) == 3


def test_reopening_the_page_keeps_the_progress(csv_dashboard):
    first = csv_dashboard(annotator="alice")
    for _ in range(3):
        first.labeler.label_buttons["good"].click()
    first.labeler.wait()
    labeled = dict(first.session.my_labels)
    first.close()
    again = csv_dashboard(annotator="alice")
    assert again.session.my_labels == labeled
    assert again.labeler.current not in labeled and "3 of your labels are kept" in again.message.value


def test_a_trusted_name_from_jupyterhub_starts_at_once_and_is_locked(csv_dashboard):
    dashboard = csv_dashboard(environ={"JUPYTERHUB_USER": "ada"})
    assert dashboard.labeler is not None and dashboard.session.annotator == "ada" and dashboard.name.disabled


@pytest.mark.parametrize(
    "environ, name, labeling, field_locked",
    [
        ({"HTTP_X_FORWARDED_USER": "carol"}, "carol", True, True),
        ({"QUERY_STRING": "annotator=dave"}, "dave", False, False),
        ({}, "", False, False),
    ],
)
def test_a_page_kept_ready_takes_in_its_visitor_only_when_they_come(csv_dashboard, environ, name, labeling,
                                                                     field_locked):
    dashboard = csv_dashboard(visitor_known=False)
    assert dashboard.name.disabled and dashboard.start_button.disabled and not dashboard.visitor_known
    dashboard.start("mallory")  # a click sent before the visitor is known starts nothing
    assert dashboard.labeler is None and "still opening" in dashboard.message.value
    dashboard.welcome(environ)
    assert dashboard.visitor_known and dashboard.name.value == name and dashboard.name.disabled == field_locked
    # a Labeler is built only once the browser has drawn the page and says so, so it reaches a listening browser
    assert dashboard.labeler is None
    dashboard.page._handle_custom_msg({"open": True}, [])  # the browser's first "the page is open"
    assert (dashboard.labeler is not None) == labeling
    if labeling:
        assert dashboard.session.annotator == name
    dashboard.welcome({"HTTP_X_FORWARDED_USER": "eve"})  # only the first visitor counts
    assert dashboard.name.value == name


def test_a_page_link_calls_back_once_the_browser_has_drawn_the_page():
    from alwidgets.widgets.page import PageLink

    page = PageLink("campaign")
    calls = []
    page.when_shown(lambda: calls.append("first"))
    assert calls == [] and not page.is_open(60)
    page._handle_custom_msg({"remembered": "x"}, [])  # another message is not the page's word that it is open
    assert calls == []
    page._handle_custom_msg({"open": True}, [])
    page._handle_custom_msg({"open": True}, [])  # every beat after the first calls nothing again
    assert calls == ["first"]
    page.when_shown(lambda: calls.append("later"))  # the page is drawn already: at once
    assert calls == ["first", "later"]


def test_when_visitor_arrives_calls_at_once_outside_a_ready_page(monkeypatch):
    from alwidgets.widgets.page import when_visitor_arrives

    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    calls = []
    when_visitor_arrives(lambda: calls.append(1))
    assert calls == [1]


def test_when_visitor_arrives_waits_for_voilas_word_then_sets_the_environment(monkeypatch):
    """A kernel from Voila's pool: the request's details come over voila/query/<kernel id>, then the callback runs."""
    import asyncio
    import json
    import threading

    import websockets

    from alwidgets.widgets.page import when_visitor_arrives

    asked, ready, done = [], threading.Event(), threading.Event()
    port = free_port()

    async def serve():
        async def answer(socket):
            asked.append(socket.request.path)
            await socket.send(json.dumps({"HTTP_X_FORWARDED_USER": "carol", "QUERY_STRING": "a=1"}))

        async with websockets.serve(answer, "127.0.0.1", port):
            ready.set()
            await asyncio.get_running_loop().run_in_executor(None, done.wait, 120)

    server = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    server.start()
    assert ready.wait(60), "the fake Voila server never started"
    for key, value in {"VOILA_PREHEAT": "True", "VOILA_APP_PORT": str(port), "VOILA_SERVER_URL": "/base/",
                       "VOILA_KERNEL_ID": "k-1"}.items():
        monkeypatch.setenv(key, value)
    for key in ("HTTP_X_FORWARDED_USER", "QUERY_STRING"):  # what the thread writes is gone after the test
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    called = threading.Event()
    seen = {}
    # from a thread of its own, as from a plain script: this test process may have an event loop of the browser
    # tests' in its main thread, which nothing runs between their calls
    caller = threading.Thread(target=when_visitor_arrives,
                              args=(lambda: seen.update(user=os.environ.get("HTTP_X_FORWARDED_USER")) or called.set(),))
    caller.start()
    try:
        assert called.wait(60), f"the callback never ran within 60 s (Voila was asked: {asked})"
        caller.join(60)
    finally:
        done.set()
    assert asked == ["/base/voila/query/k-1"] and seen == {"user": "carol"}


def test_the_default_dashboard_keeps_its_store_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(alw_config.ENV_WORKDIR, str(tmp_path))
    monkeypatch.delenv(alw_config.ENV_CONFIG, raising=False)
    dashboard = Dashboard.from_config(poll_seconds=None, environ={})
    try:
        assert Path(dashboard.config.store) == tmp_path / "labels" / "labels.db"
        assert (tmp_path / "labels" / "labels.db").is_file() and dashboard.admin is None
    finally:
        dashboard.close()


# ---------------------------------------------------------------------- identity (headless; the browser tests drive the page)


def test_a_refused_trusted_name_blocks_labeling_and_a_forged_field_cannot_replace_it(csv_dashboard):
    dashboard = csv_dashboard(environ={"HTTP_X_FORWARDED_USER": "o'brien"})
    assert dashboard.labeler is None and dashboard.start_button.disabled and dashboard.name.disabled
    assert "Labeling is blocked" in dashboard.message.value and "o&#x27;brien" in dashboard.message.value
    dashboard.name.value = "bob"  # what a browser sends after re-enabling the field, or a forged state message
    dashboard.start_button.click()  # a forged click on the disabled button
    assert dashboard.labeler is None and dashboard.session is None
    assert dashboard.name.value == "o'brien" and dashboard.store.events() == []


def test_a_trusted_name_is_the_only_name_labels_are_given_under(csv_dashboard):
    dashboard = csv_dashboard(environ={"HTTP_X_FORWARDED_USER": "carol"}, annotator="mallory")
    dashboard.name.value = "bob"
    dashboard.labeler.label_buttons["good"].click()
    dashboard.labeler.wait()
    assert dashboard.name.value == "carol"
    assert [e.annotator for e in dashboard.store.events()] == ["carol"]


@pytest.mark.parametrize("typed, stored", [("ａｌｉｃｅ", "alice"), ("  Ｂｏｂ ", "Bob"), ("ﬁona", "fiona")],
                         ids=["full-width", "full-width-spaces", "ligature"])
def test_look_alike_names_are_normalized_before_they_are_checked_and_stored(csv_dashboard, typed, stored):
    dashboard = csv_dashboard()
    dashboard.name.value = typed
    dashboard.start_button.click()
    assert dashboard.session.annotator == stored and dashboard.name.value == stored
    dashboard.labeler.label_buttons["bad"].click()
    dashboard.labeler.wait()
    assert [e.annotator for e in dashboard.store.events()] == [stored]


def test_who_opened_the_page_is_normalized():
    assert annotator_from_environment({"HTTP_X_FORWARDED_USER": "ａｄａ"}) == ("ada", True)


def test_undo_on_a_page_takes_back_only_that_pages_labels(csv_dashboard):
    first = csv_dashboard(annotator="alice")
    for _ in range(2):
        first.labeler.label_buttons["good"].click()
    first.labeler.wait()
    second = csv_dashboard(annotator="alice")  # anyone can type alice's name on another page
    assert "Undo takes back only the labels given on this page" in second.message.value
    second.labeler.undo()
    assert "there is no label to take back" in second.labeler.errors[-1]
    assert [e.kind for e in second.store.events()] == ["label", "label"]
    first.labeler.undo()  # the page that gave them can
    assert [e.kind for e in first.store.events()] == ["label", "label", "retract"]


def test_the_download_quotes_cells_a_spreadsheet_would_run(tmp_path):
    pd.DataFrame({"id": ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "r3"],
                  "review": ["great fun", "dull and slow", "fine"]}).to_csv(tmp_path / "reviews.csv", index=False)
    campaign = build_campaign(load_config(csv_config(tmp_path)))
    dashboard = Dashboard(campaign, annotator="+bob", poll_seconds=None, environ={},
                          labeler_options={"keyboard": False})
    try:
        for _ in range(3):
            dashboard.labeler.label_buttons["good"].click()
        dashboard.labeler.wait()
        dashboard.refresh()
        text = dashboard.export_csv().decode("utf-8")
    finally:
        dashboard.close()
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text and "'+bob" in text
    assert not re.search(r"(^|,)[=+@-]", text, flags=re.M)


# ---------------------------------------------------------------------- campaigns and their stores


def campaign_toml(folder: Path, name: str, classes: list, store: str | None = None) -> Path:
    store_section = f'[store]\nurl = "{store}"\n' if store else ""
    return write(folder / f"{name}.toml", f"""
[data]
source = "csv"
path = "reviews.csv"
text_column = "review"
[labels]
classes = {json.dumps(classes)}
{store_section}""")


def serve_check(capsys, *args) -> tuple[int, str, str]:
    """``python -m alwidgets serve ARGS --check`` in this process: exit code, stdout, stderr."""
    from alwidgets.serving.cli import main

    capsys.readouterr()
    code = main(["serve", *map(str, args), "--check"])
    out, err = capsys.readouterr()
    return code, out, err


def test_serve_checks_a_notebook_it_is_given(capsys):
    code, out, _ = serve_check(capsys, REPO / "notebooks" / "04_decision_boundary.ipynb")
    assert code == 0 and "04_decision_boundary.ipynb: 3 code cells" in out


@pytest.mark.parametrize(
    "name, text, said",
    [
        ("missing.ipynb", None, "no notebook at"),
        ("broken.ipynb", "{not json", "is not a notebook Jupyter can read"),
    ],
)
def test_serve_names_a_notebook_it_cannot_serve(tmp_path, capsys, name, text, said):
    if text is not None:
        (tmp_path / name).write_text(text)
    code, _, err = serve_check(capsys, tmp_path / name)
    assert code == 2 and said in err and name in err


def test_serve_refuses_a_negative_pool(capsys):
    code, _, err = serve_check(capsys, "--pool", "-1")
    assert code == 2 and "--pool must be 0" in err


def test_two_campaigns_in_one_folder_get_a_store_each(tmp_path, texts_csv, capsys):
    campaign_toml(tmp_path, "sentiment", ["pos", "neg"])
    campaign_toml(tmp_path, "topic", ["movie", "book", "game"])
    for name in ("sentiment", "topic"):
        code, out, err = serve_check(capsys, tmp_path / f"{name}.toml")
        assert code == 0, err
        assert f"labels/{name}.db" in out
    assert sorted(p.name for p in (tmp_path / "labels").iterdir()) == ["sentiment.db", "topic.db"]


def test_a_store_bound_to_another_campaign_is_refused_with_what_to_do(tmp_path, texts_csv, capsys):
    campaign_toml(tmp_path, "sentiment", ["pos", "neg"], store="shared.db")
    campaign_toml(tmp_path, "topic", ["movie", "book", "game"], store="shared.db")
    assert serve_check(capsys, tmp_path / "sentiment.toml")[0] == 0
    sentiment = build_campaign(load_config(tmp_path / "sentiment.toml"))
    session = sentiment.session("alice", store=sentiment.open_store())
    session.record(0, "pos")
    session.store.close()
    code, _, err = serve_check(capsys, tmp_path / "topic.toml")
    assert code == 2
    assert "classes ['pos', 'neg']" in err and "[store] url" in err and "--rebind-store" in err
    topic = build_campaign(load_config(tmp_path / "topic.toml"))
    with pytest.raises(StoreError, match="two campaigns must not share a store"):
        topic.open_store()
    # the same campaign with more rows is another pool: refused too, until rebound on purpose
    more = pd.read_csv(texts_csv)
    pd.concat([more, more.assign(id=more["id"] + "b")]).to_csv(texts_csv, index=False)
    code, _, err = serve_check(capsys, tmp_path / "sentiment.toml")
    assert code == 2 and "pool of 40 items" in err and "80 items" in err
    code, _, err = serve_check(capsys, tmp_path / "sentiment.toml", "--rebind-store")
    assert code == 0, err
    assert serve_check(capsys, tmp_path / "sentiment.toml")[0] == 0


def test_ids_are_read_as_text_and_a_blank_id_is_refused(tmp_path):
    frame = "id,review\n007,first\n7,second\n1,third\n2,fourth\n,fifth\n4,sixth\n"
    write(tmp_path / "reviews.csv", frame)
    config = load_config(csv_config(tmp_path))
    with pytest.raises(ConfigError, match=r"data\.id_column 'id' of reviews\.csv is blank on 1 line\(s\) \(first: line 6\)"):
        build_campaign(config)
    write(tmp_path / "reviews.csv", frame.replace(",fifth", "3,fifth"))
    assert build_campaign(config).item_ids == ["007", "7", "1", "2", "3", "4"]


def _png_that_claims(path: Path, width: int, height: int) -> None:
    """A tiny PNG file whose header claims width x height pixels (a decompression bomb needs no more to be refused)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [40_000, 10_000], ids=["over-twice-the-limit", "over-the-limit"])
def test_a_decompression_bomb_in_an_image_folder_is_named_and_exits_2(tmp_path, image_folder, capsys, side):
    _png_that_claims(image_folder / "huge.png", side, side)
    write(tmp_path / "campaign.toml", f'[data]\nsource = "images"\npath = "{image_folder.name}"\n'
                                      '[labels]\nclasses = ["noise", "signal"]\n')
    code, _, err = serve_check(capsys, tmp_path / "campaign.toml")
    assert code == 2 and "huge.png" in err and "decompression bomb" in err
    assert "Traceback" not in err and not (tmp_path / "labels").exists()


def test_a_csv_that_is_not_utf8_names_the_file_and_the_fix_which_then_works(tmp_path, capsys):
    (tmp_path / "reviews.csv").write_bytes("id,review\nr1,un café crème\nr2,déjà vu\n".encode("latin-1"))
    csv_config(tmp_path)
    code, _, err = serve_check(capsys, tmp_path / "campaign.toml")
    assert code == 2 and "reviews.csv" in err and 'encoding = "latin-1"' in err and "line 2" in err
    csv_config(tmp_path, extra="").write_text(
        (tmp_path / "campaign.toml").read_text().replace('id_column = "id"', 'id_column = "id"\nencoding = "latin-1"'))
    code, out, err = serve_check(capsys, tmp_path / "campaign.toml")
    assert code == 0, err
    assert build_campaign(load_config(tmp_path / "campaign.toml")).texts[0] == "un café crème"


@pytest.mark.parametrize("limit, length", [(None, 100_001), (500, 501)], ids=["default-cap", "configured-cap"])
def test_a_text_longer_than_the_cap_is_refused_with_a_clear_error(tmp_path, capsys, limit, length):
    write(tmp_path / "reviews.csv", f"id,review\nr1,short\nr2,{'x' * length}\nr3,short too\n")
    csv_config(tmp_path)
    if limit is not None:
        path = tmp_path / "campaign.toml"
        path.write_text(path.read_text().replace('id_column = "id"', f'id_column = "id"\nmax_text_chars = {limit}'))
    code, _, err = serve_check(capsys, tmp_path / "campaign.toml")
    assert code == 2 and "reviews.csv" in err and "line 3" in err
    assert f"longer than {limit or 100_000:,} characters" in err and "data.max_text_chars" in err
    write(tmp_path / "reviews.csv", f"id,review\nr1,short\nr2,{'x' * (length - 1)}\nr3,short too\n")
    assert serve_check(capsys, tmp_path / "campaign.toml")[0] == 0  # up to the cap is fine


def test_only_the_columns_used_are_read(tmp_path):
    # columns nobody labels may be ragged or hold anything: they are never parsed
    write(tmp_path / "reviews.csv", "id,review,notes\nr1,good film,a\nr2,bad film,b,c,d\nr3,fine film\n")
    campaign = build_campaign(load_config(csv_config(tmp_path)))
    assert campaign.item_ids == ["r1", "r2", "r3"] and list(campaign.texts) == ["good film", "bad film", "fine film"]


def test_serve_answers_a_clear_page_once_max_kernels_pages_are_open(tmp_path, texts_csv):
    import urllib.error
    import urllib.request

    csv_config(tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "alwidgets", "serve", "campaign.toml", "--port", str(port),
                                   "--max-kernels", "1"], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        page = None
        while page is None and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:  # the first visitor gets the page (and its kernel)
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120).read().decode()
            except urllib.error.HTTPError:
                raise
            except OSError:
                time.sleep(0.5)
        assert page is not None and "Labeling dashboard" in page, log.read_text()
        with pytest.raises(urllib.error.HTTPError) as refused:  # the second is told the server is full
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120)
        assert refused.value.code == 503
        body = refused.value.read().decode()
        assert "This labeling server is full: 1 pages are open" in body and "Try again soon: each page closed frees its place" in body
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_pages_kept_ready_count_against_max_kernels(tmp_path, texts_csv):
    """With --pool 1 and --max-kernels 2, two visitors get pages run ahead of them; the third is told it is full."""
    import urllib.error
    import urllib.request

    from serving import start_serve, stop_serve

    csv_config(tmp_path)
    server = start_serve(tmp_path, dict(os.environ), options=["--max-kernels", "2", "--pool", "1", "--cull-after", "0",
                                                           "--claim-within", "0"])
    log = server["log"]
    try:
        deadline = time.monotonic() + 180
        while "Kernel pool of dashboard.ipynb is filled" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        for _visitor in range(2):
            assert "Labeling dashboard" in urllib.request.urlopen(server["url"], timeout=120).read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server["url"], timeout=120)
        assert refused.value.code == 503
        assert "This labeling server is full: 2 pages are open" in refused.value.read().decode()
        assert log.read_text().count("Using pre-heated kernel") == 2
    finally:
        stop_serve(server)


@pytest.mark.parametrize("closing, expected_fills", [(False, 1), (True, 0)])
def test_a_refused_refill_is_dropped_and_the_pool_filled_once_a_place_frees(closing, expected_fills):
    import asyncio
    import threading
    import types

    from alwidgets_serving import CappedKernelManager

    async def refused():
        raise RuntimeError("full")

    async def ready():
        return {"kernel_id": "k"}

    async def scenario():
        failed, waiting = asyncio.ensure_future(refused()), asyncio.ensure_future(ready())
        await asyncio.gather(failed, waiting, return_exceptions=True)
        fills = []
        manager = types.SimpleNamespace(  # only the pool bookkeeping Voila adds on top of the class, no kernels
            _pools={"dashboard.ipynb": [failed, waiting]}, notebook_path="dashboard.ipynb", _closing=closing,
            fill_if_needed=lambda **kw: fills.append(kw))
        CappedKernelManager._refill_pool(manager)
        return manager._pools["dashboard.ipynb"], waiting, fills

    outcome = []  # asyncio.run in a thread of its own: the browser tests may leave a loop in this thread
    runner = threading.Thread(target=lambda: outcome.append(asyncio.run(scenario())))
    runner.start()
    runner.join(60)
    assert outcome, "the refill scenario did not finish within 60 s"
    pool, waiting, fills = outcome[0]
    assert len(fills) == expected_fills
    if not closing:
        assert pool == [waiting] and fills == [{"delay": 0, "notebook_name": "dashboard.ipynb"}]


def test_a_text_of_many_megabytes_on_one_line_is_refused_without_reading_it_whole(tmp_path, capsys):
    with (tmp_path / "reviews.csv").open("w") as out:
        out.write("id,review\nr1,short\nr2,")
        out.write("x" * (17 * 2**20))  # more than the 16 MiB a line may hold
        out.write("\nr3,short too\n")
    csv_config(tmp_path)
    code, _, err = serve_check(capsys, tmp_path / "campaign.toml")
    assert code == 2 and "reviews.csv" in err and "line 3" in err
    assert "longer than 16,777,216 characters" in err and "data.max_text_chars" in err


def test_the_dashboard_suggests_labels_and_shows_who_overrides_them(csv_dashboard):
    alice = csv_dashboard(annotator="alice")
    labeler = alice.labeler
    assert labeler.suggest  # on by default for a team: the config's [labels] suggest = false turns it off
    for k in range(8):  # the model needs both classes before it suggests anything
        labeler.label_buttons["good" if k % 2 else "bad"].click()
        labeler.wait()
    labeler.wait()
    assert labeler.suggested, "a fitted model suggests a label for the item on screen"
    guess = labeler.suggested[labeler.current][0]
    labeler.accept_suggestion()
    labeler.wait()
    labeler.label_buttons["good" if labeler.suggested[labeler.current][0] == "bad" else "bad"].click()
    labeler.wait()
    progress = alice.refresh()
    share, seen = progress["override_rate"]["alice"]
    events = [e for e in alice.store.events() if e.suggested is not None]
    assert seen == len(events) >= 2 and share == pytest.approx(sum(not e.accepted for e in events) / seen)
    assert "suggestions" in alice.campaign_line.value
    assert guess in {e.label for e in events if e.accepted}


def test_a_config_can_turn_suggestions_off(tmp_path, texts_csv):
    assert build_campaign(load_config(csv_config(tmp_path))).config.suggest
    path = write(tmp_path / "quiet.toml", csv_config(tmp_path).read_text().replace(
        'classes = ["good", "bad"]', 'classes = ["good", "bad"]\nsuggest = false'))
    dashboard = Dashboard(build_campaign(load_config(path)), annotator="ann", poll_seconds=None, environ={},
                          labeler_options={"keyboard": False})
    try:
        assert dashboard.labeler.suggest is False
    finally:
        dashboard.close()


def test_an_annotator_who_takes_every_one_of_many_suggestions_is_flagged():
    from alwidgets.widgets.dashboard import ACCEPT_ALL_WARNING, _progress_html

    progress = {"labeled": 30, "total": 40, "ties": 0, "leased": 0, "per_annotator": {"ann": 25, "bob": 25},
                "override_rate": {"ann": (0.0, ACCEPT_ALL_WARNING), "bob": (0.2, ACCEPT_ALL_WARNING)}}
    page = _progress_html(progress)
    assert page.count("alw-accepts-all") == 1 and "took all 20 suggestions" in page
    assert "overrode 20% of 20 suggestions" in page


# ---------------------------------------------------------------------- issue 11: the team dashboard


def test_serve_check_makes_the_folder_of_a_store_the_config_names(tmp_path, texts_csv, capsys):
    path = write(tmp_path / "campaign.toml", csv_config(tmp_path).read_text().replace(
        'url = "labels.db"', 'url = "labels/reviews.db"'))
    code, out, err = serve_check(capsys, path)
    assert code == 0, err
    assert "40 items to label" in out and (tmp_path / "labels" / "reviews.db").is_file()


def test_the_strategy_menu_is_shown_only_when_the_config_allows_it(tmp_path, texts_csv):
    def strategy_menus(widget) -> list:
        found = ["alw-strategy" in getattr(widget, "_dom_classes", ())]
        for child in getattr(widget, "children", ()):
            found += strategy_menus(child)
        return [f for f in found if f]

    for allowed in (None, False, True):
        extra = "" if allowed is None else f"\n[model]\nannotators_choose_strategy = {str(allowed).lower()}"
        config = load_config(write(tmp_path / "campaign.toml", csv_config(tmp_path).read_text() + extra))
        assert config.annotators_choose_strategy is bool(allowed)
        dashboard = Dashboard(build_campaign(config), annotator="alice", poll_seconds=None, environ={},
                              labeler_options={"keyboard": False})
        try:
            assert (dashboard.labeler.strategy is not None) is bool(allowed)
            assert len(strategy_menus(dashboard)) == int(bool(allowed))
        finally:
            dashboard.close()
    with pytest.raises(ConfigError, match="model.annotators_choose_strategy must be a bool"):
        load_config(write(tmp_path / "campaign.toml", '[model]\nannotators_choose_strategy = "yes"'))


def progress_numbers(dashboard) -> tuple[int, int]:
    """The number of labeled items the Labeler's line shows, and the number the campaign line shows."""
    mine = re.search(r"<b>(\d+)</b> labeled", dashboard.labeler.progress.value)
    campaign = re.search(r"<b>(\d+)</b> of [\d,]+ items labeled", dashboard.campaign_line.value)
    return int(mine.group(1)), int(campaign.group(1))


def test_the_labeler_and_the_campaign_line_show_one_count(csv_dashboard):
    alice = csv_dashboard(annotator="alice")
    bob = csv_dashboard(annotator="bob")
    for _ in range(2):
        alice.labeler.label_buttons["good"].click()
    alice.labeler.wait()
    for _ in range(5):  # bob's labels reach alice's page through its poll, not through her clicks
        bob.labeler.label_buttons["bad"].click()
    bob.labeler.wait()
    progress = alice.refresh()
    assert progress_numbers(alice) == (progress["labeled"], progress["labeled"])
    counts = lambda p: {k: v for k, v in p.items() if k != "override_rate"}  # noqa: E731  (the counts alone)
    assert counts(progress) == counts(bob.refresh()) == pool_progress_of(alice)


def pool_progress_of(dashboard) -> dict:
    from alwidgets.engine.labelstate import pool_progress
    from alwidgets.store import LIVE_SECONDS, Tally

    tally = Tally()
    tally.apply(dashboard.store.events())
    return pool_progress(tally, set(dashboard.campaign.item_ids), dashboard.config.overlap,
                         dashboard.store.leases(live_within=LIVE_SECONDS))


def test_only_pages_that_are_still_open_count_as_being_labeled_right_now(csv_dashboard, moved_clock):
    from alwidgets.store import LIVE_SECONDS

    alice = csv_dashboard(annotator="alice")
    bob = csv_dashboard(annotator="bob")  # overlap 2: shown the same item as alice
    carol = csv_dashboard(annotator="carol")
    for page in (alice, bob, carol):  # each page says it is open
        page.heartbeat()
    assert alice.refresh()["leased"] == 2
    moved_clock.advance(LIVE_SECONDS + 1)  # nobody said they are open since: no page counts
    assert alice.refresh()["leased"] == 0
    carol.heartbeat()  # carol's poll says her page is open; alice's and bob's kernels were killed, say
    assert alice.refresh()["leased"] == 1 and "1 being labeled right now" in alice.campaign_line.value
    assert carol.session.progress()["leased"] == 1


RELEASE_ON_EXIT = """
import os
import signal
import sys
import time
from alwidgets.serving.config import build_campaign, load_config
from alwidgets.widgets.dashboard import Dashboard

dashboard = Dashboard(build_campaign(load_config(sys.argv[1])), annotator="alice", environ={},
                      labeler_options={"keyboard": False})
print(len(dashboard.store.leases()), flush=True)
# the kernel ends without anybody closing the page's widgets: as when Voila shuts a kernel down, or
# as when a service manager stops the server with SIGTERM to each of its processes
if sys.argv[2] == "sigterm":
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(600)  # the signal ends the process; the test's timeout bounds one it does not end
"""


@pytest.mark.parametrize("how, code", [("exit", 0), ("sigterm", -15)])
def test_a_page_gives_back_its_leases_when_its_kernel_ends(tmp_path, texts_csv, how, code):
    path = csv_config(tmp_path)
    done = subprocess.run([sys.executable, "-c", RELEASE_ON_EXIT, str(path), how], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert done.stdout.split() == ["1"]  # the page held the item it showed
    from alwidgets.store import open_store

    store = open_store(load_config(path).store, create=False)
    try:
        assert store.leases() == []
    finally:
        store.close()


def test_a_reload_offers_the_name_this_browser_last_labeled_under(csv_dashboard):
    first = csv_dashboard()
    first.name.value = "alice"
    first.start_button.click()
    assert first.page.accepted == "alice"  # the browser is told to keep it
    again = csv_dashboard()  # the reload: the browser sends what it kept
    assert again.page.campaign == first.page.campaign
    again.page.remembered = "alice"
    assert again.name.value == "alice" and again.labeler is None and "Welcome back" in again.message.value
    again.start_button.click()
    assert again.session.annotator == "alice"


@pytest.mark.parametrize("environ, remembered, expected", [
    ({"HTTP_X_FORWARDED_USER": "carol"}, "alice", "carol"),  # a proxy's name keeps priority
    ({"HTTP_X_FORWARDED_USER": "o'brien"}, "alice", "o'brien"),  # and its refusal rules: still blocked
    ({}, "<b>x</b>", ""),  # a name the check refuses is never offered
    ({"QUERY_STRING": "annotator=bob"}, "alice", "bob"),  # a name in the URL is what the visitor asked for
], ids=["proxy", "refused-proxy", "bad-name", "url-name"])
def test_a_remembered_name_never_replaces_a_trusted_or_asked_for_one(csv_dashboard, environ, remembered, expected):
    dashboard = csv_dashboard(environ=environ)
    dashboard.page.remembered = remembered
    assert dashboard.name.value == expected
    if "o'brien" in expected:
        assert dashboard.labeler is None and dashboard.start_button.disabled
    if environ.get("HTTP_X_FORWARDED_USER") == "carol":
        assert dashboard.session.annotator == "carol" and dashboard.page.accepted == ""


def test_kernels_share_one_read_only_copy_of_the_mnist_campaign(tmp_path, monkeypatch):
    from alwidgets import _cache

    monkeypatch.setenv(_cache.CACHE_ENV, str(tmp_path / "cache"))
    config = load_config(None, workdir=tmp_path)
    first, second = build_campaign(config), build_campaign(config)  # two kernels, one after the other
    for array in (second.X_pool, second.X_test):
        assert isinstance(array, np.memmap) and not array.flags.writeable
    assert second.X_pool.filename == first.X_pool.filename
    assert np.shares_memory(second.images, second.X_pool)  # the pictures are a view of the pool, not a copy
    fresh = alw_config._mnist_arrays(config)
    assert np.array_equal(second.X_pool, fresh["X_pool"]) and np.array_equal(second.y_test, fresh["y_test"])
    assert second.item_ids == first.item_ids == [f"mnist-{i}" for i in fresh["pool"]]


def test_a_cache_folder_others_may_write_in_is_not_used(tmp_path, monkeypatch):
    from alwidgets import _cache

    shared = tmp_path / "everyone"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv(_cache.CACHE_ENV, str(shared))
    arrays = _cache.shared_arrays("x", {"k": 1}, lambda: {"a": np.arange(3.0)})
    assert not isinstance(arrays["a"], np.memmap) and list(shared.iterdir()) == []


def test_the_voila_server_imports_neither_alwidgets_nor_its_libraries():
    code = ("import sys, alwidgets_serving\n"
            "heavy = [m for m in ('alwidgets', 'sklearn', 'modAL', 'pandas', 'matplotlib', 'torch') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_serve_finds_its_kernel_manager_for_an_editable_install_made_before_it_existed(monkeypatch):
    import importlib.util

    from alwidgets.serving import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "alwidgets_serving" else real(name, *a))
    env = {"PYTHONPATH": "/elsewhere"}
    cli._find_serving_package(env)
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO), "/elsewhere"]
    assert (REPO / "alwidgets_serving" / "__init__.py").is_file()


def test_the_poll_renews_the_leases_only_while_the_browser_page_says_it_is_open(csv_dashboard, moved_clock):
    from alwidgets.store import LIVE_SECONDS

    alice = csv_dashboard(annotator="alice")
    moved_clock.advance(LIVE_SECONDS + 1)
    alice._refresh_safely()  # the poll, with no word from the page: nothing renewed
    assert alice.progress()["leased"] == 0
    alice.page._receive(alice.page, {"open": True}, [])  # what the page's module sends every few seconds
    alice._refresh_safely()
    assert alice.progress()["leased"] == 1 and "1 being labeled right now" in alice.campaign_line.value
    moved_clock.advance(LIVE_SECONDS + 1)  # the page was closed: its kernel lives on, its poll runs, the page says nothing
    alice._refresh_safely()
    assert alice.progress()["leased"] == 0 and "being labeled" not in alice.campaign_line.value


CLOSED_PAGE_WRITE = """[Voila] Starting buffering for k1:s1
Task exception was never retrieved
future: <Task finished name='Task-1303' coro=<WebSocketProtocol13.write_message.<locals>.wrapper() done, defined at \
/x/tornado/websocket.py:1138> exception=WebSocketClosedError()>
Traceback (most recent call last):
  File "/x/tornado/websocket.py", line 1140, in wrapper
    await fut
tornado.iostream.StreamClosedError: Stream is closed

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/x/tornado/websocket.py", line 1142, in wrapper
    raise WebSocketClosedError()
tornado.websocket.WebSocketClosedError
[Voila] Using pre-heated kernel: k2 for dashboard.ipynb
""".replace("\\\n", "")
CELL_ERROR = """Traceback (most recent call last):
  File "<cell>", line 1, in <module>
ValueError: the notebook failed
"""


@pytest.mark.parametrize("log, left", [(CLOSED_PAGE_WRITE, False), (CELL_ERROR, True),
                                       (CLOSED_PAGE_WRITE + CELL_ERROR, True), (CELL_ERROR + CLOSED_PAGE_WRITE, True)])
def test_the_browser_tests_overlook_only_the_write_a_closing_page_cut_short(log, left):
    from serving import server_errors

    cleaned = server_errors(log)
    assert ("Traceback (most recent call last)" in cleaned) == left
    assert ("ValueError: the notebook failed" in cleaned) == (CELL_ERROR in log)
    assert "Using pre-heated kernel" in cleaned or CLOSED_PAGE_WRITE not in log


# ---------------------------------------------------------------------- one label state, one read, one lock


def count_event_reads(monkeypatch, store) -> list[int]:
    """The ``since`` of every read of the store's events made by the test's own thread (not a poll or a fit)."""
    import threading

    reads: list[int] = []
    read = store.events
    caller = threading.current_thread()

    def counted(since: int = 0):
        if threading.current_thread() is caller:
            reads.append(since)
        return read(since)

    monkeypatch.setattr(store, "events", counted)
    return reads


def test_a_quiet_refresh_reads_the_store_once_and_the_page_keeps_no_copy_of_the_log(csv_dashboard, monkeypatch):
    bob = csv_dashboard(annotator="bob")
    bob.labeler.label_buttons["good"].click()
    bob.labeler.wait()
    page = csv_dashboard()  # nobody started here yet: the engine's label state, read from the store
    assert page.progress()["per_annotator"] == {"bob": 1}
    reads = count_event_reads(monkeypatch, page.store)
    page.refresh()
    assert len(reads) == 1 and reads[0] > 0  # only what came after the last look
    assert not any(isinstance(value, list) and value and hasattr(value[0], "seq") for value in vars(page).values())
    page.name.value = "alice"
    page.start_button.click()
    assert page.labeler is not None and page._labels is None  # the Session's label state, no second one
    reads.clear()
    page.refresh()
    assert len(reads) == 1  # nothing new: one read, and the session is not asked to read again
    progress = page.refresh()
    assert progress["per_annotator"] == {"bob": 1} and progress == {**page.session.progress(),
                                                                     "override_rate": progress["override_rate"]}


def test_the_poll_redraws_the_labelers_progress_only_through_its_thread_safe_method(csv_dashboard, monkeypatch):
    import threading

    page = csv_dashboard(annotator="alice")
    labeler = page.labeler
    calls = []
    monkeypatch.setattr(labeler, "show_progress", lambda: calls.append(("show", threading.current_thread().name)))
    written_unlocked = []
    page.campaign_line.observe(lambda _c: written_unlocked.append(not page._ui_lock._is_owned()), names="value")
    labeler.label_buttons["good"].click()
    labeler.wait()
    poll = threading.Thread(target=page._refresh_safely, name="the-poll")
    poll.start()
    poll.join(60)
    assert not poll.is_alive(), "the poll's refresh did not finish within 60 s"
    assert ("show", "the-poll") in calls and not hasattr(labeler, "refresh_progress")  # the one name, no alias
    assert written_unlocked and not any(written_unlocked)  # every write of the page's traits held its lock


def test_a_refresh_that_fails_says_so_on_the_page(csv_dashboard, monkeypatch):
    page = csv_dashboard()
    monkeypatch.setattr(page.store, "leases", lambda **_kw: (_ for _ in ()).throw(RuntimeError("lease table gone")))
    page.refresh_button.click()
    assert page.errors[-1] == "reading the campaign's progress failed (RuntimeError: lease table gone)"
    assert "lease table gone" in page.message.value
    monkeypatch.setattr(page.store, "leases", lambda **_kw: (_ for _ in ()).throw(StoreError("down")))
    page._refresh_safely()  # the poll's call
    assert "unreachable" in page.message.value
    monkeypatch.undo()
    page.refresh_button.click()
    assert "reachable again" in page.message.value
