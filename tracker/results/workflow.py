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

from ..concurrency import check_version, stamp
from ..extensions import db
from ..models import IndicatorPeriod
from ..validation import InputError, clean_text
from .values import period_label

# States from which an officer may submit a period (the period page shows the button for these).
SUBMITTABLE_STATES = ("draft", "returned")


class LockedError(InputError):
    """A change to an approved (locked) period."""


def check_unlocked(period: IndicatorPeriod) -> None:
    """Refuse any change to an approved (locked) period."""
    if period.locked:
        raise LockedError(f"The period {period.label} of {period.indicator.code} is approved and locked; a manager "
                          "must unlock it before it can change. Nothing was saved.")


def describe(period: IndicatorPeriod, kind: str) -> str:
    """'The actual of 1.1.b for 2016 H2': how messages name a period's field."""
    return f"The {kind} of {period.indicator.code} for {period_label(period.start_date, period.end_date)}"


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


def submit_period(period: IndicatorPeriod, version, user) -> IndicatorPeriod:
    """An officer submits a period's actual for approval."""
    check_version(period, version, describe(period, "period"))
    if period.state not in SUBMITTABLE_STATES:
        raise InputError(f"This period is already {period.state}; only a draft or returned period can be submitted.")
    if not period.has_actual:
        raise InputError("Enter the actual before submitting the period.")
    period.submitted_at, period.submitted_by_id = datetime.now(UTC), getattr(user, "id", None)
    return _step(period, "indicator.submit", "submitted", user)


def approve_period(period: IndicatorPeriod, version, user) -> IndicatorPeriod:
    """A manager approves a submitted period, which locks it."""
    check_version(period, version, describe(period, "period"))
    if period.state != "submitted":
        raise InputError(f"Only a submitted period can be approved; this one is {period.state}.")
    period.approved_at, period.approved_by_id = datetime.now(UTC), getattr(user, "id", None)
    period.return_note = ""
    return _step(period, "indicator.approve", "approved", user)


def return_period(period: IndicatorPeriod, note: str, version, user) -> IndicatorPeriod:
    """A manager returns a submitted period to the officer with a note saying what to change."""
    check_version(period, version, describe(period, "period"))
    if period.state != "submitted":
        raise InputError(f"Only a submitted period can be returned; this one is {period.state}.")
    note = clean_text(note)
    if not note:
        raise InputError("Say what needs changing: the note goes back to the officer.", field="note")
    period.return_note = note
    return _step(period, "indicator.return", "returned", user, note)


def unlock_period(period: IndicatorPeriod, version, user, note: str = "") -> IndicatorPeriod:
    """A manager unlocks an approved period so it can change again (it goes back to draft)."""
    check_version(period, version, describe(period, "period"))
    if period.state != "approved":
        raise InputError(f"Only an approved period is locked; this one is {period.state}.")
    period.approved_at = period.approved_by_id = None
    return _step(period, "indicator.unlock", "draft", user, clean_text(note))


def take_step(period: IndicatorPeriod, action: str, version, user, note: str = "") -> IndicatorPeriod:
    """One workflow step by name (``submit``, ``approve``, ``return``, ``unlock``)."""
    steps = {"submit": lambda: submit_period(period, version, user),
             "approve": lambda: approve_period(period, version, user),
             "return": lambda: return_period(period, note, version, user),
             "unlock": lambda: unlock_period(period, version, user, note)}
    if action not in steps:
        raise InputError("Choose submit, approve, return or unlock.")
    return steps[action]()
