"""``python -m alwidgets``: serve the labeling dashboard, export a label store.

::

    python -m alwidgets serve [CONFIG] [--port 8866] [--host 127.0.0.1] [--max-kernels N] [--pool N]
    python -m alwidgets serve NOTEBOOK.ipynb [--port 8866] [--pool N]
    python -m alwidgets service [CONFIG] [--port P] [--identity standalone|hub|proxy] [--trusted-proxy ADDR]
    python -m alwidgets export STORE OUT [--events] [--force]

``serve CONFIG`` checks the config, loads the data once and opens the store
(so a mistake is reported here, before any page is served), prints the
address, then becomes Voila on the dashboard notebook (``exec``: what the
check loaded is not kept in memory beside it). Without CONFIG it serves the
bundled MNIST digits with a SQLite store in ``./labels/labels.db``.
``serve NOTEBOOK.ipynb`` serves that notebook (a lesson, say) the same way;
``serve NOTEBOOK.ipynb --check`` runs it top to bottom first and names the
cell that fails.

Either way Voila keeps ``--pool`` pages ready (its preheated kernels): a
kernel is started and the notebook run before anyone asks, so a visitor's
page is shown as soon as it loads instead of after every cell has run, and
each page taken is replaced in the background. The dashboard page takes in
who opened it only when they come
(:func:`alwidgets.widgets.page.when_visitor_arrives`, ``Dashboard.welcome``).

With ``ALW_SERVICE_URL`` (and ``ALW_SERVICE_TOKEN``) set, ``serve`` starts no
service of its own: its pages label through that campaign service, so page
servers on several machines share one store and one trainer.

``serve`` never passes its own identity on: a ``JUPYTERHUB_USER`` (or a user
header variable) in the server's environment is removed before Voila starts,
so each visitor's name comes from their own request. Passwords in store URLs
are masked in everything either command prints.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import warnings
from pathlib import Path

__all__ = ["main", "dashboard_notebook", "default_max_kernels"]

DEFAULT_PORT = 8866
KERNEL_BYTES = 350 * 2**20  # a dashboard kernel on the bundled MNIST: 302 MB RSS measured, plus headroom
# (benchmarks/results/dashboard_memory.md)
# A Jupyter data folder holding voila/templates/alwidgets: the page the notebooks name in their metadata.
PACKAGE = Path(__file__).resolve().parents[1]  # the alwidgets folder
VOILA_TEMPLATES_ROOT = PACKAGE / "share" / "jupyter"
VOILA_TEMPLATE = "alwidgets"


def dashboard_notebook() -> Path:
    """The dashboard notebook: ``notebooks/dashboard.ipynb`` in a source checkout, else the packaged copy."""
    checkout = PACKAGE.parent / "notebooks" / "dashboard.ipynb"
    if checkout.is_file():
        return checkout
    packaged = PACKAGE / "dashboard.ipynb"
    if packaged.is_file():
        return packaged
    raise FileNotFoundError(f"the dashboard notebook is missing: neither {checkout} nor {packaged} exists; "
                            "reinstall alwidgets")


DEFAULT_CULL_SECONDS = 600
DEFAULT_GONE_SECONDS = 15.0  # a page whose connection closed without a word (a crashed browser) gives back its kernel
DEFAULT_POOL = 1  # pages kept ready: the next visitor's page shows at once; a class arriving together may want more


def default_max_kernels() -> int:
    """How many dashboard kernels fit in this machine's memory (or its container's limit), keeping a fifth free."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    except OSError:
        pass
    return max(1, int(total * 0.8 // KERNEL_BYTES))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alwidgets", description="alwidgets: labeling dashboards")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the labeling dashboard, or a notebook, with Voila",
                                description="Serve the labeling dashboard of a campaign, or a notebook, with Voila.")
    serve.add_argument("config", nargs="?", help="the campaign's TOML file (default: bundled MNIST digits, "
                                                 "labels in ./labels/labels.db), or a notebook (.ipynb) to serve")
    serve.add_argument("--port", type=int, default=None,
                       help=f"port to listen on (default {DEFAULT_PORT}; as a hub-managed service, the port of "
                            "JUPYTERHUB_SERVICE_URL)")
    serve.add_argument("--base-url", default=None, metavar="PREFIX",
                       help="the path the pages are served under (default /; as a hub-managed service, "
                            "JUPYTERHUB_SERVICE_PREFIX)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for a team, behind a proxy with "
                            "authentication: see docs/deploying.md)")
    serve.add_argument("--cull-after", type=int, default=DEFAULT_CULL_SECONDS, metavar="SECONDS",
                       help="shut down the kernel of a page gone without a word (a closed page ends its own) "
                            "after it has been idle this long "
                            f"(default {DEFAULT_CULL_SECONDS}; 0 keeps every kernel). Open pages are never culled, "
                            "and labels are in the store either way")
    serve.add_argument("--claim-within", type=float, default=30, metavar="SECONDS",
                       help="shut down a page's kernel when no browser connects to it this long after the page was "
                            "sent, as after a plain request (default 30; 0 waits for the culler)")
    serve.add_argument("--gone-after", type=float, default=DEFAULT_GONE_SECONDS, metavar="SECONDS",
                       help="shut down a page's kernel, giving back its leases, when the page's connection closed "
                            "without a word (a crashed browser, a lost network) and did not come back this long "
                            f"after (default {DEFAULT_GONE_SECONDS:g}; 0 waits for the culler)")
    serve.add_argument("--max-kernels", type=int, default=None, metavar="N",
                       help="the most pages (each one a kernel of about 0.3 GB on MNIST) open at once; a visitor beyond "
                            f"that is told the server is full (default: what fits in memory here, "
                            f"{default_max_kernels()}; 0 for no cap)")
    serve.add_argument("--pool", type=int, default=DEFAULT_POOL, metavar="N",
                       help="pages kept ready, their notebook already run, so a visitor's page shows at once "
                            f"(default {DEFAULT_POOL}; each one a kernel, counted in --max-kernels; 0 runs the notebook "
                            "when the page is opened)")
    serve.add_argument("--rebind-store", action="store_true",
                       help="bind the store to this campaign even though it was made for other classes or another "
                            "pool (after changing a campaign's data on purpose); labels stay")
    serve.add_argument("--check", action="store_true", help="check the config, data and store (a notebook: run it "
                                                        "top to bottom), then exit")

    service = commands.add_parser(
        "service", help="run a campaign's service: the one process that writes its store and trains its model",
        description="Run the campaign service: pages (the dashboard in Voila or in users' own Jupyter servers) "
                    "label through it, and it alone writes the store and trains the campaign's model.")
    service.add_argument("config", nargs="?", help="the campaign's TOML file (default: the bundled MNIST digits)")
    service.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    service.add_argument("--port", type=int, default=None, help="port to listen on (a hub-managed service: "
                                                                "taken from JUPYTERHUB_SERVICE_URL)")
    service.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)  # a socket serve opened for it
    service.add_argument("--base-url", default=None, help="the path prefix the API is served under (a hub-managed "
                                                          "service: JUPYTERHUB_SERVICE_PREFIX)")
    service.add_argument("--identity", choices=("standalone", "hub", "proxy"), default=None,
                         help="who a request is from: 'hub' (the request's JupyterHub token; the default as a "
                              "hub-managed service), 'proxy' (a login proxy's header, from --trusted-proxy "
                              "addresses only) or 'standalone' (the page's own name: a convenience, no identity)")
    service.add_argument("--proxy-header", default="X-Forwarded-User", help="the login proxy's user header")
    service.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDRESS",
                         help="an address of the login proxy whose header is believed (repeat for several)")
    service.add_argument("--rebind-store", action="store_true", help=argparse.SUPPRESS)
    service.add_argument("--stop-with-stdin", action="store_true", help=argparse.SUPPRESS)

    export = commands.add_parser("export", help="write the labels of a store to .csv, .json or .parquet",
                                 description="Write the labels of a store to a file.")
    export.add_argument("store", help="a SQLite file (labels.db) or a postgresql:// URL")
    export.add_argument("out", help="the file to write: labels.csv, labels.json or labels.parquet")
    export.add_argument("--events", action="store_true", help="write the whole event log instead of one row per item")
    export.add_argument("--force", action="store_true", help="replace OUT if it exists (never the store itself)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; returns the process exit code (errors are printed, not raised)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "export":
            return _export(args)
        if args.command == "service":
            return _service(args)
        return _serve(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _find_serving_package(env: dict) -> None:
    """Make sure Voila can import ``alwidgets_serving`` (its kernel manager), which lives beside ``alwidgets``.

    An installed alwidgets has both in site-packages. An editable install made
    before ``alwidgets_serving`` existed only maps ``alwidgets``: then the folder
    holding both goes on Voila's PYTHONPATH.
    """
    import importlib.util

    if importlib.util.find_spec("alwidgets_serving") is not None:
        return
    beside = PACKAGE.parent
    if (beside / "alwidgets_serving" / "__init__.py").is_file():
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(beside), env.get("PYTHONPATH")]))


