"""evidence thumbnails, phones (issue 14)

Revision ID: 0011
Revises: 0010

Empty on purpose: this slot was reserved for issue 14, whose thumbnails turned out to need no
column (they are stored content-addressed beside the evidence file, named by the original's
SHA-256). Kept so the chain 0010 -> 0011 -> 0012 stays as databases have already recorded it.
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
