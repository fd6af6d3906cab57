"""user language (issue 12)

Revision ID: 0006
Revises: 0005

``user.locale`` (String(8), nullable): the language the person chose for the interface
(``en``, ``vi``). NULL means "follow the browser" (Accept-Language, then English; see
tracker/i18n.py). Added with ``ALTER TABLE ... ADD COLUMN`` on both databases (no rebuild).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("user", sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("user", recreate="never") as batch:
        batch.drop_column("locale")