def _service(args) -> int:
    """Load the campaign, open its store, make the first model, then answer pages until stopped."""
    import logging
    from urllib.parse import urlsplit

    from alwidgets.serving import config as alw_config
    from alwidgets.serving import service as alw_service
    from alwidgets.serving.trainer_process import TrainerProcess

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    logging.getLogger("tornado.access").setLevel(logging.WARNING)  # a line per request would drown the log
    hub_url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    identity = args.identity or ("hub" if hub_url else "standalone")
    host, port = args.host, args.port
    if hub_url and port is None and args.fd is None:
        parts = urlsplit(hub_url)
        host, port = parts.hostname or host, parts.port
    if port is None and args.fd is None:
        raise ValueError("say which --port the service listens on")
    base_url = args.base_url or os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    who = alw_service.identity_from_options(identity, proxy_header=args.proxy_header,
                                            proxies=tuple(args.trusted_proxy),
                                            secret=os.environ.get(alw_config.ENV_SERVICE_TOKEN))
    config = alw_config.load_config(args.config) if args.config else alw_config.default_config(os.getcwd())
    campaign = alw_config.build_campaign(config)
    store = campaign.open_store(rebind=args.rebind_store)
    # fits on the labels already stored; each later refit starts from the last model (a quarter of the CPU of a
    # fresh fit at 1,000 MNIST labels: 0.08 s against 0.3 s), so more updates fit in a minute
    session = campaign.session("campaign service", store=store, warm_start=True)
    # the fits run in a process of their own, niced: no fit holds the interpreter that answers pages
    service = alw_service.CampaignService(session, who, trainer=functools.partial(TrainerProcess, config)).start()
    where = "a socket from serve" if args.fd is not None else f"http://{host}:{port}{base_url}"
    print(f"Campaign service of {config.origin}: {campaign.n_items:,} items, {len(store.events())} events; "
          f"names from {identity}; listening on {where}", flush=True)
    alw_service.run(service, host=host, port=port, sock_fd=args.fd, base_url=base_url,
                    stop_with_stdin=args.stop_with_stdin)
    return 0


