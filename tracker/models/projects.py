"""A donor-funded project: the grant, its period, partners and objective."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import Versioned, ends_after_start, not_negative, utcnow


class Project(Versioned, db.Model):
    """Versioned: the settings form (thresholds, dates, ...) carries the version it was opened with."""

    __tablename__ = "project"
    __audit__ = True
    __table_args__ = (
        ends_after_start("start_date", "end_date", name="dates"),
        not_negative("grant_cents"),
        # 0 <= at risk < on track <= 100, as set_thresholds() requires.
        CheckConstraint("at_risk_pct >= 0 AND at_risk_pct < on_track_pct AND on_track_pct <= 100",
                        name="thresholds"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    donor: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    funding_source: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    implementing_agency: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    implementing_partners: Mapped[str] = mapped_column(Text, nullable=False, default="")
    grant_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    objective: Mapped[str] = mapped_column(Text, nullable=False, default="")
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    iati_identifier: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # The OECD DAC 5-digit purpose code of the project's sector (IATI ``sector``, vocabulary 1),
    # empty when not set: the IATI Standard's ruleset asks every activity for one (issue 16).
    iati_sector: Mapped[str] = mapped_column(String(5), nullable=False, default="", server_default="")
    status_note: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    # Where the source gives no figure (budget split, targets) the demo says so, here.
    illustrative_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Indicator status thresholds, as % of target: >= on_track is on track, >= at_risk at risk.
    on_track_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=90)
    at_risk_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=60)
    # A reporting period ended more than this many days ago without an actual is late (tracker/inbox).
    late_after_days: Mapped[int] = mapped_column(Integer, nullable=False, default=14, server_default="14")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    memberships = relationship("Membership", back_populates="project", cascade="all, delete-orphan")
    results = relationship("ResultNode", back_populates="project", order_by="ResultNode.position",
                           cascade="all, delete-orphan")
    activities = relationship("Activity", back_populates="project", order_by="Activity.position",
                              cascade="all, delete-orphan")
    indicators = relationship("Indicator", back_populates="project", order_by="Indicator.position",
                              cascade="all, delete-orphan")

    @property
    def audit_project_id(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<Project {self.code}>"
