"""Hypothesis throws random input at every form: never a 500, and a refusal changes nothing.

Each form is opened the way a user opens it (GET its page, read the form's fields, including
prefixed names and the hidden version), then posted with every field replaced by something
drawn at random: text in any script, control characters, NUL, huge strings, numbers of any
size (NaN, infinity, exponents), odd dates and weeks, formula-looking text, several values
for one field, or the field left out; half the time as htmx. The answer must never be a
server error, and when the request is refused (any 4xx) no table may have changed: the row
count of every table and the audit trail (which records every change to a tracked row) are
compared before and after. Logging in is the one refusal that writes on purpose (the failed
attempt is kept for throttling and in the trail); there only those two tables may change.

The import (a workbook upload) gets random bytes and broken workbooks the same way.

Dates (years 1 to 9999 and malformed ones), codes and uploaded file names are drawn on their
own too: each is refused without a change or kept, and afterwards every GET page of the
project that answered 200 before (tests/route_args.py's URLs, the exports included) still does,
and a kept file downloads with a safe Content-Disposition.
"""

import io
import os
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bench.html_forms import find_form
from tests.conftest import DEMO_PASSWORDS
from tracker.extensions import db
from tracker.models import (
    Activity,
    BudgetLine,
    Dimension,
    EvidenceItem,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    User,
)

EXAMPLES = 30
# On CI the examples are derived from each test's source (the same every run), so a landing
# never hangs on a newly drawn case; run locally, the fuzzer draws new cases every time.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MISSING = object()

NASTY = [
    "", " ", "0", "-1", "-0", "00", "1e309", "-1e309", "NaN", "nan", "inf", "-Infinity", "1e-30", "9" * 40,
    "1,000.50", "1.000,50", "12.345678", "0x1F", "½", "٣", "१२", "1_000", "+5", "5%", "100%", "101%",
    "2016-02-30", "2016-13-01", "0000-00-00", "9999-12-31", "2016-W53", "2016-W00", "2017-W99", "W47",
    "yes", "no", "true", "None", "null", "undefined", "[]", "{}", "'; DROP TABLE project; --",
    "=HYPERLINK(\"http://x\",\"y\")", "+SUM(A1)", "@cmd", "-2+3", "\t=1", "\r=1",
    "Hà Nội", "Quyết định 1755/QĐ-TTg", "Thừa Thiên Huế", "\u202eevil", "\ufeffbom", "a\u0000b", "\u0000",
    "<script>alert(1)</script>", "\" onmouseover=\"x", "../../etc/passwd", "%00", "\\", "😀" * 50,
    "x" * 5000, "ꦲꦤꦕꦫꦏ", "\n\n\n", "  trailing  ",
]
HUGE = ["x" * 100_000, "9" * 100_000, "Huế " * 30_000]


def field_values(options: list[str]):
    choices = [
        st.just(MISSING),
        st.sampled_from(NASTY),
        st.text(max_size=60),
        st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.lists(st.sampled_from(NASTY), min_size=2, max_size=3),
        st.sampled_from(HUGE),
    ]
    if options:
        choices.append(st.sampled_from(options))
    return st.one_of(*choices)


@dataclass
class FormCase:
    name: str
    role: str | None
    page: str      # may hold {project}, {activity}, {period}, {indicator}, {line}, {expenditure}, {evidence}, {user}
    action: str    # the end of the form's action
    writes_when_refused: frozenset = frozenset()
    valid: tuple = ()  # (field name or its end, value): with the page's own values, a request that is accepted


