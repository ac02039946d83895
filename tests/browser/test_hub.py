"""A team on JupyterHub: the dashboard in each user's own server, labeling through the campaign service.

A real JupyterHub (PyPI) with configurable-http-proxy (npm, installed by
``make test``), the dummy authenticator and the simple local-process spawner:
people log in through the hub's login page in Chromium, their own server
renders the dashboard (Voila's server extension), and its kernel labels
through the campaign service, a hub-managed service that alone writes the
store. The names in the store are the hub's, whatever a page or a kernel says.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, SERVER_START_TIMEOUT_S, Server, _die_with_parent
from ports import free_port

from alwidgets.store import LABEL, LabelEvent, open_store
from alwidgets.store.remote import ServiceError, ServiceStore

CHP = REPO / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
PASSWORD = "correct horse"
CONFIG = """
import sys
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.db_url = "sqlite:///{folder}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{folder}/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--ServerApp.root_dir={folder}/pages"] + (["--allow-root"] if {root} else [])
c.Spawner.default_url = "/voila/render/dashboard.ipynb"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180
# the user's own server token may use the campaign service, and nothing more than a server token may
c.Spawner.server_token_scopes = ["access:servers!server", "users:activity!user", "access:services!service=campaign"]
c.Spawner.environment = {{"ALW_SERVICE_URL": "http://127.0.0.1:{service_port}/services/campaign",
                         "ALW_CONFIG": "{folder}/campaign.toml", "ALW_QUICK": "1",
                         "JUPYTER_PATH": {jupyter_path!r}}}
