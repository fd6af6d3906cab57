"""user language (issue 12)

Revision ID: 0006
Revises: 0005

Reserved slot: filled in by the change that needs it (kept in order so parallel work on
issues 12, 13 and 16 chains without renumbering).
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
