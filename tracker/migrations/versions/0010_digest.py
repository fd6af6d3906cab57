"""mail: the weekly digest's choice and record (issue 13)

Revision ID: 0010
Revises: 0009

* ``user.digest_enabled`` (boolean, default true): the person gets the weekly digest of their
  "Needs your action" items (``flask remind``) unless they turned it off on their account page.
* ``user.digest_sent_week`` (String(8), nullable): the ISO week ("2017-W05") the last digest was
  sent for; ``flask remind`` skips a person whose digest of the current week went out already,
  so running it twice in a week sends once.

Both with ``ALTER TABLE ... ADD COLUMN`` on SQLite and PostgreSQL (no table rebuild), existing
people get the digest. On SQLite the flag also gets the 0/1 CHECK the other flags have
(``ck_user_digest_enabled``, see 0003), in the column's own definition.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":  # Alembic leaves a CHECK out of ADD COLUMN; SQLite takes it
        op.execute('ALTER TABLE "user" ADD COLUMN digest_enabled BOOLEAN DEFAULT 1 NOT NULL '
                   "CONSTRAINT ck_user_digest_enabled CHECK (digest_enabled IN (0, 1))")
    else:
        op.add_column("user", sa.Column("digest_enabled", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("user", sa.Column("digest_sent_week", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("user", recreate="never") as batch:
        batch.drop_column("digest_sent_week")
        batch.drop_column("digest_enabled")
