"""Every saving route is on the one write path (``tracker.htmx.write`` / ``commit_once``).

Two checks, one reading the code and one watching it run:

- **The code**: no routes module (``tracker/**/routes.py``, and any other module holding a
  view) calls ``.commit()`` or ``.rollback()`` or catches ``InputError``, ``IntegrityError``
  or ``ConflictError``: those belong to the write path. And every view that accepts POST,
  PUT, PATCH or DELETE reaches ``htmx.write`` or ``htmx.commit_once``: its body, or a helper
  it calls (followed through the names the view's module binds), calls one of them.
- **The running app**: ``Session.commit`` is watched while an admin (who may do everything)
  sends every saving route an empty request, plain and as htmx, and submits every form of
  every page of the route matrix with the values the page shows. Each commit made while a
  request is being answered must happen inside ``htmx.commit_once``. Two small views, one
  committing by itself and one through ``commit_once``, show that the watch tells them apart.

The routes are read from ``app.url_map``, so a route added later is covered without touching
this file.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import threading
import traceback
from pathlib import Path
from types import FunctionType, ModuleType

import pytest
from flask import Blueprint
from sqlalchemy.orm import Session

from bench.html_forms import parse_forms
from tests.test_route_matrix import RULES, Visitors, find_rule
from tracker import htmx
from tracker.extensions import db
from tracker.permissions import public

ROOT = Path(__file__).resolve().parent.parent
SAVING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FORBIDDEN_CALLS = {"commit", "rollback"}
FORBIDDEN_CATCHES = {"InputError", "IntegrityError", "ConflictError"}
WRITE_PATH = (htmx.write, htmx.commit_once)


# ---------------------------------------------------------------------------------------
# Reading the code


def _caught_names(handler: ast.ExceptHandler) -> set[str]:
    """The exception class names an ``except`` clause names (``except (A, b.B):`` -> {A, B})."""
    if handler.type is None:
        return set()
    nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {node.id if isinstance(node, ast.Name) else node.attr for node in nodes
            if isinstance(node, (ast.Name, ast.Attribute))}


def write_path_breaches(source: str) -> list[tuple[int, str]]:
    """(line, what) for each ``.commit()``/``.rollback()`` call and each catch of a write-path error."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in FORBIDDEN_CALLS):
            found.append((node.lineno, f".{node.func.attr}()"))
        elif isinstance(node, ast.ExceptHandler):
            for name in sorted(_caught_names(node) & FORBIDDEN_CATCHES):
                found.append((node.lineno, f"except {name}"))
    return sorted(found)


def _function_tree(function) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None


def _callee(node: ast.Call, namespace: dict):
    """What a call's name refers to in the function's module: ``f(...)`` or ``module.f(...)``."""
    func = node.func
    if isinstance(func, ast.Name):
        return namespace.get(func.id)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = namespace.get(func.value.id)
        if isinstance(owner, ModuleType):
            return getattr(owner, func.attr, None)
    return None


