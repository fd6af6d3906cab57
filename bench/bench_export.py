"""Benchmark of the donor's workbook export on a generated portfolio project.

    .venv/bin/python bench/bench_export.py [--rows 50000] [--keep DIR]

1. Generates, in a fresh SQLite database under a temporary directory, a portfolio project
   with about ``--rows`` rows across the workbook's sheets (results, indicators and their
   periods, activities, weekly logs, budget lines, expenditures, evidence with links), with
   bulk inserts.
2. Exports the workbook (``tracker.exports.workbook.write_workbook``, the code the app runs)
   in a child process: wall and CPU time, and peak memory as the child's peak resident set
   size (``VmHWM``) and, in a second child, the peak of Python allocations
   (``tracemalloc``, which slows the run, so its time is not the one reported).
3. The floor: a bare openpyxl ``write_only`` workbook writing the same cells (the values and
   formula texts read back from the export, without styles, widths, links or outline) in a
   child process, timed the same way.
4. Runs the two alternately ``--repeat`` times (default 3) and prints the best wall and CPU
   time of each and their ratio (CPU time is the steadier figure on a shared machine). Aim:
   at most 1.5x the floor and under 150 MB peak. Nothing is asserted: speed is measured
   here, not in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROJECT_CODE = "BENCH-PORTFOLIO"


# --- The generated project ----------------------------------------------------------------------

def _app(instance: Path):
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    from tracker import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
                       "SECRET_KEY": secrets.token_hex(32), "DEMO_ACCOUNTS": False})


def generate(instance: Path, rows: int) -> dict:
    """A portfolio project with about ``rows`` workbook rows, bulk-inserted. Returns counts."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from tracker.extensions import db
    from tracker.models import (
        Activity,
        BudgetLine,
        Dimension,
        DimensionCategory,
        DisaggregatedValue,
        EvidenceItem,
        EvidenceLink,
        Expenditure,
        Indicator,
        IndicatorPeriod,
        ProgressLog,
        Project,
        ResultNode,
        User,
    )

    scale = rows / 50_000
    outcomes, outputs_per = 10, max(1, round(10 * scale))
    indicators_per, periods = 10, 8
    activities_per, weeks = 15, 16
    n_lines, n_expenditures, n_evidence = max(6, round(200 * scale)), round(8000 * scale), round(6000 * scale)
    rng = random.Random(6)
    app = _app(instance)
    with app.app_context():
        upgrade(directory=str(ROOT / "tracker" / "migrations"))
        user = User(email="bench@example.test", name="Nguyễn Văn Bench", password_hash="!")
        db.session.add(user)
        project = Project(code=PROJECT_CODE, title="Portfolio benchmark: văn hoá sáng tạo ở Hà Nội, Huế và Hồ Chí Minh",
                          donor="Korean Funds-in-Trust", implementing_agency="UNESCO Office in Ha Noi",
                          implementing_partners="Ministry of Culture, Sports and Tourism",
                          grant_cents=0, start_date=date(2016, 1, 1), end_date=date(2019, 12, 31), country="VN",
                          objective="Benchmark objective", summary="A generated project for the export benchmark.",
                          illustrative_note="Generated figures for the benchmark.")
        db.session.add(project)
        db.session.flush()
        pid, uid = project.id, user.id

        def bulk(model, values):
            for start in range(0, len(values), 5000):
                db.session.execute(insert(model), values[start:start + 5000])

        results, rid = [], 0
        rid += 1
        results.append(dict(id=rid, project_id=pid, parent_id=None, level="objective", code="1",
                            statement="Creative industries contribute to sustainable development in Viet Nam",
                            assumptions="Policy support continues", position=0))
        outputs = []
        for o in range(1, outcomes + 1):
            rid += 1
            outcome_id = rid
            results.append(dict(id=rid, project_id=pid, parent_id=1, level="outcome", code=f"1.{o}",
                                statement=f"Expected result {o}: hubs in Huế and Hà Nội are supported", assumptions="",
                                position=rid))
            for p in range(1, outputs_per + 1):
                rid += 1
                outputs.append(rid)
                results.append(dict(id=rid, project_id=pid, parent_id=outcome_id, level="output", code=f"1.{o}.{p}",
                                    statement=f"Output {o}.{p}: training, dialogue and research delivered",
                                    assumptions="Partners take part", position=rid))
        bulk(ResultNode, results)

        indicators, periods_rows, dims, cats, values = [], [], [], [], []
        iid = pid_ = cid = did = 0
        units = ["number"] * 6 + ["percent", "yesno", "qualitative", "number"]
        for output in outputs:
            for k in range(indicators_per):
                iid += 1
                unit = units[k]
                indicators.append(dict(id=iid, project_id=pid, result_id=output, code=f"I{iid}",
                                       title=f"Indicator {iid}: people trained in Hồ Chí Minh City", unit=unit,
                                       ascending=k != 9, cumulative=unit == "number",
                                       baseline_value=None if unit == "qualitative" else Decimal(0),
                                       target_value=None if unit == "qualitative" else Decimal(100),
                                       baseline_text="none yet" if unit == "qualitative" else "",
                                       target_text="a policy drafted" if unit == "qualitative" else "",
                                       means_of_verification="Reports", illustrative=True, position=iid))
                for q in range(periods):
                    pid_ += 1
                    start = date(2016 + q // 2, 1 if q % 2 == 0 else 7, 1)
                    end = date(start.year, 6, 30) if q % 2 == 0 else date(start.year, 12, 31)
                    reported = q < 5
                    row = dict(id=pid_, project_id=pid, indicator_id=iid, start_date=start, end_date=end,
                               state="approved" if q < 3 else ("submitted" if reported else "draft"),
                               comment="Reported by the hubs" if reported else "")
                    if unit == "qualitative":
                        row.update(target_text="Step", actual_text="Done" if reported else "")
                    elif unit == "yesno":
                        row.update(target=Decimal(1), actual=Decimal(rng.randint(0, 1)) if reported else None)
                    else:
                        row.update(target=Decimal(12), actual=Decimal(rng.randint(5, 15)) if reported else None)
                    periods_rows.append(row)
                if iid % 10 == 1:  # some indicators are disaggregated by sex
                    did += 1
                    dims.append(dict(id=did, project_id=pid, indicator_id=iid, name="Sex", position=0))
                    for label in ("Women", "Men"):
                        cid += 1
                        cats.append(dict(id=cid, project_id=pid, dimension_id=did, label=label, position=cid))
                        for period in periods_rows[-periods:][:5]:
                            values.append(dict(project_id=pid, period_id=period["id"], category_id=cid,
                                               value=Decimal(rng.randint(1, 8))))
        bulk(Indicator, indicators)
        bulk(IndicatorPeriod, periods_rows)
        bulk(Dimension, dims)
        bulk(DimensionCategory, cats)
        bulk(DisaggregatedValue, values)

        activities, logs, aid, lid = [], [], 0, 0
        statuses = ["on_track", "at_risk", "delayed", "completed", "not_started"]
        for output in outputs:
            for _ in range(activities_per):
                aid += 1
                activities.append(dict(id=aid, project_id=pid, result_id=output, code=f"A{aid}",
                                       title=f"Activity {aid}: workshop in Huế with creative hubs",
                                       planned_start=date(2016, 1, 4), planned_end=date(2019, 6, 30),
                                       actual_start=date(2016, 1, 4), status=rng.choice(statuses),
                                       percent_complete=rng.randint(0, 100), responsible="UNESCO Ha Noi",
                                       locations="Hà Nội; Huế", position=aid))
                for w in range(weeks):
                    lid += 1
                    start = date(2016, 1, 4) + timedelta(weeks=w)
                    year, week, _ = start.isocalendar()
                    logs.append(dict(id=lid, project_id=pid, activity_id=aid, iso_week=f"{year}-W{week:02d}",
                                     week_start=start, status="on_track", percent_complete=min(100, w * 7),
                                     done=f"Week {w + 1}: met the hub managers, =notes kept", problems="",
                                     next_steps="Continue", author_id=uid, updated_at=datetime.now(UTC)))
        bulk(Activity, activities)
        bulk(ProgressLog, logs)

        lines = [dict(id=i, project_id=pid, code=f"BL{i}", category="meetings_workshops", account_code="5200",
                      description=f"Budget line {i}: dialogue and workshops in Huế", original_cents=500_000_00,
                      revised_cents=510_000_00 if i % 5 == 0 else None, illustrative=True, position=i)
                 for i in range(1, n_lines + 1)]
        bulk(BudgetLine, lines)
        expenditures = [dict(id=i, project_id=pid, line_id=rng.randint(1, n_lines),
                             spent_on=date(2016, 1, 1) + timedelta(days=rng.randint(0, 1400)),
                             amount_cents=rng.randint(100_00, 5_000_00), payee="Century Riverside Hotel, Huế",
                             voucher=f"V-{i:06d}", description="Venue and interpretation",
                             status=rng.choice(["committed", "disbursed"]), created_by_id=uid)
                        for i in range(1, n_expenditures + 1)]
        bulk(Expenditure, expenditures)
        db.session.execute(Project.__table__.update().where(Project.id == pid).values(
            grant_cents=sum(line["revised_cents"] or line["original_cents"] for line in lines)))
        evidence = [dict(id=i, project_id=pid, kind="receipt" if i % 2 else "press_clipping",
                         title=f"Evidence {i}: bài báo về đối thoại chính sách", dated=date(2016, 11, 24),
                         source="Song Huong Magazine", url=f"https://example.org/articles/{i}" if i % 2 == 0 else "",
                         language="vi", review_state="pending", created_by_id=uid)
                    for i in range(1, n_evidence + 1)]
        bulk(EvidenceItem, evidence)
        links = []
        for i in range(1, n_evidence + 1):
            if i % 2:
                links.append(dict(project_id=pid, evidence_id=i, expenditure_id=rng.randint(1, n_expenditures)))
            else:
                links.append(dict(project_id=pid, evidence_id=i, period_id=rng.randint(1, len(periods_rows))))
                links.append(dict(project_id=pid, evidence_id=i, activity_id=rng.randint(1, len(activities))))
        bulk(EvidenceLink, links)
        db.session.commit()
        counts = {"results": len(results), "indicators": len(indicators), "indicator periods": len(periods_rows),
                  "activities": len(activities), "weekly logs": len(logs), "budget lines": len(lines),
                  "expenditures": len(expenditures), "evidence items": len(evidence)}
        counts["workbook rows"] = (len(results) + len(indicators) + len(activities) + len(periods_rows)
                                   + len(activities) + len(logs) + len(lines) + len(expenditures) + len(evidence))
        db.session.remove()
        db.engine.dispose()
    return counts


def peak_rss() -> int:
    """This process's peak resident memory in bytes. VmHWM belongs to the process image
    (getrusage's ru_maxrss survives exec on Linux and would report the parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- The measured children ----------------------------------------------------------------------

def child_export(instance: Path, out: Path, trace: bool) -> dict:
    import tracemalloc

    app = _app(instance)
    from sqlalchemy import select

    from tracker.exports.services import ExportContext, read_snapshot
    from tracker.exports.workbook import write_workbook
    from tracker.extensions import db
    from tracker.models import Project

    with app.app_context():
        if trace:
            tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        with read_snapshot():
            project = db.session.execute(select(Project).where(Project.code == PROJECT_CODE)).scalar_one()
            rows = write_workbook(ExportContext(project, "bench"), out)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if trace else None
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "traced_peak": peak,
            "maxrss": peak_rss()}


def child_floor(cells: Path, out: Path, trace: bool) -> dict:
    """A bare write-only workbook with the same cells (loaded before the clock starts)."""
    import tracemalloc

    from openpyxl import Workbook

    with cells.open("rb") as handle:
        sheets = pickle.load(handle)
    if trace:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(out)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    return {"seconds": seconds, "cpu": cpu, "traced_peak": peak,
            "maxrss": peak_rss()}


def read_cells(workbook: Path, destination: Path) -> int:
    """The exported workbook's cells (values and formula texts), for the floor."""
    from openpyxl import load_workbook

    book = load_workbook(workbook, read_only=True)
    sheets, count = [], 0
    for ws in book.worksheets:
        rows = [tuple(cell for cell in row) for row in ws.iter_rows(values_only=True)]
        count += sum(1 for row in rows for cell in row if cell is not None)
        sheets.append((ws.title, rows))
    with destination.open("wb") as handle:
        pickle.dump(sheets, handle)
    return count


def _run_child(kind: str, *args: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", kind, *args], check=True, capture_output=True,
                            text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="about how many workbook rows to generate")
    parser.add_argument("--keep", type=Path, help="keep the database and workbooks in this folder")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, alternating (best is shown)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        trace = rest[-1] == "trace"
        if kind == "export":
            result = child_export(Path(rest[0]), Path(rest[1]), trace)
        else:
            result = child_floor(Path(rest[0]), Path(rest[1]), trace)
        print(json.dumps(result))
        return

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-export-"))
    workdir.mkdir(parents=True, exist_ok=True)
    instance = workdir / "instance"
    instance.mkdir(exist_ok=True)
    for old in instance.glob("bench.sqlite3*"):
        old.unlink()
    started = time.perf_counter()
    counts = generate(instance, args.rows)
    print(f"Generated the portfolio project in {time.perf_counter() - started:.1f} s:")
    for name, count in counts.items():
        print(f"  {name:18} {count:>8,}")

    export_file, floor_file, cells = workdir / "export.xlsx", workdir / "floor.xlsx", workdir / "cells.pickle"
    first = _run_child("export", str(instance), str(export_file), "time")
    n_cells = read_cells(export_file, cells)
    # Alternate the two so a busy machine slows both alike; the best run of each is shown.
    exports, floors = [first], []
    for index in range(args.repeat):
        floors.append(_run_child("floor", str(cells), str(floor_file), "time"))
        if index:
            exports.append(_run_child("export", str(instance), str(export_file), "time"))
    export_traced = _run_child("export", str(instance), str(export_file), "trace")
    floor_traced = _run_child("floor", str(cells), str(floor_file), "trace")

    def best(runs, key):
        return min(run[key] for run in runs)

    mb = 1024 * 1024
    print()
    print(f"Workbook: {first['rows']:,} data rows, {n_cells:,} cells, {export_file.stat().st_size / mb:.1f} MB; "
          f"best of {len(exports)} and {len(floors)} runs")
    print(f"  export (app)          {best(exports, 'seconds'):7.2f} s wall  {best(exports, 'cpu'):7.2f} s CPU   "
          f"peak RSS {max(r['maxrss'] for r in exports) / mb:6.1f} MB   "
          f"peak Python allocations {export_traced['traced_peak'] / mb:5.1f} MB")
    print(f"  floor (bare openpyxl) {best(floors, 'seconds'):7.2f} s wall  {best(floors, 'cpu'):7.2f} s CPU   "
          f"peak RSS {max(r['maxrss'] for r in floors) / mb:6.1f} MB   "
          f"peak Python allocations {floor_traced['traced_peak'] / mb:5.1f} MB (RSS includes its preloaded cells)")
    print(f"  ratio export / floor  {best(exports, 'seconds') / best(floors, 'seconds'):7.2f}x wall "
          f"{best(exports, 'cpu') / best(floors, 'cpu'):6.2f}x CPU   (aim: at most 1.5x; peak under 150 MB)")
    print("  The export's time includes reading the database; the floor only writes cells already in memory.")
    if not args.keep:
        for path in workdir.rglob("*"):
            if path.is_file():
                path.unlink()
        for path in sorted(workdir.rglob("*"), reverse=True):
            path.rmdir()
        workdir.rmdir()
    else:
        print(f"Kept in {workdir}")


if __name__ == "__main__":
    main()
