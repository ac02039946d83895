"""``python -m alwidgets``: serve the labeling dashboard, export a label store.

::

    python -m alwidgets serve [CONFIG] [--port 8866] [--host 127.0.0.1]
    python -m alwidgets export STORE OUT [--events]

``serve`` checks the config, loads the data once and opens the store (so a
mistake is reported here, before any page is served), then runs Voila on the
dashboard notebook and prints its address. Without CONFIG it serves the
bundled MNIST digits with a SQLite store in ``./labels/labels.db``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "dashboard_notebook"]

DEFAULT_PORT = 8866
# A Jupyter data folder holding voila/templates/alwidgets: the page the notebooks name in their metadata.
VOILA_TEMPLATES_ROOT = Path(__file__).resolve().parent / "share" / "jupyter"
VOILA_TEMPLATE = "alwidgets"


def dashboard_notebook() -> Path:
    """The dashboard notebook: ``notebooks/dashboard.ipynb`` in a source checkout, else the packaged copy."""
    package = Path(__file__).resolve().parent
    checkout = package.parent / "notebooks" / "dashboard.ipynb"
    if checkout.is_file():
        return checkout
    packaged = package / "dashboard.ipynb"
    if packaged.is_file():
        return packaged
    raise FileNotFoundError(f"the dashboard notebook is missing: neither {checkout} nor {packaged} exists; "
                            "reinstall alwidgets")


DEFAULT_CULL_SECONDS = 600


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alwidgets", description="alwidgets: labeling dashboards")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the labeling dashboard with Voila",
                                description="Serve the labeling dashboard of a campaign with Voila.")
    serve.add_argument("config", nargs="?", help="the campaign's TOML file (default: bundled MNIST digits, "
                                                 "labels in ./labels/labels.db)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for a team, behind a proxy with "
                            "authentication: see docs/deploying.md)")
    serve.add_argument("--cull-after", type=int, default=DEFAULT_CULL_SECONDS, metavar="SECONDS",
                       help="shut down the kernel of a closed page after it has been idle this long "
                            f"(default {DEFAULT_CULL_SECONDS}; 0 keeps every kernel). Open pages are never culled, "
                            "and labels are in the store either way")
    serve.add_argument("--check", action="store_true", help="check the config, data and store, then exit")

    export = commands.add_parser("export", help="write the labels of a store to .csv, .json or .parquet",
                                 description="Write the labels of a store to a file.")
    export.add_argument("store", help="a SQLite file (labels.db) or a postgresql:// URL")
    export.add_argument("out", help="the file to write: labels.csv, labels.json or labels.parquet")
    export.add_argument("--events", action="store_true", help="write the whole event log instead of one row per item")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; returns the process exit code (errors are printed, not raised)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "export":
            return _export(args)
        return _serve(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _export(args) -> int:
    from .export import check_output, export_events
    from .store import open_store

    check_output(args.out)
    store = open_store(args.store, create=False)
    try:
        events = store.events()
        path = export_events(events, args.out, what="events" if args.events else "labels")
    finally:
        store.close()
    what = f"{len(events)} events" if args.events else "the labels"
    print(f"wrote {what} of {args.store} to {path}")
    return 0


def _serve(args) -> int:
    from . import config as alw_config
    from .store import open_store

    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be between 1 and 65535; got {args.port}")
    if args.cull_after < 0:
        raise ValueError(f"--cull-after must be 0 or more seconds; got {args.cull_after}")
    env = dict(os.environ)
    if args.config is None:
        config = alw_config.default_config(os.getcwd())
        Path(config.store).parent.mkdir(parents=True, exist_ok=True)
        env[alw_config.ENV_WORKDIR] = os.getcwd()
        env.pop(alw_config.ENV_CONFIG, None)
    else:
        config = alw_config.load_config(args.config)
        env[alw_config.ENV_CONFIG] = str(Path(args.config).resolve())
    print(f"Checking {config.origin}: loading {config.source} data…", flush=True)
    campaign = alw_config.build_campaign(config)
    store = open_store(config.store_target())
    n_events = len(store.events())
    store.close()
    print(f"  {campaign.n_items:,} items to label, classes {campaign.classes}; store {config.store} "
          f"({n_events} events so far)", flush=True)
    if args.check:
        return 0

    notebook = dashboard_notebook()
    # alwidgets' Voila page template (Voila's lab page without CDN stylesheets), found wherever alwidgets lives.
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(VOILA_TEMPLATES_ROOT), env.get("JUPYTER_PATH")]))
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '') else args.host}:{args.port}/"
    command = [
        sys.executable, "-m", "voila", str(notebook), "--no-browser",
        f"--port={args.port}", f"--Voila.ip={args.host}", "--Voila.port_retries=0",
        # a user name set by an authenticating proxy reaches the kernel as HTTP_X_FORWARDED_USER
        "--VoilaConfiguration.http_header_envs=X-Forwarded-User",
        f"--VoilaConfiguration.template={VOILA_TEMPLATE}",
    ]  # fmt: skip
    if args.cull_after:
        # Each visitor gets a kernel (about 0.5 GB on MNIST); one whose page was closed stays until culled.
        command += [f"--MappingKernelManager.cull_idle_timeout={args.cull_after}",
                    f"--MappingKernelManager.cull_interval={min(60, args.cull_after)}"]
    # A service manager stops us with SIGTERM: shut Voila down as on Ctrl+C, never leave it orphaned.
    signal.signal(signal.SIGTERM, _interrupt)
    process = subprocess.Popen(command, env=env)
    try:
        if _wait_for_port(args.host, args.port, process):
            print(f"\n  Labeling dashboard: {url}\n  (Ctrl+C stops it)\n", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_for_port(host: str, port: int, process, timeout: float = 60.0) -> bool:
    """Wait until the server accepts connections (or exits); returns whether it is up."""
    import socket

    probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((probe_host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False
