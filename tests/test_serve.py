"""`make run` serves with gunicorn: the same command, started here on a free loopback port.

The Makefile's run target is ``gunicorn -c scripts/gunicorn_conf.py wsgi:app`` with ``PORT``
(and ``TRACKER_WORKERS`` / ``TRACKER_THREADS``) in the environment; this smoke test starts
exactly that against a throwaway instance folder and database, asks for /healthz and /login
over HTTP, and stops it.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "scripts" / "gunicorn_conf.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def test_the_make_run_target_uses_this_config():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "gunicorn -c scripts/gunicorn_conf.py wsgi:app" in run
    assert "flask" not in run.split("load-demo-if-empty", 1)[1].lower()  # not the development server


def test_workers_and_threads_come_from_the_environment(monkeypatch):
    import runpy

    monkeypatch.setenv("PORT", "5123")
    monkeypatch.setenv("TRACKER_WORKERS", "3")
    monkeypatch.setenv("TRACKER_THREADS", "6")
    settings = runpy.run_path(str(CONFIG))
    assert settings["bind"] == "127.0.0.1:5123"
    assert (settings["workers"], settings["threads"], settings["worker_class"]) == (3, 6, "gthread")
    monkeypatch.delenv("TRACKER_WORKERS")
    assert runpy.run_path(str(CONFIG))["workers"] >= 2
    monkeypatch.setenv("TRACKER_WORKERS", "many")
    with pytest.raises(SystemExit, match="TRACKER_WORKERS"):
        runpy.run_path(str(CONFIG))


def test_gunicorn_serves_the_app_with_several_workers(databases, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    port = free_port()
    env = {**os.environ, "PORT": str(port), "TRACKER_WORKERS": "2", "TRACKER_THREADS": "2",
           "TRACKER_INSTANCE_PATH": str(instance), "TRACKER_DATABASE_URL": databases.new("demo"),
           "TRACKER_SECRET_KEY": "serve-test-" + "k" * 40}
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log, "wb") as output:
        server = subprocess.Popen([str(gunicorn), "-c", str(CONFIG), "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=output, stderr=output, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            assert server.poll() is None, f"gunicorn exited:\n{log.read_text()}"
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, log.read_text()
        assert '"database":"ok"' in body.replace(" ", "")

        status, body = get(f"http://127.0.0.1:{port}/login")
        assert status == 200
        assert re.search(r'<input[^>]+name="password"', body)

        text = log.read_text()
        assert "gthread" in text  # gunicorn says which worker class it runs
        assert len(re.findall(r"Booting worker with pid", text)) >= 2
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode == 0