def reaches_write_path(function, seen: set | None = None, packages: tuple[str, ...] = ("tracker.",)) -> bool:
    """True when ``function`` or a function of ``packages`` it calls (directly or further down)
    calls ``htmx.write`` or ``htmx.commit_once``."""
    function = inspect.unwrap(function)
    seen = set() if seen is None else seen
    if function in seen:
        return False
    seen.add(function)
    tree = _function_tree(function)
    if tree is None:
        return False
    namespace = {**getattr(function, "__globals__", {}), **_closure(function)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = _callee(node, namespace)
        if callee is None:
            continue
        callee = inspect.unwrap(callee) if callable(callee) else callee
        if any(callee is inspect.unwrap(target) for target in WRITE_PATH):
            return True
        if (isinstance(callee, FunctionType) and callee.__module__.startswith(packages)
                and callee.__module__ != htmx.__name__ and reaches_write_path(callee, seen, packages)):
            return True
    return False


def _closure(function) -> dict:
    try:
        return dict(inspect.getclosurevars(function).nonlocals)
    except (TypeError, ValueError):
        return {}


def _view_modules(app) -> dict[str, Path]:
    """Every module that holds a view of the app, and every tracker/**/routes.py."""
    modules = {path.relative_to(ROOT).as_posix(): path for path in (ROOT / "tracker").rglob("routes.py")}
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        path = Path(inspect.getsourcefile(inspect.unwrap(view))).resolve()
        if path.is_relative_to(ROOT / "tracker"):
            modules.setdefault(path.relative_to(ROOT).as_posix(), path)
    return dict(sorted(modules.items()))


def _saving_views(app) -> dict[str, object]:
    return {rule.endpoint: app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and rule.methods & SAVING_METHODS}


def test_routes_modules_neither_commit_nor_roll_back_nor_catch_write_errors(app):
    breaches = []
    for name, path in _view_modules(app).items():
        found = write_path_breaches(path.read_text(encoding="utf-8"))
        if found:
            breaches.append(f"{name}: " + ", ".join(f"{line} {what}" for line, what in found))
    assert not breaches, (
        "Views save through tracker.htmx.write (or htmx.commit_once without a form): it commits once, "
        "rolls back and turns InputError, ConflictError and IntegrityError into 422/409 answers. "
        "Found in routes modules (line, what):\n  " + "\n  ".join(breaches))


def test_every_saving_view_reaches_the_write_path(app):
    missing = sorted(f"{endpoint} ({inspect.getsourcefile(inspect.unwrap(view))})"
                     for endpoint, view in _saving_views(app).items() if not reaches_write_path(view))
    assert not missing, (
        "These views accept POST, PUT, PATCH or DELETE but never call htmx.write or htmx.commit_once "
        "(neither they nor a helper they call):\n  " + "\n  ".join(missing))


def test_the_code_reading_sees_what_it_looks_for():
    """The AST checks notice a commit, a rollback and each caught error, and nothing in plain code."""
    source = textwrap.dedent("""
        def view():
            try:
                change()
            except (errors.InputError, KeyError):
                db.session.rollback()
            except IntegrityError:
                pass
            except ConflictError:
                pass
            db.session.commit()
        def fine():
            return htmx.write(lambda: change(), done=done, again=again)
    """)
    assert [what for _line, what in write_path_breaches(source)] == [
        "except InputError", ".rollback()", "except IntegrityError", "except ConflictError", ".commit()"]
    assert write_path_breaches("def fine():\n    return render('x')\n") == []


def _through_a_helper():
    return htmx.commit_once(lambda: None)


def _view_with_helper():
    return _through_a_helper()


def _view_without():
    return "nothing saved"


def test_reaching_the_write_path_follows_helpers():
    here = (_view_with_helper.__module__,)
    assert reaches_write_path(_through_a_helper, packages=here)
    assert reaches_write_path(_view_with_helper, packages=here)
    assert not reaches_write_path(_view_with_helper)  # the helper is outside the packages followed
    assert not reaches_write_path(_view_without, packages=here)


# ---------------------------------------------------------------------------------------
# Watching it run


def _inside_commit_once() -> bool:
    code = inspect.unwrap(htmx.commit_once).__code__
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def _caller() -> str:
    """Where the commit was called: the innermost frame of this project's code (not a library's)."""
    for frame in reversed(traceback.extract_stack()[:-2]):  # leave out this function and the watch
        path = Path(frame.filename).resolve()
        if path.is_relative_to(ROOT) and ".venv" not in path.parts:
            return f"{path.relative_to(ROOT).as_posix()}:{frame.lineno} in {frame.name}"
    return "(no frame of this project)"


class CommitWatch:
    """Counts the session commits made while a request is answered, inside commit_once or not."""

    def __init__(self, monkeypatch):
        self.request = None  # "METHOD endpoint" while a request is being answered
        self.inside: dict[str, int] = {}
        self.outside: list[str] = []
        thread = threading.current_thread()
        original = Session.commit
        watch = self

        def commit(session):
            if watch.request is not None and threading.current_thread() is thread:
                if _inside_commit_once():
                    watch.inside[watch.request] = watch.inside.get(watch.request, 0) + 1
                else:
                    watch.outside.append(f"{watch.request}: at {_caller()}")
            return original(session)

        monkeypatch.setattr(Session, "commit", commit)

    def send(self, client, method: str, url: str, label: str, **kwargs):
        self.request = label
        try:
            return client.open(url, method=method, **kwargs)
        finally:
            self.request = None


def _endpoint_of(app, url: str, method: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(url.split("?")[0], method=method)
    except Exception:  # noqa: BLE001 - not a route of the app (or not for this method)
        return None
    return endpoint


def test_every_commit_of_a_request_happens_inside_commit_once(app, monkeypatch):
    visitors = Visitors(app)
    watch = CommitWatch(monkeypatch)

    def admin():
        visitors.clients.pop("admin", None)  # a fresh login: an earlier request may have logged out
        return visitors.client("admin")

    # The forms of every page, with the values they show.
    forms = []
    for endpoint, rule_text in RULES:
        rule = find_rule(app, endpoint, rule_text)
        if "GET" not in rule.methods:
            continue
        url = visitors.url(endpoint, rule_text)
        page = watch.send(admin(), "GET", url, f"GET {endpoint}")
        if page.status_code == 200 and page.mimetype == "text/html":
            forms += [(url, form) for form in parse_forms(page.get_data(as_text=True)) if form["method"] == "post"]

    sent = set()
    for endpoint, rule_text in RULES:
        rule = find_rule(app, endpoint, rule_text)
        for method in sorted(rule.methods & SAVING_METHODS):
            url = visitors.url(endpoint, rule_text)
            for headers in ({}, {"HX-Request": "true"}):
                watch.send(admin(), method, url, f"{method} {endpoint}", headers=headers)
            sent.add(endpoint)
    for page_url, form in forms:
        action = form["action"] or page_url
        endpoint = _endpoint_of(app, action, "POST")
        if endpoint is None:
            continue
        watch.send(admin(), "POST", action, f"POST {endpoint}", data=form["fields"])
        sent.add(endpoint)

    assert not watch.outside, ("Requests that committed outside htmx.commit_once (request: where):\n  "
                               + "\n  ".join(sorted(set(watch.outside))))
    assert sent >= set(_saving_views(app)), "saving routes the walk did not reach"
    assert watch.inside, "no request committed at all: the walk exercised nothing"


_OWN_COMMIT_LINE = next(number for number, line in enumerate(Path(__file__).read_text().splitlines(), 1)
                        if line.strip() == "db.session.commit()  # the line the watch must name")


@pytest.fixture
def app_with_two_views(app):
    """The demo app plus one view that commits by itself and one on the write path."""
    blueprint = Blueprint("write_path_probe", __name__)

    @blueprint.route("/probe/own-commit", methods=["POST"])
    @public
    def own_commit():
        db.session.commit()  # the line the watch must name
        return "committed by itself"

    @blueprint.route("/probe/write-path", methods=["POST"])
    @public
    def write_path():
        htmx.commit_once(lambda: None)
        return "committed once"

    app.register_blueprint(blueprint)
    return app


def test_the_watch_tells_a_view_committing_by_itself_from_the_write_path(app_with_two_views, monkeypatch):
    watch = CommitWatch(monkeypatch)
    client = app_with_two_views.test_client()
    watch.send(client, "POST", "/probe/write-path", "write path")
    watch.send(client, "POST", "/probe/own-commit", "own commit")
    assert watch.inside == {"write path": 1}
    assert watch.outside == [f"own commit: at tests/test_write_path.py:{_OWN_COMMIT_LINE} in own_commit"]
    assert not reaches_write_path(app_with_two_views.view_functions["write_path_probe.own_commit"])
    assert reaches_write_path(app_with_two_views.view_functions["write_path_probe.write_path"])
