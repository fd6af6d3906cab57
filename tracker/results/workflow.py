"""The approval workflow of an indicator period, and its lock.

draft or returned -> submitted (officer) -> approved (manager; locks) or returned with a
note; a manager unlocks an approved period (back to draft). Each step is an audit event of
its own (``indicator.submit`` ...) besides the row change the session hook writes. A
submitted period can still be corrected; the approval carries the version the manager saw,
so a correction made after the manager opened the page turns the approval into a 409.

An approved period is locked: ``check_unlocked`` refuses every change to it (pages and the
workbook import alike) until a manager unlocks it. The states' labels are
``tracker.models.results.PERIOD_STATE_LABELS``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext as _

from .. import notices
from ..concurrency import check_version, stamp
from ..extensions import db
from ..i18n import N_
from ..models import IndicatorPeriod
from ..models.results import PERIOD_STATE_LABELS
from ..validation import InputError, clean_text
from .values import period_label

# States from which an officer may submit a period (the period page shows the button for these).
SUBMITTABLE_STATES = ("draft", "returned")


class LockedError(InputError):
    """A change to an approved (locked) period."""


def check_unlocked(period: IndicatorPeriod) -> None:
    """Refuse any change to an approved (locked) period."""
    if period.locked:
        raise LockedError(_("The period %(period)s of %(code)s is approved and locked; a manager must unlock it "
                            "before it can change. Nothing was saved.", period=period.label,
                            code=period.indicator.code))


# How messages name a period's field, one sentence per kind (so each translates whole).
_DESCRIBED = {"period": N_("The period of %(code)s for %(period)s"),
              "target": N_("The target of %(code)s for %(period)s"),
              "actual": N_("The actual of %(code)s for %(period)s"),
              "breakdown": N_("The breakdown of %(code)s for %(period)s"),
              "narrative": N_("The narrative of %(code)s for %(period)s")}


def describe(period: IndicatorPeriod, kind: str) -> str:
    """'The actual of 1.1.b for 2016 H2': how messages name a period's field."""
    return _(_DESCRIBED[kind], code=period.indicator.code, period=period_label(period.start_date, period.end_date))


def _state(period: IndicatorPeriod) -> str:
    """The period's state as a word in a sentence ("submitted")."""
    return str(PERIOD_STATE_LABELS.get(period.state, period.state)).lower()


def _record_step(period: IndicatorPeriod, action: str, old: str, note: str = "") -> None:
    from ..audit import trail

    changes = {"state": [old, period.state], "indicator": period.indicator.code,
               "period": f"{period.start_date.isoformat()}/{period.end_date.isoformat()}"}
    if note:
        changes["note"] = note
    trail.record(db.session, action, table_name="indicator_period", row_id=period.id,
                 project_id=period.project_id, changes=changes)


def _step(period: IndicatorPeriod, action: str, new_state: str, user, note: str = "") -> IndicatorPeriod:
    old = period.state
    period.state = new_state
    stamp(period, user)
    db.session.flush()
    _record_step(period, action, old, note)
    return period


def submit_period(period: IndicatorPeriod, version, user, note: str = "") -> IndicatorPeriod:
    """An officer submits a period's actual for approval."""
    check_version(period, version, describe(period, "period"))
    if period.state not in SUBMITTABLE_STATES:
        raise InputError(_("This period is already %(state)s; only a draft or returned period can be submitted.",
                           state=_state(period)))
    if not period.has_actual:
        raise InputError(_("Enter the actual before submitting the period."))
    from .narratives import check_variance_explained  # narratives builds on this module

    check_variance_explained(period)  # off target beyond the project's threshold: explain it first
    period.submitted_at, period.submitted_by_id = datetime.now(UTC), getattr(user, "id", None)
    return _step(period, "indicator.submit", "submitted", user, clean_text(note))


def approve_period(period: IndicatorPeriod, version, user, note: str = "") -> IndicatorPeriod:
    """A manager approves a submitted period, which locks it (``note``: kept in its audit event)."""
    check_version(period, version, describe(period, "period"))
    if period.state != "submitted":
        raise InputError(_("Only a submitted period can be approved; this one is %(state)s.", state=_state(period)))
    period.approved_at, period.approved_by_id = datetime.now(UTC), getattr(user, "id", None)
    period.return_note = ""
    return _step(period, "indicator.approve", "approved", user, clean_text(note))


def return_period(period: IndicatorPeriod, note: str, version, user) -> IndicatorPeriod:
    """A manager returns a submitted period to the officer with a note saying what to change."""
    check_version(period, version, describe(period, "period"))
    if period.state != "submitted":
        raise InputError(_("Only a submitted period can be returned; this one is %(state)s.", state=_state(period)))
    note = clean_text(note)
    if not note:
        raise InputError(_("Say what needs changing: the note goes back to the officer."), field="note")
    period.return_note = note
    _step(period, "indicator.return", "returned", user, note)
    notices.period_returned(period, user)  # e-mail to the officers, sent after the commit
    return period


