"""Importing a workbook: the dry run writes nothing, applying changes targets and actuals in
one audited transaction, a new project can be created from the template, and every bad
input gets a clear message and changes nothing."""

import hashlib
import io
import os
import re
import zipfile
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import AuditEvent, BudgetLine, Indicator, IndicatorPeriod, Project


def digest() -> str:
    """Everything in the database, hashed: equal digests mean nothing was written."""
    value = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table).order_by(*table.primary_key.columns)):
            value.update(repr(tuple(row)).encode())
    db.session.rollback()
    return value.hexdigest()


def exported(client, project_id) -> bytes:
    response = client.get(f"/projects/{project_id}/export.xlsx")
    assert response.status_code == 200
    data = response.data
    response.close()  # the sent file is removed when the response closes
    return data


def saved(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@contextmanager
def nothing_written(app):
    """The block must leave the database as it found it (its digest is the same after)."""
    with app.app_context():
        before = digest()
    yield
    with app.app_context():
        assert digest() == before


def upload(client, url, data: bytes, name="workbook.xlsx", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data={"workbook": (io.BytesIO(data), name)}, content_type="multipart/form-data",
                       headers=headers)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    assert match, f"no hidden {name} in the page"
    return match.group(1)


def row_of(ws, code, start):
    for row in ws.iter_rows(min_row=2):
        value = row[4].value
        if row[0].value == code and value is not None and value.date() == start:
            return row
    raise AssertionError(f"no row for {code} {start}")


@pytest.fixture
def manager(client, auth, demo):
    auth.login("manager")
    return client


@pytest.fixture
def workbook_bytes(manager, demo):
    return exported(manager, demo)


def edited(workbook_bytes, edit) -> bytes:
    book = load_workbook(io.BytesIO(workbook_bytes))
    edit(book)
    return saved(book)


# --- Permissions ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["officer", "liaison", "auditor"])
def test_only_managers_and_admins_import(client, auth, demo, role, app):
    auth.login(role)
    assert client.get(f"/projects/{demo}/import").status_code == 403
    with nothing_written(app):
        assert upload(client, f"/projects/{demo}/import", b"anything").status_code == 403
        assert client.post(f"/projects/{demo}/import/apply",
                           data={"token": "0" * 32, "fingerprint": "0" * 64}).status_code == 403
        assert client.get("/imports/new-project").status_code == 403


def test_import_page_as_page_and_fragment(manager, demo):
    page = manager.get(f"/projects/{demo}/import")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<html" in text and 'id="import"' in text and 'type="file"' in text
    assert "/exports/logframe-template.xlsx" in text
    fragment = manager.get(f"/projects/{demo}/import", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="import"' in fragment


# --- Round trip, dry run, apply ---------------------------------------------------------------

def test_an_unchanged_export_imports_as_nothing_to_change(app, manager, demo, workbook_bytes):
    with nothing_written(app):
        response = upload(manager, f"/projects/{demo}/import", workbook_bytes)
        assert response.status_code == 200
        assert "Nothing to change" in response.get_data(as_text=True)


def _edit_targets(book):
    indicators = book["Indicators"]
    row = row_of(indicators, "1.1.b", date(2017, 1, 1))
    row[6].value = 5   # target 3 -> 5
    row[7].value = 4   # actual (blank) -> 4
    row_of(indicators, "1.1.a", date(2017, 7, 1))[6].value = 1  # a period the project no longer has
    logframe = book["Logframe"]
    for line in logframe.iter_rows(min_row=2):
        if line[1].value == "1.1.b":
            line[6].value = 14  # end target 12 -> 14


def _drop_period(app, code, start):
    """Remove a period after the export, so the workbook's row for it creates it again."""
    with app.app_context():
        indicator = db.session.execute(select(Indicator).where(Indicator.code == code)).scalar_one()
        period = next(p for p in indicator.periods if p.start_date == start)
        indicator.periods.remove(period)
        db.session.commit()


def _dry_run(app, client, demo, workbook_bytes, htmx=False):
    """Edit the targets, drop period 1.1.a 2017-07-01 and upload for a dry run: (the workbook,
    the dry-run page or fragment, the form that applies it)."""
    data = edited(workbook_bytes, _edit_targets)
    _drop_period(app, "1.1.a", date(2017, 7, 1))
    page = upload(client, f"/projects/{demo}/import", data, htmx=htmx).get_data(as_text=True)
    return data, page, {"token": hidden(page, "token"), "fingerprint": hidden(page, "fingerprint")}


def test_dry_run_lists_every_change_and_writes_nothing(app, manager, demo, workbook_bytes):
    data = edited(workbook_bytes, _edit_targets)
    _drop_period(app, "1.1.a", date(2017, 7, 1))
    with nothing_written(app):
        response = upload(manager, f"/projects/{demo}/import", data)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Indicator 1.1.b, period 2017-01-01 – 2017-06-30" in page
        assert "target: 3 → 5" in page and "actual: (blank) → 4" in page
        assert "end target: 12 → 14" in page
        assert "Indicator 1.1.a, period 2017-07-01 – 2017-12-31" in page and "new period: target 1" in page
        assert "Apply these 4 changes" in page


def test_apply_changes_targets_and_actuals_in_one_audited_transaction(app, manager, demo, workbook_bytes):
    data, page, form = _dry_run(app, manager, demo, workbook_bytes)
    with app.app_context():
        last_event = db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    response = manager.post(f"/projects/{demo}/import/apply", data=form)
    assert response.status_code == 303
    assert "Imported" in manager.get(response.location).get_data(as_text=True)
    with app.app_context():
        press = db.session.execute(select(Indicator).where(Indicator.code == "1.1.b")).scalar_one()
        assert press.target_value == 14
        period = next(p for p in press.periods if p.start_date == date(2017, 1, 1))
        assert (period.target, period.actual) == (5, 4)
        assert period.updated_by_id is not None
        assert period.version == 2  # the target and the actual in one save
        new = db.session.execute(select(IndicatorPeriod).join(Indicator).where(
            Indicator.code == "1.1.a", IndicatorPeriod.start_date == date(2017, 7, 1))).scalar_one()
        assert new.target == 1 and new.state == "draft"
        events = db.session.execute(select(AuditEvent).where(AuditEvent.project_id == demo,
                                                             AuditEvent.id > last_event)).scalars().all()
        actions = {(e.action, e.table_name) for e in events}
        assert ("import", "project") in actions
        assert ("update", "indicator_period") in actions and ("insert", "indicator_period") in actions
        assert ("update", "indicator") in actions
        assert all(e.actor_label == "manager@demo.test" for e in events), [(e.action, e.actor_label) for e in events]
        assert not list((Path(app.instance_path) / "imports").glob("*.xlsx"))
    # the same workbook again: nothing left to change
    again = upload(manager, f"/projects/{demo}/import", data)
    assert "Nothing to change" in again.get_data(as_text=True)


def test_apply_with_htmx_redirects_and_a_used_token_is_refused(app, manager, demo, workbook_bytes):
    _data, fragment, form = _dry_run(app, manager, demo, workbook_bytes, htmx=True)
    assert "<html" not in fragment and 'id="import"' in fragment
    response = manager.post(f"/projects/{demo}/import/apply", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith(f"/projects/{demo}/import")
    with nothing_written(app):
        again = manager.post(f"/projects/{demo}/import/apply", data=form)
        assert again.status_code == 409 and "no longer available" in again.get_data(as_text=True)


def test_apply_refuses_a_dry_run_the_project_has_moved_past(app, manager, demo, workbook_bytes):
    _data, page, form = _dry_run(app, manager, demo, workbook_bytes)
    with app.app_context():
        press = db.session.execute(select(Indicator).where(Indicator.code == "1.1.b")).scalar_one()
        next(p for p in press.periods if p.start_date == date(2017, 1, 1)).target = Decimal(99)
        db.session.commit()
        before = digest()
    response = manager.post(f"/projects/{demo}/import/apply", data=form)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "changed since the dry run" in text and "target: 99 → 5" in text
    with app.app_context():
        assert digest() == before


# --- Bad workbooks: a clear message, nothing written ------------------------------------------

def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


MINIMAL = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in MINIMAL.items():
            archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w") as handle:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(40):  # 40 MB of zeros, a few kB packed
                handle.write(chunk)
    return buffer.getvalue()


def _without_sheet(workbook_bytes):
    def edit(book):
        del book["Indicators"]
    return edited(workbook_bytes, edit)


def _without_column(workbook_bytes):
    def edit(book):
        book["Indicators"]["H1"].value = "Achieved"
    return edited(workbook_bytes, edit)


def _cell(code, start, column, value):
    def edit(book):
        row_of(book["Indicators"], code, start)[column].value = value
    return edit


BAD_FILES = {
    "ten megabytes of junk": (lambda wb: os.urandom(10 * 1024 * 1024), "junk.xlsx",
                              ["not an Excel workbook (.xlsx)"]),
    "a CSV file": (lambda wb: "Indicator code,Actual\n1.a,1\n".encode(), "figures.xlsx",
                   ["not an Excel workbook (.xlsx)", "CSV"]),
    "an old .xls file": (lambda wb: bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600, "old.xls",
                         ["old-format Excel file (.xls)"]),
    "a macro-enabled workbook by name": (lambda wb: wb, "figures.xlsm", ["macro-enabled workbook (.xlsm)"]),
    "a workbook with a VBA project": (lambda wb: _zip({**MINIMAL, "xl/vbaProject.bin": b"macro"}), "figures.xlsx",
                                      ["contains macros"]),
    "an OpenDocument spreadsheet": (lambda wb: _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                                     "content.xml": b"<x/>"}), "figures.xlsx", ["OpenDocument"]),
    "a zip bomb": (lambda wb: _zip_bomb(), "bomb.xlsx", ["zip bomb"]),
    "a zip with thousands of entries": (lambda wb: _zip({**MINIMAL, **{f"xl/media/{i}.bin": b"x" for i in range(2100)}}),
                                        "many.xlsx", ["zip bomb"]),
    "XML with a DTD": (lambda wb: _zip({**MINIMAL, "xl/worksheets/sheet1.xml":
                                        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]><w>&lol;</w>'}),
                       "dtd.xlsx", ["DTD"]),
    "a damaged zip": (lambda wb: wb[:2000], "cut.xlsx", ["damaged or not an Excel workbook"]),
    "a missing sheet": (_without_sheet, "figures.xlsx", ["Indicators", "the sheet “Indicators” is missing"]),
    "a missing column": (_without_column, "figures.xlsx", ["Indicators", "column “Actual” is missing"]),
    "a wrong type": (lambda wb: edited(wb, _cell("1.1.b", date(2017, 1, 1), 7, "lots")), "figures.xlsx",
                     ["<td>Indicators</td>", "H (Actual)", "The actual must be a number"]),
    "a date that is no date": (lambda wb: edited(wb, _cell("1.1.b", date(2017, 1, 1), 4, "soon")), "figures.xlsx",
                               ["E (Period start)", "The start date must be a date such as 2016-11-24."]),
    "an unknown code": (lambda wb: edited(wb, _cell("1.1.b", date(2017, 1, 1), 0, "9.z")), "figures.xlsx",
                        ["A (Indicator code)", "unknown indicator code “9.z”"]),
    "a formula where a value belongs": (lambda wb: edited(wb, _cell("1.1.b", date(2017, 1, 1), 7, "=2+2")),
                                        "figures.xlsx", ["H (Actual)", "holds a formula (=2+2)"]),
    "a yes/no indicator given 3": (lambda wb: edited(wb, _cell("1.a", date(2017, 1, 1), 7, 3)), "figures.xlsx",
                                   ["The actual must be yes or no (this indicator is yes/no)"]),
    "a change to an approved period": (lambda wb: edited(wb, _cell("1.1.b", date(2016, 1, 1), 7, 2)),
                                       "figures.xlsx", ["approved and locked"]),
    "another project's workbook": (lambda wb: edited(wb, lambda book: book["Summary"].cell(
        [r[0].value for r in book["Summary"].iter_rows()].index("Project code") + 1, 2, "OTHER-1")),
        "figures.xlsx", ["this workbook is for project “OTHER-1”"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_workbooks_get_a_clear_message_and_change_nothing(app, manager, demo, workbook_bytes, case):
    make, name, messages = BAD_FILES[case]
    data = make(workbook_bytes)
    with nothing_written(app):
        response = upload(manager, f"/projects/{demo}/import", data, name=name)
        assert response.status_code == 422, case
        page = response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")
        for message in messages:
            assert message in page, f"{case}: {message!r} not in the answer"
        assert "Apply these" not in page
    with app.app_context():
        imports = Path(app.instance_path) / "imports"
        assert not imports.exists() or not list(imports.glob("*.xlsx"))


def test_no_file_is_an_error_next_to_the_field(manager, demo):
    response = manager.post(f"/projects/{demo}/import", data={}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose the workbook to upload." in page and 'aria-invalid="true"' in page and "<html" not in page


def test_problems_name_sheet_row_and_column(app, manager, demo, workbook_bytes):
    def edit(book):
        row = row_of(book["Indicators"], "1.1.b", date(2017, 1, 1))
        row[7].value = "many"
        row_of(book["Indicators"], "1.1.a", date(2017, 1, 1))[6].value = "=1/0"
    data = edited(workbook_bytes, edit)
    book = load_workbook(io.BytesIO(data))
    number = row_of(book["Indicators"], "1.1.b", date(2017, 1, 1))[0].row
    response = upload(manager, f"/projects/{demo}/import", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "2 problems found" in page
    assert re.search(rf"<td>Indicators</td><td class=\"num\">{number}</td><td>H \(Actual\)</td>", page)


# --- A new project from the template ---------------------------------------------------------

def _filled_template(client, code="NEW-HUE-1") -> bytes:
    response = client.get("/exports/logframe-template.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    summary = book["Summary"]
    values = {"Project": "Dự án thử nghiệm ở Huế", "Project code": code, "Donor": "Korean Funds-in-Trust",
              "Grant": 50000, "Currency": "USD", "Start date": datetime(2020, 1, 1), "End date": datetime(2020, 12, 31),
              "Country (ISO code)": "VN", "Overall objective": "Strengthen creative hubs in Huế"}
    for row in summary.iter_rows(min_row=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    logframe = book["Logframe"]
    logframe.append(["Overall objective", "1", "Creative industries grow in Huế", None, None, None, None, None,
                     "Stable policy"])
    logframe.append(["Expected result", "1.1", "Hubs are supported", None, None, None, None, None, ""])
    logframe.append(["Indicator", "1.1.a", None, "Hubs supported", "Number", 0, 10, "Reports", None])
    logframe.append(["Output", "1.1.1", "Training delivered", None, None, None, None, None, None])
    logframe.append(["Activity", "A1", "Train hub managers in Hà Nội", None, None, None, None, None, None])
    book["Indicators"].append(["1.1.a", "Hubs supported", datetime(2020, 1, 1), datetime(2020, 6, 30), 5, 3, None])
    book["Budget"].append(["BL1", "Personnel", "5100", "Trainers", 30000, None, None])
    return saved(book)


def test_an_admin_creates_a_project_from_the_filled_template(app, client, auth):
    auth.login("admin")
    data = _filled_template(client)
    with nothing_written(app):
        page = upload(client, "/imports/new-project", data).get_data(as_text=True)
        assert "Project NEW-HUE-1" in page and "Indicator 1.1.a" in page and "Budget line BL1" in page
        assert "Activity A1" in page and "Apply these" in page
    response = client.post("/imports/new-project/apply",
                           data={"token": hidden(page, "token"), "fingerprint": hidden(page, "fingerprint")})
    assert response.status_code == 303
    with app.app_context():
        project = db.session.execute(select(Project).where(Project.code == "NEW-HUE-1")).scalar_one()
        assert response.location.endswith(f"/projects/{project.id}")
        assert project.title == "Dự án thử nghiệm ở Huế" and project.grant_cents == 50_000_00
        assert sorted(r.code for r in project.results) == ["1", "1.1", "1.1.1"]
        indicator = project.indicators[0]
        assert (indicator.code, indicator.target_value, indicator.result.code) == ("1.1.a", 10, "1.1")
        assert [(p.target, p.actual) for p in indicator.periods] == [(5, 3)]
        assert project.activities[0].result.code == "1.1.1"
        assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "import",
                                                           AuditEvent.project_id == project.id)).scalar_one()
    # the same code again is a problem, not a second project
    again = upload(client, "/imports/new-project", data)
    assert again.status_code == 422 and "exists already" in again.get_data(as_text=True)


def test_a_template_with_broken_logframe_is_refused(app, client, auth):
    auth.login("admin")

    def broken(book):
        book["Logframe"].append(["Output", "2.5.1", "An orphan output", None, None, None, None, None, None])
        book["Logframe"].append(["Indicator", "1.1.b", None, "Odd unit", "Litres", None, None, None, None])
        book["Indicators"].append(["7.q", None, datetime(2020, 1, 1), datetime(2020, 6, 30), 1, None, None])

    data = edited(_filled_template(client), broken)
    with nothing_written(app):
        response = upload(client, "/imports/new-project", data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "needs its parent result 2.5" in page and "unknown unit “Litres”" in page
        assert "unknown indicator code “7.q”" in page


# --- The cases: what the grid refuses, the import refuses, in the grid's words ---------

def _unlock(app, code, start):
    with app.app_context():
        indicator = db.session.execute(select(Indicator).where(Indicator.code == code)).scalar_one()
        period = next(p for p in indicator.periods if p.start_date == start)
        period.state = "draft"
        db.session.commit()


def _append_period(code, start, end, target=None, actual=None):
    def edit(book):
        sheet = book["Indicators"]
        headers = [cell.value for cell in sheet[1]]
        row = [None] * len(headers)
        for header, value in (("Indicator code", code), ("Period start", start), ("Period end", end),
                              ("Target", target), ("Actual", actual)):
            row[headers.index(header)] = value
        sheet.append(row)
    return edit


@pytest.mark.parametrize("case", ["negative count", "1,5 typed as text", "1e999999999 typed as text",
                                  "period in 1900", "period in 2099", "actual not its breakdown"])
def test_the_import_refuses_what_the_grid_refuses(app, manager, demo, workbook_bytes, case):
    edit, message = {
        "negative count": (_cell("1.1.a", date(2017, 1, 1), 7, -3),
                           "The actual cannot be negative: this indicator counts things"),
        "1,5 typed as text": (_cell("1.1.a", date(2017, 1, 1), 7, "1,5"), "could be read two ways"),
        "1e999999999 typed as text": (_cell("1.1.a", date(2017, 1, 1), 7, "1e999999999"), "The actual is too large."),
        "period in 1900": (_append_period("1.1.a", datetime(1900, 1, 1), datetime(1900, 6, 30), 1),
                           "A period must fall within the project period (2016-01-01 to 2017-12-31)."),
        "period in 2099": (_append_period("1.1.a", datetime(2099, 1, 1), datetime(2099, 6, 30), 1),
                           "A period must fall within the project period (2016-01-01 to 2017-12-31)."),
        "actual not its breakdown": (_cell("1.2.a", date(2016, 7, 1), 7, 5),
                                     "The breakdown by City adds up to 3, so the actual must be 3"),
    }[case]
    _unlock(app, "1.2.a", date(2016, 7, 1))
    data = edited(workbook_bytes, edit)
    with nothing_written(app):
        response = upload(manager, f"/projects/{demo}/import", data)
        page = response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")
        assert response.status_code == 422 and message in page, case
        assert "Apply these" not in page


def test_a_grouped_number_typed_as_text_is_read_as_on_the_page(app, manager, demo, workbook_bytes):
    data = edited(workbook_bytes, _cell("1.1.a", date(2017, 1, 1), 7, "1,250"))
    page = upload(manager, f"/projects/{demo}/import", data).get_data(as_text=True)
    assert "actual: (blank) → 1250" in page


def test_a_percentage_above_100_is_refused(app, manager, demo, other_project, workbook_bytes):
    with app.app_context():
        indicator = db.session.execute(select(Indicator).where(Indicator.code == "1.1.a")).scalar_one()
        indicator.unit = "percent"
        db.session.commit()
    data = edited(workbook_bytes, _cell("1.1.a", date(2017, 1, 1), 7, 250))
    response = upload(manager, f"/projects/{demo}/import", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "The actual must be from 0 to 100." in page
    assert re.search(r"<td>Indicators</td><td class=\"num\">\d+</td><td>H \(Actual\)</td>", page)


# --- Robustness: files the import must read whole or refuse clearly, never a 500 ---------------

def _patched(data: bytes, patch, parts=r"xl/worksheets/sheet\d+\.xml") -> bytes:
    """The same package with ``patch(xml bytes) -> bytes`` applied to the parts matching ``parts``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if re.fullmatch(parts, entry.filename):
                content = patch(content)
            target.writestr(entry.filename, content)
    return buffer.getvalue()


def test_a_sheet_declaring_a_smaller_dimension_is_read_whole(app, manager, demo, workbook_bytes):
    """openpyxl's read-only mode stops at a sheet's declared <dimension>; the import must not."""
    def edit(book):
        indicators = book["Indicators"]
        row_of(indicators, "1.2.b", date(2017, 7, 1))[6].value = 1  # a row far below the declared end
    data = edited(workbook_bytes, edit)
    small = _patched(data, lambda xml: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:B2"/>', xml))
    assert small != data
    page = upload(manager, f"/projects/{demo}/import", small).get_data(as_text=True)
    assert "Indicator 1.2.b, period 2017-07-01 – 2017-12-31" in page and "target: (blank) → 1" in page


def test_malformed_sheet_xml_is_refused_clearly(app, manager, demo, workbook_bytes):
    broken = _patched(workbook_bytes, lambda xml: xml.replace(b"</sheetData>", b"</sheetDat>"))
    with nothing_written(app):
        response = upload(manager, f"/projects/{demo}/import", broken)
        assert response.status_code == 422
        assert "could not be read" in response.get_data(as_text=True)


@pytest.mark.parametrize("part", ["docProps/core.xml", "xl/workbook.xml", "xl/styles.xml", "xl/worksheets/sheet3.xml",
                                  "xl/_rels/workbook.xml.rels"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_doctype_anywhere_in_any_part_is_refused(app, manager, demo, workbook_bytes, part, encoding):
    def patch(xml: bytes) -> bytes:
        declaration = '<!DOCTYPE x [<!ENTITY big "big">]>'.encode(encoding)
        if encoding == "utf-16":
            declaration = declaration[2:]  # no second byte-order mark in the middle
            return xml.decode("utf-8").encode("utf-16")[:-2] + declaration + "\n".encode("utf-16")[2:]
        return xml + b" " * 10_000 + declaration  # far past the first few kilobytes
    assert part in zipfile.ZipFile(io.BytesIO(workbook_bytes)).namelist()
    data = _patched(workbook_bytes, patch, re.escape(part))
    response = upload(manager, f"/projects/{demo}/import", data)
    assert response.status_code == 422 and "DTD" in response.get_data(as_text=True)


def test_absurd_numbers_in_number_cells_get_a_clear_answer(app, manager, demo, workbook_bytes):
    data = edited(workbook_bytes, _cell("1.1.a", date(2017, 1, 1), 7, 123456789))
    infinite = _patched(data, lambda xml: xml.replace(b"<v>123456789</v>", b"<v>1e999999999</v>"))
    assert infinite != data
    response = upload(manager, f"/projects/{demo}/import", infinite)
    assert response.status_code == 422 and "The actual is too large." in response.get_data(as_text=True)
    endless = _patched(data, lambda xml: xml.replace(b"<v>123456789</v>", b"<v>" + b"9" * 5000 + b"</v>"))
    response = upload(manager, f"/projects/{demo}/import", endless)
    assert response.status_code == 422 and "could not be read" in response.get_data(as_text=True)


def test_an_entry_larger_than_its_directory_says_is_refused(app, manager, demo, workbook_bytes):
    from tracker.imports.package import ImportRefused, check_package

    source = zipfile.ZipFile(io.BytesIO(workbook_bytes))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target:
        for entry in source.infolist():
            target.writestr(entry.filename, source.read(entry))
    data = bytearray(buffer.getvalue())
    # Lower the declared size of [Content_Types].xml in the central directory only.
    name = b"[Content_Types].xml"
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    declared = int.from_bytes(data[at + 24:at + 28], "little")
    data[at + 24:at + 28] = (declared - 10).to_bytes(4, "little")
    with pytest.raises(ImportRefused):
        check_package(bytes(data), "odd.xlsx")


# --- A new project obeys every rule of one made by hand ---------------------------------------

def _with_allocations(rows):
    def edit(book):
        sheet = book.create_sheet("Allocations")
        sheet.append(["Budget line", "Activity", "Share (%)"])
        for row in rows:
            sheet.append(row)
    return edit


def test_a_new_project_stays_within_its_grant(app, client, auth):
    auth.login("admin")
    data = edited(_filled_template(client), lambda book: book["Budget"].append(
        ["BL2", "Travel", "5200", "Flights to Huế", 30000, None, None]))
    with nothing_written(app):
        response = upload(client, "/imports/new-project", data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert re.search(r"<td>Budget</td><td class=\"num\">3</td><td>E \(Original budget\)</td><td>Budget lines would "
                         r"total USD 60,000.00, USD 10,000.00 above the grant of USD 50,000.00.</td>", page), page


@pytest.mark.parametrize("fact, value, message", [
    ("Grant", "1,5", "could be read two ways"),
    ("Grant", -5, "The grant must be more than zero."),
    ("Currency", "XYZ", "The currency must be an ISO 4217 code"),
    ("End date", datetime(2019, 1, 1), "The project ends (2019-01-01) before it starts (2020-01-01)."),
    ("Start date", "1899-12-31", "The start date must be between 1900 and 2100."),
])
def test_a_new_projects_facts_follow_the_shared_rules(app, client, auth, fact, value, message):
    auth.login("admin")

    def edit(book):
        for row in book["Summary"].iter_rows(min_row=2):
            if row[0].value == fact:
                row[1].value = value
    response = upload(client, "/imports/new-project", edited(_filled_template(client), edit))
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422 and message in page and "<td>Summary</td>" in page


def test_a_new_projects_allocations_go_through_the_budget_rule(app, client, auth):
    auth.login("admin")
    refused = edited(_filled_template(client), _with_allocations([["BL1", "A1", 150]]))
    response = upload(client, "/imports/new-project", refused)
    page = response.get_data(as_text=True)
    # the budget page's own words for the share of A1 (whatever they are), on the Share cell
    assert response.status_code == 422
    assert re.search(r"<td>Allocations</td><td class=\"num\">2</td><td>C \(Share \(%\)\)</td><td>[^<]*A1[^<]*100[^<]*</td>",
                     page), page
    accepted = edited(_filled_template(client, code="NEW-HUE-2"), _with_allocations([["BL1", "A1", "40"]]))
    page = upload(client, "/imports/new-project", accepted).get_data(as_text=True)
    assert "Allocation BL1 → A1" in page and "40% of BL1" in page
    response = client.post("/imports/new-project/apply",
                           data={"token": hidden(page, "token"), "fingerprint": hidden(page, "fingerprint")})
    assert response.status_code == 303
    with app.app_context():
        project = db.session.execute(select(Project).where(Project.code == "NEW-HUE-2")).scalar_one()
        activity = project.activities[0]
        line = db.session.execute(select(BudgetLine).where(BudgetLine.project_id == project.id)).scalar_one()
        assert [(a.activity_id, a.percent) for a in line.allocations] == [(activity.id, Decimal(40))]
