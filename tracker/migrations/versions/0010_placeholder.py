"""mail: digest choice, notices (issue 13)

Revision ID: 0010
Revises: 0009

Reserved slot: filled in by the change that needs it (kept in order so parallel work on
issues 12, 13, 14 and 16 chains without renumbering).
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
