"""Rules of the grant's money.

Definitions used everywhere (pages, exports, tests): a line's **current budget** is its
revised amount where there is one, else its original amount; **spent** is committed plus
disbursed; **balance** is current budget minus spent; **% used** is spent ÷ current budget.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import BudgetLine, Expenditure


@dataclass
class LineTotals:
    line: BudgetLine
    committed_cents: int
    disbursed_cents: int

    @property
    def original_cents(self) -> int:
        return self.line.original_cents

    @property
    def current_cents(self) -> int:
        return self.line.current_cents

    @property
    def spent_cents(self) -> int:
        return self.committed_cents + self.disbursed_cents

    @property
    def balance_cents(self) -> int:
        return self.current_cents - self.spent_cents

    @property
    def pct_used(self) -> Decimal | None:
        if not self.current_cents:
            return None
        return Decimal(self.spent_cents) * 100 / Decimal(self.current_cents)

    @property
    def overspent(self) -> bool:
        return self.balance_cents < 0


def line_totals(project_id: int) -> list[LineTotals]:
    """Every budget line of the project with its committed and disbursed sums (two queries)."""
    sums = dict(
        (row.line_id, (row.committed or 0, row.disbursed or 0))
        for row in db.session.execute(
            select(
                Expenditure.line_id,
                func.sum(case((Expenditure.status == "committed", Expenditure.amount_cents), else_=0))
                .label("committed"),
                func.sum(case((Expenditure.status == "disbursed", Expenditure.amount_cents), else_=0))
                .label("disbursed"),
            ).where(Expenditure.project_id == project_id).group_by(Expenditure.line_id)
        )
    )
    lines = db.session.execute(
        select(BudgetLine).where(BudgetLine.project_id == project_id).order_by(BudgetLine.position, BudgetLine.code)
    ).scalars().all()
    return [LineTotals(line, *sums.get(line.id, (0, 0))) for line in lines]
