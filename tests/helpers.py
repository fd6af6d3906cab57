"""Helpers shared by test modules."""

from contextlib import contextmanager

from sqlalchemy import event

from tracker.extensions import db

HX = {"HX-Request": "true"}


@contextmanager
def count_queries(app):
    """Collect the SQL statements sent while the block runs; ``len()`` of it is the count."""
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)
