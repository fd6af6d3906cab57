"""What long lists of evidence items (the register, the auditor's queue) need once per request.

A row of those lists used to call ``url_for`` and ``gettext`` a dozen times (the item's, its
file's and its review's addresses; "Verify", "Query", "Note"...): ~0.5 ms a row. ``kit()`` reads
the texts in the request's language and the URL prefixes once (kept on ``g``); the row templates
(``templates/evidence/_row_parts.html``) append ids to the prefixes. The labels are the same
``gettext`` messages as before (a message without variables comes back unformatted, so the
translated pattern is formatted here, once per link).
"""

from __future__ import annotations

from flask import g, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from .. import formatting
from ..models.evidence import KIND_LABELS, REVIEW_STATE_LABELS
from . import thumbnails


class RowKit:
    """Texts, labels and URL prefixes for one request's rows of evidence items."""

    def __init__(self, project_id: int):
        self.item = url_for("evidence.item", project_id=project_id, item_id=0)[:-1]  # + id
        self.expenditure = url_for("budget.expenditure", project_id=project_id, expenditure_id=0)[:-1]
        self.csrf = generate_csrf()
        self.kinds = {kind: str(label) for kind, label in KIND_LABELS.items()}
        self.states = {state: str(label) for state, label in REVIEW_STATE_LABELS.items()}
        self.t = {
            "not_linked": _("Not linked"), "file": _("file"), "link": _("Link"), "earlier_note": _("Earlier note:"),
            "note": _("Note"), "needed_to_query": _("(needed to query)"), "verify": _("Verify"), "query": _("Query"),
            # the register's cell labels (shown on phones, where a row is a card)
            "date": _("Date"), "source": _("Source"), "backs_up": _("Backs up"), "file_or_link": _("File or link"),
            "review": _("Review"),
        }
        # Patterns, formatted per row (named placeholders, as in the catalogue).
        self._to_title = _("to %(title)s")
        self._deleted = _("deleted %(date)s")
        self._labels = {"activity": _("Activity %(code)s"), "period": _("Indicator %(period)s"),
                        "result": _("Result %(code)s"), "expenditure": _("Expenditure %(voucher)s")}
        self.day = formatting.day
        self.is_image = thumbnails.is_image

    def deleted(self, day) -> str:
        return self._deleted % {"date": formatting.day(day)}

    def to_title(self, title: str) -> str:
        return self._to_title % {"title": title}

    def kind(self, item) -> str:
        return self.kinds.get(item.kind, item.kind)

    def links(self, item) -> list[tuple[str | None, str]]:
        """(address or None, label) of what the item backs up; its links and their targets are loaded."""
        rows = []
        for link in item.links:
            if link.expenditure_id is not None:
                rows.append((f"{self.expenditure}{link.expenditure_id}",
                             self._labels["expenditure"] % {"voucher": link.expenditure.voucher}))
            elif link.activity_id is not None:
                rows.append((None, self._labels["activity"] % {"code": link.activity.code}))
            elif link.result_id is not None:
                rows.append((None, self._labels["result"] % {"code": link.result.code}))
            elif link.period_id is not None:
                period = link.period
                rows.append((None, self._labels["period"] % {"period": (
                    f"{period.indicator.code} {period.start_date.isoformat()} – {period.end_date.isoformat()}")}))
        return rows


def kit(project_id: int) -> RowKit:
    """This request's kit for ``project_id`` (made on first use, in the request's language)."""
    kits = g.setdefault("_evidence_row_kits", {})
    key = (project_id, str(get_locale()))
    if key not in kits:
        kits[key] = RowKit(project_id)
    return kits[key]
