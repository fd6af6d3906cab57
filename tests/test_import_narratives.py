"""The workbook import reads narratives and variance explanations back from the Indicators sheet
(issue 16): the same columns the export writes, a dry run first, approved periods refused."""

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from tests.test_import import exported, hidden, nothing_written, saved, upload
from tracker.extensions import db
from tracker.models import Indicator, IndicatorPeriod


def _column(ws, header: str) -> int:
    headers = [cell.value for cell in ws[1]]
    assert header in headers, headers
    return headers.index(header)


def _row(ws, code: str, start: date):
    for row in ws.iter_rows(min_row=2):
        if row[0].value == code and row[4].value is not None and row[4].value.date() == start:
            return row
    raise AssertionError(f"no row for {code} {start}")


def _period(code: str, start: date) -> IndicatorPeriod:
    return db.session.execute(select(IndicatorPeriod).join(Indicator).where(
        Indicator.code == code, IndicatorPeriod.start_date == start)).scalar_one()


def test_the_export_writes_the_narratives_and_an_unchanged_export_imports_as_nothing(app, client, auth, demo):
    auth.login("manager")
    data = exported(client, demo)
    ws = load_workbook(io.BytesIO(data))["Indicators"]
    row = _row(ws, "1.1.b", date(2016, 7, 1))
    assert row[_column(ws, "Progress narrative")].value.startswith("Nine press clippings")
    assert row[_column(ws, "Variance explanation")].value.startswith("Illustrative: coverage exceeded")
    with nothing_written(app):
        page = upload(client, f"/projects/{demo}/import", data).get_data(as_text=True)
        assert "Nothing to change" in page


def test_narratives_round_trip_through_a_dry_run_then_apply(app, client, auth, demo):
    auth.login("manager")
    book = load_workbook(io.BytesIO(exported(client, demo)))
    ws = book["Indicators"]
    narrative, variance = _column(ws, "Progress narrative"), _column(ws, "Variance explanation")
    row = _row(ws, "1.1.a", date(2017, 1, 1))
    row[narrative].value = "Second dialogue planned in Hồ Chí Minh City."
    row[variance].value = "Illustrative: the two dialogues were merged into one."
    data = saved(book)
    with nothing_written(app):
        page = upload(client, f"/projects/{demo}/import", data).get_data(as_text=True)
        assert "Indicator 1.1.a, period 2017-01-01 – 2017-06-30" in page
        assert "narrative: → “Second dialogue planned in H" in page
        assert "variance explanation: →" in page
    page = upload(client, f"/projects/{demo}/import", data).get_data(as_text=True)
    applied = client.post(f"/projects/{demo}/import/apply",
                          data={"token": hidden(page, "token"), "fingerprint": hidden(page, "fingerprint")})
    assert applied.status_code == 303
    with app.app_context():
        period = _period("1.1.a", date(2017, 1, 1))
        assert period.narrative == "Second dialogue planned in Hồ Chí Minh City."
        assert period.variance_explanation == "Illustrative: the two dialogues were merged into one."


def test_a_narrative_for_an_approved_period_is_refused_with_its_row_and_column(app, client, auth, demo):
    auth.login("manager")
    book = load_workbook(io.BytesIO(exported(client, demo)))
    ws = book["Indicators"]
    column = _column(ws, "Progress narrative")
    row = _row(ws, "1.1.a", date(2016, 1, 1))  # 2016 H1 is approved in the demo
    row[column].value = "Rewritten after approval."
    with nothing_written(app):
        page = upload(client, f"/projects/{demo}/import", saved(book)).get_data(as_text=True)
        assert "approved and locked" in page
        assert f"{row[column].column_letter} (Progress narrative)" in page
        assert f'<td class="num">{row[column].row}</td>' in page