def unlock_period(period: IndicatorPeriod, version, user, note: str = "") -> IndicatorPeriod:
    """A manager unlocks an approved period so it can change again (it goes back to draft)."""
    check_version(period, version, describe(period, "period"))
    if period.state != "approved":
        raise InputError(_("Only an approved period is locked; this one is %(state)s.", state=_state(period)))
    period.approved_at = period.approved_by_id = None
    return _step(period, "indicator.unlock", "draft", user, clean_text(note))


def take_step(period: IndicatorPeriod, action: str, version, user, note: str = "") -> IndicatorPeriod:
    """One workflow step by name (``submit``, ``approve``, ``return``, ``unlock``)."""
    steps = {"submit": lambda: submit_period(period, version, user),
             "approve": lambda: approve_period(period, version, user),
             "return": lambda: return_period(period, note, version, user),
             "unlock": lambda: unlock_period(period, version, user, note)}
    if action not in steps:
        raise InputError(_("Choose submit, approve, return or unlock."))
    return steps[action]()


# --------------------------------------------------------------------------------------------- bulk
# A reporting period *label* is one column of the indicator grid: the periods of the project's
# indicators that share a start and an end date (2017 H1). Bulk steps run the single-period
# steps above on each period of the column, in one transaction: the caller (htmx.write)
# commits once, and any refusal rolls every period back.

BULK_ACTIONS = ("submit", "approve")


def column_periods(project_id: int, start, end) -> list[IndicatorPeriod]:
    """Every period of the project from ``start`` to ``end``, in logframe order (one query)."""
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from ..models import Indicator
    from ..validation import code_key

    periods = db.session.execute(
        select(IndicatorPeriod).join(Indicator, Indicator.id == IndicatorPeriod.indicator_id)
        .where(IndicatorPeriod.project_id == project_id, IndicatorPeriod.start_date == start,
               IndicatorPeriod.end_date == end)
        .options(joinedload(IndicatorPeriod.indicator))).scalars().all()
    return sorted(periods, key=lambda p: (code_key(p.indicator.code), p.indicator.id))


def reporting_periods(project_id: int) -> list[tuple]:
    """The project's reporting periods (the grid's columns): distinct (start, end, label), in date order."""
    from sqlalchemy import select

    rows = db.session.execute(select(IndicatorPeriod.start_date, IndicatorPeriod.end_date)
                              .where(IndicatorPeriod.project_id == project_id).distinct()
                              .order_by(IndicatorPeriod.start_date, IndicatorPeriod.end_date)).all()
    return [(start, end, period_label(start, end)) for start, end in rows]


def bulk_candidates(periods: list[IndicatorPeriod], action: str) -> list[IndicatorPeriod]:
    """The periods a bulk ``action`` takes: filled draft or returned ones to submit,
    submitted ones to approve (or return)."""
    if action == "submit":
        return [p for p in periods if p.state in SUBMITTABLE_STATES and p.has_actual]
    if action == "approve":
        return [p for p in periods if p.state == "submitted"]
    raise InputError(_("Choose submit or approve."))


def bulk_step(periods: list[IndicatorPeriod], action: str, versions: dict[int, int], user, note: str = "",
              returns: dict[int, str] | None = None) -> dict[str, list[IndicatorPeriod]]:
    """Submit, or approve, every period of ``periods`` (all or nothing).

    ``versions`` (period id -> the version the person saw) says which periods the person
    confirmed; each goes through ``submit_period`` / ``approve_period`` with its version, so
    every rule of one period holds for each. For ``approve``, ``returns`` (period id -> note)
    sends those periods back to the officer with their own note instead. ``note`` is one note
    shared by all (kept in each period's audit event). Every refusal is collected and raised
    together, naming each period, so the write path rolls all of them back.
    """
    from ..validation import raise_if

    if action not in BULK_ACTIONS:
        raise InputError(_("Choose submit or approve."))
    returns = {pid: text for pid, text in (returns or {}).items() if clean_text(text)}
    chosen = [p for p in periods if p.id in versions]
    if not chosen:
        raise InputError(_("No period was chosen: there is nothing to do in this column."), field="periods")
    note = clean_text(note)
    done: dict[str, list[IndicatorPeriod]] = {"submitted": [], "approved": [], "returned": []}
    problems: list[str] = []
    for period in chosen:
        try:
            if action == "submit":
                submit_period(period, versions[period.id], user, note)
                done["submitted"].append(period)
            elif period.id in returns:
                return_period(period, returns[period.id], versions[period.id], user)
                done["returned"].append(period)
            else:
                approve_period(period, versions[period.id], user, note)
                done["approved"].append(period)
        except InputError as error:
            for message in error.errors.values():
                problems.append(_("%(indicator)s: %(message)s", indicator=period.indicator.code, message=message))
    stray = set(returns) - {p.id for p in chosen}
    if stray:
        problems.append(_("A return note was given for a period that is not among those chosen."))
    if problems:
        raise_if({"periods": _("Nothing was changed. %(problems)s", problems=" ".join(problems))})
    return done
