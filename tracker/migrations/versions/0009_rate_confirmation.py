"""exchange-rate confirmation kept with the expenditure (issue 12)

Revision ID: 0009
Revises: 0008

``expenditure.rate_confirmation``: the reason a person gave when confirming an exchange rate
far from the project's last rate for that currency, or outside the currency's plausible band
(tracker/budget/rates.py); '' when the rate needed no confirmation. Added with
``ALTER TABLE ... ADD COLUMN`` and a server default on both SQLite and PostgreSQL, so existing
rows read '' and the table is not rebuilt. The downgrade drops it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("expenditure", sa.Column("rate_confirmation", sa.Text(), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("expenditure", recreate="never") as batch:
        batch.drop_column("rate_confirmation")
