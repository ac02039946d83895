"""Pages on several machines, one campaign service, PostgreSQL as the store.

Two ``serve`` page servers (each could run on a machine of its own) are given
the address of one campaign service and its secret (``ALW_SERVICE_URL``,
``ALW_SERVICE_TOKEN``); the service alone writes the PostgreSQL store and
trains the model. Each page's visitor is named by a login proxy's header.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from conftest import FIRST_RENDER_TIMEOUT_MS, _die_with_parent
from ports import free_port
from serving import start_serve, stop_serve

from alwidgets.store import LABEL, open_store

SECRET = "a secret only the page servers hold"


def campaign(store_url: str) -> str:
    return f'title = "Digits"\n\n[data]\nsource = "mnist"\nlimit = 200\n\n[store]\nurl = "{store_url}"\n'


@pytest.fixture
def one_service_two_page_servers(postgres, jupyter_env, tmp_path):
    store_url = postgres.new_database()
    (tmp_path / "campaign.toml").write_text(campaign(store_url))
    port = free_port()
    env = {**jupyter_env, "ALW_SERVICE_TOKEN": SECRET}
    log_path = tmp_path / "service.log"
    with log_path.open("wb") as log:
        service = subprocess.Popen([sys.executable, "-m", "alwidgets", "service", str(tmp_path / "campaign.toml"),
                                    "--port", str(port), "--identity", "standalone"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        assert service.poll() is None, f"the service ended:\n{log_path.read_text()}"
        try:
            urllib.request.urlopen(f"{url}/api/health", timeout=5).close()
            break
        except OSError:
            assert time.monotonic() < deadline, f"the service did not answer:\n{log_path.read_text()}"
            time.sleep(0.25)
    servers = []
    for name in ("east", "west"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "campaign.toml").write_text(campaign(store_url))
        servers.append(start_serve(folder, {**env, "ALW_SERVICE_URL": url}))
    yield {"store": store_url, "service": url, "servers": servers, "folder": tmp_path}
    for server in servers:
        stop_serve(server)
    service.terminate()
    service.wait(60)


def labels(store_url: str) -> list:
    store = open_store(store_url, create=False, read_only=True)
    try:
        return [e for e in store.events() if e.kind == LABEL]
    finally:
        store.close()


def test_two_page_servers_label_through_one_service_into_postgresql(one_service_two_page_servers, new_local_context):
    setup = one_service_two_page_servers
    for server, name in zip(setup["servers"], ("alice", "bob"), strict=True):
        page = new_local_context(extra_http_headers={"X-Forwarded-User": name}).new_page()
        page.goto(server["url"], wait_until="commit")
        button = page.locator(".alw-labeler .alw-label-button").first
        button.wait_for(timeout=FIRST_RENDER_TIMEOUT_MS)
        assert page.locator(".alw-annotator input").input_value() == name
        button.click()
    deadline = time.monotonic() + 120
    while len(found := labels(setup["store"])) < 2:
        assert time.monotonic() < deadline, f"labels in the store after 120 s: {found}"
        time.sleep(0.25)
    assert sorted(e.annotator for e in found) == ["alice", "bob"]
    assert len({e.item_id for e in found}) == 2  # one service leases: two pages never get the same item
    out = setup["folder"] / "labels.csv"
    subprocess.run([sys.executable, "-m", "alwidgets", "export", setup["store"], str(out)], check=True,
                   capture_output=True)
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(row["annotators"] for row in rows) == ["alice", "bob"]


@pytest.mark.parametrize("token", [None, "a guess"])
def test_the_service_answers_nobody_without_the_page_servers_secret(one_service_two_page_servers, token):
    setup = one_service_two_page_servers
    body = json.dumps({"events": [{"item_id": "mnist-1", "kind": "label", "label": "1"}]}).encode()
    headers = {"Content-Type": "application/json", "X-Alwidgets-Annotator": "mallory"}
    if token:
        headers["Authorization"] = f"token {token}"
    request = urllib.request.Request(f"{setup['service']}/api/events", data=body, method="POST", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401
    assert labels(setup["store"]) == []
