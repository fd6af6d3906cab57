"""The grant's money: budget lines, their allocation to activities, and expenditures."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import ProjectScoped, Versioned, utcnow

BUDGET_CATEGORIES = (
    "personnel",
    "contracts_research",
    "travel",
    "meetings_workshops",
    "communication_publications",
    "equipment_supplies",
    "project_support_costs",
    "other",
)
CATEGORY_LABELS = {
    "personnel": "Personnel",
    "contracts_research": "Contracts and research",
    "travel": "Travel",
    "meetings_workshops": "Meetings and workshops",
    "communication_publications": "Communication and publications",
    "equipment_supplies": "Equipment and supplies",
    "project_support_costs": "Project support costs",
    "other": "Other",
}
EXPENDITURE_STATUSES = ("committed", "disbursed")


class BudgetLine(ProjectScoped, Versioned, db.Model):
    __tablename__ = "budget_line"
    __audit__ = True
    __table_args__ = (UniqueConstraint("project_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    category: Mapped[str] = mapped_column(String(40), nullable=False, default="other")
    account_code: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    description: Mapped[str] = mapped_column(Text, nullable=False)
    original_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    revised_cents: Mapped[int | None] = mapped_column(BigInteger)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    allocations: Mapped[list["BudgetAllocation"]] = relationship(
        back_populates="line", cascade="all, delete-orphan")
    expenditures: Mapped[list["Expenditure"]] = relationship(back_populates="line")

    @property
    def current_cents(self) -> int:
        """The amount in force: the revised amount where there is one."""
        return self.revised_cents if self.revised_cents is not None else self.original_cents

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


class BudgetAllocation(ProjectScoped, db.Model):
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
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id", ondelete="RESTRICT"), index=True)
    spent_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    original_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    original_currency: Mapped[str] = mapped_column(String(3), nullable=False, default="")
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    payee: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    voucher: Mapped[str] = mapped_column(String(60), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="committed")
    overspend_justification: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    line: Mapped[BudgetLine] = relationship(back_populates="expenditures")
