"""Real-browser tests: Debian's Chromium driven by Playwright against a live server.

The app runs in a thread on 127.0.0.1 (a free port) with a fresh demo database for each
test, so journeys do not depend on each other. Chromium must be at /usr/bin/chromium
(`make test` installs it); if it is missing the tests fail, they never skip.
"""

import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import DEMO_PASSWORDS, close_app, make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


class _CurrentApp:
    """A WSGI app that forwards to whichever test app is current (one server per session)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


_current = _CurrentApp()


@pytest.fixture(scope="session")
def live_server():
    server = make_server("127.0.0.1", 0, _current, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture(autouse=True)
def live_app(databases, tmp_path, live_server):
    """A fresh demo app with CSRF on for each browser test, served by the session's server."""
    app = make_app(databases, tmp_path, WTF_CSRF_ENABLED=True)
    app.live_url = live_server
    _current.app = app
    yield app
    _current.app = None
    close_app(databases, app)


@pytest.fixture
def login_as(page, base_url):
    """Log in through the real form as one of the demo roles."""

    def login(role: str):
        email, password = DEMO_PASSWORDS[role]
        page.goto(f"{base_url}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base_url}/")
        return page

    return login