def _export(args) -> int:
    from alwidgets.store import open_store
    from alwidgets.store.export import check_output, export_events
    from alwidgets.store.sql import InvalidEventWarning, mask_url

    check_output(args.out, overwrite=args.force, store=args.store)
    store = open_store(args.store, create=False, read_only=True)  # writes nothing, not even SQLite's side files
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InvalidEventWarning)
            events = store.events()
        for warning in caught:
            print(f"warning: {warning.message}", file=sys.stderr)
        path = export_events(events, args.out, what="events" if args.events else "labels", overwrite=args.force,
                             store=store)
    finally:
        store.close()
    what = f"{len(events)} events" if args.events else "the labels"
    print(f"wrote {what} of {mask_url(args.store)} to {path}")
    return 0


def _serve(args) -> int:
    from alwidgets.serving import config as alw_config
    from alwidgets.store.sql import mask_url

    hub = _hub_service(args)
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be between 1 and 65535; got {args.port}")
    if not args.base_url.startswith("/"):
        raise ValueError(f"--base-url must be a path starting with /; got {args.base_url!r}")
    if args.cull_after < 0:
        raise ValueError(f"--cull-after must be 0 or more seconds; got {args.cull_after}")
    if args.gone_after < 0:
        raise ValueError(f"--gone-after must be 0 or more seconds; got {args.gone_after}")
    if args.pool < 0:
        raise ValueError(f"--pool must be 0 (no page kept ready) or more; got {args.pool}")
    max_kernels = default_max_kernels() if args.max_kernels is None else args.max_kernels
    if max_kernels < 0:
        raise ValueError(f"--max-kernels must be 0 (no cap) or more; got {max_kernels}")
    if max_kernels and args.pool >= max_kernels:
        # ready pages are kernels too: leave at least one place to a visitor
        print(f"note: --pool {args.pool} is more than --max-kernels {max_kernels} leaves; keeping "
              f"{max_kernels - 1} page{'s' if max_kernels != 2 else ''} ready", file=sys.stderr)
        args.pool = max_kernels - 1
    env = dict(os.environ)
    for variable in alw_config.TRUSTED_NAME_VARIABLES:
        # the server's own identity (serve started inside a JupyterHub session, say) is nobody's visitor name
        env.pop(variable, None)
    if args.config is not None and args.config.endswith(".ipynb"):
        if args.check:  # run it as a visitor's page would: a cell that fails is reported here, in words
            print(f"Checking {args.config}: running it, as a visitor's page would…", flush=True)
            notebook, n_code_cells = _check_notebook(args.config, run=True, env=env)
            print(f"Checked {notebook}: {n_code_cells} code cell{'s' if n_code_cells != 1 else ''} ran without an error",
                  flush=True)
            return 0
        notebook, n_code_cells = _check_notebook(args.config)
        print(f"Serving {notebook}: {n_code_cells} code cells, not run here (serve --check runs it)", flush=True)
        what = "Notebook"
    else:
        if args.config is None:
            config = alw_config.default_config(os.getcwd())
            env[alw_config.ENV_WORKDIR] = os.getcwd()
            env.pop(alw_config.ENV_CONFIG, None)
        else:
            config = alw_config.load_config(args.config)
            env[alw_config.ENV_CONFIG] = str(Path(args.config).resolve())
        print(f"Checking {config.origin}: loading {config.source} data…", flush=True)
        campaign = alw_config.build_campaign(config)
        store = campaign.open_store(rebind=args.rebind_store)
        try:
            n_events = len(store.events())
        finally:
            store.close()
        where = (f"the campaign service at {env[alw_config.ENV_SERVICE_URL]}" if env.get(alw_config.ENV_SERVICE_URL)
                 else f"store {mask_url(config.store)}")
        print(f"  {campaign.n_items:,} items to label, classes {campaign.classes}; {where} "
              f"({n_events} events so far)", flush=True)
        if args.check:
            return 0
        notebook = dashboard_notebook()
        what = "Labeling dashboard"
        if not env.get(alw_config.ENV_SERVICE_URL):  # else pages on several machines share one service (checked above)
            env[alw_config.ENV_SERVICE_URL] = _start_campaign_service(args.config, env)

    # alwidgets' Voila page template (Voila's lab page without CDN stylesheets), found wherever alwidgets lives.
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(VOILA_TEMPLATES_ROOT), env.get("JUPYTER_PATH")]))
    _find_serving_package(env)
    local = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(args.host, args.host)  # this machine's way in
    url = f"http://{f'[{local}]' if ':' in local else local}:{args.port}{args.base_url}"
    command = [
        sys.executable, "-m", "voila", str(notebook), "--no-browser",
        f"--port={args.port}", f"--Voila.ip={args.host}", "--Voila.port_retries=0", f"--Voila.base_url={args.base_url}",
        # a user name set by an authenticating proxy reaches the kernel as HTTP_X_FORWARDED_USER
        "--VoilaConfiguration.http_header_envs=X-Forwarded-User",
        # at most max_kernels pages at once: beyond that a visitor is told the server is full
        "--VoilaConfiguration.multi_kernel_manager_class=alwidgets_serving.CappedKernelManager",
        f"--CappedKernelManager.max_kernels={max_kernels}",
        f"--CappedKernelManager.claim_timeout={args.claim_within}",  # a page no browser connects to gives back its kernel
        f"--CappedKernelManager.gone_timeout={args.gone_after}",  # ... and so does a page whose browser crashed
        # a page gets the cookie Voila's shut-down-on-close request needs: a closed page ends its kernel at once;
        # as a hub service, only people the hub logged in get a page, and the hub names them
        "--Voila.identity_provider_class=alwidgets_serving." + ("hub.HubVisitorIdentityProvider" if hub
                                                                 else "PageIdentityProvider"),
        f"--VoilaConfiguration.template={VOILA_TEMPLATE}",
        # a kernel asked to shut down gets SIGTERM after half this wait (jupyter_client): more than the 5 s a page's
        # updates in flight are given to finish (alwidgets.widgets.worker.EXIT_GRACE_SECONDS)
        "--KernelManager.shutdown_wait_time=15",
    ]  # fmt: skip
    if args.pool:
        command += ["--VoilaConfiguration.preheat_kernel=True", f"--VoilaConfiguration.default_pool_size={args.pool}"]
        # a ready page's kernel asks the server who opened it (voila.utils.wait_for_request) at this address
        env["VOILA_APP_IP"] = local
    if args.cull_after:
        # Each visitor gets a kernel (about 0.3 GB on MNIST); one whose page went without a word stays until culled.
        # Voila never culls the ready pages of its pool.
        command += [f"--MappingKernelManager.cull_idle_timeout={args.cull_after}",
                    f"--MappingKernelManager.cull_interval={min(60, args.cull_after)}"]
    # Become Voila: this process (the data and libraries the check loaded) would otherwise stay, idle, beside it.
    # Voila stops on Ctrl+C or SIGTERM (a service manager) and shuts its kernels down as it goes.
    ready = f"; {args.pool} page{'s' if args.pool != 1 else ''} kept ready" if args.pool else ""
    ready += "; visitors log in through JupyterHub" if hub else ""
    print(f"\n  {what}: {url}{ready}\n  (Ctrl+C stops it)\n", flush=True)
    sys.stderr.flush()
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execve does not return


