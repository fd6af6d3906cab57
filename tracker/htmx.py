"""Answering htmx and plain requests from the same view, and the one write path.

Every view that saves goes through ``write`` (or ``commit_once`` when it has no form):
call the service, commit once, roll back on any failure, answer 409 for a record changed
meanwhile, 422 with the errors on the form, and the page or fragment otherwise. Views stay a
few lines: load, check, build the form, hand ``write`` a callable.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from flask import current_app, make_response, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .concurrency import ConflictError
from .extensions import db
from .forms import apply_errors
from .i18n import N_
from .validation import InputError

SAVED_MEANWHILE = N_("Someone else saved a conflicting change at the same moment. Nothing of yours was saved; "
                   "reload the page to see theirs, then try again.")


def is_htmx() -> bool:
    """True when htmx sent the request (and it is not a history restore)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def vary(response):
    """The URL answers in two shapes (page and fragment): tell caches so."""
    response = make_response(response)
    response.vary.add("HX-Request")
    return response


def render(page: str, fragment: str, status: int = 200, trigger: dict | None = None, **context):
    """Render the full ``page`` or, for htmx, only ``fragment``; both from the same context."""
    template = fragment if is_htmx() else page
    response = vary(make_response(render_template(template, **context), status))
    if trigger and is_htmx():
        response.headers["HX-Trigger"] = json.dumps(trigger)
    return response


def fragment_response(template: str, status: int = 200, trigger: dict | None = None, **context):
    """Render one fragment template (for htmx-only answers such as inline editors)."""
    response = vary(make_response(render_template(template, **context), status))
    if trigger:
        response.headers["HX-Trigger"] = json.dumps(trigger)
    return response


def commit_once(change: Callable[[], Any]) -> Any:
    """Run ``change`` (services: they flush, never commit), then commit once.

    Any failure rolls the whole request back and is raised again, so the database is as it
    was; ``write`` turns the expected failures into answers.
    """
    try:
        result = change()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def write(change: Callable[[], Any], *, done: Callable[[Any], Any], again: Callable[[int], Any],
          form=None):
    """The one write path for a view that saves.

    - ``form`` (optional) is validated first (CSRF and field validators); invalid: ``again(422)``.
    - ``change()`` calls the services and returns what ``done`` needs.
    - ``InputError``: its messages go next to the form's fields, ``again(422)`` (or the
      error's own ``status``, such as 413 for an upload above the size limit).
    - a record changed meanwhile (``ConflictError``, a stale version at flush, a unique key
      taken at the same moment): the message goes on top of the form, ``again(409)``.
    - success: one commit, then ``done(result)`` (a redirect or the fragments).

    Without a form (button-only POSTs), ``again(status)`` reads the messages with
    ``last_errors()``.
    """
    if form is not None and not form.validate_on_submit():
        return vary(again(422))
    try:
        result = commit_once(change)
    except InputError as error:
        _keep(form, error, None)
        return vary(again(getattr(error, "status", 422)))  # an InputError may carry its own (413: too large)
    except ConflictError as error:
        _keep(form, None, str(error))
        return vary(again(409))
    except (StaleDataError, IntegrityError) as error:
        current_app.logger.warning("write refused as a concurrent change: %s", error)
        _keep(form, None, _(SAVED_MEANWHILE))
        return vary(again(409))
    return vary(done(result))


def _keep(form, error: InputError | None, message: str | None) -> None:
    messages = list(error.errors.values()) if error is not None else [message]
    request.environ["tracker.write_errors"] = messages
    if form is not None:
        if error is not None:
            apply_errors(form, error)
        else:
            form.form_errors.append(message)


def last_errors() -> list[str]:
    """The messages of the failed write in this request (for ``again`` of a form-less view)."""
    return list(request.environ.get("tracker.write_errors", []))
