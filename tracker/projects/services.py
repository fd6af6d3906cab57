"""Queries behind the portfolio, the overview and the logframe."""

from collections import Counter

from sqlalchemy import func, select

from ..extensions import db
from ..models import Activity, Membership, Project
from ..models.progress import ACTIVITY_STATUSES, STATUS_LABELS
from ..results.services import indicator_progress, load_framework


def visible_projects(user):
    """Projects the user may see: all for an admin, else those with a membership; with the role."""
    query = select(Project, Membership.role).outerjoin(
        Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
    if not user.is_admin:
        query = query.where(Membership.id.is_not(None))
    return db.session.execute(query.order_by(Project.start_date.desc(), Project.title)).all()


def activity_status_counts(project_ids) -> dict[int, Counter]:
    rows = db.session.execute(
        select(Activity.project_id, Activity.status, func.count())
        .where(Activity.project_id.in_(project_ids)).group_by(Activity.project_id, Activity.status)
    ).all()
    counts: dict[int, Counter] = {pid: Counter() for pid in project_ids}
    for project_id, status, count in rows:
        counts[project_id][status] = count
    return counts


def one_line_status(counts: Counter) -> str:
    """'4 activities: 2 completed, 1 on track, 1 not started'."""
    total = sum(counts.values())
    if not total:
        return "No activities yet"
    parts = [f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in ACTIVITY_STATUSES if counts.get(s)]
    return f"{total} activit{'y' if total == 1 else 'ies'}: " + ", ".join(parts)


def framework_rows(project: Project):
    """The results tree, each with its indicators' progress, in code order."""
    rows = []
    for result in load_framework(project):
        rows.append((result, [indicator_progress(i, project) for i in result.indicators]))
    return rows