def _start_campaign_service(config: str | None, env: dict) -> str:
    """Start the campaign's service beside Voila; returns its address, for the dashboard's kernels.

    The service alone writes the store and trains the campaign's one model;
    every page labels through it and follows its model. It listens on a socket
    opened here (so a page never finds the address unanswered), and its
    standard input is a pipe whose other end Voila inherits: when Voila ends,
    the service reads the end of its input and stops too.
    """
    import secrets
    import socket
    import subprocess

    from alwidgets.serving import config as alw_config

    secret = secrets.token_urlsafe(32)
    env[alw_config.ENV_SERVICE_TOKEN] = secret  # for the pages' kernels, which inherit Voila's environment
    # the service is not the hub's: it answers on its own socket, to the holders of the secret only
    service_env = {key: value for key, value in env.items() if not key.startswith("JUPYTERHUB_")}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "alwidgets", "service", "--fd", str(sock.fileno()), "--identity", "standalone",
               "--base-url", "/", "--stop-with-stdin"] + ([str(Path(config).resolve())] if config else [])
    subprocess.Popen(command, stdin=read_end, pass_fds=[sock.fileno()], env={**service_env, "PYTHONUNBUFFERED": "1"})
    os.close(read_end)
    os.set_inheritable(write_end, True)  # kept open by Voila after exec
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def _hub_service(args) -> bool:
    """Whether ``serve`` runs as a JupyterHub-managed service; fills in the port and prefix the hub gave it.

    The hub starts a managed service with its address
    (``JUPYTERHUB_SERVICE_URL``), prefix and API token in the environment.
    Pages are then served only to people the hub logged in
    (``alwidgets_serving.hub``).
    """
    from urllib.parse import urlsplit

    hub_url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    hub = bool(hub_url and os.environ.get("JUPYTERHUB_API_TOKEN"))
    if hub:
        parts = urlsplit(hub_url)
        if args.port is None:
            args.port = parts.port or DEFAULT_PORT
            args.host = parts.hostname or args.host
        if args.base_url is None:
            args.base_url = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/"
    if args.port is None:
        args.port = DEFAULT_PORT
    if args.base_url is None:
        args.base_url = "/"
    if not args.base_url.endswith("/"):
        args.base_url += "/"
    return hub


