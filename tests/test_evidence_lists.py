"""The evidence lists read page by page (issue 15): counts taken the cheap way still say the truth,
undated items stay last, the register shows 25 items a page and the rows carry the same cells."""

import re
from datetime import date

import pytest
from sqlalchemy import insert, select

from tests.helpers import HX
from tracker.evidence import services
from tracker.extensions import db
from tracker.models import EvidenceItem, EvidenceLink, Expenditure, Project


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield db.session.execute(select(Project)).scalar_one()


def test_the_unbacked_count_is_every_expenditure_without_live_evidence(ctx):
    spend = db.session.execute(select(Expenditure).where(Expenditure.project_id == ctx.id)
                               .order_by(Expenditure.id)).scalars().all()
    # Two items on one expenditure (counted once), and a deleted item on another (counts for nothing).
    twice = [EvidenceItem(project_id=ctx.id, kind="receipt", title=f"Copy {n}") for n in range(2)]
    gone = EvidenceItem(project_id=ctx.id, kind="receipt", title="Deleted receipt", deleted_at=date(2017, 1, 1))
    db.session.add_all([*twice, gone])
    db.session.flush()
    db.session.execute(insert(EvidenceLink), [
        {"project_id": ctx.id, "evidence_id": twice[0].id, "expenditure_id": spend[0].id},
        {"project_id": ctx.id, "evidence_id": twice[1].id, "expenditure_id": spend[0].id},
        {"project_id": ctx.id, "evidence_id": gone.id, "expenditure_id": spend[1].id}])
    db.session.flush()
    everything = services.unbacked_expenditures(ctx.id)
    assert spend[0] not in everything and spend[1] in everything
    first = services.unbacked_page(ctx.id, 1, 2)
    assert first.total == len(everything) and len(first.items) == 2
    shown = [e.id for page in range(1, first.pages + 1) for e in services.unbacked_page(ctx.id, page, 2).items]
    assert sorted(shown) == sorted(e.id for e in everything)


def test_the_register_lists_newest_first_and_undated_items_last(ctx):
    db.session.add_all([EvidenceItem(project_id=ctx.id, kind="photo", title="Undated photo"),
                        EvidenceItem(project_id=ctx.id, kind="photo", title="Future photo", dated=date(2017, 12, 1))])
    db.session.flush()
    items = services.search(ctx.id, services.Filters(), page_size=100).items
    assert items[0].title == "Future photo" and items[-1].title == "Undated photo"
    dated = [item.dated for item in items if item.dated]
    assert dated == sorted(dated, reverse=True)


def test_the_register_shows_25_items_a_page(app, client, auth, demo):
    with app.app_context():
        db.session.execute(insert(EvidenceItem), [
            {"project_id": demo, "kind": "photo", "title": f"Ảnh {n:02d}", "dated": date(2016, 9, 1 + n % 28),
             "version": 1} for n in range(40)])
        db.session.commit()
        total = db.session.execute(select(EvidenceItem.id).where(EvidenceItem.project_id == demo)).all()
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    first = re.findall(r'<tr id="evidence-(\d+)"', page)
    assert len(first) == 25 and f"{len(total)} items, showing 1–25" in page
    assert page.count('name="decision" value="verified"') == 25  # the auditor reviews from the register
    link = re.search(r'<a href="([^"]+)" hx-get="[^"]+" hx-target="#evidence-results"[^>]*rel="next">', page)
    assert link and link.group(1).endswith("/evidence?page=2")
    second = client.get(link.group(1), headers=HX).get_data(as_text=True)
    rest = re.findall(r'<tr id="evidence-(\d+)"', second)
    assert "<html" not in second and len(rest) == min(25, len(total) - 25) and not set(rest) & set(first)
    plain = client.get(link.group(1)).get_data(as_text=True)  # without JavaScript: the whole page
    assert "<html" in plain and re.findall(r'<tr id="evidence-(\d+)"', plain) == rest


def test_a_row_keeps_its_cells_and_their_addresses(app, client, auth, demo):
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/evidence?q=spotlight").get_data(as_text=True)
    row = re.search(r'<tr id="evidence-(\d+)".*?</tr>', page, re.S)
    item = row.group(1)
    html = row.group(0)
    assert f'<a href="/projects/{demo}/evidence/{item}">' in html
    assert f'action="/projects/{demo}/evidence/{item}/review"' in html and 'name="csrf_token"' in html
    assert 'data-label="Backs up"' in html and "Indicator 1.1.b" in html
    assert '<span class="badge badge-pending">Waiting for review</span>' in html
