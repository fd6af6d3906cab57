"""late work: each project says after how many days a period without an actual is late

Revision ID: 0007
Revises: 0006

``project.late_after_days`` (INTEGER NOT NULL, server default 14): a reporting period that
ended more than this many days ago without an actual is flagged late (tracker/inbox). The
column is added in place on both databases (ADD COLUMN with a server default fills every
existing row with 14); its range, 0 to 365, is checked by the settings form's service.
The downgrade drops it again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("project", sa.Column("late_after_days", sa.Integer(), nullable=False, server_default="14"))


def downgrade():
    with op.batch_alter_table("project", recreate="never") as batch:  # SQLite 3.35+ drops in place
        batch.drop_column("late_after_days")