FORMS = [
    FormCase("login", None, "/login", "/login", frozenset({"login_attempt", "audit_event"}),
             (("email", "officer@demo.test"), ("password", "demo-officer-pass"))),
    FormCase("members", "manager", "/projects/{project}/members", "/members", valid=(("email", "admin@demo.test"),)),
    FormCase("weekly log", "officer", "/projects/{project}/activities/{activity}/log?week=2016-W48",
             "/activities/{activity}/log", valid=(("status", "on_track"), ("percent_complete", "40"),
                                                 ("done", "Họp ở Huế"))),
    FormCase("new activity", "manager", "/projects/{project}/activities/new", "/activities/new",
             valid=(("code", "A9.1"), ("title", "Tập huấn ở Hà Nội"))),
    FormCase("edit activity", "manager", "/projects/{project}/activities/{activity}/edit",
             "/activities/{activity}/edit"),
    FormCase("indicator actual", "officer", "/projects/{project}/indicators/periods/{period}", "/periods/{period}/actual",
             valid=(("value", "yes"),)),
    FormCase("indicator target", "manager", "/projects/{project}/indicators/periods/{period}", "/periods/{period}/target",
             valid=(("value", "yes"),)),
    FormCase("breakdown", "officer", "/projects/{project}/indicators/periods/{split_period}",
             "/periods/{split_period}/breakdown"),
    FormCase("period dates", "manager", "/projects/{project}/indicators/periods/{period}", "/periods/{period}/dates"),
    FormCase("thresholds", "manager", "/projects/{project}/indicators", "/indicators/thresholds"),
    # The demo's periods fill the whole project period, so no new one can be valid here.
    FormCase("add period", "manager", "/projects/{project}/indicators/{indicator}", "/indicators/{indicator}/periods",
             valid=None),
    FormCase("add dimension", "manager", "/projects/{project}/indicators/{indicator}",
             "/indicators/{indicator}/dimensions", valid=(("name", "Giới tính"), ("categories", "Nam; Nữ"))),
    # The demo's lines use the whole grant, so no new line can be valid here.
    FormCase("new budget line", "manager", "/projects/{project}/budget/lines/new", "/budget/lines/new",
             valid=None),
    FormCase("edit budget line", "manager", "/projects/{project}/budget/lines/{line}/edit",
             "/budget/lines/{line}/edit"),
    FormCase("allocations", "manager", "/projects/{project}/budget/lines/{line}/allocations",
             "/budget/lines/{line}/allocations"),
    FormCase("new expenditure", "officer", "/projects/{project}/expenditures/new", "/expenditures/new",
             valid=(("line_id", "1"), ("spent_on", "2016-11-24"), ("amount", "12.50"), ("voucher", "FZ-1"),
                    ("payee", "Khách sạn Huế"))),
    FormCase("edit expenditure", "officer", "/projects/{project}/expenditures/{expenditure}/edit",
             "/expenditures/{expenditure}/edit"),
    FormCase("new evidence", "officer", "/projects/{project}/evidence/new", "/evidence/new",
             valid=(("title", "Danh sách tham dự"), ("url", "https://example.org/x"), ("dated", "2016-11-24"))),
    FormCase("edit evidence", "officer", "/projects/{project}/evidence/{evidence}/edit", "/evidence/{evidence}/edit"),
    FormCase("review evidence", "auditor", "/projects/{project}/evidence/{evidence}", "/evidence/{evidence}/review",
             valid=(("decision", "queried"), ("note", "Thiếu chữ ký"))),
    FormCase("create user", "admin", "/admin/users", "/admin/users",
             valid=(("email", "new@demo.test"), ("name", "Đỗ Minh"), ("password", "a-long-password"),
                    ("confirm", "a-long-password"))),
    FormCase("set password", "admin", "/admin/users/{user}/password", "/admin/users/{user}/password",
             valid=(("password", "a-long-password"), ("confirm", "a-long-password"))),
]


def demo_ids(app, project_id: int) -> dict:
    def first(column, *where):
        return db.session.execute(select(column).where(*where).order_by(column).limit(1)).scalar()

    with app.app_context():
        ids = {
            "project": project_id,
            "activity": first(Activity.id, Activity.project_id == project_id, Activity.code == "A1.1"),
            "period": first(IndicatorPeriod.id, IndicatorPeriod.project_id == project_id,
                            IndicatorPeriod.state == "draft"),
            "split_period": first(IndicatorPeriod.id, IndicatorPeriod.project_id == project_id,
                                  IndicatorPeriod.state == "draft",
                                  IndicatorPeriod.indicator_id.in_(select(Dimension.indicator_id))),
            "indicator": first(Indicator.id, Indicator.project_id == project_id),
            "line": first(BudgetLine.id, BudgetLine.project_id == project_id),
            "expenditure": first(Expenditure.id, Expenditure.project_id == project_id),
            "evidence": first(EvidenceItem.id, EvidenceItem.project_id == project_id),
            "user": first(User.id, User.email == "liaison@demo.test"),
        }
        db.session.remove()
    return ids


def snapshot(app) -> dict:
    """Row counts of every table (the audit trail's count catches every change to tracked rows)."""
    with app.app_context():
        counts = {table.name: db.session.execute(select(func.count()).select_from(table)).scalar()
                  for table in db.metadata.sorted_tables}
        db.session.remove()
    return counts


def login(app, role):
    client = app.test_client()
    if role:
        email, password = DEMO_PASSWORDS[role]
        assert client.post("/login", data={"email": email, "password": password}).status_code == 303
    return client


