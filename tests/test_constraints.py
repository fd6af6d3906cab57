"""The database states the rules it can: CHECK constraints, and the migration that adds them.

Every test runs on the database the suite runs on: SQLite by default, PostgreSQL with
``TRACKER_TEST_DATABASE_URL`` (``python scripts/with_postgres.py python -m pytest ...``).
Bad rows are written with plain SQL, past the services, so only the database can refuse them.
"""

import os
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.conftest import FAST_PASSWORD_HASH, close_app, make_app
from tracker import create_app
from tracker.extensions import db
from tracker.models import Activity, BudgetLine, Expenditure, LoginAttempt, ProgressLog, Project, StoredFile

MIGRATIONS = str(Path(__file__).parent.parent / "tracker" / "migrations")
FIRST = '(SELECT min(id) FROM "{table}")'

# (table, constraint, SET clause that breaks it); flags are the SQLite 0/1 checks of Boolean
# columns (PostgreSQL's boolean type refuses 2 by itself).
CASES = [
    ("project", "ck_project_dates", "start_date = '2016-06-01', end_date = '2016-05-31'"),
    ("project", "ck_project_grant_cents", "grant_cents = -1"),
    ("project", "ck_project_thresholds", "at_risk_pct = 95, on_track_pct = 90"),
    ("stored_file", "ck_stored_file_size", "size = -1"),
    ("membership", "ck_membership_role", "role = 'owner'"),
    ("result_node", "ck_result_node_level", "level = 'goal'"),
    ("indicator", "ck_indicator_unit", "unit = 'kilograms'"),
    ("indicator_period", "ck_indicator_period_dates", "start_date = '2016-06-01', end_date = '2016-05-31'"),
    ("indicator_period", "ck_indicator_period_state", "state = 'published'"),
    ("result_narrative", "ck_result_narrative_dates", "start_date = '2016-06-01', end_date = '2016-05-31'"),
    ("activity", "ck_activity_status", "status = 'paused'"),
    ("activity", "ck_activity_percent_complete", "percent_complete = 101"),
    ("activity", "ck_activity_planned_dates", "planned_start = '2016-06-01', planned_end = '2016-05-31'"),
    ("activity", "ck_activity_actual_dates", "actual_start = '2016-06-01', actual_end = '2016-05-31'"),
    ("progress_log", "ck_progress_log_status", "status = 'paused'"),
    ("progress_log", "ck_progress_log_percent_complete", "percent_complete = -1"),
    ("event", "ck_event_kind", "kind = 'party'"),
    ("event", "ck_event_dates", "starts_on = '2016-06-01', ends_on = '2016-05-31'"),
    ("agenda_item", "ck_agenda_item_times", "starts_at = '10:00:00', ends_at = '09:30:00'"),
    ("budget_line", "ck_budget_line_category", "category = 'catering'"),
    ("budget_line", "ck_budget_line_original_cents", "original_cents = -1"),
    ("budget_line", "ck_budget_line_revised_cents", "revised_cents = -100"),
    ("budget_allocation", "ck_budget_allocation_percent_range", "percent = 100.01"),
    ("expenditure", "ck_expenditure_status", "status = 'paid'"),
    ("expenditure", "ck_expenditure_amount_positive", "amount_cents = 0"),
    ("expenditure", "ck_expenditure_original_amount", "original_amount = -1.5, original_currency = 'EUR'"),
    ("expenditure", "ck_expenditure_exchange_rate", "exchange_rate = 0"),
    ("evidence_item", "ck_evidence_item_kind", "kind = 'video'"),
    ("evidence_item", "ck_evidence_item_review_state", "review_state = 'approved'"),
    ("evidence_link", "ck_evidence_link_exactly_one_target", "activity_id = NULL, period_id = NULL, "
                                                             "result_id = NULL, expenditure_id = NULL"),
]
FLAG_CASES = [
    ("user", "ck_user_is_admin", "is_admin = 2"),
    ("user", "ck_user_active", "active = 2"),
    ("user", "ck_user_digest_enabled", "digest_enabled = 2"),
    ("login_attempt", "ck_login_attempt_success", "success = 2"),
    ("indicator", "ck_indicator_ascending", "ascending = 2"),
    ("indicator", "ck_indicator_cumulative", "cumulative = 2"),
    ("indicator", "ck_indicator_illustrative", "illustrative = 2"),
    ("budget_line", "ck_budget_line_illustrative", "illustrative = 2"),
]
# Good values next to the bad ones: the rule is the one named, not a stricter one.
ALLOWED = [
    ("activity", "percent_complete = 100, planned_start = '2016-05-31', planned_end = '2016-05-31', actual_end = NULL"),
    ("activity", "percent_complete = 0, planned_start = NULL, planned_end = '2016-01-01'"),
    ("project", "at_risk_pct = 0, on_track_pct = 100"),
    ("expenditure", "original_amount = 0.0001, original_currency = 'CLF', exchange_rate = 0.000001"),
    ("budget_line", "original_cents = 0, revised_cents = NULL"),
    ("agenda_item", "starts_at = NULL, ends_at = '09:30:00'"),
]


