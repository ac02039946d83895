"""A team on JupyterHub: the dashboard in each user's own server, labeling through the campaign service.

A real JupyterHub (PyPI) with configurable-http-proxy (npm, installed by
``make test``), the dummy authenticator and the simple local-process spawner:
people log in through the hub's login page in Chromium, their own server
renders the dashboard (Voila's server extension), and its kernel labels
through the campaign service, a hub-managed service that alone writes the
store. The names in the store are the hub's, whatever a page or a kernel says.
"""

from __future__ import annotations

import csv
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
DASHBOARD_MAX_KERNELS = 4  # the page kept ready and three visitors
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
}}, {{
    # the dashboard as a hub-managed service: one Voila for everyone, login through the hub
    "name": "dashboard", "url": "http://127.0.0.1:{dashboard_port}", "oauth_no_confirm": True, "cwd": "{folder}",
    "command": [sys.executable, "-m", "alwidgets", "serve", "{folder}/dashboard.toml", "--pool", "1",
                "--max-kernels", "{max_kernels}"],
}}]
c.JupyterHub.load_roles = [{{"name": "user",
                            "scopes": ["self", "access:services!service=campaign", "access:services!service=dashboard"]}}]
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
    for name, store in (("campaign", "labels.db"), ("dashboard", "dashboard.db")):
        (folder / f"{name}.toml").write_text('title = "Digits"\n\n[data]\nsource = "mnist"\nlimit = 300\n\n'
                                             f'[store]\nurl = "{folder}/{store}"\n')
    port, service_port, dashboard_port = free_port(), free_port(), free_port()
    (folder / "jupyterhub_config.py").write_text(CONFIG.format(
        port=port, hub_port=free_port(), proxy_api_port=free_port(), service_port=service_port, chp=str(chp),
        dashboard_port=dashboard_port, max_kernels=DASHBOARD_MAX_KERNELS,
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
           "server": server, "dashboard": f"http://127.0.0.1:{dashboard_port}/services/dashboard/"}
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


def labels_in_store(hub: dict, name: str = "labels.db") -> list[LabelEvent]:
    path = hub["folder"] / name
    if not path.exists():
        return []
    store = open_store(str(path), create=False, read_only=True)
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
    out = hub["folder"] / "two-users.csv"  # what the team lead exports
    subprocess.run([sys.executable, "-m", "alwidgets", "export", str(hub["folder"] / "labels.db"), str(out)],
                   check=True, capture_output=True, timeout=120)
    with out.open(newline="") as f:
        assert sorted(row["annotators"] for row in csv.DictReader(f)) == ["alice", "bob"]


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


# ---------------------------------------------------------------- serve as a hub-managed service


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_dashboard_service_sends_strangers_to_the_hub_and_starts_no_kernel_for_them(hub, new_local_context):
    # what the hub's health check and a visitor who never logged in send: no cookie, no token, any header
    opener = urllib.request.build_opener(_NoRedirect)
    for _ in range(DASHBOARD_MAX_KERNELS):  # enough to fill the server if each one started a kernel
        request = urllib.request.Request(hub["dashboard"], headers={"X-Forwarded-User": "bob"})
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(request, timeout=60)
        assert answer.value.code == 302
        assert "/hub/api/oauth2/authorize" in answer.value.headers["Location"]
    # a browser that never logged in ends on the hub's login page, and stores nothing
    page = new_local_context().new_page()
    page.goto(f"{hub['url']}/services/dashboard/")
    page.wait_for_url("**/hub/login**")
    assert labels_in_store(hub, "dashboard.db") == []
    # no place was taken: a logged-in visitor still gets a page (the server takes DASHBOARD_MAX_KERNELS kernels)
    log_in(page, hub, "carol")
    page.wait_for_url(lambda url: "/hub/login" not in url)
    page.goto(f"{hub['url']}/services/dashboard/")
    page.locator(".alw-labeler .alw-label-button").first.wait_for(timeout=SERVER_START_TIMEOUT_S * 2000)
    close_tab(page)


def close_tab(page) -> None:
    """As a person closing the tab: the page's unload handler ends its kernel, giving back its place."""
    with page.expect_event("close"):  # with unload handlers run, close() does not wait for the page to close
        page.close(run_before_unload=True)


def open_dashboard_service(new_local_context, hub: dict, name: str, *, query: str = "", **context_options):
    page = new_local_context(**context_options).new_page()
    log_in(page, hub, name)
    page.wait_for_url(lambda url: "/hub/login" not in url)  # logged in: the hub sends them on
    page.goto(f"{hub['url']}/services/dashboard/{query}")
    page.locator(".alw-labeler .alw-label-button").first.wait_for(timeout=SERVER_START_TIMEOUT_S * 2000)
    return page


def wait_for_labels(hub: dict, count: int) -> list[LabelEvent]:
    deadline = time.monotonic() + 60
    while len(found := labels_in_store(hub, "dashboard.db")) < count and time.monotonic() < deadline:
        time.sleep(0.25)
    return found


@pytest.mark.parametrize("forgery", ["header", "query string", "re-enabled field"])
def test_the_dashboard_service_labels_under_the_hubs_name_whatever_the_page_claims(hub, new_local_context, forgery):
    before = labels_in_store(hub, "dashboard.db")
    options = {"extra_http_headers": {"X-Forwarded-User": "bob"}} if forgery == "header" else {}
    page = open_dashboard_service(new_local_context, hub, "alice",
                                  query="?annotator=bob" if forgery == "query string" else "", **options)
    field = page.locator(".alw-annotator input")
    assert field.input_value() == "alice" and field.is_disabled()
    if forgery == "re-enabled field":
        field.evaluate("input => { input.disabled = false; }")
        field.fill("bob")
        field.press("Enter")
    page.locator(".alw-labeler .alw-label-button").first.click()
    new = [e for e in wait_for_labels(hub, len(before) + 1) if e not in before]
    close_tab(page)
    assert [e.annotator for e in new] == ["alice"]


def test_code_sent_down_a_pages_websocket_is_never_run(hub, new_local_context, tmp_path):
    page = open_dashboard_service(new_local_context, hub, "alice")
    marker = tmp_path / "ran"
    replies = page.evaluate(
        """async ([code]) => {
            const config = JSON.parse(document.getElementById("jupyter-config-data").textContent);
            const url = location.origin.replace(/^http/, "ws") + config.baseUrl
                        + "api/kernels/" + config.kernelId + "/channels";
            const socket = new WebSocket(url);
            await new Promise((ok, fail) => { socket.onopen = ok; socket.onerror = fail; });
            const message = (type, content) => ({channel: "shell", content, metadata: {}, parent_header: {},
                header: {msg_id: type + Math.random(), msg_type: type, username: "", session: "forger", version: "5.3"}});
            const replies = [];
            const info = new Promise(done => { socket.onmessage = event => {
                const reply = JSON.parse(event.data);
                if (reply.parent_header.session === "forger") replies.push(reply.header.msg_type);
                if (reply.header.msg_type === "kernel_info_reply" && reply.parent_header.session === "forger") done();
            }; });
            socket.send(JSON.stringify(message("execute_request", {code, silent: false, store_history: false,
                user_expressions: {}, allow_stdin: false, stop_on_error: true})));
            // the kernel answers its shell messages in order: this reply comes after any run of the code
            socket.send(JSON.stringify(message("kernel_info_request", {})));
            await info;
            socket.close();
            return replies;
        }""", [f"open({str(marker)!r}, 'w').write('ran')"])
    close_tab(page)
    assert "kernel_info_reply" in replies and "execute_reply" not in replies
    assert not marker.exists()
