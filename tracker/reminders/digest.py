"""The weekly digest: each person's "Needs your action" items, grouped by project, by e-mail.

``run(today, dry_run=...)`` is what ``flask --app tracker remind`` does (tracker/reminders/cli.py):

* everyone active with the digest on (``user.digest_enabled``; the account page turns it off)
  whose digest of this ISO week has not gone out yet (``user.digest_sent_week``) is looked at;
* their items are ``tracker.inbox.services.items_for`` (the same list the landing page shows,
  at most a few per kind and project; ``counts_for`` says how many more there are), read in the
  person's language, so the texts and headings are translated as on their pages;
* someone with nothing to do gets no mail;
* each digest is sent (or written to instance/outbox/), then the week is recorded on the person
  and committed, person by person: running it twice in a week sends once, and a digest that
  could not be sent is tried again by the next run.

Sending before recording means a crash between the two (rare: one UPDATE) would send that
person's digest once more on the next run; never zero times.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import force_locale, format_date, ngettext
from sqlalchemy import select

from .. import mail
from ..extensions import db
from ..htmx import commit_once
from ..inbox.services import KIND_LABELS, counts_for, items_for
from ..models import Project, User


def iso_week(day: date) -> str:
    """2017-03-08 -> '2017-W10' (the ISO year, which differs from the calendar year around New Year)."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class KindSection:
    label: str
    items: list
    more: int = 0


@dataclass
class ProjectSection:
    project_id: int
    code: str
    title: str
    url: str
    kinds: list[KindSection] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(k.items) + k.more for k in self.kinds)


@dataclass
class Digest:
    user: User
    week: str
    projects: list[ProjectSection]

    @property
    def count(self) -> int:
        return sum(p.count for p in self.projects)


@dataclass
class Report:
    week: str
    digests: list[Digest] = field(default_factory=list)
    outcomes: list[mail.Outcome] = field(default_factory=list)
    nothing_to_do: int = 0
    turned_off: int = 0
    already_sent: int = 0

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def digest_for(user: User, today: date) -> Digest:
    """The person's items of ``today``, grouped by project then kind, in their language."""
    with mail.request_context(), force_locale(mail.person_locale(user)):
        items = items_for(user, today=today)
        grouped: OrderedDict[int, OrderedDict[str, list]] = OrderedDict()
        for item in items:
            grouped.setdefault(item.project_id, OrderedDict()).setdefault(item.kind, []).append(item)
        titles = dict(db.session.execute(select(Project.id, Project.title).where(Project.id.in_(list(grouped)))).all())
        projects = []
        for project_id, kinds in grouped.items():
            counts = counts_for(user, project_id, today=today)
            first = next(iter(kinds.values()))[0]
            section = ProjectSection(project_id, first.project_code, titles.get(project_id, ""),
                                     mail.link("projects.overview", project_id=project_id))
            for kind, kind_items in kinds.items():
                shown = [(item, mail.absolute_url(item.url)) for item in kind_items]
                section.kinds.append(KindSection(str(KIND_LABELS.get(kind, kind)), shown,
                                                 max(0, counts.get(kind, 0) - len(kind_items))))
            projects.append(section)
    return Digest(user, iso_week(today), projects)


def compose(digest: Digest, today: date) -> mail.Message:
    monday = today - timedelta(days=today.weekday())

    def subject():
        return ngettext("Needs your action: %(num)d item (week of %(date)s)",
                        "Needs your action: %(num)d items (week of %(date)s)", digest.count,
                        date=format_date(monday, "medium"))

    with force_locale(mail.person_locale(digest.user)):
        week_of = format_date(monday, "full")
    return mail.compose(digest.user, "digest", subject, digest=digest, week_of=week_of,
                        inbox_url=mail.link("inbox.index"))


def run(today: date, *, dry_run: bool = False, echo=None) -> Report:
    """Send this week's digests (see the module's docstring); ``echo`` gets one line per person."""
    week = iso_week(today)
    report = Report(week)
    people = db.session.execute(select(User).where(User.active.is_(True)).order_by(User.email)).scalars().all()
    for user in people:
        if not user.digest_enabled:
            report.turned_off += 1
            continue
        if user.digest_sent_week == week:
            report.already_sent += 1
            continue
        digest = digest_for(user, today)
        if not digest.count:
            report.nothing_to_do += 1
            continue
        report.digests.append(digest)
        summary = ", ".join(f"{p.code}: {p.count}" for p in digest.projects)
        if dry_run:
            if echo:
                echo(f"would send to {user.email} ({mail.person_locale(user)}): {digest.count} items ({summary})")
            continue
        outcome = mail.deliver([compose(digest, today)])[0]
        report.outcomes.append(outcome)
        if outcome.status != "failed":
            user_id = user.id
            commit_once(lambda user_id=user_id: _record(user_id, week))
        if echo:
            echo(f"{outcome.status}: {user.email} ({digest.count}: {summary})"
                 + (f" - {outcome.error}" if outcome.error else ""))
    return report


def _record(user_id: int, week: str) -> None:
    db.session.get(User, user_id).digest_sent_week = week
    db.session.flush()
