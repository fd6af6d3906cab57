"""Update mode (a project's Import page): the Indicators sheet's targets, actuals and
comments (a period not there yet is created) and the Logframe sheet's end targets update the
project. Other columns and sheets are read by people, not by us; a workbook of another project
(its Summary names another code) is refused.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Dimension, Indicator, IndicatorPeriod, Project
from .indicators import read_periods, update_end_targets
from .plan import Plan
from .sheets import Problem, find_sheet, norm, shown, summary_cells


def plan_update(project: Project, wb, user) -> Plan:
    """Apply ``wb`` to ``project`` through the services (the caller decides: dry run or apply)."""
    plan = Plan("update", project_code=project.code, project=project)
    summary = find_sheet(plan.problems, wb, "Summary", False)
    if summary is not None:
        cells, rows = summary_cells(summary)
        cell = cells.get(norm("Project code"))
        code = str(cell.value).strip() if cell is not None and cell.value is not None else ""
        if code and code != project.code:
            plan.problems.append(Problem("Summary", rows[norm("Project code")], "B", "Value",
                                         _("this workbook is for project “%(code)s”, not %(project)s. Import it "
                                           "on that project's page.", code=shown(code), project=project.code)))
            return plan
    indicators = db.session.execute(
        select(Indicator).where(Indicator.project_id == project.id)
        .options(selectinload(Indicator.periods).selectinload(IndicatorPeriod.values),
                 selectinload(Indicator.dimensions).selectinload(Dimension.categories))
    ).scalars().all()
    by_code = {i.code: i for i in indicators}
    logframe = find_sheet(plan.problems, wb, "Logframe", False)
    if logframe is not None:
        update_end_targets(plan, logframe, by_code)
    read_periods(plan, wb, by_code, user, required=True)
    return plan
