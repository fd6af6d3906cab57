"""gunicorn settings for `make run` (and tests/test_serve.py, which starts the same command).

    .venv/bin/gunicorn -c scripts/gunicorn_conf.py wsgi:app

Threaded workers (gthread): each worker is a process holding its own app and database
connections (no ``preload``, so no SQLite connection crosses a fork), and serves several
requests at once in threads while others wait on the database or the network. Several
workers on the embedded SQLite database are safe: every write opens with ``BEGIN IMMEDIATE``
(tracker/database.py) and export jobs keep their state in ``instance/exports/`` files, so
any worker answers a job's progress poll.

Environment (the Makefile's ``PORT``, ``WORKERS`` and ``THREADS`` set the first three):

| variable | meaning | default |
|---|---|---|
| ``PORT`` | port on 127.0.0.1 | 5000 |
| ``TRACKER_BIND`` | the whole address instead (``127.0.0.1:8000``, ``unix:/run/tracker.sock``) | |
| ``TRACKER_WORKERS`` | worker processes | the number of cores, at least 2, at most 8 |
| ``TRACKER_THREADS`` | threads per worker | 4 |
| ``TRACKER_TIMEOUT`` | seconds a request may take before its worker is restarted | 60 |

This file is in scripts/, not at the top as ``gunicorn.conf.py``, on purpose: gunicorn reads a
``gunicorn.conf.py`` in its working folder on its own, which would quietly change servers
started with their own flags (bench/load.py, the systemd unit of docs/deployment.md).
"""

import os


def _number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise SystemExit(f"{name}={raw!r} must be at least 1")
    return value


def default_workers() -> int:
    """One worker per core the process may use, at least 2 (a slow request never blocks the
    site), at most 8 (each worker holds a copy of the app; SQLite has one writer anyway)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(2, min(8, cores))


bind = os.environ.get("TRACKER_BIND") or f"127.0.0.1:{_number('PORT', 5000)}"
worker_class = "gthread"
workers = _number("TRACKER_WORKERS", default_workers())
threads = _number("TRACKER_THREADS", 4)
timeout = _number("TRACKER_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# Tell gunicorn's own temporary files to use memory where the system has it (workers' heartbeats).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
# gunicorn 25+ opens a control socket at one fixed path per user (~/.gunicorn/gunicorn.ctl): two
# servers of the same user (make run beside the tests' servers) would take it from each other.
# Older gunicorn ignores the name.
control_socket_disable = True
