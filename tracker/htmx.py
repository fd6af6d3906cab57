"""Small helpers for answering htmx and plain requests from the same view."""

import json

from flask import make_response, render_template, request


def is_htmx() -> bool:
    """True when htmx sent the request (and it is not a history restore)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(page: str, fragment: str, status: int = 200, trigger: dict | None = None, **context):
    """Render the full ``page`` or, for htmx, only ``fragment``; both from the same context.

    ``Vary: HX-Request`` tells caches the URL answers in two shapes.
    """
    template = fragment if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    if trigger and is_htmx():
        response.headers["HX-Trigger"] = json.dumps(trigger)
    return response


def fragment_response(template: str, status: int = 200, trigger: dict | None = None, **context):
    """Render one fragment template (for htmx-only answers such as inline editors)."""
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    if trigger:
        response.headers["HX-Trigger"] = json.dumps(trigger)
    return response
