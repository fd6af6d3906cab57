"""every record a person edits carries a version; create forms are submitted once

Revision ID: 0004
Revises: 0003

* ``project``, ``membership``, ``budget_allocation`` and ``evidence_item`` gain the columns
  ``Versioned`` declares (tracker/models/_base.py): ``version`` (NOT NULL, server default 1,
  so every existing row starts at version 1), ``updated_at`` and ``updated_by_id`` (a
  reference to ``user``, SET NULL when the user goes; on ``membership`` the id alone, as a
  second foreign key to ``user`` would make joins between the two ambiguous). Activity, expenditure, budget line,
  indicator period and weekly log had them since 0001. An evidence item's links are covered by
  the item's version (a change of links stamps the item).
* ``submitted_form``: the one-time tokens of create forms that have already made their row
  (tracker.forms), so a double submit answers with the first result.

On SQLite the four tables are rebuilt (``batch_alter_table``, ``recreate="always"``: a column
with a foreign key cannot be added in place with its constraint) with foreign-key enforcement
switched off, exactly as 0003 does and for the same reason (dropping the old ``project``
would otherwise delete everything that cascades from it); ``PRAGMA foreign_key_check`` must
find nothing new afterwards. ``audit_event`` is never touched, so 0002's triggers stay. On
PostgreSQL the columns are added in place with ``ALTER TABLE``. No row is lost or changed but
for its new columns; the downgrade drops them again.
"""

import sqlalchemy as sa
from alembic import op

from tracker.migrations.sqlite_rebuild import table_rebuild

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VERSIONED = ("project", "membership", "budget_allocation", "evidence_item")

def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    with table_rebuild(bind, "0004"):
        for table in VERSIONED:
            with op.batch_alter_table(table, recreate="always" if sqlite else "never") as batch_op:
                batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
                batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
                batch_op.add_column(sa.Column("updated_by_id", sa.Integer(), nullable=True))
                if table != "membership":  # by id only there (see the model)
                    batch_op.create_foreign_key(op.f(f"fk_{table}_updated_by_id_user"), "user", ["updated_by_id"],
                                                ["id"], ondelete="SET NULL")
    op.create_table(
        "submitted_form",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("result_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_submitted_form_user_id_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_submitted_form")),
    )
    with op.batch_alter_table("submitted_form") as batch_op:
        batch_op.create_index(batch_op.f("ix_submitted_form_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_submitted_form_created_at"), ["created_at"], unique=False)


def downgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.drop_table("submitted_form")
    with table_rebuild(bind, "0004"):
        for table in VERSIONED:
            with op.batch_alter_table(table, recreate="always" if sqlite else "never") as batch_op:
                if table != "membership":
                    batch_op.drop_constraint(op.f(f"fk_{table}_updated_by_id_user"), type_="foreignkey")
                batch_op.drop_column("updated_by_id")
                batch_op.drop_column("updated_at")
                batch_op.drop_column("version")
