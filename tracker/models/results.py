"""The results framework: a tree of results, their indicators and reporting periods."""

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import ProjectScoped, Versioned, ends_after_start, flag, one_of

# Each enum is defined once, as an ordered value -> label map; the tuple of values, the
# forms' choices and the database's CHECK constraint all derive from it. Labels are lazy
# (translated when shown, in the request's locale; the exports' Translator reads their msgid).
LEVEL_LABELS = {"objective": _l("Overall objective"), "outcome": _l("Expected result"), "output": _l("Output")}
RESULT_LEVELS = tuple(LEVEL_LABELS)

UNIT_LABELS = {"number": _l("Number"), "percent": _l("Percent"), "yesno": _l("Yes / no"),
               "qualitative": _l("Qualitative")}
UNITS = tuple(UNIT_LABELS)

# The approval workflow of an indicator period (tracker.results.services).
PERIOD_STATE_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted"), "approved": _l("Approved"),
                       "returned": _l("Returned")}
PERIOD_STATES = tuple(PERIOD_STATE_LABELS)


class ResultNode(ProjectScoped, db.Model):
    """One level of the logframe: the objective (1), an outcome (1.1) or an output (1.1.1)."""

    __tablename__ = "result_node"
    __audit__ = True
    __table_args__ = (UniqueConstraint("project_id", "code"), one_of("level", RESULT_LEVELS))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("result_node.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    statement: Mapped[str] = mapped_column(Text, nullable=False)
    assumptions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    project = relationship("Project", back_populates="results")
    parent: Mapped["ResultNode | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["ResultNode"]] = relationship(back_populates="parent", order_by="ResultNode.position")
    indicators = relationship("Indicator", back_populates="result", order_by="Indicator.position")
    activities = relationship("Activity", back_populates="result", order_by="Activity.position")

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS.get(self.level, self.level))

    @property
    def depth(self) -> int:
        return self.code.count(".")


class Indicator(ProjectScoped, db.Model):
    __tablename__ = "indicator"
    __audit__ = True
    __table_args__ = (UniqueConstraint("project_id", "code"), one_of("unit", UNITS),
                      Index("ix_indicator_project_result", "project_id", "result_id", "position"))  # 0013

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("result_node.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="number")
    # Ascending: more is better. Cumulative: each period adds to the ones before. Both are
    # flags, 0 or 1 on every database (see flag()).
    ascending: Mapped[bool] = mapped_column(flag("ascending"), nullable=False, default=True)
    cumulative: Mapped[bool] = mapped_column(flag("cumulative"), nullable=False, default=True)
    baseline_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    baseline_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    baseline_date: Mapped[date | None] = mapped_column(Date)
    baseline_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    target_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    target_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    means_of_verification: Mapped[str] = mapped_column(Text, nullable=False, default="")
    frequency: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    responsible: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # True where the source report gives no figure and the demo supplies one for illustration.
    illustrative: Mapped[bool] = mapped_column(flag("illustrative"), nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    project = relationship("Project", back_populates="indicators")
    result = relationship("ResultNode", back_populates="indicators")
    periods: Mapped[list["IndicatorPeriod"]] = relationship(
        back_populates="indicator", order_by="IndicatorPeriod.start_date", cascade="all, delete-orphan")
    dimensions: Mapped[list["Dimension"]] = relationship(
        back_populates="indicator", order_by="Dimension.position", cascade="all, delete-orphan")

    @property
    def unit_label(self) -> str:
        return str(UNIT_LABELS.get(self.unit, self.unit))


class IndicatorPeriod(ProjectScoped, Versioned, db.Model):
    """A reporting period of one indicator: its target, its actual and the approval state.

    Numeric units keep values in ``target``/``actual`` (yes/no as 1/0); qualitative
    indicators keep text in ``target_text``/``actual_text``.
    """

    __tablename__ = "indicator_period"
    __audit__ = True
    __table_args__ = (ends_after_start("start_date", "end_date", name="dates"), one_of("state", PERIOD_STATES),
                      # the inbox badge's counts (migration 0012) and its first items (0013)
                      Index("ix_indicator_period_project_state_end", "project_id", "state", "end_date"),
                      Index("ix_indicator_period_project_end_date", "project_id", "end_date"),
                      # periods ended without an actual; reported actuals counted (migration 0013)
                      Index("ix_indicator_period_missing", "project_id", "actual", "actual_text", "end_date", "state"),
                      # each indicator's latest reported period, for the logframe (migration 0013)
                      Index("ix_indicator_period_indicator_figures", "indicator_id", "start_date", "id", "actual",
                            "actual_text", "end_date"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    target: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    actual: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    target_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actual_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Issue 16: what happened in the period, and why the actual is off target where it is
    # (tracker/results/narratives.py: submitting an off-target period requires the explanation).
    narrative: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    variance_explanation: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    return_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    indicator: Mapped[Indicator] = relationship(back_populates="periods")
    values: Mapped[list["DisaggregatedValue"]] = relationship(back_populates="period", cascade="all, delete-orphan")

    @property
    def locked(self) -> bool:
        return self.state == "approved"

    @property
    def has_actual(self) -> bool:
        return self.actual is not None or bool(self.actual_text)

    @property
    def label(self) -> str:
        return f"{self.start_date.isoformat()} – {self.end_date.isoformat()}"


class ResultNarrative(ProjectScoped, Versioned, db.Model):
    """A result's narrative for one reporting period (what changed, why, what next).

    Reporting periods are the date ranges of the indicator periods, so the row is keyed by the
    result and the period's start and end dates (tracker/results/narratives.py).
    """

    __tablename__ = "result_narrative"
    __audit__ = True
    __table_args__ = (UniqueConstraint("result_id", "start_date", "end_date"),
                      ends_after_start("start_date", "end_date", name="dates"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("result_node.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    result: Mapped[ResultNode] = relationship()


class Dimension(ProjectScoped, db.Model):
    """A disaggregation dimension of an indicator, for example sex or city."""

    __tablename__ = "dimension"
    __audit__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    indicator: Mapped[Indicator] = relationship(back_populates="dimensions")
    categories: Mapped[list["DimensionCategory"]] = relationship(
        back_populates="dimension", order_by="DimensionCategory.position", cascade="all, delete-orphan")


class DimensionCategory(ProjectScoped, db.Model):
    __tablename__ = "dimension_category"
    __audit__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimension.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    dimension: Mapped[Dimension] = relationship(back_populates="categories")


class DisaggregatedValue(ProjectScoped, db.Model):
    """An actual for one category of one dimension in one period."""

    __tablename__ = "disaggregated_value"
    __audit__ = True
    __table_args__ = (UniqueConstraint("period_id", "category_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("indicator_period.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("dimension_category.id", ondelete="CASCADE"), index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False)

    period: Mapped[IndicatorPeriod] = relationship(back_populates="values")
    category: Mapped[DimensionCategory] = relationship()
