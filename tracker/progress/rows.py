"""The words and addresses every activity row of a page shares, worked out once per request.

An activity row (``progress/_activity_row.html``) is drawn up to 50 times on a page. Asking
gettext, ``url_for`` and the badge macros for the same words in every row cost more than the
rest of the page together, so the row template asks ``progress_row_words(week, context)``
(a template global) for this object instead: the labels already translated into the person's
language, the badges as markup, the rows' address prefix and query strings, and the person's
rights. It is cached on ``g`` for the request (per week and context); each row then only
appends its activity's id and formats the few words that name it.

Nothing here decides anything: the words are the catalogue's, the rights come from
``permissions.can``, late from ``tracker.inbox.late`` (the template's ``activity_late``).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import g, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..formatting import day
from ..models.progress import STATUS_LABELS
from ..permissions import can
from .weeks import current_date, week_in_project


class RowWords:
    """What the rows of one page (one week, one context) have in common."""

    def __init__(self, project, week: str, context: str):
        self.week = week
        self.today = current_date()  # read once for the page's late badges
        # "/projects/1/activities/" + id + "/log?week=...": built once, not url_for per row.
        self.prefix = url_for("progress.activities", project_id=project.id) + "/"
        self.q_view = "?" + urlencode({"week": week})
        self.q_row = "?" + urlencode({"week": week, "context": context})
        self.q_edit = "?" + urlencode({"page_week": week, "context": context})
        self.can_log = can("progress.log") and week_in_project(project, week)
        self.can_edit = can("framework.edit")
        self.can_move = self.can_edit and context == "activities"
        # Column labels (the phone layout shows them beside each cell).
        self.status = _("Status")
        self.percent = _("%% complete") % {}
        self.planned = _("Planned")
        self.week_label = _("Week %(week)s", week=week)
        self.logged, self.due, self.not_logged = _("Logged"), _("Due"), _("Not logged")
        self.log_week, self.edit_log, self.edit = _("Log week"), _("Edit log"), _("Edit")
        self.statuses = {value: str(label) for value, label in STATUS_LABELS.items()}
        self.badges = {value: Markup('<span class="badge badge-{}">{}</span>').format(value.replace("_", "-"), label)
                       for value, label in self.statuses.items()}
        self.late_badge = Markup(' <span class="badge badge-late" title="{}">{}</span>').format(
            _("Planned dates have passed"), _("Late"))
        # Sentences naming a row's activity: the translation once, the values per row.
        self._for_code = _("%(week)s for %(code)s")
        self._bar = _("%(code)s: %(pct)s%% complete")
        self._dates = _("%(start)s to %(end)s")
        self._move = {"up": _("Move %(code)s up"), "down": _("Move %(code)s down")}

    def badge(self, status: str) -> Markup:
        return self.badges.get(status) or Markup('<span class="badge">{}</span>').format(status)

    def status_label(self, status: str) -> str:
        return self.statuses.get(status, status)

    def for_code(self, code: str) -> str:
        return self._for_code % {"week": self.week, "code": code}

    def bar_label(self, code: str, pct) -> str:
        return self._bar % {"code": code, "pct": pct}

    def dates(self, start: date | None, end: date | None) -> str:
        return self._dates % {"start": day(start) or "?", "end": day(end) or "?"}

    def move_label(self, direction: str, code: str) -> str:
        return self._move[direction] % {"code": code}


def progress_row_words(week: str, context: str) -> RowWords:
    """The request's ``RowWords`` for ``week`` and ``context`` (made on first use)."""
    cache = g.setdefault("progress_row_words", {})
    words = cache.get((week, context))
    if words is None:
        words = cache[(week, context)] = RowWords(g.project, week, context)
    return words
