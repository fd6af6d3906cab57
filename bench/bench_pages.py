"""Benchmark the app's pages on a large project against a fair floor: SQL queries and CPU time.

On a generated project at 1× (300 indicators × 24 periods, 5,000 weekly logs, 20 budget lines,
1,000 expenditures, 200 evidence items, 5,000 audit events; ``bench/generate.py``) and at 10×,
for the portfolio (500 projects), overview, logframe (and its printable version), this week,
the indicator grid, activities, budget, expenditures, evidence register, auditor workspace and
audit trail, it prints:

* the number of SQL statements one request sends (it must not grow with the data),
* the median CPU time of a request through the test client (the app, Jinja and SQLite all
  run in this process, so its CPU time is the request's cost, barely disturbed by other
  programs on a shared machine),
* the ratio of that time to **the floor**: a bare Flask + Flask-SQLAlchemy app whose one page
  reads 200 rows from SQLite and renders them as a table, requested through its own test
  client in the same run, alternately with the page (a slow spell slows both), and
* the size of the page's HTML.

Run:  .venv/bin/python bench/bench_pages.py [--runs N] [--scales 1,10] [--only overview,logframe] [--cold]

``--cold`` forgets what the app remembers between requests (the badge counts, the dashboard
strips, the evidence filter's options) before every timed request: the cost of the first page
after a change.
Nothing here asserts a time; the tests assert behaviour, this prints figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, render_template  # noqa: E402
from flask_sqlalchemy import SQLAlchemy  # noqa: E402
from jinja2 import DictLoader  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from bench.generate import (  # noqa: E402
    BENCH_AUDITOR_EMAIL,
    BENCH_AUDITOR_PASSWORD,
    BENCH_EMAIL,
    BENCH_PASSWORD,
    PORTFOLIO,
    generate,
    generate_portfolio,
)
from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

BENCH_RUNS = [[]]
FLOOR_TABLE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Floor</title></head><body>
<table><caption>Bare table</caption><thead><tr><th>Code</th><th>Title</th><th>Value</th>
<th>Status</th></tr></thead><tbody>{% for row in rows %}<tr><th scope="row">{{ row.code }}</th><td>{{ row.title }}</td>
<td class="num">{{ row.value }}</td><td>{{ row.status }}</td></tr>{% endfor %}</tbody></table></body></html>"""
# (name, URL pattern, who asks): {id} is the bench project; the auditor workspace is the auditor's.
PAGES = (
    ("portfolio", "/", "manager"),
    ("overview", "/projects/{id}", "manager"),
    ("logframe", "/projects/{id}/logframe", "manager"),
    ("logframe (print)", "/projects/{id}/logframe?all=1", "manager"),
    ("this week", "/projects/{id}/week/2017-W10", "manager"),
    ("indicator grid", "/projects/{id}/indicators", "manager"),
    ("activities", "/projects/{id}/activities", "manager"),
    ("budget", "/projects/{id}/budget", "manager"),
    ("expenditures", "/projects/{id}/expenditures", "manager"),
    ("evidence register", "/projects/{id}/evidence", "manager"),
    ("auditor workspace", "/projects/{id}/auditor", "auditor"),
    ("audit trail", "/projects/{id}/audit", "manager"),
)
PRINT_PAGES = {"logframe (print)"}  # everything on one page: judged per row, not by the 5× rule
FLOOR_ROWS = 200  # the floor's table rows (a row of the printable logframe is judged against one of these)