def open_form(client, case: FormCase, ids: dict) -> dict:
    page = case.page.format(**ids)
    response = client.get(page)
    assert response.status_code == 200, f"{case.name}: {page} answered {response.status_code}"
    form = find_form(response.get_data(as_text=True), case.action.format(**ids))
    assert form is not None, f"{case.name}: no form posting to {case.action.format(**ids)} on {page}"
    return form


def check(app, client, form, data, htmx, writes_when_refused, name):
    before = snapshot(app)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(form["action"], data=data, headers=headers)
    status = response.status_code
    assert status < 500, f"{name}: {status} for {data!r:.500}"
    if status >= 400:
        after = snapshot(app)
        changed = {t for t in before if before[t] != after[t]} - writes_when_refused
        assert not changed, f"{name}: refused with {status} but changed {sorted(changed)} for {data!r:.300}"
    return status


def baseline(form: dict, case: FormCase) -> dict:
    """The form as the page filled it, with the case's valid values: a request that should pass."""
    data = {name: value for name, value in form["fields"].items()}
    for end, value in case.valid or ():
        name = next((n for n in data.keys() | form["options"].keys() if n == end or n.endswith("-" + end)), end)
        data[name] = value
    return data


@pytest.mark.parametrize("case", FORMS, ids=[case.name for case in FORMS])
def test_random_input_never_breaks_a_form(app, demo, case):
    """Half the examples change every field; half start from a valid request and spoil 1-3 fields."""
    ids = demo_ids(app, demo)
    client = login(app, case.role)
    current = {"form": open_form(client, case, ids)}
    form = current["form"]
    names = sorted(form["fields"].keys() | form["options"].keys())
    assert names, f"{case.name}: the form has no fields"
    statuses = []
    values = st.fixed_dictionaries({name: field_values(form["options"].get(name, [])) for name in names})

    @FUZZ
    @given(everything=values, spoil=st.sets(st.sampled_from(names), min_size=1, max_size=3),
           all_random=st.booleans(), htmx=st.booleans())
    def fuzz(everything, spoil, all_random, htmx):
        form = current["form"]
        if all_random:
            data = {name: value for name, value in everything.items() if value is not MISSING}
        else:
            data = baseline(form, case)
            for name in spoil:
                if everything[name] is MISSING:
                    data.pop(name, None)
                else:
                    data[name] = everything[name]
        if case.role and "csrf_token" in form["fields"]:
            data["csrf_token"] = form["fields"]["csrf_token"]  # CSRF is its own test; keep the token real
        status = check(app, client, form, data, htmx, case.writes_when_refused, case.name)
        statuses.append(status)
        if status < 400 and case.role:  # saved: the next example starts from the new version
            current["form"] = open_form(client, case, ids)

    fuzz()
    assert len(statuses) == EXAMPLES and any(400 <= s < 500 for s in statuses), \
        f"{case.name}: nothing was ever refused ({sorted(set(statuses))}); the fuzzing missed the form"


def test_the_valid_baselines_are_accepted(app, demo):
    """Proves the fuzzing starts from requests that work (else it never reaches the save)."""
    ids = demo_ids(app, demo)
    refused = []
    for case in FORMS:
        if case.valid is None:
            continue  # no valid request exists for it on the demo (said where the case is defined)
        client = login(app, case.role)
        form = open_form(client, case, ids)
        status = client.post(form["action"], data=baseline(form, case)).status_code
        if status >= 400:
            refused.append(f"{case.name}: {status}")
    assert refused == []


def test_random_query_strings_never_break_a_page(app, demo):
    ids = demo_ids(app, demo)
    client = login(app, "manager")
    auditor = login(app, "auditor")
    pages = [f"/projects/{demo}/week", f"/projects/{demo}/activities", f"/projects/{demo}/indicators",
             f"/projects/{demo}/expenditures", f"/projects/{demo}/evidence", f"/projects/{demo}/budget",
             f"/projects/{demo}/audit", f"/projects/{demo}/activities/{ids['activity']}/log"]
    keys = ["week", "page", "result", "line", "q", "kind", "state", "from", "to", "table", "actor", "action",
            "sort", "context", "page_week", "review", "linked"]

    @FUZZ
    @given(page=st.sampled_from(pages), params=st.dictionaries(st.sampled_from(keys), st.sampled_from(NASTY)
                                                              | st.text(max_size=30), max_size=4),
           as_auditor=st.booleans())
    def fuzz(page, params, as_auditor):
        response = (auditor if as_auditor else client).get(page, query_string=params)
        assert response.status_code < 500, f"{page} {params!r}: {response.status_code}"

    fuzz()


