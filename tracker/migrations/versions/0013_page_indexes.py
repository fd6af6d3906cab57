"""pages at any size: indexes that let a page stop after its first rows (issue 15)

Revision ID: 0013
Revises: 0012

"Needs your action" lists the first five periods of each kind per project, by end date: with
periods indexed by project, state and end date the database reads those five and stops,
instead of walking a big project's 18,000 approved periods first (this index replaces
0012's project-and-state one, whose every use it also serves).

The audit trail's filter lists the people and the actions of a project's trail: with
(project, actor) and (project, action) indexes each distinct value is one index seek (a loose
index scan, tracker/audit/services.py) instead of a pass over 50,000 events. The auditor's
coverage counts the reported periods of a project through a partial index over exactly the
rows with an actual. Plain CREATE INDEX, the same on SQLite and PostgreSQL (the partial one
with the same WHERE on both).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (name, table, columns) created; indexes of 0012 that a wider one below replaces.
INDEXES = (
    ("ix_indicator_period_project_state_end", "indicator_period", ["project_id", "state", "end_date"]),
    ("ix_audit_event_project_actor_label", "audit_event", ["project_id", "actor_label"]),
    ("ix_audit_event_project_action", "audit_event", ["project_id", "action"]),
)
# A period with an actual (tracker/evidence/services.py writes its condition the same way).
REPORTED = "actual IS NOT NULL OR actual_text != ''"
REPLACED = (
    ("ix_indicator_period_project_state", "indicator_period", ["project_id", "state"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_index("ix_indicator_period_reported", "indicator_period", ["project_id"], unique=False,
                    sqlite_where=sa.text(REPORTED), postgresql_where=sa.text(REPORTED))
    for name, table, _columns in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade():
    op.drop_index("ix_indicator_period_reported", table_name="indicator_period")
    for name, table, columns in REPLACED:
        op.create_index(name, table, columns, unique=False)
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
