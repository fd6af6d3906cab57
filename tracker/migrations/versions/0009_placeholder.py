"""exchange-rate confirmation kept with the expenditure (issue 12)

Revision ID: 0009
Revises: 0008

Reserved slot: filled in by the change that needs it (kept in order so parallel work on
issues 12, 13, 14 and 16 chains without renumbering).
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