NOTEBOOK_CELL_TIMEOUT = 300  # seconds a cell of a notebook checked by ``serve --check`` may run


def _check_notebook(path: str, *, run: bool = False, env: dict | None = None) -> tuple[Path, int]:
    """``path`` as an absolute Path and its number of code cells, once nbformat reads it (else a clear error).

    With ``run``, nbclient also runs it top to bottom in its own folder, in a
    kernel of this Python with ``env``, as Voila runs it for a visitor. A cell
    that raises, runs longer than ``NOTEBOOK_CELL_TIMEOUT`` seconds or kills
    the kernel is a RuntimeError naming the cell, its first line and the error.
    """
    import nbformat

    notebook = Path(path).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    try:
        content = nbformat.read(notebook, as_version=4)
    except Exception as error:  # nbformat raises JSON, validation and encoding errors alike
        raise ValueError(f"{path} is not a notebook Jupyter can read: {error}") from None
    code_cells = [index for index, cell in enumerate(content.cells) if cell.cell_type == "code"]
    if run:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        # kernel_dirs=[]: the "python3" kernel is this Python's ipykernel, whatever kernels the user installed
        kernel = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
        client = NotebookClient(content, km=kernel, timeout=NOTEBOOK_CELL_TIMEOUT,
                                resources={"metadata": {"path": str(notebook.parent)}})
        try:
            with client.setup_kernel(env=env):
                for index, cell in enumerate(content.cells):
                    number = code_cells.index(index) + 1 if index in code_cells else None
                    where = f"{path}, code cell {number} of {len(code_cells)}"
                    first_line = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError as error:
                        raise RuntimeError(f"{where} ({first_line!r}) failed: {error.ename}: {error.evalue}") from None
                    except CellTimeoutError:
                        raise RuntimeError(f"{where} ({first_line!r}) ran longer than {NOTEBOOK_CELL_TIMEOUT} s") \
                            from None
                    except DeadKernelError:
                        raise RuntimeError(f"{where} ({first_line!r}): the kernel died while it ran") from None
        finally:
            if kernel.has_kernel:  # a kernel passed in is not nbclient's to shut down
                kernel.shutdown_kernel(now=True)
    return notebook, len(code_cells)
