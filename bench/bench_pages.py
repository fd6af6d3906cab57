"""Benchmark the officer's pages on a large project: SQL queries and render time.

For "this week", the indicator grid and the project overview, on a generated project at 1×
(300 indicators × 24 periods, 5,000 weekly logs) and at 10×, it prints:

* the number of SQL statements one request sends (it must not grow with the data), and
* the median time of a request (CPU time of this process: the app, Jinja and SQLite all run
  in it), next to the median time of rendering a bare 200-row table template in the same run,
  and their ratio (so figures compare across machines).

Run:  .venv/bin/python bench/bench_pages.py [--runs N] [--scales 1,10]
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

from sqlalchemy import event  # noqa: E402

from bench.generate import BENCH_EMAIL, BENCH_PASSWORD, generate  # noqa: E402
from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

BARE_TABLE = """<table><caption>Bare table</caption><thead><tr><th>Code</th><th>Title</th><th>Value</th>
<th>Status</th></tr></thead><tbody>{% for row in rows %}<tr><th scope="row">{{ row.code }}</th><td>{{ row.title }}</td>
<td class="num">{{ row.value }}</td><td>{{ row.status }}</td></tr>{% endfor %}</tbody></table>"""
PAGES = (
    ("this week", "/projects/{id}/week/2017-W10"),
    ("indicator grid", "/projects/{id}/indicators"),
    ("overview", "/projects/{id}"),
)


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
        seconds = time.perf_counter() - started
    return app, project_id, seconds


def count_queries(app, client, url: str) -> int:
    counter = {"n": 0}

    def before(*_args):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return counter["n"]


def timed(action) -> float:
    """CPU seconds the action takes in this process.

    The test client, the app, Jinja and SQLite all run in this process, so its CPU time is the
    render time; unlike wall time it is barely disturbed by other programs on a shared machine.
    """
    started = time.process_time()
    action()
    return time.process_time() - started


def interleaved_medians(page_action, bare_action, runs: int) -> tuple[float, float]:
    """Median times of the page and of the bare template, measured alternately.

    Alternating keeps the ratio fair on a busy machine: a slow spell slows both.
    """
    page_action()
    bare_action()
    pages, bares = [], []
    for _ in range(runs):
        pages.append(timed(page_action))
        bares.append(statistics.median(timed(bare_action) for _ in range(3)))
    return statistics.median(pages), statistics.median(bares)


def bare_renderer(app):
    """Render a bare 200-row table template (compiled once, like the app's templates)."""
    rows = [{"code": f"1.{n}", "title": f"Chỉ số {n} ở Hà Nội", "value": n * 3, "status": "On track"}
            for n in range(200)]
    template = app.jinja_env.from_string(BARE_TABLE)
    return lambda: template.render(rows=rows)


def measure(scale: int, runs: int, folder: Path) -> dict:
    app, project_id, generated = build(scale, folder)
    client = app.test_client()
    response = client.post("/login", data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD})
    assert response.status_code == 303, "the bench manager could not log in"
    bare = bare_renderer(app)
    figures = {"generated": generated, "pages": {}}
    for name, pattern in PAGES:
        url = pattern.format(id=project_id)
        queries = count_queries(app, client, url)
        page_time, bare_time = interleaved_medians(lambda url=url: client.get(url), bare, runs)
        size = len(client.get(url).data)
        figures["pages"][name] = (queries, page_time, size, bare_time)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="requests timed per page (median taken)")
    parser.add_argument("--scales", default="1,10", help="data sizes to measure, e.g. 1,10")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for scale in scales:
            print(f"generating {scale}× ({300 * scale} indicators × 24 periods, {5000 * scale} logs)...", flush=True)
            results[scale] = measure(scale, args.runs, Path(folder))
            bare = statistics.median(figure[3] for figure in results[scale]["pages"].values())
            print(f"  generated in {results[scale]['generated']:.1f} s; bare 200-row template "
                  f"{bare * 1000:.2f} ms (median)", flush=True)
    print()
    header = f"{'page':16} " + " ".join(f"{'queries ' + str(s) + 'x':>11}" for s in scales) + "   " + \
        "   ".join(f"{'median ' + str(s) + 'x':>10} {'ratio':>6} {'KB':>5}" for s in scales)
    print(header)
    print("-" * len(header))
    for name, _ in PAGES:
        counts = " ".join(f"{results[s]['pages'][name][0]:>11}" for s in scales)
        timings = "   ".join(
            f"{results[s]['pages'][name][1] * 1000:>8.1f}ms {results[s]['pages'][name][1] / results[s]['pages'][name][3]:>6.0f}"
            f" {results[s]['pages'][name][2] / 1024:>5.0f}" for s in scales)
        print(f"{name:16} {counts}   {timings}")
    print()
    print("ratio = median page time ÷ median time of rendering a bare 200-row table template, timed alternately")
    print("        with the page in the same run (so a busy machine slows both).")
    print("The grid shows 25 indicators per page (filter by result to narrow it); the overview shows every indicator.")
    same = all(len({results[s]['pages'][name][0] for s in scales}) == 1 for name, _ in PAGES)
    print("Query counts are the same at every scale." if same else "WARNING: a query count grows with the data.")


if __name__ == "__main__":
    main()
