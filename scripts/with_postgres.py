"""Run a command against a throwaway PostgreSQL 15 cluster on 127.0.0.1.

    python scripts/with_postgres.py COMMAND [ARGS...]

Creates a cluster in a temporary folder (owned by the ``postgres`` user when run as root),
starts it on a free port, runs COMMAND with ``TRACKER_TEST_DATABASE_URL`` pointing at it,
then stops the server and removes the folder. Exits with COMMAND's exit code.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    root = tempfile.mkdtemp(prefix="tracker-pg-")
    data = os.path.join(root, "data")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    log = os.path.join(root, "server.log")
    started = False
    try:
        subprocess.run(as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "--auth=trust",
                                    "-E", "UTF8", "--locale=C.UTF-8"]), check=True, stdout=subprocess.DEVNULL)
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        started = True
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        print(f"PostgreSQL 15 running on 127.0.0.1:{port} for this run", flush=True)
        env = dict(os.environ, TRACKER_TEST_DATABASE_URL=url)
        return subprocess.run(sys.argv[1:], env=env).returncode
    finally:
        if started:
            subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
