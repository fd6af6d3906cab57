"""reminders, late work, inbox (issue 13)

Revision ID: 0007
Revises: 0006

Reserved slot: filled in by the change that needs it (kept in order so parallel work on
issues 12, 13 and 16 chains without renumbering).
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
