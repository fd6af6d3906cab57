#!/usr/bin/env python3
"""Load (and crash) test: gunicorn on SQLite under officers, readers and exporters.

    .venv/bin/python bench/load.py [--seconds 60] [--kill] [--officers 50] [--readers 10]
                                   [--exporters 2] [--workers 2] [--threads 8] [--keep]

What it does, all on 127.0.0.1 and bounded in time and count:
1. A fresh SQLite database in a temporary folder: migrations, the demo project, and one
   account per simulated person (officers have the officer role; readers are managers,
   liaisons and auditors; exporters are liaisons).
2. gunicorn with 2 workers (gthread) serving ``wsgi:app`` on a free port.
3. For ``--seconds``: every officer logs in through the real login form and then, with a
   short pause between actions, posts weekly logs, indicator actuals and expenditures
   through the real forms (GET the form, read its CSRF token and version, POST, expect the
   303 redirect); readers browse every page of the project; exporters download the donor
   workbook (or, until that exists, the audit trail's CSV).
4. It prints requests per second, p50/p95/p99 latency and the error count, overall and per
   kind; then, with the server stopped, checks that every write the server acknowledged
   (answered 303) is in the database (inserted rows by their unique voucher; updates by
   the audit trail, which records every change, and the final value of each record), that
   ``PRAGMA integrity_check`` is ok and that ``flask audit verify`` passes.

``--kill`` SIGKILLs the whole server (master and workers) half-way through the load (once at
least 50 saves were acknowledged, at the latest at 80 % of the run), checks
that the database opens with ``PRAGMA integrity_check`` ok, restarts the server on the same
port and carries on; the same checks follow at the end. Requests cut by the kill (sent while
the server was down or in flight at the moment of the kill) are counted apart, not as errors.

A 409 answer (someone else saved the same record meanwhile) is a correct refusal, counted
apart; the check confirms no refused value reached the database. Anything else that is not
the expected answer is an error. Exit status 0 only with zero errors, zero lost writes, an
intact database and an intact audit trail.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.html_forms import find_form, parse_forms, set_field  # noqa: E402,F401  (the pages' forms, as a browser sends them)

# bench/run_all.py runs the load twice: plain, then with the server killed half-way.
BENCH_RUNS = [[], ["--kill"]]
HOST = "127.0.0.1"
PASSWORD = "load-test-password"
MAX_REQUESTS = 500_000  # a hard bound whatever the duration
KILL_AFTER_WRITES = 50  # --kill waits for at least this many acknowledged saves (see main)
REQUEST_TIMEOUT = 30


# --------------------------------------------------------------------------------------- metrics

@dataclass
class Sample:
    kind: str
    started: float
    seconds: float
    outcome: str  # "ok", "conflict", "cut", "error"
    detail: str = ""


@dataclass
class Write:
    kind: str         # "log", "actual", "expenditure"
    key: tuple        # which record
    value: str        # the unique value written
    sent: float
    acked: bool = False
    refused: bool = False
    answered: float = 0.0


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.writes: list[Write] = []
        self.kill_windows: list[list[float]] = []  # [killed_at, back_at]

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def write(self, item: Write) -> Write:
        with self.lock:
            self.writes.append(item)
        return item

    def count(self) -> int:
        return len(self.samples)

    def overlaps_kill(self, start: float, end: float) -> bool:
        for killed, back in self.kill_windows:
            if start <= (back or float("inf")) and end >= killed:
                return True
        return False


class Stop(Exception):
    """Time is up (or the request bound is reached)."""


class Client:
    """One simulated person: a requests session with timing and outcome recording."""

    def __init__(self, base: str, recorder: Recorder, deadline: float):
        self.base = base
        self.recorder = recorder
        self.deadline = deadline
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "tracker-load/1"

    def call(self, method: str, path: str, kind: str, expect=(200,), **kwargs) -> requests.Response | None:
        if time.monotonic() > self.deadline or self.recorder.count() >= MAX_REQUESTS:
            raise Stop
        started = time.monotonic()
        try:
            response = self.http.request(method, urljoin(self.base, path), timeout=REQUEST_TIMEOUT,
                                         allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            ended = time.monotonic()
            outcome = "cut" if self.recorder.overlaps_kill(started, ended) else "error"
            self.recorder.add(Sample(kind, started, ended - started, outcome, f"{method} {path}: {error}"))
            if outcome == "cut":
                time.sleep(0.2)
            return None
        ended = time.monotonic()
        if response.status_code in expect:
            outcome = "ok"
        elif response.status_code == 409:
            outcome = "conflict"
        elif response.status_code in (502, 503) and self.recorder.overlaps_kill(started, ended):
            outcome = "cut"
        else:
            outcome = "error"
        detail = ""
        if outcome == "error":
            said = re.findall(r'class="(?:field-error|form-errors?|cell-error)"[^>]*>(.*?)</', response.text, re.S)
            detail = f"{method} {path} -> {response.status_code} {' | '.join(t.strip() for t in said)[:300]}"
        self.recorder.add(Sample(kind, started, ended - started, outcome, detail))
        return response

    def login(self, email: str) -> bool:
        for _attempt in range(20):
            page = self.call("GET", "/login", "read")
            if page is None or page.status_code != 200:
                time.sleep(0.5)
                continue
            form = find_form(page.text, "/login")
            set_field(form, "email", email)
            set_field(form, "password", PASSWORD)
            answer = self.call("POST", form["action"], "login", expect=(303,), data=form["fields"])
            if answer is not None and answer.status_code == 303:
                return True
            time.sleep(0.5)
        return False


# --------------------------------------------------------------------------------------- the plan

@dataclass
class Plan:
    project_id: int
    pages_for: dict[str, list[str]]          # role -> the pages it browses
    exports: list[str]
    log_url: str | None = None               # with {activity_id}
    log_slots: list[tuple[int, str]] = field(default_factory=list)  # (activity_id, iso week)
    grid_url: str | None = None
    periods: list[tuple[int, str]] = field(default_factory=list)    # (period id, unit)
    expenditure_url: str | None = None
    expenditure_dates: list[str] = field(default_factory=list)
    officers: list[str] = field(default_factory=list)
    readers: list[tuple[str, str]] = field(default_factory=list)    # (email, role)
    exporters: list[str] = field(default_factory=list)


def prepare(workdir: Path, env: dict, args) -> Plan:
    """Migrate, load the demo, create the accounts and work out what to request."""
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "tracker", *command], env=env, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ.update(env)
    from flask import url_for
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from tracker import create_app
    from tracker.accounts import services as accounts
    from tracker.audit import trail
    from tracker.demo.loader import demo_project
    from tracker.extensions import db
    from tracker.formatting import iso_week
    from tracker.models import Activity, IndicatorPeriod, User

    app = create_app()
    views = app.view_functions
    with app.app_context(), app.test_request_context():
        trail.set_actor(None, "load-test set-up")
        project = demo_project()
        password_hash = generate_password_hash(PASSWORD)
        plan = Plan(project_id=project.id, pages_for={}, exports=[])

        def person(email: str, name: str, role: str) -> None:
            user = User(email=email, name=name, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            accounts.grant(user, project, role)

        for i in range(args.officers):
            plan.officers.append(f"officer{i:02d}@load.test")
            person(plan.officers[-1], f"Cán bộ {i:02d}", "officer")
        for j in range(args.readers):
            role = ("manager", "liaison", "auditor")[j % 3]
            plan.readers.append((f"reader{j:02d}@load.test", role))
            person(plan.readers[-1][0], f"Reader {j:02d}", role)
        for k in range(args.exporters):
            plan.exporters.append(f"exporter{k}@load.test")
            person(plan.exporters[-1], f"Liaison {k}", "liaison")
        db.session.commit()

        pid = project.id
        # Every page of the project navigation, for each role that may open it.
        from tracker import PROJECT_NAV
        from tracker.permissions import role_may

        for role in ("manager", "liaison", "auditor"):
            plan.pages_for[role] = [url_for("projects.portfolio")] + [
                url_for(endpoint, project_id=pid) for _label, endpoint, action in PROJECT_NAV
                if endpoint in views and role_may(role, action)]

        if "exports.workbook" in views:
            plan.exports.append(url_for("exports.workbook", project_id=pid))

        if "progress.log" in views:
            plan.log_url = url_for("progress.log", project_id=pid, activity_id=0).replace("/0/", "/{activity_id}/")
            activities = db.session.execute(select(Activity.id).where(Activity.project_id == pid)
                                            .order_by(Activity.id)).scalars().all()
            weeks, day = [], project.start_date
            while day <= project.end_date and len(weeks) < 104:
                week = iso_week(day)
                if not weeks or weeks[-1] != week:
                    weeks.append(week)
                day = day.fromordinal(day.toordinal() + 7)
            plan.log_slots = [(a, w) for w in weeks for a in activities]

        if "results.save_actual" in views and "results.grid" in views:
            from tracker.results.services import breakdown_sums

            plan.grid_url = url_for("results.grid", project_id=pid)
            for period in db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.project_id == pid)
                                             .order_by(IndicatorPeriod.id)).scalars():
                if (period.state in ("draft", "returned") and not period.locked
                        and period.indicator.unit in ("number", "percent") and not breakdown_sums(period)):
                    plan.periods.append((period.id, period.indicator.unit))

        if "budget.new_expenditure" in views:
            plan.expenditure_url = url_for("budget.new_expenditure", project_id=pid)
            start, end = project.start_date, project.end_date
            plan.expenditure_dates = [start.fromordinal(d).isoformat()
                                      for d in range(start.toordinal(), end.toordinal() + 1, 3)]
        db.session.remove()
        db.engine.dispose()
    return plan


# --------------------------------------------------------------------------------------- actors

class Officer:
    def __init__(self, number: int, plan: Plan, client: Client, run_id: str, think: float):
        self.n = number
        self.plan = plan
        self.client = client
        self.run_id = run_id
        self.think = think
        self.seq = 0
        self.random = random.Random(number)
        count = len(plan.officers)
        self.slots = [slot for i, slot in enumerate(plan.log_slots) if i % count == number]
        # A few officers share each open period, so conflicting saves do happen (and must be refused).
        self.periods = [plan.periods[number % len(plan.periods)]] if plan.periods else []

    def run(self):
        if not self.client.login(self.plan.officers[self.n]):
            self.client.recorder.add(Sample("login", time.monotonic(), 0, "error", "could not log in"))
            return
        actions = []
        if self.slots and self.plan.log_url:
            actions += [self.weekly_log] * 2
        if self.periods:
            actions.append(self.actual)
        if self.plan.expenditure_url:
            actions.append(self.expenditure)
        if not actions:
            actions = [self.look_around]
        while True:
            self.seq += 1
            self.random.choice(actions)()
            time.sleep(self.random.uniform(0, 2 * self.think))

    def marker(self) -> str:
        return f"{self.run_id}/{self.n:02d}/{self.seq}: tập huấn ở Huế"

    def look_around(self):
        self.client.call("GET", self.random.choice(self.plan.pages_for["liaison"]), "read")

    def weekly_log(self):
        activity_id, week = self.random.choice(self.slots)
        url = self.plan.log_url.format(activity_id=activity_id)
        page = self.client.call("GET", f"{url}?week={week}", "read")
        if page is None or page.status_code != 200:
            return
        form = find_form(page.text, f"/activities/{activity_id}/log")
        if form is None:
            self.client.recorder.add(Sample("write", time.monotonic(), 0, "error", f"no log form at {url}"))
            return
        marker = self.marker()
        percent = self.random.randint(1, 99)
        set_field(form, "week", week)
        set_field(form, "status", self.random.choice(("on_track", "at_risk", "delayed")))
        set_field(form, "percent_complete", str(percent))
        set_field(form, "done", marker)
        set_field(form, "problems", "Không có vấn đề — none")
        self._post(form, Write("log", (activity_id, week), marker, time.monotonic()))

    def actual(self):
        period_id, unit = self.random.choice(self.periods)
        # The period page holds the cell as a plain form (the grid's cells are bare inputs).
        page = self.client.call("GET", f"{self.plan.grid_url}/periods/{period_id}", "read")
        if page is None or page.status_code != 200:
            return
        form = find_form(page.text, f"/periods/{period_id}/actual")
        if form is None:
            return  # locked meanwhile (submitted or approved): nothing to write
        if unit == "percent":
            value = f"{self.random.randint(0, 99)}.{self.random.randint(0, 9999):04d}"
        else:
            value = str(self.n * 1_000_000 + self.seq)
        set_field(form, "value", value)
        self._post(form, Write("actual", (period_id,), value, time.monotonic()))

    def expenditure(self):
        page = self.client.call("GET", self.plan.expenditure_url, "read")
        if page is None or page.status_code != 200:
            return
        form = find_form(page.text, self.plan.expenditure_url)
        voucher = f"LT-{self.run_id[:6]}-{self.n:02d}-{self.seq}"
        lines = [value for value in form["options"].get("line_id", []) if value]
        set_field(form, "line_id", self.random.choice(lines))
        set_field(form, "spent_on", self.random.choice(self.plan.expenditure_dates))
        set_field(form, "amount", f"{self.random.randint(1, 9)}.{self.random.randint(0, 99):02d}")
        set_field(form, "payee", "Nhà hát Hoàng Cung, Huế")
        set_field(form, "voucher", voucher)
        set_field(form, "description", self.marker())
        set_field(form, "status", "committed")
        self._post(form, Write("expenditure", (voucher,), voucher, time.monotonic()))

    def _post(self, form: dict, item: Write):
        if time.monotonic() > self.client.deadline:
            raise Stop
        self.client.recorder.write(item)
        answer = self.client.call("POST", form["action"], "write", expect=(303,), data=form["fields"])
        if answer is not None:
            item.answered = time.monotonic()
            item.acked = answer.status_code == 303
            item.refused = answer.status_code in (409, 422)


class Reader:
    def __init__(self, number: int, plan: Plan, client: Client, think: float):
        self.n = number
        self.plan = plan
        self.client = client
        self.think = think
        self.random = random.Random(1000 + number)

    def run(self):
        email, role = self.plan.readers[self.n]
        if not self.client.login(email):
            self.client.recorder.add(Sample("login", time.monotonic(), 0, "error", "could not log in"))
            return
        pages = self.plan.pages_for[role]
        while True:
            self.client.call("GET", self.random.choice(pages), "read")
            time.sleep(self.random.uniform(0, 2 * self.think))


class Exporter:
    def __init__(self, number: int, plan: Plan, client: Client, think: float):
        self.n = number
        self.plan = plan
        self.client = client
        self.think = think

    def run(self):
        if not self.plan.exports:
            return
        if not self.client.login(self.plan.exporters[self.n]):
            self.client.recorder.add(Sample("login", time.monotonic(), 0, "error", "could not log in"))
            return
        while True:
            for url in self.plan.exports:
                self.client.call("GET", url, "export")
            time.sleep(self.think * 5)


def actor_thread(actor, delay: float) -> threading.Thread:
    def body():
        time.sleep(delay)  # people arrive over the first seconds, not all in the same instant
        try:
            actor.run()
        except Stop:
            pass
        except Exception as error:  # a bug in the harness must show, not hide
            actor.client.recorder.add(Sample("harness", time.monotonic(), 0, "error", repr(error)))
    return threading.Thread(target=body, daemon=True)


# --------------------------------------------------------------------------------------- server

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, env: dict, port: int, workers: int, threads: int, log: Path):
        self.env, self.port, self.workers, self.threads, self.log = env, port, workers, threads, log
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30) -> float:
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--worker-class", "gthread",
                 "--threads", str(self.threads), "--bind", f"{HOST}:{self.port}", "--timeout", "60",
                 "--graceful-timeout", "10", "--backlog", "256", os.environ.get("LOAD_WSGI_APP", "wsgi:app")],
                cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout} s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (the whole process group)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --------------------------------------------------------------------------------------- checks

def integrity(database: Path) -> str:
    connection = sqlite3.connect(database)
    try:
        return "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()[:5])
    finally:
        connection.close()


def check_writes(database: Path, writes: list[Write]) -> dict:
    """Every acknowledged write is in the database; no refused write is."""
    connection = sqlite3.connect(database)
    try:
        audited: dict[tuple[str, str], list[str]] = {}
        for table, _row_id, changes in connection.execute(
                "SELECT table_name, row_id, changes FROM audit_event "
                "WHERE table_name IN ('progress_log', 'indicator_period')"):
            for name, (_old, new) in json.loads(changes).items():
                if name in ("done", "actual"):
                    audited.setdefault((table, name), []).append(str(new))
        logged_done = set(audited.get(("progress_log", "done"), []))
        actual_values = {Decimal(v) for v in audited.get(("indicator_period", "actual"), []) if v != "None"}
        vouchers = {row[0] for row in connection.execute("SELECT voucher FROM expenditure")}
        current_logs = {(a, w): done for a, w, done in
                        connection.execute("SELECT activity_id, iso_week, done FROM progress_log")}
        current_actuals = {pid: actual for pid, actual in connection.execute("SELECT id, actual FROM indicator_period")}
    finally:
        connection.close()

    lost, landed_refused, stale = [], [], []
    last: dict[tuple, Write] = {}
    for item in sorted(writes, key=lambda w: w.sent):
        if item.kind == "log":
            present = item.value in logged_done
        elif item.kind == "actual":
            present = Decimal(item.value) in actual_values
        else:
            present = item.value in vouchers
        if item.acked and not present:
            lost.append(item)
        if item.refused and present and item.kind != "actual":
            landed_refused.append(item)
        if item.acked:
            last[(item.kind, item.key)] = item
    # The final value of each record is its last acknowledged write, or a write sent after it
    # whose answer was lost (cut by the kill).
    for (kind, key), item in last.items():
        later = {w.value for w in writes if w.kind == kind and w.key == key and w.sent >= item.sent and not w.refused}
        if kind == "log" and current_logs.get(key) not in later:
            stale.append(item)
        if kind == "actual":
            value = current_actuals.get(key[0])
            if value is None or Decimal(str(value)) not in {Decimal(v) for v in later}:
                stale.append(item)
    return {"lost": lost, "landed_refused": landed_refused, "stale": stale}


def audit_verify(env: dict) -> tuple[bool, str]:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "tracker", "audit", "verify"], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def report(recorder: Recorder, elapsed: float) -> int:
    samples = recorder.samples
    done = [s for s in samples if s.outcome != "cut"]
    errors = [s for s in samples if s.outcome == "error"]
    print(f"requests: {len(samples)} in {elapsed:.1f} s = {len(samples) / elapsed:.1f} requests/s")
    print(f"{'kind':8} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} "
          f"{'409s':>5} {'cut':>5}")
    for kind in ("all", "read", "write", "export", "login"):
        chosen = [s for s in samples if kind == "all" or s.kind == kind]
        if not chosen:
            continue
        times = sorted(s.seconds * 1000 for s in chosen if s.outcome != "cut")
        print(f"{kind:8} {len(chosen):7d} {percentile(times, .50):8.1f} {percentile(times, .95):8.1f} "
              f"{percentile(times, .99):8.1f} {(times[-1] if times else 0):8.1f} "
              f"{sum(s.outcome == 'error' for s in chosen):7d} {sum(s.outcome == 'conflict' for s in chosen):5d} "
              f"{sum(s.outcome == 'cut' for s in chosen):5d}")
    for sample in errors[:10]:
        print(f"  error: {sample.kind}: {sample.detail}")
    del done
    return len(errors)


# --------------------------------------------------------------------------------------- main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 60)))
    parser.add_argument("--kill", action="store_true", help="SIGKILL the server half-way and restart it")
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--exporters", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.25, help="mean pause between a person's actions (s)")
    parser.add_argument("--ramp", type=float, default=None,
                        help="people log in spread over this many seconds (default: a tenth of the run, at most 10)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server log)")
    args = parser.parse_args(argv)
    args.seconds = max(2.0, min(args.seconds, 3600.0))
    args.ramp = min(10.0, args.seconds / 10) if args.ramp is None else max(0.0, min(args.ramp, args.seconds / 2))

    workdir = Path(tempfile.mkdtemp(prefix="tracker-load-"))
    database = workdir / "tracker.sqlite3"
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(workdir), "TRACKER_DATABASE_URL": f"sqlite:///{database}",
           "TRACKER_SECRET_KEY": uuid.uuid4().hex, "TRACKER_UPLOAD_DIR": str(workdir / "evidence"),
           "TRACKER_LOGIN_MAX_FAILURES": "1000",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    server = Server(env, free_port(), args.workers, args.threads, workdir / "server.log")
    recorder = Recorder()
    failed = []
    try:
        plan = prepare(workdir, env, args)
        boot = server.start()
        print(f"Load test: gunicorn {args.workers} workers x {args.threads} threads (gthread) on SQLite, "
              f"{server.base}; {args.officers} officers, {args.readers} readers, {args.exporters} exporters; "
              f"{args.seconds:.0f} s{' with a SIGKILL half-way' if args.kill else ''}")
        writes = [k for k, on in (("weekly logs", plan.log_url), ("indicator actuals", plan.periods),
                                  ("expenditures", plan.expenditure_url)) if on]
        print(f"writes through the forms: {', '.join(writes) or 'none yet (no write endpoints)'}; "
              f"pages read: {len(set(sum(plan.pages_for.values(), [])))}; exports: {', '.join(plan.exports) or 'none'}"
              f"; server up in {boot:.1f} s")
        run_id = uuid.uuid4().hex[:8]
        started = time.monotonic()
        deadline = started + args.seconds
        actors = [Officer(i, plan, Client(server.base, recorder, deadline), run_id, args.think)
                  for i in range(args.officers)]
        actors += [Reader(j, plan, Client(server.base, recorder, deadline), args.think) for j in range(args.readers)]
        actors += [Exporter(k, plan, Client(server.base, recorder, deadline), args.think)
                   for k in range(args.exporters)]
        arrivals = random.Random(7)
        threads = [actor_thread(actor, arrivals.uniform(0, args.ramp)) for actor in actors]
        for thread in threads:
            thread.start()

        if args.kill:
            # Half-way, and not before some saves were answered (logins take a while on a small
            # machine), but at the latest at 80 % of the run so the restart is exercised too.
            time.sleep(max(0.0, started + args.seconds / 2 - time.monotonic()))
            while (sum(w.acked for w in recorder.writes) < KILL_AFTER_WRITES
                   and time.monotonic() < started + args.seconds * 0.8):
                time.sleep(0.1)
            window = [time.monotonic(), None]
            recorder.kill_windows.append(window)
            server.kill()
            acked_before = sum(w.acked for w in recorder.writes)
            state = integrity(database)
            print(f"SIGKILL at {window[0] - started:.1f} s with {acked_before} writes acknowledged; "
                  f"the database opens, integrity_check: {state}")
            if state != "ok":
                failed.append("integrity after the kill")
            restart = server.start()
            window[1] = time.monotonic() + 1.0  # answers in flight at restart still count as cut
            print(f"server restarted in {restart:.1f} s")

        for thread in threads:
            thread.join(timeout=args.seconds + REQUEST_TIMEOUT + 10)
        elapsed = time.monotonic() - started
        server.stop()

        errors = report(recorder, elapsed)
        if errors:
            failed.append(f"{errors} errors")
        outcome = check_writes(database, recorder.writes)
        acked = [w for w in recorder.writes if w.acked]
        by_kind = {kind: sum(w.kind == kind for w in acked) for kind in ("log", "actual", "expenditure")}
        refused = sum(w.refused for w in recorder.writes)
        unanswered = sum(not w.acked and not w.refused for w in recorder.writes)
        conflicts = {kind: sum(w.refused and w.kind == kind for w in recorder.writes)
                     for kind in ("log", "actual", "expenditure")}
        print(f"writes acknowledged: {len(acked)} (weekly logs {by_kind['log']}, actuals {by_kind['actual']}, "
              f"expenditures {by_kind['expenditure']}); refused as conflicts: {refused} "
              f"(logs {conflicts['log']}, actuals {conflicts['actual']}, expenditures {conflicts['expenditure']}); "
              f"unanswered (cut by the kill): {unanswered}")
        if recorder.kill_windows:
            killed_at = recorder.kill_windows[0][0]
            before = [w for w in acked if w.answered <= killed_at]
            lost_before = [w for w in outcome["lost"] if w.answered <= killed_at]
            print(f"acknowledged before the kill: {len(before)}, lost of those: {len(lost_before)}")
        print(f"lost acknowledged writes: {len(outcome['lost'])}; refused writes found in the database: "
              f"{len(outcome['landed_refused'])}; records not holding their last write: {len(outcome['stale'])}")
        for item in (outcome["lost"] + outcome["stale"])[:10]:
            print(f"  {item.kind} {item.key}: {item.value}")
        if outcome["lost"] or outcome["landed_refused"] or outcome["stale"]:
            failed.append("writes")
        state = integrity(database)
        print(f"integrity_check: {state}")
        if state != "ok":
            failed.append("integrity")
        ok, text = audit_verify(env)
        print(f"flask audit verify: {text}")
        if not ok:
            failed.append("audit chain")
        if not recorder.writes and (plan.log_url or plan.periods or plan.expenditure_url):
            failed.append("no writes were attempted")
    finally:
        server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    print("RESULT: " + ("PASS" if not failed else "FAIL (" + ", ".join(failed) + ")"))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
