"""Exports in English, Vietnamese or both, read back with openpyxl: header words, sheet titles,
status words, number formats on numeric cells, values that stay numbers and dates, the
workbook's language mark, the CSV, the background job and the import of a Vietnamese export.

The Vietnamese words come from the app's own catalogue (tracker/translations/vi, compiled by
``make translations``).
"""

import csv
import io
import re
from datetime import date, datetime

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook

from tracker.exports import jobs
from tracker.exports.language import names_of, workbook_language
from tracker.imports.sheets import workbook_locale


@pytest.fixture
def vi_catalogue(app):
    """The app, reading the project's own compiled Vietnamese catalogue (make translations)."""
    return app


def workbook(client, demo, lang=None, read_only=False):
    response = client.get(f"/projects/{demo}/export.xlsx", query_string={"lang": lang} if lang else None)
    assert response.status_code == 200
    return response, load_workbook(io.BytesIO(response.data), read_only=read_only)


def header(ws) -> list[str]:
    return [cell.value for cell in next(ws.iter_rows(min_row=1, max_row=1))]


def column(ws, title: str) -> list:
    """The cells below the header ``title`` down to the end of the table."""
    index = header(ws).index(title)
    return [row[index] for row in ws.iter_rows(min_row=2) if row[0].value not in (None,)]


def test_english_is_the_default_and_marked(client, auth, demo, vi_catalogue):
    auth.login("liaison")
    response, book = workbook(client, demo)
    assert "Budget" in book.sheetnames and "Expenditures" in book.sheetnames
    assert header(book["Expenditures"])[:3] == ["Voucher", "Date", "Budget line"]
    assert workbook_language(book) == "en" and book.properties.language == "en"
    assert "_vi" not in response.headers["Content-Disposition"]


def vi(app, msgid: str) -> str:
    """The catalogue's Vietnamese for ``msgid`` (it must have one: the export is really translated)."""
    with app.test_request_context(), force_locale("vi"):
        text = gettext(msgid)
    assert text != msgid, f"no Vietnamese for {msgid!r}"
    return text


def both(app, msgid: str) -> str:
    return f"{vi(app, msgid)} / {msgid}"


def test_vietnamese_workbook_headers_labels_and_formats(client, auth, demo, vi_catalogue):
    app = vi_catalogue
    auth.login("liaison")
    response, book = workbook(client, demo, "vi")
    assert "_vi.xlsx" in response.headers["Content-Disposition"]
    for title in ("Summary", "Logframe", "Indicators", "Budget", "Expenditures"):
        assert vi(app, title) in book.sheetnames
    assert workbook_language(book) == "vi" and workbook_locale(book) == "vi"  # the import reads numbers so
    ws = book[vi(app, "Expenditures")]
    assert header(ws)[1:3] == [vi(app, "Date"), vi(app, "Budget line")]
    statuses = {c.value for c in column(ws, vi(app, "Status"))} - {None}
    assert statuses and statuses <= {vi(app, "Committed"), vi(app, "Disbursed")}
    amounts = [c for c in column(ws, vi(app, "Amount")) if c.value is not None and c.data_type != "f"]  # not the total
    assert amounts and all(isinstance(c.value, (int, float)) for c in amounts)
    assert all(c.number_format == "[$USD] #,##0.00;-[$USD] #,##0.00" for c in amounts)
    rates = [c.value for c in column(ws, vi(app, "Exchange rate")) if c.value is not None]
    assert rates == [22350]  # a number, not the text "22.350"
    dates = [c for c in column(ws, vi(app, "Date")) if c.value is not None]
    assert all(isinstance(c.value, datetime) and c.number_format == "yyyy-mm-dd" for c in dates)
    assert date(2016, 9, 30) in {c.value.date() for c in dates}
    budget = book[vi(app, "Budget")]
    assert vi(app, "Current budget") in header(budget) and vi(app, "% used") in header(budget)
    assert any(c.value == vi(app, "Yes") for c in column(budget, vi(app, "Illustrative")))  # illustrative lines
    used = [c for c in column(budget, vi(app, "% used")) if c.data_type == "f"]
    assert used and all(c.number_format == "0.0%" for c in used)
    cells = [c.value for row in budget.iter_rows() for c in row if isinstance(c.value, str)]
    assert vi(app, "Total") in cells and any(vi(app, "OK") in v for v in cells)
    summary = {row[0].value: row[1].value for row in book[vi(app, "Summary")].iter_rows(min_row=2) if row[0].value}
    assert summary[vi(app, "Language of this workbook")] == "Tiếng Việt" and summary[vi(app, "Grant")] == 120000
    indicators = book[vi(app, "Indicators")]
    assert vi(app, "Indicator code") in header(indicators) and vi(app, "% of target") in header(indicators)
    status_formulas = [c.value for c in column(indicators, vi(app, "Status")) if c.data_type == "f"]
    assert status_formulas and all(f'"{vi(app, "On track")}"' in f for f in status_formulas)