@pytest.fixture(scope="module")
def filled_app(databases, tmp_path_factory):
    """The demo, plus a row in each table the demo leaves empty, for bad updates to change."""
    application = make_app(databases, tmp_path_factory.mktemp("constraints"))
    with application.app_context():
        activity = db.session.execute(select(Activity).order_by(Activity.id)).scalars().first()
        db.session.add(ProgressLog(project_id=activity.project_id, activity=activity, iso_week="2016-W47",
                                   week_start=date(2016, 11, 21), status="on_track", percent_complete=40))
        db.session.add(StoredFile(sha256="0" * 64, size=10, content_type="text/plain"))
        db.session.add(LoginAttempt(email="officer@demo.test", address="127.0.0.1", success=True))
        db.session.commit()
        counts = {table: db.session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
                  for table in {case[0] for case in CASES + FLAG_CASES}}
        db.session.remove()
    assert all(counts.values()), f"every table under test needs a row: {counts}"
    yield application
    close_app(databases, application)


def _update_first(application, table: str, assignments: str):
    """Run the UPDATE on the table's first row in a transaction that is always rolled back."""
    with application.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(text(f'UPDATE "{table}" SET {assignments} WHERE id = {FIRST.format(table=table)}'))
        finally:
            transaction.rollback()


@pytest.mark.parametrize("table, constraint, assignments", CASES, ids=[case[1] for case in CASES])
def test_the_database_refuses_a_row_that_breaks_a_rule(filled_app, table, constraint, assignments):
    with pytest.raises(IntegrityError) as refused:
        _update_first(filled_app, table, assignments)
    assert constraint in str(refused.value.orig)


@pytest.mark.parametrize("table, constraint, assignments", FLAG_CASES, ids=[case[1] for case in FLAG_CASES])
def test_a_flag_is_0_or_1(filled_app, databases, table, constraint, assignments):
    if databases.dialect == "sqlite":
        with pytest.raises(IntegrityError) as refused:
            _update_first(filled_app, table, assignments)
        assert constraint in str(refused.value.orig)
    else:  # a boolean column takes no 2 at all
        with pytest.raises(DBAPIError, match="boolean"):
            _update_first(filled_app, table, assignments)


@pytest.mark.parametrize("table, assignments", ALLOWED)
def test_the_rules_let_good_rows_through(filled_app, table, assignments):
    _update_first(filled_app, table, assignments)


def test_every_check_constraint_of_the_models_is_tried_here():
    declared = {constraint.name for table in db.metadata.tables.values() for constraint in table.constraints
                if isinstance(constraint, CheckConstraint)}
    assert declared == {case[1] for case in CASES + FLAG_CASES}


def _checks_of(engine) -> dict[str, dict[str, str]]:
    inspector = inspect(engine)
    return {table: {check["name"]: " ".join(check["sqltext"].split()) for check in inspector.get_check_constraints(table)}
            for table in inspector.get_table_names() if table != "alembic_version"}


