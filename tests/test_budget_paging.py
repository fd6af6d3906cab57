"""The budget page at any size (issue 15): the lines 50 at a time with the totals of every line,
the overspends, the burn chart and the roll-up loaded when revealed (their own routes, plain pages
without JavaScript), the roll-up's activities paged, and money that still reconciles to the cent."""

import re
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, insert, select

from tests.helpers import HX, add_activities, warm_queries
from tracker.budget import figures
from tracker.budget.forms import ExpenditureForm, FastSelect
from tracker.extensions import db
from tracker.models import (
    Activity,
    BudgetAllocation,
    BudgetLine,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Project,
)


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}" if cents >= 0 else f"-{-cents / 100:,.2f}"


@pytest.fixture
def many_lines(app, demo):
    """The demo plus 60 lines Z00..Z59 after its own (each USD 10.00, Z07 revised to 12.34), one
    expenditure of USD 25.00 on each of the first 30 (overspent), and 70 activities under 1.2.2;
    the grant grows by USD 1,000 so that the lines stay within it."""
    with app.app_context():
        db.session.get(Project, demo).grant_cents += 1_000_00
        start = db.session.execute(select(func.max(BudgetLine.position)).where(BudgetLine.project_id == demo)).scalar()
        db.session.execute(insert(BudgetLine), [
            {"project_id": demo, "code": f"Z{i:02d}", "description": f"Dòng {i:02d}", "category": "other",
             "account_code": "", "original_cents": 10_00, "revised_cents": 12_34 if i == 7 else None, "notes": "",
             "illustrative": False, "position": start + 1 + i, "version": 1} for i in range(60)])
        ids = dict(db.session.execute(select(BudgetLine.code, BudgetLine.id).where(BudgetLine.code.like("Z%"))).all())
        db.session.execute(insert(Expenditure), [
            {"project_id": demo, "line_id": ids[f"Z{i:02d}"], "voucher": f"Z-{i:02d}", "amount_cents": 25_00,
             "spent_on": date(2017, 2, 1), "status": "committed" if i % 2 else "disbursed",
             "overspend_justification": "Giá tăng", "version": 1} for i in range(30)])
        add_activities(demo, 70, status="on_track")
        db.session.commit()
    return demo


def line_rows(html: str) -> list[str]:
    return re.findall(r'<tr id="line-\d+" class="budget-line[^"]*">\s*<th scope="row"><a href="[^"]+">([^<]+)</a>', html)


