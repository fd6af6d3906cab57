"""Prove docs/deployment.md: run its checked shell blocks, in order, on this machine.

    python scripts/deployment_check.py            # a throwaway PostgreSQL 15 cluster of its own
    TRACKER_TEST_DATABASE_URL=... python scripts/deployment_check.py   # or a server given

Every fenced ``sh`` block of the guide whose first line is ``# check: <what>`` is run with
bash, in the order of the guide, as an administrator would paste it on a fresh Debian machine.
What cannot happen inside a test is redirected, never skipped silently:

- paths: ``/srv/tracker``, ``/etc/tracker``, ``/srv/backups`` and ``/var/log/tracker`` point into a
  temporary folder (``/srv/tracker`` holds a copy of this project with its ``.venv`` linked in);
- ``sudo``, ``systemctl``, ``adduser``, ``apt-get``, ``chown`` and the PostgreSQL client tools
  are small shims on ``PATH`` (``tests/../scripts/deployment_shims``... written below): ``sudo -u
  postgres psql`` reaches the throwaway cluster, ``sudo -u tracker CMD`` runs CMD, ``systemctl
  start tracker`` starts the unit's ``ExecStart`` (gunicorn) with its ``EnvironmentFile`` and
  ``UMask`` on a loopback port, ``apt-get`` and ``adduser`` only record what they were asked;
- blocks marked ``# check: skip <reason>`` are listed with the reason (installing packages from
  the network, certbot, nginx itself).

Then it logs in over HTTP as the administrator the guide created, saves something (a new
project member's role through the Members page is too much set-up; it creates a project
through the import page? no: it changes the administrator's own password-protected page...)
-- see ``exercise_the_server``: it logs in, loads the portfolio and saves a project from the
blank template through the admin pages, then checks the save is in the audit trail and that
``audit verify`` passes with the app's role reporting no tamper risk.
Exit status 0 when every checked block and the HTTP round trip succeeded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextlib.contextmanager
def throwaway_cluster():
    """A PostgreSQL 15 cluster on 127.0.0.1 (trust authentication) for the ``with`` block;
    yields the superuser's URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``)."""
    if not Path(PG_BIN, "initdb").exists():
        raise RuntimeError(f"PostgreSQL 15 server binaries not found in {PG_BIN} (apt-get install postgresql-15, "
                           "or set TRACKER_TEST_DATABASE_URL to a server's URL)")
    root = tempfile.mkdtemp(prefix="tracker-pg-")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = os.path.join(root, "data")
    port = free_port()
    started = False
    try:
        subprocess.run(_as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                     "--locale=C.UTF-8"]), check=True, stdout=subprocess.DEVNULL)
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off"
        subprocess.run(_as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-o", options, "-l",
                                     os.path.join(root, "server.log"), "-w", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(_as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server():
    """The server of ``TRACKER_TEST_DATABASE_URL`` when set, else a throwaway cluster."""
    given = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with throwaway_cluster() as url:
        yield url