def floor_app(folder: Path):
    """The floor: a bare Flask + Flask-SQLAlchemy app reading 200 rows from SQLite into a table."""
    floor_db = SQLAlchemy()

    class Row(floor_db.Model):
        __tablename__ = "row"
        id = floor_db.Column(floor_db.Integer, primary_key=True)
        code = floor_db.Column(floor_db.String(20), nullable=False)
        title = floor_db.Column(floor_db.Text, nullable=False)
        value = floor_db.Column(floor_db.Integer, nullable=False)
        status = floor_db.Column(floor_db.String(20), nullable=False)

    app = Flask("floor")
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder / 'floor.sqlite3'}"
    app.jinja_loader = DictLoader({"table.html": FLOOR_TABLE})
    floor_db.init_app(app)

    @app.route("/")
    def table():
        rows = floor_db.session.execute(floor_db.select(Row).order_by(Row.id).limit(FLOOR_ROWS)).scalars().all()
        return render_template("table.html", rows=rows)

    with app.app_context():
        floor_db.create_all()
        floor_db.session.execute(insert(Row), [
            {"id": n + 1, "code": f"1.{n}", "title": f"Chỉ số {n} ở Hà Nội", "value": n * 3, "status": "On track"}
            for n in range(1000)])
        floor_db.session.commit()
    client = app.test_client()
    assert b"Ch\xe1\xbb\x89 s\xe1\xbb\x91 199" in client.get("/").data
    return lambda: client.get("/")


def build(scale: int, folder: Path):
    """A migrated SQLite database holding the generated project; returns (app, project id, seconds)."""
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / f'bench-{scale}.sqlite3'}",
                      "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "TESTING": False})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "tracker" / "migrations"))
        started = time.perf_counter()
        project_id = generate(scale)
        generate_portfolio(PORTFOLIO - 1)
        seconds = time.perf_counter() - started
    return app, project_id, seconds


def count_queries(app, client, url: str) -> tuple[int, bytes]:
    counter = {"n": 0}

    def before(*_args):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(url)
        body = response.data  # a streamed page runs its queries while it is read
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return counter["n"], body


def timed(action) -> float:
    """CPU seconds the action takes in this process."""
    started = time.process_time()
    action()
    return time.process_time() - started


def interleaved_medians(page_action, floor_action, runs: int) -> tuple[float, float]:
    """Median times of the page and of the floor, measured alternately.

    Alternating keeps the ratio fair on a busy machine: a slow spell slows both.
    """
    page_action()
    floor_action()
    pages, floors = [], []
    for _ in range(runs):
        pages.append(timed(page_action))
        floors.append(statistics.median(timed(floor_action) for _ in range(3)))
    return statistics.median(pages), statistics.median(floors)