def test_bilingual_workbook_has_one_header_row_in_both_languages(client, auth, demo, vi_catalogue):
    app = vi_catalogue
    auth.login("auditor")
    _response, book = workbook(client, demo, "both")
    assert f"{vi(app, 'Budget')} – Budget" in book.sheetnames
    assert workbook_language(book) == "both" and book.properties.language == "vi, en"
    ws = book[f"{vi(app, 'Expenditures')} – Expenditures"]
    assert header(ws)[:2] == [both(app, "Voucher"), both(app, "Date")]
    statuses = {c.value for c in column(ws, both(app, "Status"))} - {None}
    assert statuses and statuses <= {both(app, "Committed"), both(app, "Disbursed")}
    assert all(isinstance(c.value, (int, float)) for c in column(ws, both(app, "Amount"))
               if c.value is not None and c.data_type != "f")
    assert all(len(title) <= 31 for title in book.sheetnames)


@pytest.mark.parametrize("lang", ["en", "vi", "both"])
def test_csv_in_each_language(client, auth, demo, vi_catalogue, lang):
    app = vi_catalogue
    word = {"en": lambda m: m, "vi": lambda m: vi(app, m), "both": lambda m: both(app, m)}[lang]
    auth.login("liaison")
    response = client.get(f"/projects/{demo}/export/expenditures.csv", query_string={"lang": lang})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == [word("Voucher"), word("Date")]
    row = next(r for r in rows if r[0] == "V-2016-002")
    assert word("Disbursed") in row and "9500.00" in row and "22350" in row  # figures as plain numbers


def test_the_exports_page_offers_the_three_languages(client, auth, demo, vi_catalogue):
    auth.login("liaison")
    page = client.get(f"/projects/{demo}/exports").get_data(as_text=True)
    assert "headers in English for now" not in page
    for code in ("en", "vi", "both"):
        assert f'name="lang" value="{code}"' in page
    chosen = client.get(f"/projects/{demo}/exports", query_string={"lang": "vi"}).get_data(as_text=True)
    assert "export.xlsx?lang=vi" in chosen and "expenditures.csv?lang=vi" in chosen
    assert vi(vi_catalogue, "Expenditures") in chosen  # the sheet list in the chosen language


def test_a_background_job_carries_the_language_to_the_worker(client, auth, demo, app, vi_catalogue):
    app.config["EXPORT_BACKGROUND_ROWS"] = 1
    auth.login("liaison")
    response = client.post(f"/projects/{demo}/export/jobs", data={"lang": "vi"})
    assert response.status_code == 303
    job_id = response.headers["Location"].rstrip("/").split("/")[-1]
    with app.app_context():
        finished = jobs.wait(job_id)
        assert finished.state == "done" and finished.language == "vi"
    download = client.get(f"/projects/{demo}/export/jobs/{job_id}/file")
    book = load_workbook(io.BytesIO(download.data))
    assert vi(app, "Expenditures") in book.sheetnames and workbook_language(book) == "vi"


def test_the_import_finds_the_columns_of_a_vietnamese_export(vi_catalogue):
    with vi_catalogue.test_request_context():
        code, title = vi(vi_catalogue, "Indicator code").lower(), vi(vi_catalogue, "Indicators").lower()
        assert {code, "indicator code", f"{code} / indicator code"} <= names_of("Indicator code")
        assert {title, "indicators", f"{title} – indicators"} <= names_of("Indicators", title=True)


def test_a_vietnamese_export_imports_back(client, auth, demo, vi_catalogue):
    auth.login("manager")
    response, _book = workbook(client, demo, "vi")
    upload = client.post(f"/projects/{demo}/import", data={"workbook": (io.BytesIO(response.data), "vi.xlsx")},
                         content_type="multipart/form-data")
    text = upload.get_data(as_text=True)
    assert upload.status_code == 200, re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]*)', text)
    assert "import-problems" not in text and "Nothing to change: the workbook holds the same figures" in text


def test_yes_no_number_format_speaks_the_exports_language(app):
    """A yes/no indicator's cells stay numbers; the words their format shows follow the export."""
    from tracker.exports.language import Translator
    from tracker.exports.workbook import yes_no_format

    with app.app_context():
        assert yes_no_format(Translator("en")) == '"Yes";"Yes";"No"'
        assert yes_no_format(Translator("vi")) == '"Có";"Có";"Không"'
        assert yes_no_format(Translator("both")) == '"Có / Yes";"Có / Yes";"Không / No"'
