"""All models, importable from one place: ``from tracker.models import Project``."""

from .accounts import ROLES, LoginAttempt, Membership, SubmittedForm, User
from .audit import AuditEvent
from .budget import BUDGET_CATEGORIES, EXPENDITURE_STATUSES, BudgetAllocation, BudgetLine, Expenditure
from .evidence import EVIDENCE_KINDS, REVIEW_STATES, EvidenceItem, EvidenceLink, StoredFile
from .progress import ACTIVITY_STATUSES, Activity, AgendaItem, Event, ProgressLog
from .projects import Project
from .results import (
    PERIOD_STATES,
    RESULT_LEVELS,
    UNITS,
    Dimension,
    DimensionCategory,
    DisaggregatedValue,
    Indicator,
    IndicatorPeriod,
    ResultNarrative,
    ResultNode,
)

__all__ = [
    "ACTIVITY_STATUSES", "BUDGET_CATEGORIES", "EVIDENCE_KINDS", "EXPENDITURE_STATUSES", "PERIOD_STATES",
    "RESULT_LEVELS", "REVIEW_STATES", "ROLES", "UNITS",
    "Activity", "AgendaItem", "AuditEvent", "BudgetAllocation", "BudgetLine", "Dimension",
    "DimensionCategory", "DisaggregatedValue", "Event", "EvidenceItem", "EvidenceLink", "Expenditure",
    "Indicator", "IndicatorPeriod", "LoginAttempt", "Membership", "ProgressLog", "Project", "ResultNarrative", "ResultNode",
    "StoredFile", "SubmittedForm", "User",
]
