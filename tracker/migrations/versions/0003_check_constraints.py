"""the database states the rules it can: CHECK constraints; foreign amounts keep 4 decimals

Revision ID: 0003
Revises: 0002

Adds a named CHECK constraint (``ck_<table>_<what>``) for each rule below, on SQLite and
PostgreSQL alike, and widens ``expenditure.original_amount`` from NUMERIC(18, 2) to
NUMERIC(20, 4): ISO 4217 currencies have up to 4 minor units (KWD 3, CLF 4; see
tracker/budget/currencies.py), and the 16 digits before the point stay, so no stored value
can fail to fit.

* enums: each column holds one of its map's keys (activity and weekly-log status, budget
  category, expenditure status, evidence kind and review state, membership role, indicator
  unit, period state, result level, event kind);
* percents 0-100: activity and weekly-log % complete; the project's status thresholds
  (0 <= at risk < on track <= 100). Allocation percent was checked since 0001; indicator
  values in percent are checked by the services only;
* an end never before its start: project, activity planned and actual, indicator period,
  event days, agenda item times (a NULL end or start passes);
* money never negative: grant, budget line original and revised, stored file size, the
  expenditure's original amount; the exchange rate above 0 (amount_cents > 0 since 0001);
* on SQLite only, Boolean columns hold 0 or 1 (PostgreSQL's boolean type already does).

**Rows that break a rule stop the upgrade before it changes anything.** Every rule is
counted first; if any row breaks one, the upgrade raises ``RowsBreakRules`` naming the
table, the constraint and the ids of the first offending rows, and the transaction rolls
back (the database stays at 0002 with every row as it was). There is no automatic repair:
which value is right (the start or the end? 101 % or 10 %?) is a person's decision, and a
repair made here would bypass the audit trail. Correct the rows in the app, then upgrade
again. The downgrade likewise refuses while an original amount has more than 2 decimals,
which NUMERIC(18, 2) would round away.

The enum values are written out here, frozen as they are at this revision, on purpose: the
models derive them from their maps, and a later change to a map needs its own migration
(tests/test_constraints.py checks that models and migrations agree).

SQLite cannot add a constraint to a table, so each table is rebuilt (``batch_alter_table``
with ``recreate="always"``): Alembic reflects it, including its indexes, named unique and
check constraints and foreign keys, creates the new table, copies every row (ids included)
and renames it into place. Foreign-key enforcement is switched off during the rebuild, as
SQLite's procedure for schema changes requires: with it on, dropping the old ``project``
table would delete every row that cascades from it. ``PRAGMA foreign_keys`` only changes
outside a transaction, so on a connection that enforces foreign keys the upgrade commits
what the earlier revisions of the same run did (consistent: ``alembic_version`` is theirs),
turns enforcement off, rebuilds in a new transaction, checks ``PRAGMA foreign_key_check``
finds nothing new, and switches enforcement back on when the connection returns to its pool.
``audit_event`` is not rebuilt, so 0002's append-only triggers stay; no other table has a
trigger or a view. On PostgreSQL the constraints are added with ``ALTER TABLE`` in place.
"""

import sqlalchemy as sa
from alembic import op

from tracker.migrations.sqlite_rebuild import table_rebuild

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


ACTIVITY_STATUSES = ("not_started", "on_track", "at_risk", "delayed", "completed", "cancelled")

# table -> [(constraint name, condition)], on every database.
CHECKS = {
    "project": [
        ("ck_project_dates", "end_date >= start_date"),
        ("ck_project_grant_cents", "grant_cents >= 0"),
        ("ck_project_thresholds", "at_risk_pct >= 0 AND at_risk_pct < on_track_pct AND on_track_pct <= 100"),
    ],
    "stored_file": [("ck_stored_file_size", "size >= 0")],
    "membership": [("ck_membership_role", _one_of("role", ("manager", "officer", "liaison", "auditor")))],
    "result_node": [("ck_result_node_level", _one_of("level", ("objective", "outcome", "output")))],
    "indicator": [("ck_indicator_unit", _one_of("unit", ("number", "percent", "yesno", "qualitative")))],
    "indicator_period": [
        ("ck_indicator_period_dates", "end_date >= start_date"),
        ("ck_indicator_period_state", _one_of("state", ("draft", "submitted", "approved", "returned"))),
    ],
    "activity": [
        ("ck_activity_status", _one_of("status", ACTIVITY_STATUSES)),
        ("ck_activity_percent_complete", "percent_complete >= 0 AND percent_complete <= 100"),
        ("ck_activity_planned_dates", "planned_end >= planned_start"),
        ("ck_activity_actual_dates", "actual_end >= actual_start"),
    ],
    "progress_log": [
        ("ck_progress_log_status", _one_of("status", ACTIVITY_STATUSES)),
        ("ck_progress_log_percent_complete", "percent_complete >= 0 AND percent_complete <= 100"),
    ],
    "event": [
        ("ck_event_kind", _one_of("kind", ("meeting", "workshop", "conference", "training", "mission",
                                           "research", "exhibition", "milestone", "other"))),
        ("ck_event_dates", "ends_on >= starts_on"),
    ],
    "agenda_item": [("ck_agenda_item_times", "ends_at >= starts_at")],
    "budget_line": [
        ("ck_budget_line_category", _one_of("category", (
            "personnel", "contracts_research", "travel", "meetings_workshops", "communication_publications",
            "equipment_supplies", "project_support_costs", "other"))),
        ("ck_budget_line_original_cents", "original_cents >= 0"),
        ("ck_budget_line_revised_cents", "revised_cents >= 0"),
    ],
    "expenditure": [
        ("ck_expenditure_status", _one_of("status", ("committed", "disbursed"))),
        ("ck_expenditure_original_amount", "original_amount >= 0"),
        ("ck_expenditure_exchange_rate", "exchange_rate > 0"),
    ],
    "evidence_item": [
        ("ck_evidence_item_kind", _one_of("kind", ("report", "agenda", "attendance_list", "press_clipping", "photo",
                                                   "receipt", "contract", "decision", "other"))),
        ("ck_evidence_item_review_state", _one_of("review_state", ("pending", "verified", "queried"))),
    ],
}