class BlankDatabase:
    """A database with no tables at all, on the dialect the suite runs on."""

    def __init__(self, databases, tmp_path):
        self.databases = databases
        if databases.dialect == "sqlite":
            self.url = f"sqlite:///{tmp_path / f'blank-{uuid.uuid4().hex[:8]}.sqlite3'}"
        else:
            name = f"{databases.prefix}_blank_{uuid.uuid4().hex[:8]}"
            databases._execute(f'CREATE DATABASE "{name}"')
            self.url = databases.server.set(database=name).render_as_string(hide_password=False)

    def app(self, tmp_path):
        os.environ["TRACKER_INSTANCE_PATH"] = str(tmp_path)
        try:
            return create_app({"SQLALCHEMY_DATABASE_URI": self.url, "TESTING": True, "SECRET_KEY": "test",
                               "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH})
        finally:
            os.environ.pop("TRACKER_INSTANCE_PATH", None)

    def drop(self, application=None):
        if application is not None:
            with application.app_context():
                db.session.remove()
                db.engine.dispose()
        self.databases.drop(self.url)


def test_models_and_migrations_declare_the_same_check_constraints(app, databases, tmp_path):
    """compare_metadata (test_foundation) does not compare CHECK constraints; this does."""
    blank = BlankDatabase(databases, tmp_path)
    engine = create_engine(blank.url)
    try:
        db.metadata.create_all(engine)
        from_models = _checks_of(engine)
    finally:
        engine.dispose()
        blank.drop()
    with app.app_context():
        from_migrations = _checks_of(db.engine)
    assert from_migrations == from_models


def test_a_foreign_amount_keeps_its_minor_units(app):
    """KWD has 3 decimals and CLF 4: the database gives back exactly what was stored."""
    with app.app_context():
        project = db.session.execute(select(Project)).scalars().first()
        line = db.session.execute(select(BudgetLine).where(BudgetLine.project_id == project.id)).scalars().first()
        amounts = {"KWD-1": ("KWD", Decimal("1234.567"), Decimal("0.305")),
                   "CLF-1": ("CLF", Decimal("12.3456"), Decimal("0.025")),
                   "KWD-2": ("KWD", Decimal("0.001"), Decimal("0.305"))}
        for voucher, (currency, amount, rate) in amounts.items():
            db.session.add(Expenditure(project_id=project.id, line=line, spent_on=date(2016, 11, 23),
                                       amount_cents=max(1, int(amount / rate * 100)), original_amount=amount,
                                       original_currency=currency, exchange_rate=rate, voucher=voucher,
                                       description="minor units"))
        db.session.commit()
        db.session.remove()
        stored = dict(db.session.execute(select(Expenditure.voucher, Expenditure.original_amount)
                                         .where(Expenditure.voucher.in_(amounts))).all())
        on_disk = dict(db.session.execute(text(
            "SELECT voucher, CAST(original_amount AS VARCHAR(40)) FROM expenditure"
            " WHERE voucher IN ('KWD-1', 'CLF-1', 'KWD-2')")).all())
    for voucher, (_currency, amount, _rate) in amounts.items():
        assert stored[voucher] == amount, (voucher, stored[voucher])
        assert Decimal(on_disk[voucher]) == amount, (voucher, on_disk[voucher])


# --- the migration ----------------------------------------------------------------------------


def _quote(name: str) -> str:
    return db.engine.dialect.identifier_preparer.quote(name)


def _rows_per_table() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {_quote(table)}")).scalar()
                for table in inspect(connection).get_table_names()}


def _structure() -> dict:
    """What a table rebuild could lose: indexes, unique constraints, foreign keys, triggers."""
    with db.engine.connect() as connection:
        inspector = inspect(connection)
        tables = [t for t in inspector.get_table_names() if t != "alembic_version"]
        shape = {
            "indexes": {t: sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in inspector.get_indexes(t)) for t in tables},
            "unique": {t: sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(t))
                       for t in tables},
            "foreign_keys": {t: sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"],
                                        (f.get("options") or {}).get("ondelete"))
                                       for f in inspector.get_foreign_keys(t)) for t in tables},
        }
        if connection.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        else:
            sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
        shape["triggers"] = connection.execute(text(sql)).scalars().all()
    return shape