def login(app, email: str, password: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 303, f"{email} could not log in"
    return client


def framework_rows(app, project_id: int) -> int:
    """The printable logframe's rows: every result, indicator and activity of the project."""
    from sqlalchemy import func, select

    from tracker.models import Activity, Indicator, ResultNode

    with app.app_context():
        return sum(db.session.scalar(select(func.count()).select_from(model).where(model.project_id == project_id))
                   for model in (ResultNode, Indicator, Activity))


def forget_remembered() -> None:
    """What a page costs right after a change anywhere: the inbox counts and dashboard strips
    the app remembers until the audit trail moves are counted again."""
    from tracker.evidence import services as evidence
    from tracker.inbox import dashboard, services

    services._TOTALS_MEMO.clear()
    dashboard._MEMO.clear()
    evidence._OPTIONS.clear()


def measure(scale: int, runs: int, folder: Path, only: set[str] | None, cold: bool = False) -> dict:
    app, project_id, generated = build(scale, folder)
    clients = {"manager": login(app, BENCH_EMAIL, BENCH_PASSWORD),
               "auditor": login(app, BENCH_AUDITOR_EMAIL, BENCH_AUDITOR_PASSWORD)}
    floor_folder = folder / f"floor-{scale}"
    floor_folder.mkdir()
    floor = floor_app(floor_folder)
    figures = {"generated": generated, "pages": {}}
    for name, pattern, who in PAGES:
        if only and name not in only:
            continue
        client, url = clients[who], pattern.format(id=project_id)
        queries, body = count_queries(app, client, url)
        def ask(url=url, c=client):
            if cold:
                forget_remembered()
            return c.get(url).data

        page_time, floor_time = interleaved_medians(ask, floor, runs)
        figures["pages"][name] = (queries, page_time, len(body), floor_time)
        if name in PRINT_PAGES:
            figures.setdefault("rows", {})[name] = framework_rows(app, project_id)
        print(f"  {name:18} {queries:>4} queries {page_time * 1000:>8.1f} ms  ratio {page_time / floor_time:>6.1f}"
              f"  {len(body) / 1024:>6.0f} KB", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="requests timed per page (median taken)")
    parser.add_argument("--scales", default="1,10", help="data sizes to measure, e.g. 1,10")
    parser.add_argument("--only", help="comma-separated page names to measure")
    parser.add_argument("--cold", action="store_true", help="forget the remembered counts before each request")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    only = set(args.only.split(",")) if args.only else None
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for scale in scales:
            print(f"generating {scale}× ({300 * scale} indicators × 24 periods, {5000 * scale} logs, "
                  f"{PORTFOLIO} projects in the portfolio)...", flush=True)
            results[scale] = measure(scale, args.runs, Path(folder), only, args.cold)
            floor = statistics.median(figure[3] for figure in results[scale]["pages"].values())
            print(f"  generated in {results[scale]['generated']:.1f} s; the floor (200 rows from SQLite "
                  f"through Flask) {floor * 1000:.2f} ms (median)", flush=True)
    names = [name for name, _p, _w in PAGES if name in results[scales[0]]["pages"]]
    print()
    header = f"{'page':18} " + " ".join(f"{'queries ' + str(s) + 'x':>11}" for s in scales) + "   " + \
        "   ".join(f"{'median ' + str(s) + 'x':>10} {'ratio':>6} {'KB':>5}" for s in scales)
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name in names:
        counts = " ".join(f"{results[s]['pages'][name][0]:>11}" for s in scales)
        cells = []
        for s in scales:
            queries, page_time, size, floor_time = results[s]["pages"][name]
            ratio = page_time / floor_time
            if name not in PRINT_PAGES:
                worst = max(worst, ratio)
            cells.append(f"{page_time * 1000:>8.1f}ms {ratio:>6.1f} {size / 1024:>5.0f}")
        print(f"{name:18} {counts}   {'   '.join(cells)}")
    print()
    print("ratio = median CPU time of the page ÷ median CPU time of the floor (a bare Flask + Flask-SQLAlchemy")
    print("        page reading 200 rows from SQLite into a table, through the test client), timed alternately.")
    print(f"Worst ratio of the paged pages: {worst:.1f} ({'within' if worst <= 5 else 'ABOVE'} 5× the floor).")
    print("The printable logframe shows every row and streams; its figure is for the whole framework.")
    for name in names:
        if name not in PRINT_PAGES:
            continue
        for s in scales:
            _queries, page_time, _size, floor_time = results[s]["pages"][name]
            rows = results[s]["rows"][name]
            per_row, floor_row = page_time / max(rows, 1), floor_time / FLOOR_ROWS
            print(f"  {name} at {s}x: {rows} rows (results, indicators, activities), {per_row * 1e6:.1f} us a row against the floor's "
                  f"{floor_row * 1e6:.1f} us a row: {per_row / floor_row:.2f}x ({'within' if per_row <= 2 * floor_row else 'ABOVE'} 2x)")
        if len(scales) > 1:
            # What one more row costs: the page's growth between the smallest and the largest scale
            # over the rows it gained (the page's fixed part, header and navigation, cancels out).
            low, high = scales[0], scales[-1]
            grown = results[high]["pages"][name][1] - results[low]["pages"][name][1]
            rows_grown = results[high]["rows"][name] - results[low]["rows"][name]
            floor_row = statistics.median(results[s]["pages"][name][3] for s in scales) / FLOOR_ROWS
            if rows_grown > 0:
                marginal = grown / rows_grown
                print(f"  {name}, each further row ({low}x to {high}x): {marginal * 1e6:.1f} us against the floor's "
                      f"{floor_row * 1e6:.1f} us a row: {marginal / floor_row:.2f}x "
                      f"({'within' if marginal <= 2 * floor_row else 'ABOVE'} 2x)")
    # The printable logframe reads the framework in batches of 50 indicators: its count grows by design.
    same = all(len({results[s]['pages'][name][0] for s in scales}) == 1 for name in names if name not in PRINT_PAGES)
    print("Query counts of the paged pages are the same at every scale." if same
          else "WARNING: a paged page's query count grows with the data.")


if __name__ == "__main__":
    main()
