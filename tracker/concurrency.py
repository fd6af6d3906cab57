"""Optimistic concurrency: refuse a save made from an out-of-date form.

A form for a versioned record carries a hidden ``version`` field with the record's version
when the form was opened. Services call ``check_version`` before changing the record; a
mismatch raises ``ConflictError`` whose message says who changed it and when, and the route
answers 409 with the form (what the user typed kept) and a link to reload. SQLAlchemy's
``version_id_col`` catches the last race (two saves between check and flush): the app turns
its ``StaleDataError`` into the same 409.
"""

import re
import uuid

from flask_babel import gettext as _
from sqlalchemy import select

from .extensions import db


class ConflictError(Exception):
    """The record changed since the form was opened."""


def _who(user_id) -> str:
    from .models import User

    if user_id is None:
        return _("someone else")
    name = db.session.execute(select(User.name).where(User.id == user_id)).scalar()
    return name or _("someone else")


def check_version(record, submitted_version, what: str | None = None) -> None:
    """Raise ConflictError unless ``submitted_version`` is the record's current version."""
    what = what or _("This record")
    try:
        submitted = int(submitted_version)
    except (TypeError, ValueError):
        raise ConflictError(_("%(what)s could not be matched to the version you opened; reload and try again.",
                              what=what)) from None
    if submitted != record.version:
        raise changed_meanwhile(what, record.updated_by_id, record.updated_at)


def changed_meanwhile(what: str, user_id, at) -> ConflictError:
    """The one 409 message: what changed, who changed it, and when."""
    when = at.strftime("%Y-%m-%d %H:%M UTC") if at else _("just now")
    return ConflictError(_(
        "%(what)s was changed by %(who)s on %(when)s, after you opened it. "
        "Your changes were not saved; reload to see the current version, then make them again.",
        what=what, who=_who(user_id), when=when))


def versions_of(records) -> str:
    """The versions of a set of rows edited in one form ("id:version,..."), for a hidden field:
    a row added, removed or changed since the form was opened makes it differ."""
    return ",".join(f"{record.id}:{record.version}" for record in sorted(records, key=lambda r: r.id))


def check_versions(records, submitted, what: str) -> None:
    """``check_version`` for a set of rows edited in one form (see ``versions_of``).

    Who and when come from the row changed last; a set that only lost rows names nobody
    ("someone else"), since a removed row keeps no stamp.
    """
    records = list(records)
    if not isinstance(submitted, str) or submitted != versions_of(records):
        latest = max(records, key=lambda r: (r.updated_at is not None, r.updated_at or 0), default=None)
        raise changed_meanwhile(what, getattr(latest, "updated_by_id", None), getattr(latest, "updated_at", None))


def stamp(record, user) -> None:
    """Note who changed a versioned record (the version itself grows on flush)."""
    record.updated_by_id = getattr(user, "id", None)


def touch(record, user) -> None:
    """Stamp a versioned record as changed now by ``user``, even when none of its own columns
    changed (an evidence item whose links changed): the UPDATE this forces grows its version,
    so a form opened before the change is refused."""
    from .models._base import utcnow

    record.updated_by_id = getattr(user, "id", None)
    record.updated_at = utcnow()


# --- create forms are submitted once ----------------------------------------------------------
# A create form carries a fresh one-time ``form_token``. The write that creates the row also
# records the token with the URL of what it made (``SubmittedForm``, in the same transaction);
# the same form sent again (a double click, a resent request, the back button) is answered with
# a redirect to that first result instead of a second row. Two copies sent at the same instant
# both pass the look-up, but only one can insert the token (its primary key): the other's whole
# transaction rolls back and the write path answers 409. A form without a token (a script, an
# old page) still works, without the guarantee.

_TOKEN = re.compile(r"[0-9a-f]{32}")


def new_form_token() -> str:
    return uuid.uuid4().hex


def _token(value) -> str | None:
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def earlier_result(token, user) -> str | None:
    """Where the first submission of this form went, when it was already submitted."""
    from .models import SubmittedForm

    token = _token(token)
    if token is None:
        return None
    return db.session.execute(select(SubmittedForm.result_url).where(
        SubmittedForm.token == token, SubmittedForm.user_id == getattr(user, "id", None))).scalar()


def remember_submission(token, user, result_url: str) -> None:
    """Record that this form created its row (flushed: a concurrent twin fails on the key)."""
    from .models import SubmittedForm

    token = _token(token)
    if token is not None:
        db.session.add(SubmittedForm(token=token, user_id=getattr(user, "id", None), result_url=result_url[:500]))
        db.session.flush()


def answer_earlier(token, user):
    """A response for a create form sent again (303 to the first result; htmx: HX-Redirect), or None."""
    from flask import make_response, redirect, request

    url = earlier_result(token, user)
    if url is None:
        return None
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)