def _workbook_bytes(cells: list[tuple[str, str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheet = book.active
    for reference, value in cells:
        sheet[reference] = ILLEGAL_CHARACTERS_RE.sub("", value)  # what a real workbook can hold
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_random_files_never_break_the_import(app, demo):
    """The import's first step is a dry run: whatever the file, it answers and changes nothing."""
    client = login(app, "manager")
    response = client.get(f"/projects/{demo}/import")
    assert response.status_code == 200, f"the import page answered {response.status_code}"
    form = find_form(response.get_data(as_text=True), f"/projects/{demo}/import")
    assert form is not None, "no import form"
    file_field = "file"
    import re

    match = re.search(r'<input[^>]*type="file"[^>]*name="([^"]+)"|<input[^>]*name="([^"]+)"[^>]*type="file"',
                      response.get_data(as_text=True))
    if match:
        file_field = match.group(1) or match.group(2)
    statuses = []
    cell = st.tuples(st.sampled_from(["A1", "A2", "B2", "C3", "D10", "A1000"]),
                     st.sampled_from(NASTY) | st.text(max_size=40))

    @FUZZ
    @given(content=st.one_of(st.binary(max_size=2000), st.lists(cell, max_size=8).map(_workbook_bytes),
                             st.just(b"PK\x03\x04" + b"\x00" * 100), st.just(b"")),
           name=st.sampled_from(["logframe.xlsx", "Báo cáo Huế.xlsx", "x.csv", "../../x.xlsx", ""]))
    def fuzz(content, name):
        data = dict(form["fields"])
        data[file_field] = (io.BytesIO(content), name)
        before = snapshot(app)
        statuses.append(check(app, client, form, data, False, frozenset(), "import"))
        assert snapshot(app) == before, "a dry run of the import changed the database"

    fuzz()
    assert any(400 <= s < 500 for s in statuses), f"the import never refused anything: {sorted(set(statuses))}"


@pytest.mark.parametrize("case", FORMS, ids=[case.name for case in FORMS])
def test_a_nul_character_in_any_field_is_refused_cleanly(app, demo, case):
    """U+0000 cannot be stored in PostgreSQL text: every field of every form, one at a time."""
    ids = demo_ids(app, demo)
    client = login(app, case.role)
    form = open_form(client, case, ids)
    for name in sorted(form["fields"].keys() | form["options"].keys()):
        if name == "csrf_token":
            continue
        data = baseline(form, case)
        data[name] = "Huế\x00"
        status = check(app, client, form, data, False, case.writes_when_refused, case.name)
        assert status == 400, f"{case.name}: a NUL in {name} answered {status}"
    assert client.get(f"/projects/{demo}/audit", query_string={"q": "a\x00b"}).status_code in (400, 403, 302)


# --- dates, codes and file names: refused or kept, every page still answers -------------------

ANY_DATE = st.one_of(
    st.dates().map(date.isoformat),  # years 1 to 9999
    st.dates(min_value=date(1890, 1, 1), max_value=date(2110, 12, 31)).map(date.isoformat),
    st.sampled_from(["2016-02-29", "2017-02-29", "1899-12-31", "1900-01-01", "2100-12-31", "2101-01-01",
                     "10000-01-01", "-2016-01-01", "2016-1-1", "20161124", "24/11/2016", "2016-11-24T25:00",
                     "2016-11-24 ", "２０１６-１１-２４", "9999-12-15"]),
)
CODE = st.one_of(st.text(max_size=30), st.sampled_from(NASTY),
                 st.sampled_from(['A"1', "A1\nA2", "Hoạt động 1", "A1;", "A/1", "A\\1", "=A1", "A\u202e1", "A²", "A1.²",
                                  "A٣", "A1.10.²"]))
FILE_NAME = st.one_of(
    st.text(max_size=80).map(lambda text: text + ".pdf"),
    st.sampled_from(['Báo cáo "cuối kỳ".pdf', "report\r\nSet-Cookie: x=1.pdf", "..pdf", ".pdf", "a" * 300 + ".pdf",
                     "evil\u202efdp.pdf", "C:\\Users\\x\\bad.pdf", "../../etc/passwd.pdf", "%2e%2e%2f.pdf",
                     "Hội thảo Huế – Đà Nẵng.pdf", "\x00.pdf", " .pdf"]),
)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"

# (case, the field typed, what is drawn for it)
TYPED = [
    ("new expenditure", "spent_on", ANY_DATE),
    ("edit expenditure", "spent_on", ANY_DATE),
    ("new evidence", "dated", ANY_DATE),
    ("edit activity", "planned_end", ANY_DATE),
    ("period dates", "end_date", ANY_DATE),
    ("new activity", "code", CODE),
    ("new activity", "planned_start", ANY_DATE),
    ("weekly log", "week", st.one_of(st.sampled_from(NASTY), st.text(max_size=12),
                                     st.integers(0, 10_050).map(lambda year: f"{year}-W01"))),
]


_FRESH_DEMO_PAGES: dict[tuple, dict[str, int]] = {}


def _fresh_demo_pages(app, client, demo) -> dict[str, int]:
    """What every project page answers the admin on a freshly loaded demo: the same for each
    test (each gets a new app with the same demo), so it is read once per test process."""
    key = (demo, app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0])
    if key not in _FRESH_DEMO_PAGES:
        _FRESH_DEMO_PAGES[key] = _project_pages(app, client, demo)
    return _FRESH_DEMO_PAGES[key]


def _project_pages(app, client, demo) -> dict[str, int]:
    from tests.test_extreme_values import _project_get_urls

    answers = {}
    for url in _project_get_urls(app, demo):
        response = client.get(url)
        answers[url] = response.status_code
        response.close()
    return answers


@pytest.mark.parametrize("case_name, field, drawn", TYPED, ids=[f"{c}-{f}" for c, f, _ in TYPED])
def test_random_dates_and_codes_are_refused_or_kept_and_every_page_still_answers(app, demo, case_name, field, drawn):
    case = next(c for c in FORMS if c.name == case_name)
    ids = demo_ids(app, demo)
    client = login(app, case.role)
    admin = login(app, "admin")
    before = _fresh_demo_pages(app, admin, demo)
    current = {"form": open_form(client, case, ids)}

    @FUZZ
    @given(value=drawn, htmx=st.booleans())
    def fuzz(value, htmx):
        form = current["form"]
        data = baseline(form, case)
        name = next((n for n in data.keys() | form["options"].keys() if n == field or n.endswith("-" + field)), field)
        data[name] = value
        if case.name in ("new expenditure", "new activity"):  # each accepted example makes a new row
            data[next(n for n in data if n == "voucher" or n.endswith("-voucher"))
                 if case.name == "new expenditure" else name if field == "code" else
                 next(n for n in data if n.endswith("code"))] = (
                value if field == "code" else f"FZ-{abs(hash(value)) % 10**9}")
        status = check(app, client, form, data, htmx, case.writes_when_refused, case.name)
        if status < 400:
            current["form"] = open_form(client, case, ids)

    fuzz()
    after = _project_pages(app, admin, demo)
    broken = {url: (before[url], status) for url, status in after.items() if before.get(url) == 200 and status != 200}
    assert broken == {}, f"{case_name}: pages that answered 200 no longer do: {broken}"
    assert all(status < 500 for status in after.values()), after


def test_random_file_names_are_kept_safely_and_download_with_a_safe_header(app, demo):
    case = next(c for c in FORMS if c.name == "new evidence")
    ids = demo_ids(app, demo)
    client = login(app, case.role)
    admin = login(app, "admin")
    before = _fresh_demo_pages(app, admin, demo)
    items = []

    @FUZZ
    @given(name=FILE_NAME)
    def fuzz(name):
        form = open_form(client, case, ids)
        data = baseline(form, case)
        data["file"] = (io.BytesIO(PDF), name)
        snapshot_before = snapshot(app)
        response = client.post(form["action"], data=data, content_type="multipart/form-data")
        assert response.status_code < 500, f"{name!r}: {response.status_code}"
        if response.status_code >= 400:
            assert snapshot(app) == snapshot_before, f"{name!r}: refused but changed the database"
            return
        location = response.headers["Location"]
        with app.app_context():
            kept = db.session.get(EvidenceItem, int(location.rsplit("/", 1)[1])).file_id is not None
            db.session.remove()
        if not kept:  # the test client cannot send a line break in a part's file name: no file arrived
            return
        download = client.get(location + "/file")
        assert download.status_code == 200, f"{name!r}: the download answered {download.status_code}"
        disposition = download.headers["Content-Disposition"]
        assert disposition.isascii() and "\n" not in disposition and "\r" not in disposition
        assert disposition.count('"') == 2 and "filename*=UTF-8''" in disposition
        download.close()
        items.append(location)

    fuzz()
    assert items, "no file name was ever accepted: the fuzzing missed the download"
    after = _project_pages(app, admin, demo)
    assert {url for url, status in after.items() if before.get(url) == 200 and status != 200} == set()
