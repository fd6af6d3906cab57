"""pages at any size: indexes that let a page stop after its first rows (issue 15)

Revision ID: 0013
Revises: 0012

"Needs your action" lists the first five periods of each kind per project, by end date: with
periods indexed by project, state and end date the database reads those five and stops,
instead of walking a big project's 18,000 approved periods first (this index replaces
0012's project-and-state one, whose every use it also serves; likewise a line's spending by
status replaces a line's spending).

The audit trail's filter lists the people and the actions of a project's trail: with
(project, actor) and (project, action) indexes each distinct value is one index seek (a loose
index scan, tracker/audit/services.py) instead of a pass over 50,000 events. The others let a
page read its 25 or 50 rows from an index in the page's order and stop, or answer a count from
the index alone; each was measured on the generated 10x project by the page's author (figures
in the commit messages and README's Benchmarks). Plain CREATE INDEX, the same on SQLite and
PostgreSQL.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (name, table, columns) created; indexes of 0012 that a wider one below replaces.
INDEXES = (
    # Needs your action: a kind's first periods of a project, by end date.
    ("ix_indicator_period_project_state_end", "indicator_period", ["project_id", "state", "end_date"]),
    # The week's periods ended without an actual, and the auditor's count of reported actuals
    # (covering: answered from the index alone).
    ("ix_indicator_period_missing", "indicator_period", ["project_id", "actual", "actual_text", "end_date", "state"]),
    # Each indicator's latest reported period (the logframe's figures), read from the index alone.
    ("ix_indicator_period_indicator_figures", "indicator_period",
     ["indicator_id", "start_date", "id", "actual", "actual_text", "end_date"]),
    # The grid's indicators counted per result, and the results a page covers.
    ("ix_indicator_project_result", "indicator", ["project_id", "result_id", "position"]),
    # The audit trail filter's people and actions, one index seek each.
    ("ix_audit_event_project_actor_label", "audit_event", ["project_id", "actor_label"]),
    ("ix_audit_event_project_action", "audit_event", ["project_id", "action"]),
    # Each budget line's spending by status (covering), for the summary, the lines and the badge.
    ("ix_expenditure_line_status_amount", "expenditure", ["line_id", "status", "amount_cents"]),
    # The newest expenditures of a project (the register, the auditor's unbacked spending).
    ("ix_expenditure_project_spent", "expenditure", ["project_id", "spent_on", "id"]),
    # The evidence register's page: a project's items by date, newest first.
    ("ix_evidence_item_project_dated", "evidence_item", ["project_id", "deleted_at", "dated", "id"]),
)
REPLACED = (
    ("ix_indicator_period_project_state", "indicator_period", ["project_id", "state"]),
    ("ix_expenditure_line_amount", "expenditure", ["line_id", "amount_cents"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    for name, table, _columns in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade():
    for name, table, columns in REPLACED:
        op.create_index(name, table, columns, unique=False)
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
