"""The grant's money: budget lines, their allocation to activities, and expenditures."""

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
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
from ._base import ProjectScoped, Versioned, flag, not_negative, one_of, utcnow

# Each enum is defined once, as an ordered value -> label map; the tuple of values, the
# forms' choices and the database's CHECK constraint all derive from it. Labels are lazy
# (translated when shown, in the request's locale; the exports' Translator reads their msgid).
CATEGORY_LABELS = {
    "personnel": _l("Personnel"),
    "contracts_research": _l("Contracts and research"),
    "travel": _l("Travel"),
    "meetings_workshops": _l("Meetings and workshops"),
    "communication_publications": _l("Communication and publications"),
    "equipment_supplies": _l("Equipment and supplies"),
    "project_support_costs": _l("Project support costs"),
    "other": _l("Other"),
}
BUDGET_CATEGORIES = tuple(CATEGORY_LABELS)

EXPENDITURE_STATUS_LABELS = {"committed": _l("Committed"), "disbursed": _l("Disbursed")}
EXPENDITURE_STATUSES = tuple(EXPENDITURE_STATUS_LABELS)


class LineAmounts:
    """What a budget line's figures mean, for the model and for the rows pages read without it
    (tracker/budget/figures.py ``LineRow``): needs ``original_cents``, ``revised_cents`` and
    ``category``."""

    @property
    def current_cents(self) -> int:
        """The amount in force: the revised amount where there is one."""
        return self.revised_cents if self.revised_cents is not None else self.original_cents

    @property
    def category_label(self) -> str:
        return str(CATEGORY_LABELS.get(self.category, self.category))


class BudgetLine(LineAmounts, ProjectScoped, Versioned, db.Model):
    __tablename__ = "budget_line"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        one_of("category", BUDGET_CATEGORIES),
        not_negative("original_cents"),
        not_negative("revised_cents"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    category: Mapped[str] = mapped_column(String(40), nullable=False, default="other")
    account_code: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    description: Mapped[str] = mapped_column(Text, nullable=False)
    original_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    revised_cents: Mapped[int | None] = mapped_column(BigInteger)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    illustrative: Mapped[bool] = mapped_column(flag("illustrative"), nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    allocations: Mapped[list["BudgetAllocation"]] = relationship(
        back_populates="line", cascade="all, delete-orphan")
    expenditures: Mapped[list["Expenditure"]] = relationship(back_populates="line")


class BudgetAllocation(ProjectScoped, Versioned, db.Model):
    """A budget line's share of an activity, in percent; a line's shares total at most 100."""

    __tablename__ = "budget_allocation"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("line_id", "activity_id"),
        CheckConstraint("percent > 0 AND percent <= 100", name="percent_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)

    line: Mapped[BudgetLine] = relationship(back_populates="allocations")
    activity = relationship("Activity")


class Expenditure(ProjectScoped, Versioned, db.Model):
    __tablename__ = "expenditure"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("project_id", "voucher"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        one_of("status", EXPENDITURE_STATUSES),
        not_negative("original_amount"),
        CheckConstraint("exchange_rate > 0", name="exchange_rate"),
        Index("ix_expenditure_project_status", "project_id", "status"),  # migration 0012
        # a line's spending by status (covering), a project's newest expenditures (migration 0013)
        Index("ix_expenditure_line_status_amount", "line_id", "status", "amount_cents"),
        Index("ix_expenditure_project_spent", "project_id", "spent_on", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id", ondelete="RESTRICT"), index=True)
    spent_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # In the currency's own minor units (ISO 4217: 0 for VND, 2 for EUR, 3 for KWD, 4 for CLF),
    # so the figure the USD amount was computed from is kept exactly; 16 digits before the point.
    original_amount: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    original_currency: Mapped[str] = mapped_column(String(3), nullable=False, default="")
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    payee: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    voucher: Mapped[str] = mapped_column(String(60), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="committed")
    overspend_justification: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Why a rate far from the project's last one (or outside its currency's plausible band) is
    # right; '' when the rate needed no confirmation (tracker/budget/rates.py, migration 0009).
    rate_confirmation: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    line: Mapped[BudgetLine] = relationship(back_populates="expenditures")
