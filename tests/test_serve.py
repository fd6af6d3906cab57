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
from contextlib import contextmanager
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


@contextmanager
def gunicorn_server(databases, tmp_path, instance_config: str = ""):
    """The `make run` command on a free loopback port, 2 workers × 2 threads, a throwaway
    instance folder and a copy of the demo database; yields (base URL, log file); stops it."""
    instance = tmp_path / "instance"
    instance.mkdir()
    if instance_config:
        (instance / "config.py").write_text(instance_config, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "TRACKER_WORKERS": "2", "TRACKER_THREADS": "2",
           "TRACKER_INSTANCE_PATH": str(instance), "TRACKER_DATABASE_URL": databases.new("demo"),
           "TRACKER_SECRET_KEY": "serve-test-" + "k" * 40}
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log, "wb") as output:
        server = subprocess.Popen([str(gunicorn), "-c", str(CONFIG), "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=output, stderr=output, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            assert server.poll() is None, f"gunicorn exited:\n{log.read_text()}"
            try:
                status, body = get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, log.read_text()
        assert '"database":"ok"' in body.replace(" ", "")
        yield base, log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode == 0


def test_gunicorn_serves_the_app_with_several_workers(databases, tmp_path):
    with gunicorn_server(databases, tmp_path) as (base, log):
        status, body = get(f"{base}/login")
        assert status == 200
        assert re.search(r'<input[^>]+name="password"', body)
        text = log.read_text()
        assert "gthread" in text  # gunicorn says which worker class it runs
        assert len(re.findall(r"Booting worker with pid", text)) >= 2


def test_an_export_job_started_on_one_worker_is_followed_on_any(databases, tmp_path):
    """Job state lives in instance/exports/, not in a worker's memory: its progress page and its
    file answer whichever worker takes the request (each request here is a new connection)."""
    from http.cookiejar import CookieJar
    from urllib.parse import urlencode

    def csrf(page: str) -> str:
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    with gunicorn_server(databases, tmp_path, "EXPORT_BACKGROUND_ROWS = 1\n") as (base, log):
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        login_page = browser.open(f"{base}/login", timeout=10).read().decode()
        browser.open(f"{base}/login", urlencode({"email": "liaison@demo.test", "password": "demo-liaison-pass",
                                                 "csrf_token": csrf(login_page)}).encode(), timeout=10).read()
        portfolio = browser.open(f"{base}/", timeout=10).read().decode()
        project = re.search(r'href="/projects/(\d+)"', portfolio).group(1)
        exports = browser.open(f"{base}/projects/{project}/exports", timeout=10).read().decode()
        assert "Prepare the workbook" in exports
        started = browser.open(f"{base}/projects/{project}/export/jobs",
                               urlencode({"csrf_token": csrf(exports)}).encode(), timeout=30)
        job_url = started.geturl()  # 303 to the job's page, followed
        assert "/export/jobs/" in job_url
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            page = browser.open(job_url, timeout=10).read().decode()
            if "The workbook is ready." in page:
                break
            assert "could not be prepared" not in page and "was not finished" not in page, page
            time.sleep(0.2)
        assert "The workbook is ready." in page, log.read_text()[-3000:]
        for _ in range(6):  # every worker knows the finished job
            assert "The workbook is ready." in browser.open(job_url, timeout=10).read().decode()
        workbook = browser.open(f"{job_url}/file", timeout=30).read()
        assert workbook[:2] == b"PK"
        assert len(re.findall(r"Booting worker with pid", log.read_text())) >= 2
