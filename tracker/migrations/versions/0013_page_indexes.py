"""pages at any size: indexes that let a page stop after its first rows (issue 15)

Revision ID: 0013
Revises: 0012

"Needs your action" lists the first five periods of each kind per project, by end date: with
periods indexed by project, state and end date the database reads those five and stops,
instead of walking a big project's 18,000 approved periods first (this index replaces
0012's project-and-state one, whose every use it also serves). Plain CREATE INDEX: the same
on SQLite and PostgreSQL.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (name, table, columns) created; indexes of 0012 that a wider one below replaces.
INDEXES = (
    ("ix_indicator_period_project_state_end", "indicator_period", ["project_id", "state", "end_date"]),
)
REPLACED = (
    ("ix_indicator_period_project_state", "indicator_period", ["project_id", "state"]),
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
