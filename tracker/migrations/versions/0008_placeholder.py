"""narratives and variance explanations (issue 16)

Revision ID: 0008
Revises: 0007

Reserved slot: filled in by the change that needs it (kept in order so parallel work on
issues 12, 13 and 16 chains without renumbering).
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
