"""evidence thumbnails, phones (issue 14)

Revision ID: 0011
Revises: 0010

Reserved slot: filled in by the change that needs it (kept in order so parallel work on
issues 12, 13, 14 and 16 chains without renumbering).
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