def _version() -> str:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@pytest.fixture
def demo_at_0002(databases, tmp_path):
    """An app on a database migrated to 0002 and holding the demo, with a row in every table.

    The rows are written by today's models at the head revision, then the database goes down
    to 0002 (a model's later columns do not exist at 0002)."""
    blank = BlankDatabase(databases, tmp_path)
    application = blank.app(tmp_path)
    with application.app_context():
        upgrade(directory=MIGRATIONS)
        from tracker.demo.loader import load_demo

        load_demo()
        activity = db.session.execute(select(Activity).order_by(Activity.id)).scalars().first()
        db.session.add(ProgressLog(project_id=activity.project_id, activity=activity, iso_week="2016-W47",
                                   week_start=date(2016, 11, 21), status="on_track", percent_complete=40))
        db.session.add(StoredFile(sha256="1" * 64, size=10, content_type="text/plain"))
        db.session.add(LoginAttempt(email="officer@demo.test", address="127.0.0.1", success=False))
        db.session.commit()
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0002")
    yield application
    blank.drop(application)


def test_the_migration_keeps_every_row_and_its_downgrade_removes_the_rules(demo_at_0002):
    application = demo_at_0002
    with application.app_context():
        before, shape, checks = _rows_per_table(), _structure(), _checks_of(db.engine)
        assert all(before.values()), f"every table should hold a row before the upgrade: {before}"
        upgrade(directory=MIGRATIONS, revision="0003")
        assert _version() == "0003"
        assert _rows_per_table() == before
        assert _structure() == shape
        added = {name for table in _checks_of(db.engine).values() for name in table}
        assert {"ck_activity_status", "ck_project_dates", "ck_expenditure_exchange_rate"} <= added
        # 0002's triggers still keep the audit trail append-only, and its chain is intact.
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text("UPDATE audit_event SET actor_label = 'someone else'"))
        result = application.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 0 and "intact" in result.output, result.output
        db.session.remove()  # the command ran in this app context; end its transaction
        if db.engine.dialect.name == "sqlite":  # enforcement is back on every pooled connection
            with db.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

        downgrade(directory=MIGRATIONS, revision="0002")
        assert _version() == "0002"
        assert _rows_per_table() == before
        assert _structure() == shape
        assert _checks_of(db.engine) == checks
        upgrade(directory=MIGRATIONS, revision="0003")
        assert _rows_per_table() == before


def test_the_migration_refuses_rows_that_break_a_rule_and_changes_nothing(demo_at_0002):
    application = demo_at_0002
    with application.app_context():
        with db.engine.begin() as connection:
            connection.execute(text(f"UPDATE activity SET percent_complete = 150 WHERE id = {FIRST.format(table='activity')}"))
            connection.execute(text("UPDATE event SET kind = 'party'"))
        before, checks = _rows_per_table(), _checks_of(db.engine)
        config = application.extensions["migrate"].migrate.get_config(directory=MIGRATIONS)
        with pytest.raises(RuntimeError) as refused:
            command.upgrade(config, "head")
        message = str(refused.value)
        assert "changed nothing" in message
        assert "activity: 1 row(s) break ck_activity_percent_complete" in message
        assert f"event: {before['event']} row(s) break ck_event_kind" in message
        assert _version() == "0002"
        assert _rows_per_table() == before and _checks_of(db.engine) == checks
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT max(percent_complete) FROM activity")).scalar() == 150


def test_the_downgrade_refuses_to_round_away_a_third_decimal(app):
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE expenditure SET original_amount = 1.234, original_currency = 'KWD', "
                                    f"exchange_rate = 0.305 WHERE id = {FIRST.format(table='expenditure')}"))
        config = app.extensions["migrate"].migrate.get_config(directory=MIGRATIONS)
        command.downgrade(config, "0003")  # the later revisions first (they do not mind the amount)
        with pytest.raises(RuntimeError, match="more than the 2 decimals"):
            command.downgrade(config, "0002")
        assert _version() == "0003"
