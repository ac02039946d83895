"""A real PostgreSQL server for the tests, from Debian's binaries (initdb + pg_ctl on a free local port).

The server runs in a temporary folder and is stopped at the end of the test
session. ``conftest.postgres`` is the session fixture that starts it once for
every test module that needs it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from ports import free_port

PG_BIN = Path(os.environ.get("ALW_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why and how to fix it."""


@dataclass
class PostgresServer:
    root: Path
    port: int
    run_as: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg2

        name = f"alw_{uuid.uuid4().hex[:12]}"
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        connection.close()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)




def start_postgres() -> PostgresServer:
    """initdb into a temporary folder and start a server on a free local port."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / tool).is_file():
            raise PostgresUnavailable(
                f"PostgreSQL's {tool} is not in {PG_BIN}: install Debian's postgresql package "
                "(make system-deps does), or point ALW_PG_BIN to the folder holding initdb and pg_ctl"
            )
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        raise PostgresUnavailable("psycopg2 is missing: pip install 'alwidgets[postgres]'") from None
    root = Path(tempfile.mkdtemp(prefix="alw-pg-", dir="/tmp"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server as") from None
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    steps = [
        [str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-sync"],
        [str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"), "-w", "-t", "60",
         "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=100", "start"],
    ]
    for step in steps:
        try:
            done = subprocess.run([*run_as, *step], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as error:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"{Path(step[0]).name} could not run: {error}") from None
        if done.returncode != 0:
            log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"{Path(step[0]).name} failed: {done.stderr.strip()[-2000:]} {log[-2000:]}")
    return PostgresServer(root=root, port=port, run_as=run_as)