c.JupyterHub.services = [{{
    "name": "campaign", "url": "http://127.0.0.1:{service_port}", "display": False,
    "command": [sys.executable, "-m", "alwidgets", "service", "{folder}/campaign.toml"],
}}]
c.JupyterHub.load_roles = [{{"name": "user", "scopes": ["self", "access:services!service=campaign"]}}]
"""


@pytest.fixture(scope="module")
def hub(jupyter_env, tmp_path_factory) -> dict:
    chp = CHP if CHP.exists() else shutil.which("configurable-http-proxy")
    if chp is None:
        message = "configurable-http-proxy is missing: `make test` installs it from npm"
        pytest.fail(message, pytrace=False) if os.environ.get("CI") else pytest.skip(message)
    folder = tmp_path_factory.mktemp("hub")
    (folder / "pages").mkdir()
    shutil.copy(REPO / "notebooks" / "dashboard.ipynb", folder / "pages" / "dashboard.ipynb")
    (folder / "campaign.toml").write_text('title = "Digits"\n\n[data]\nsource = "mnist"\nlimit = 300\n\n'
                                          f'[store]\nurl = "{folder}/labels.db"\n')
    port, service_port = free_port(), free_port()
    (folder / "jupyterhub_config.py").write_text(CONFIG.format(
        port=port, hub_port=free_port(), proxy_api_port=free_port(), service_port=service_port, chp=str(chp),
        folder=folder, password=PASSWORD, root=os.geteuid() == 0, jupyter_path=jupyter_env["JUPYTER_PATH"]))
    env = {**jupyter_env, "HOME": str(folder)}
    env.pop("JUPYTERHUB_API_TOKEN", None)
    log_path = folder / "hub.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(folder / "jupyterhub_config.py")],
                                   cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=_die_with_parent)
    server = Server("jupyterhub", f"http://127.0.0.1:{port}", process, log_path)
    # through the proxy, once the hub has added its routes (the proxy answers 404 or 503 before that)
    wait_for_ok(server, f"{server.url}/hub/api")
    wait_for_ok(server, f"{server.url}/services/campaign/api/health")
    yield {"url": server.url, "folder": folder, "service": f"http://127.0.0.1:{service_port}/services/campaign",
           "server": server}
    server.stop()
    subprocess.run(["pkill", "-f", f"{folder}/pages"], check=False)  # user servers the hub left behind


def wait_for_ok(server: Server, url: str) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S * 2
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"JupyterHub ended with {server.process.returncode}:\n{server.log()}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    server.stop()
    pytest.fail(f"{url} did not answer 200 in time:\n{server.log()[-5000:]}", pytrace=False)


def log_in(page, hub: dict, name: str) -> None:
    page.goto(f"{hub['url']}/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")


def labels_in_store(hub: dict) -> list[LabelEvent]:
    store = open_store(str(hub["folder"] / "labels.db"), create=False, read_only=True)
    try:
        return [e for e in store.events() if e.kind == LABEL]
    finally:
        store.close()


def server_token(name: str) -> str:
    """The API token in ``name``'s own server's environment: what code in their kernels holds."""
    found = subprocess.run(["pgrep", "-f", "jupyterhub.singleuser"], capture_output=True, text=True).stdout.split()
    for pid in found:
        environ = dict(part.split("=", 1) for part in Path(f"/proc/{pid}/environ").read_text().split("\0")
                       if "=" in part)
        if environ.get("JUPYTERHUB_USER") == name:
            return environ["JUPYTERHUB_API_TOKEN"]
    raise AssertionError(f"no server of {name} is running")


def test_two_users_label_in_their_own_servers_under_the_hubs_names(new_local_context, hub):
    pages = {}
    for name in ("alice", "bob"):
        page = new_local_context().new_page()
        log_in(page, hub, name)
        pages[name] = page
    for name, page in pages.items():
        button = page.locator(".alw-labeler .alw-label-button").first
        button.wait_for(timeout=SERVER_START_TIMEOUT_S * 2000)
        field = page.locator(".alw-annotator input")  # the hub's name, locked
        assert field.input_value() == name and field.is_disabled()
        button.click()
    deadline = time.monotonic() + 60
    while len(labels_in_store(hub)) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sorted(e.annotator for e in labels_in_store(hub)) == ["alice", "bob"]


def test_code_in_alices_own_kernel_labels_as_alice_and_never_as_bob(hub, new_local_context):
    page = new_local_context().new_page()
    log_in(page, hub, "alice")
    page.locator(".alw-labeler .alw-label-button").first.wait_for(timeout=SERVER_START_TIMEOUT_S * 2000)
    token = server_token("alice")  # what `os.environ["JUPYTERHUB_API_TOKEN"]` gives code in her kernel
    before = labels_in_store(hub)
    as_bob = ServiceStore(hub["service"], token=token, annotator="bob")  # a name header, as a standalone page sends
    ids = json.loads(urllib.request.urlopen(
        urllib.request.Request(f"{hub['service']}/api/model", headers={"Authorization": f"token {token}"}),
        timeout=30).read())["ranking"]
    item = ids[0]
    stored = as_bob.append_many([LabelEvent(item_id=item, kind=LABEL, label=3, annotator="bob")])
    assert [e.annotator for e in stored] == ["alice"]
    new = [e for e in labels_in_store(hub) if e not in before]
    assert [(e.item_id, e.annotator) for e in new] == [(item, "alice")]
    assert not [e for e in labels_in_store(hub) if e.annotator == "bob" and e.item_id == item]


@pytest.mark.parametrize("headers", [{}, {"X-Forwarded-User": "bob"}, {"Authorization": "token not-a-token"},
                                     {"X-Alwidgets-Annotator": "bob"}])
def test_a_request_without_a_hub_token_stores_nothing(hub, headers):
    before = labels_in_store(hub)
    body = json.dumps({"events": [{"item_id": "mnist-1", "kind": "label", "label": "1"}]}).encode()
    request = urllib.request.Request(f"{hub['service']}/api/events", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401
    assert labels_in_store(hub) == before


def test_the_hubs_health_check_of_the_service_starts_nothing(hub):
    with urllib.request.urlopen(f"{hub['service']}/", timeout=30) as answer:
        assert json.loads(answer.read()) == {"ok": True}
    with pytest.raises(ServiceError):
        ServiceStore(hub["service"]).whoami()
