"""Activities, their weekly progress logs, and the events they hold (with agendas)."""

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import ProjectScoped, Versioned, ends_after_start, one_of, percent_range, utcnow

# Each enum is defined once, as an ordered value -> label map; the tuple of values, the
# forms' choices and the database's CHECK constraint all derive from it. Labels are lazy
# (translated when shown, in the request's locale; the exports' Translator reads their msgid).
STATUS_LABELS = {
    "not_started": _l("Not started"),
    "on_track": _l("On track"),
    "at_risk": _l("At risk"),
    "delayed": _l("Delayed"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
ACTIVITY_STATUSES = tuple(STATUS_LABELS)
# Statuses of an activity that is under way and so expects a weekly log.
IN_PROGRESS_STATUSES = ("on_track", "at_risk", "delayed")

# What kind of thing an event is (the demo's events of 2016 use most of these).
EVENT_KIND_LABELS = {
    "meeting": _l("Meeting"),
    "workshop": _l("Workshop"),
    "conference": _l("Conference"),
    "training": _l("Training"),
    "mission": _l("Mission"),
    "research": _l("Research"),
    "exhibition": _l("Exhibition"),
    "milestone": _l("Milestone"),
    "other": _l("Other"),
}
EVENT_KINDS = tuple(EVENT_KIND_LABELS)


class Activity(ProjectScoped, Versioned, db.Model):
    __tablename__ = "activity"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        one_of("status", ACTIVITY_STATUSES),
        percent_range("percent_complete"),
        ends_after_start("planned_start", "planned_end", name="planned_dates"),
        ends_after_start("actual_start", "actual_end", name="actual_dates"),
        Index("ix_activity_project_status", "project_id", "status"),  # the inbox badge (migration 0012)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("result_node.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="not_started")
    percent_complete: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    responsible: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    locations: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    project = relationship("Project", back_populates="activities")
    result = relationship("ResultNode", back_populates="activities")
    logs: Mapped[list["ProgressLog"]] = relationship(
        back_populates="activity", order_by="ProgressLog.week_start.desc()", cascade="all, delete-orphan")
    events: Mapped[list["Event"]] = relationship(back_populates="activity", order_by="Event.starts_on")

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


class ProgressLog(ProjectScoped, Versioned, db.Model):
    """What happened on one activity in one ISO week (``2016-W47``); one log per week."""

    __tablename__ = "progress_log"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("activity_id", "iso_week"),
        one_of("status", ACTIVITY_STATUSES),
        percent_range("percent_complete"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    iso_week: Mapped[str] = mapped_column(String(8), nullable=False)
    week_start: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    percent_complete: Mapped[int] = mapped_column(Integer, nullable=False)
    done: Mapped[str] = mapped_column(Text, nullable=False, default="")
    problems: Mapped[str] = mapped_column(Text, nullable=False, default="")
    next_steps: Mapped[str] = mapped_column(Text, nullable=False, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="logs")
    author = relationship("User", foreign_keys=[author_id])

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


class Event(ProjectScoped, db.Model):
    """Something that happened on a day under an activity: a workshop, a mission, an exhibition."""

    __tablename__ = "event"
    __audit__ = True
    __table_args__ = (one_of("kind", EVENT_KINDS), ends_after_start("starts_on", "ends_on", name="dates"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, default="meeting")
    title: Mapped[str] = mapped_column(Text, nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    city: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")

    activity: Mapped[Activity | None] = relationship(back_populates="events")
    agenda: Mapped[list["AgendaItem"]] = relationship(
        back_populates="event", order_by="AgendaItem.position", cascade="all, delete-orphan")


class AgendaItem(ProjectScoped, db.Model):
    """One line of an event's agenda: section, times, title and speakers."""

    __tablename__ = "agenda_item"
    __audit__ = True
    __table_args__ = (ends_after_start("starts_at", "ends_at", name="times"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    section: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    starts_at: Mapped[time | None] = mapped_column(Time)
    ends_at: Mapped[time | None] = mapped_column(Time)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    speakers: Mapped[str] = mapped_column(Text, nullable=False, default="")

    event: Mapped[Event] = relationship(back_populates="agenda")
