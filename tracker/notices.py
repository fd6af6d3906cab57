"""Immediate notices by e-mail: a period returned by the manager, an evidence item queried by
the auditor (issue 13).

The services call these with one line (tracker/results/workflow.py ``return_period``,
tracker/evidence/services.py ``review``). Each message is composed now, in the recipient's
language, and queued on the session (``tracker.mail.queue``): it goes out after the request's
commit, and never for a change that was rolled back.

Who is told:

* a period returned: the officer who submitted it and the project's officers;
* an evidence item queried: the person who added it and the project's officers;

active people only, never the person who acted, each once.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select

from . import mail
from .extensions import db
from .models import Membership, Project, User


def _people(project_id: int, also_ids, acting_user) -> list[User]:
    """The project's active officers and the people ``also_ids`` (if active), without the acting person
    (one query)."""
    officers = select(Membership.user_id).where(Membership.project_id == project_id, Membership.role == "officer")
    wanted = [i for i in also_ids if i is not None]
    statement = select(User).where(User.active.is_(True), or_(User.id.in_(officers), User.id.in_(wanted)))
    acting_id = getattr(acting_user, "id", None)
    if acting_id is not None:
        statement = statement.where(User.id != acting_id)
    return list(db.session.execute(statement.order_by(User.name, User.id)).scalars())


def period_returned(period, manager) -> None:
    """Tell the officers that ``period`` came back with the manager's note."""
    from .results.values import period_label

    project = db.session.get(Project, period.project_id)
    indicator = period.indicator
    label = period_label(period.start_date, period.end_date)
    url = mail.link("results.period", project_id=period.project_id, period_id=period.id)
    for person in _people(period.project_id, [period.submitted_by_id], manager):
        mail.queue(mail.compose(
            person, "period_returned",
            lambda: _("Returned for correction: %(indicator)s, %(period)s (%(project)s)",
                      indicator=indicator.code, period=label, project=project.code),
            project=project, indicator=indicator, period_label=label, note=period.return_note,
            manager_name=getattr(manager, "name", "") or _("The manager"), url=url))


def evidence_queried(item, auditor) -> None:
    """Tell the officers and the person who added ``item`` what the auditor asked."""
    project = db.session.get(Project, item.project_id)
    url = mail.link("evidence.item", project_id=item.project_id, item_id=item.id)
    for person in _people(item.project_id, [item.created_by_id], auditor):
        mail.queue(mail.compose(
            person, "evidence_queried",
            lambda: _("Evidence queried: %(title)s (%(project)s)", title=item.title, project=project.code),
            project=project, item=item, note=item.review_note,
            auditor_name=getattr(auditor, "name", "") or _("The auditor"), url=url))