# table -> Boolean columns; SQLite only (SQLAlchemy's Boolean(create_constraint=True) there).
FLAGS = {
    "user": ("is_admin", "active"),
    "login_attempt": ("success",),
    "indicator": ("ascending", "cumulative", "illustrative"),
    "budget_line": ("illustrative",),
}

OLD_AMOUNT = sa.Numeric(precision=18, scale=2)
NEW_AMOUNT = sa.Numeric(precision=20, scale=4)

class RowsBreakRules(RuntimeError):
    """Existing rows break rules this migration would enforce; nothing was changed.

    A RuntimeError, so ``flask db upgrade`` prints the message (no traceback) and exits 1.
    """


def _checks(dialect: str) -> dict[str, list[tuple[str, str]]]:
    checks = {table: list(rules) for table, rules in CHECKS.items()}
    if dialect == "sqlite":
        for table, columns in FLAGS.items():
            checks.setdefault(table, []).extend((f"ck_{table}_{column}", f"{column} IN (0, 1)") for column in columns)
    return checks


def _refuse_rows_that_break(bind, checks, why: str, sample: int = 5) -> None:
    """Raise RowsBreakRules, listing every broken rule, before any table is touched."""
    quote = bind.dialect.identifier_preparer.quote
    problems = []
    for table, rules in checks.items():
        for name, condition in rules:
            # NOT(unknown) is unknown, so NULLs pass here exactly as they pass the CHECK.
            ids = bind.execute(sa.text(f"SELECT id FROM {quote(table)} WHERE NOT ({condition}) ORDER BY id")).scalars().all()
            if ids:
                shown = ", ".join(str(i) for i in ids[:sample]) + (", ..." if len(ids) > sample else "")
                problems.append(f"  {table}: {len(ids)} row(s) break {name} ({condition}); id {shown}")
    if problems:
        raise RowsBreakRules(
            f"Migration 0003 changed nothing: {why}\n"
            + "\n".join(problems)
            + "\nCorrect them in the app (so the audit trail records who did what), then run it again.")


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    checks = _checks(bind.dialect.name)
    _refuse_rows_that_break(bind, checks, "these rows break rules the database is about to enforce.")
    with table_rebuild(bind, "0003"):
        for table, rules in checks.items():
            with op.batch_alter_table(table, recreate="always" if sqlite else "never") as batch_op:
                if table == "expenditure":
                    batch_op.alter_column("original_amount", type_=NEW_AMOUNT, existing_type=OLD_AMOUNT,
                                          existing_nullable=True)
                for name, condition in rules:
                    batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    checks = _checks(bind.dialect.name)
    _refuse_rows_that_break(bind, {"expenditure": [
        ("NUMERIC(18, 2)", "original_amount = ROUND(original_amount, 2)")]},
        "these original amounts have more than the 2 decimals NUMERIC(18, 2) keeps; the downgrade would"
        " round them.")
    with table_rebuild(bind, "0003"):
        for table, rules in checks.items():
            with op.batch_alter_table(table, recreate="always" if sqlite else "never") as batch_op:
                for name, _condition in rules:
                    batch_op.drop_constraint(op.f(name), type_="check")
                if table == "expenditure":
                    batch_op.alter_column("original_amount", type_=OLD_AMOUNT, existing_type=NEW_AMOUNT,
                                          existing_nullable=True)
