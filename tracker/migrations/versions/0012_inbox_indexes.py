"""inbox badge: composite indexes for its counts (issue 15)

Revision ID: 0012
Revises: 0011

The header's inbox badge is counted on every page (tracker/inbox/services.py). Each index
serves one of its counts within the person's own projects: periods by state (submitted,
returned, approved) and by end date (ended without an actual), expenditures by status
(disbursed without evidence) and each budget line's spending (a covering index for the sum),
evidence by review state, activities by status, and a member's recent audit events in a
project (members idle for 4 weeks). Plain CREATE INDEX: the same on SQLite and PostgreSQL.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_indicator_period_project_state", "indicator_period", ["project_id", "state"]),
    ("ix_indicator_period_project_end_date", "indicator_period", ["project_id", "end_date"]),
    ("ix_expenditure_line_amount", "expenditure", ["line_id", "amount_cents"]),
    ("ix_expenditure_project_status", "expenditure", ["project_id", "status"]),
    ("ix_evidence_item_project_review_state", "evidence_item", ["project_id", "review_state"]),
    ("ix_activity_project_status", "activity", ["project_id", "status"]),
    ("ix_audit_event_project_actor_created", "audit_event", ["project_id", "actor_id", "created_at"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
