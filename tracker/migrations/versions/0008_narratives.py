"""narratives and variance explanations (issue 16)

Revision ID: 0008
Revises: 0007

* ``indicator_period.narrative`` and ``indicator_period.variance_explanation``: text, NOT NULL
  with a server default of '' so every existing period starts empty. Added in place with
  ``ALTER TABLE ... ADD COLUMN`` on both databases (no table rebuild: SQLite can add a column
  with a constant default in place).
* ``result_narrative``: a result's narrative per reporting period (the indicator periods' date
  ranges), keyed by result and the period's start and end dates, versioned like the other
  edited rows and audited (tracker/models/results.py ``ResultNarrative``).

* ``project.iati_sector``: the project's OECD DAC 5-digit purpose code for the IATI file's
  ``sector`` (the IATI Standard's ruleset requires a sector per activity); '' by default.

The downgrade drops the table and the three columns.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("indicator_period", sa.Column("narrative", sa.Text(), nullable=False, server_default=""))
    op.add_column("indicator_period",
                  sa.Column("variance_explanation", sa.Text(), nullable=False, server_default=""))
    op.add_column("project", sa.Column("iati_sector", sa.String(length=5), nullable=False, server_default=""))
    op.create_table(
        "result_narrative",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_result_narrative_dates")),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_result_narrative_project_id_project"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["result_id"], ["result_node.id"],
                                name=op.f("fk_result_narrative_result_id_result_node"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"], name=op.f("fk_result_narrative_updated_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_narrative")),
        sa.UniqueConstraint("result_id", "start_date", "end_date", name=op.f("uq_result_narrative_result_id")),
    )
    op.create_index(op.f("ix_result_narrative_result_id"), "result_narrative", ["result_id"], unique=False)
    op.create_index(op.f("ix_result_narrative_project_id"), "result_narrative", ["project_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_result_narrative_project_id"), table_name="result_narrative")
    op.drop_index(op.f("ix_result_narrative_result_id"), table_name="result_narrative")
    op.drop_table("result_narrative")
    with op.batch_alter_table("project", recreate="never") as batch:
        batch.drop_column("iati_sector")
    with op.batch_alter_table("indicator_period", recreate="never") as batch:
        batch.drop_column("variance_explanation")
        batch.drop_column("narrative")