def test_the_budget_page_shows_50_lines_and_loads_the_rest_with_htmx(client, auth, many_lines, app):
    auth.login("officer")
    with app.app_context():
        codes = db.session.execute(select(BudgetLine.code).where(BudgetLine.project_id == many_lines)
                                   .order_by(BudgetLine.position, BudgetLine.code)).scalars().all()
    page = client.get(f"/projects/{many_lines}/budget").get_data(as_text=True)
    first = line_rows(page)
    assert first == codes[:50] and "Z59" not in first
    more = re.search(r'<tr class="load-more" id="lines-more-2"><td colspan="8"><a href="([^"#]+)#lines-h" '
                     r'hx-get="([^"]+)" hx-target="closest tr" hx-swap="outerHTML">'
                     rf"Show the next {len(codes) - 50} budget lines</a>", page)
    assert more and more.group(1) == more.group(2) == f"/projects/{many_lines}/budget?lines=2"
    fragment = client.get(more.group(2), headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and "HX-Request" in fragment.headers["Vary"]
    assert line_rows(html) == codes[50:] and "load-more" not in html
    # Without JavaScript the same link is the budget page with the second page and a way back.
    plain = client.get(more.group(1)).get_data(as_text=True)
    assert "<html" in plain and line_rows(plain) == codes[50:]
    assert f'href="/projects/{many_lines}/budget?lines=1#lines-h">Previous page</a>' in plain


def test_the_totals_are_those_of_every_line_not_of_the_page(client, auth, many_lines, app):
    auth.login("liaison")
    with app.app_context():
        lines = db.session.execute(select(BudgetLine).where(BudgetLine.project_id == many_lines)).scalars().all()
        original = sum(line.original_cents for line in lines)
        current = sum(line.current_cents for line in lines)
        committed, disbursed = (db.session.execute(
            select(func.coalesce(func.sum(Expenditure.amount_cents), 0))
            .where(Expenditure.project_id == many_lines, Expenditure.status == status)).scalar()
            for status in ("committed", "disbursed"))
        grant = db.session.get(Project, many_lines).grant_cents
    page = client.get(f"/projects/{many_lines}/budget").get_data(as_text=True)
    total_row = re.search(r'<th scope="row" colspan="2">Total of the lines</th>(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', total_row)
    assert cells[:5] == [money(original), money(current), money(committed), money(disbursed),
                         money(current - committed - disbursed)]
    assert f"<dt>Committed</dt><dd>USD {money(committed)}</dd>" in page
    assert f"<dt>Not yet in a line</dt><dd>USD {money(grant - current)}</dd>" in page
    assert "30 lines over budget." in page


def test_the_summary_read_by_sql_matches_the_line_by_line_sums(app, many_lines):
    """The aggregate the page shows equals the sums of ``line_totals`` (what the exports use), to the cent."""
    with app.test_request_context():
        project = db.session.get(Project, many_lines)
        by_sql = figures.budget_summary(project)
        by_line = figures.summarise(project, figures.line_totals(many_lines))
        assert by_sql == by_line and by_sql.lines == len(figures.line_totals(many_lines))
        assert by_sql.overspent_lines >= 30 and by_sql.illustrative  # the demo's lines are illustrative
        shown = figures.lines_page(many_lines, 2, 50)
        assert [t.line.code for t in shown.items] == [t.line.code for t in figures.line_totals(many_lines)][50:]
        assert [(t.committed_cents, t.disbursed_cents, t.balance_cents) for t in shown.items] == \
               [(t.committed_cents, t.disbursed_cents, t.balance_cents) for t in figures.line_totals(many_lines)][50:]


def test_the_lazy_sections_are_fragments_for_htmx_and_pages_without_it(client, auth, many_lines):
    auth.login("auditor")
    page = client.get(f"/projects/{many_lines}/budget").get_data(as_text=True)
    for element, path, link in (("overspends", "overspends", "Show the spending past a line's budget"),
                                ("burn-chart", "chart", "Show the chart of spending over time"),
                                ("budget-rollup", "rollup", "Show the budget by result and by activity")):
        url = f"/projects/{many_lines}/budget/{path}"
        assert re.search(rf'id="{element}"[^>]* hx-get="{url}" hx-trigger="revealed" hx-swap="outerHTML"', page)
        assert f'<a href="{url}">{link}</a>' in page, link
        fragment = client.get(url, headers=HX)
        html = fragment.get_data(as_text=True)
        assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
        assert "<html" not in html and re.match(rf'\s*<(section|figure) id="{element}"', html)
        assert 'hx-trigger="revealed"' not in html  # the real thing, not the placeholder again
        plain = client.get(url).get_data(as_text=True)
        assert "<html" in plain and f'id="{element}"' in plain and "Back to the budget" in plain
    overspends = client.get(f"/projects/{many_lines}/budget/overspends", headers=HX).get_data(as_text=True)
    assert "Z-00" in overspends and "Justification: Giá tăng" in overspends


def test_the_rollup_pages_its_activities_and_still_totals_every_line(client, auth, many_lines, app):
    auth.login("manager")
    with app.app_context():
        activities = db.session.execute(select(func.count()).select_from(Activity)
                                        .where(Activity.project_id == many_lines)).scalar()
        current = sum(line.current_cents for line in db.session.execute(
            select(BudgetLine).where(BudgetLine.project_id == many_lines)).scalars())
    html = client.get(f"/projects/{many_lines}/budget/rollup", headers=HX).get_data(as_text=True)
    body = html.split('<table class="rollup rollup-activities">')[1]
    first = re.findall(r'<tr><th scope="row"><span class="code">([^<]+)</span>', body)
    assert len(first) == 50 and activities > 50
    total = re.search(r'<th scope="row">Total of the lines</th>\s*<td class="num">([^<]+)</td>', body).group(1)
    assert total == money(current)
    more = re.search(r'hx-get="([^"]+)" hx-target="closest tr" hx-swap="outerHTML">'
                     rf"Show the next {activities - 50} activities", body).group(1)
    assert more == f"/projects/{many_lines}/budget/rollup?page=2"
    rest = client.get(more, headers=HX).get_data(as_text=True)
    second = re.findall(r'<tr><th scope="row"><span class="code">([^<]+)</span>', rest)
    assert len(second) == activities - 50 and not set(first) & set(second) and "<table" not in rest
    assert "load-more" not in rest
    plain = client.get(more).get_data(as_text=True)  # without JavaScript: the roll-up's page 2
    assert "<html" in plain and re.findall(r'<tr><th scope="row"><span class="code">([^<]+)</span>',
                                           plain.split("rollup-activities")[1]) == second


def test_the_rollups_activities_add_up_to_the_lines_to_the_cent(app, many_lines):
    with app.test_request_context():
        lean = figures.rollup_rows(many_lines)
        orm = figures.rollup(many_lines, figures.line_totals(many_lines))
        assert [(a.id, f) for a, f in lean.activities] == [(a.id, f) for a, f in orm.activities]
        assert [(r.id, d, f) for r, d, f in lean.results] == [(r.id, d, f) for r, d, f in orm.results]
        assert lean.total == orm.total and lean.unallocated == orm.unallocated
        spread = sum(f.current_cents for _a, f in lean.activities) + lean.unallocated.current_cents
        assert spread == lean.total.current_cents


@pytest.mark.parametrize("path", ["budget/chart", "budget/overspends", "budget/rollup", "budget/rollup?page=2"])
def test_the_section_routes_check_what_the_page_checks(client, auth, demo, other_project, path):
    url = f"/projects/{demo}/{path}"
    assert "/login" in client.get(url).headers["Location"]
    auth.login("other-manager")
    assert client.get(url).status_code == 404 and client.get(url, headers=HX).status_code == 404


def test_the_query_counts_do_not_grow_with_lines_or_activities(app, client, auth, demo):
    auth.login("officer")
    urls = [f"/projects/{demo}/budget", f"/projects/{demo}/budget/rollup", f"/projects/{demo}/budget/chart",
            f"/projects/{demo}/budget/overspends"]
    few = [len(warm_queries(app, client, url)) for url in urls]
    with app.app_context():
        db.session.execute(insert(BudgetLine), [
            {"project_id": demo, "code": f"Q{i}", "description": "q", "category": "other", "account_code": "",
             "original_cents": 1, "notes": "", "illustrative": False, "position": 500 + i, "version": 1}
            for i in range(80)])
        add_activities(demo, 80, status="on_track")
        db.session.commit()
    many = [len(warm_queries(app, client, url)) for url in urls]
    assert many == few


def test_a_booking_on_a_line_past_the_first_page_sends_that_lines_row(app, client, auth, many_lines):
    auth.login("officer")
    with app.app_context():
        line = db.session.execute(select(BudgetLine.id).where(BudgetLine.code == "Z59")).scalar_one()
    body = client.post(f"/projects/{many_lines}/expenditures/new", headers=HX, data={
        "spent_on": "2017-02-02", "line_id": str(line), "amount": "3.00", "status": "committed",
        "voucher": "Z-NEW", "payee": "Huế", "description": ""}).get_data(as_text=True)
    assert re.search(rf'<tr id="line-{line}"[^>]*hx-swap-oob="true"', body)
    row = body.split(f'<tr id="line-{line}"')[1].split("</tr>")[0]
    assert ">3.00</td>" in row and ">7.00</td>" in row  # committed; balance 10.00 - 3.00


def test_the_booking_forms_selects_write_what_wtforms_writes(app):
    from wtforms.widgets import Select

    with app.test_request_context():
        form = ExpenditureForm(formdata=None, meta={"csrf": False}, line_id="2", status="disbursed",
                               original_currency="VND")
        form.set_lines([SimpleNamespace(id=1, code="BL1", description='Research & "field" <missions>'),
                        SimpleNamespace(id=2, code="BL2", description="Hội thảo")])
        for field in (form.line_id, form.original_currency, form.status):
            assert isinstance(field.widget, FastSelect)
            assert field() == Select()(field), field.name
        assert '<option selected value="2">BL2 Hội thảo</option>' in form.line_id()


def test_the_expenditures_list_counts_the_evidence_that_is_not_deleted(app, client, auth, demo):
    with app.app_context():
        spent = db.session.execute(select(Expenditure).where(Expenditure.voucher == "V-2016-001")).scalar_one()
        items = [EvidenceItem(project_id=demo, kind="receipt", title=f"Biên lai {i}") for i in range(3)]
        db.session.add_all(items)
        db.session.flush()
        items[2].deleted_at = db.func.now()
        db.session.execute(insert(EvidenceLink), [
            {"project_id": demo, "evidence_id": item.id, "expenditure_id": spent.id} for item in items])
        before = db.session.execute(select(func.count()).select_from(EvidenceLink).join(EvidenceItem)
                                    .where(EvidenceLink.expenditure_id == spent.id,
                                           EvidenceItem.deleted_at.is_(None))).scalar()
        db.session.commit()
        spent_id = spent.id
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/expenditures").get_data(as_text=True)
    row = page.split(f'<tr id="expenditure-{spent_id}">')[1].split("</tr>")[0]
    assert f'href="/projects/{demo}/expenditures/{spent_id}">V-2016-001</a>' in row
    assert f'<td data-label="Evidence">{before} items</td>' in row and before >= 2


def test_allocations_of_lines_past_the_first_page_reach_the_rollup(app, client, auth, many_lines):
    with app.app_context():
        line = db.session.execute(select(BudgetLine.id).where(BudgetLine.code == "Z59")).scalar_one()
        activity = db.session.execute(select(Activity.id, Activity.code).where(Activity.code == "B0")).one()
        db.session.execute(insert(BudgetAllocation), [{"project_id": many_lines, "line_id": line,
                                                       "activity_id": activity.id, "percent": 100, "version": 1}])
        db.session.commit()
    auth.login("manager")
    html = client.get(f"/projects/{many_lines}/budget/rollup?page=2", headers=HX).get_data(as_text=True)
    html += client.get(f"/projects/{many_lines}/budget/rollup", headers=HX).get_data(as_text=True)
    row = re.search(r'<span class="code">B0</span> Hoạt động 0</th>\s*<td class="num">([^<]+)</td>', html)
    assert row and row.group(1) == "10.00"  # Z59's whole budget
