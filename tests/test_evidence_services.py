"""Evidence rules, called directly: items and links, review, soft delete, search, evidence_for, coverage."""

import json
from datetime import date

import pytest
from sqlalchemy import event, func, select

from tests.helpers import add_bare_project
from tracker.evidence import services
from tracker.extensions import db
from tracker.models import (
    Activity,
    AuditEvent,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Project,
    ResultNode,
    User,
)
from tracker.validation import InputError


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield db.session.execute(select(Project)).scalar_one()


def activity(code):
    return db.session.execute(select(Activity).where(Activity.code == code)).scalar_one()


def expenditure(voucher):
    return db.session.execute(select(Expenditure).where(Expenditure.voucher == voucher)).scalar_one()


def press_period():
    return db.session.execute(
        select(IndicatorPeriod).join(Indicator).where(Indicator.code == "1.1.b")
        .order_by(IndicatorPeriod.start_date).offset(1)).scalars().first()


def user(role):
    return db.session.execute(select(User).where(User.email == f"{role}@demo.test")).scalar_one()


def item_titled(fragment):
    return db.session.execute(select(EvidenceItem).where(EvidenceItem.title.contains(fragment))).scalars().first()


def receipt(ctx, voucher="V-2016-003", **changes):
    values = {"kind": "receipt", "title": "Invoice of the Century Riverside Hotel, Huế", "dated": "2016-11-25",
              "source": "Century Riverside Hotel", "language": "vi", "description": "Hoá đơn"}
    values.update(changes)
    return services.create_item(ctx, values, {"expenditure": [expenditure(voucher).id]}, user=user("officer"))


def test_create_an_item_with_links_of_each_kind(ctx):
    result = db.session.execute(select(ResultNode).where(ResultNode.code == "1.1.2")).scalar_one()
    item = services.create_item(ctx, {"kind": "photo", "title": "  Photos of the   dialogue  ", "dated": "2016-11-24",
                                      "url": "https://example.org/photos"},
                                {"activity": [activity("A1.4").id], "period": [press_period().id],
                                 "result": [result.id], "expenditure": [expenditure("V-2016-003").id]})
    assert item.title == "Photos of the dialogue" and item.dated == date(2016, 11, 24)
    assert item.review_state == "pending" and item.deleted_at is None
    labels = sorted(services.link_label(link) for link in item.links)
    assert labels == ["Activity A1.4", "Expenditure V-2016-003", "Indicator 1.1.b 2016-07-01 – 2016-12-31",
                      "Result 1.1.2"]
    for link in item.links:  # exactly one target per row
        assert sum(getattr(link, f"{n}_id") is not None for n in services.TARGETS) == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"title": ""}, "title", "A title is required"),
    ({"kind": "poem"}, "kind", "Choose what kind"),
    ({"dated": "24/11/2016"}, "dated", "must be a date such as 2016-11-24"),
    ({"url": "javascript:alert(1)"}, "url", "starts with http:// or https://"),
    ({"url": "ftp://example.org/x"}, "url", "starts with http:// or https://"),
    ({"source": "x" * 201}, "source", "at most 200"),
])
def test_bad_item_input_is_refused(ctx, changes, field, message):
    values = {"kind": "report", "title": "A report"}
    values.update(changes)
    with pytest.raises(InputError) as caught:
        services.create_item(ctx, values, {})
    assert message in caught.value.errors[field]


def test_links_to_another_projects_rows_are_refused(ctx):
    other = add_bare_project()
    with pytest.raises(InputError) as caught:
        services.create_item(other, {"kind": "report", "title": "x"}, {"activity": [activity("A1").id]})
    assert "activity_ids" in caught.value.errors


def test_editing_a_reviewed_item_sends_it_back_for_review_and_keeps_the_note(ctx):
    item = receipt(ctx)
    services.review(item, "queried", "The stamp is missing.", user("auditor"))
    services.update_item(item, {"kind": "receipt", "title": item.title + " (stamped)", "dated": "2016-11-25"},
                         {"expenditure": [expenditure("V-2016-003").id]})
    assert item.review_state == "pending" and item.review_note == "The stamp is missing."
    services.review(item, "verified", "", user("auditor"))
    services.update_item(item, {"kind": "receipt", "title": item.title, "dated": "2016-11-25"},
                         {"expenditure": [expenditure("V-2016-003").id]})
    assert item.review_state == "verified"  # nothing changed: the review stands
    services.update_item(item, {"kind": "receipt", "title": item.title, "dated": "2016-11-25"},
                         {"expenditure": [expenditure("V-2016-003").id, expenditure("V-2016-004").id]})
    assert item.review_state == "pending"  # a new link is something the auditor has not checked


def test_links_are_replaced_exactly(ctx):
    item = receipt(ctx)
    services.update_item(item, {"kind": "receipt", "title": item.title},
                         {"expenditure": [expenditure("V-2016-004").id], "activity": [activity("A1.4").id]})
    db.session.flush()
    rows = db.session.execute(select(EvidenceLink.expenditure_id, EvidenceLink.activity_id)
                              .where(EvidenceLink.evidence_id == item.id)).all()
    assert sorted(rows, key=str) == sorted([(expenditure("V-2016-004").id, None), (None, activity("A1.4").id)],
                                           key=str)


def test_review_is_recorded_in_the_audit_trail(ctx):
    item = item_titled("spotlight")
    services.review(item, "verified", "Checked against the UN site.", user("auditor"))
    db.session.flush()
    event_row = db.session.execute(select(AuditEvent).where(AuditEvent.action == "evidence.review")).scalar_one()
    changes = json.loads(event_row.changes)
    assert changes["review_state"] == ["pending", "verified"] and event_row.row_id == item.id
    assert event_row.project_id == ctx.id and event_row.table_name == "evidence_item"
    assert item.reviewed_by_id == user("auditor").id and item.reviewed_at is not None
    history = services.review_history(item)
    assert [(h["state"], h["note"]) for h in history] == [("verified", "Checked against the UN site.")]


def test_a_query_needs_a_note_and_deleted_items_cannot_be_reviewed(ctx):
    item = item_titled("spotlight")
    with pytest.raises(InputError) as caught:
        services.review(item, "queried", "   ", user("auditor"))
    assert "note" in caught.value.errors
    with pytest.raises(InputError):
        services.review(item, "approved", "", user("auditor"))
    services.soft_delete(item)
    with pytest.raises(InputError):
        services.review(item, "verified", "", user("auditor"))
    assert item.review_state == "pending"


def test_soft_delete_hides_an_item_everywhere_but_keeps_it(ctx):
    item = receipt(ctx)
    services.review(item, "verified", "", user("auditor"))
    assert services.coverage(ctx.id).disbursed_verified_cents == 14_250_00
    services.soft_delete(item)
    assert item.deleted_at is not None
    assert services.coverage(ctx.id).disbursed_verified_cents == 0
    assert services.evidence_for(ctx.id, expenditures=[expenditure("V-2016-003").id]).expenditure(
        expenditure("V-2016-003").id) == []
    assert item not in services.search(ctx.id, services.Filters()).items
    assert services.search(ctx.id, services.Filters(state="deleted")).items == [item]
    assert "V-2016-003" in [e.voucher for e in services.unbacked_expenditures(ctx.id)]
    services.restore(item)
    assert services.coverage(ctx.id).disbursed_verified_cents == 14_250_00


def test_search_filters_combine(ctx):
    everything = services.search(ctx.id, services.Filters())
    assert everything.total == 12
    assert [i.dated for i in everything.items] == sorted([i.dated for i in everything.items], reverse=True)
    assert services.search(ctx.id, services.Filters(kind="press_clipping")).total == 9
    assert services.search(ctx.id, services.Filters(q="song huong")).total == 2  # case-insensitive, every word
    assert services.search(ctx.id, services.Filters(q="1755/QĐ-TTg")).total == 1  # Vietnamese text intact
    assert services.search(ctx.id, services.Filters(q="100%_")).total == 0  # LIKE wildcards are literal
    a14 = activity("A1.4")
    linked = services.search(ctx.id, services.Filters(link=f"activity:{a14.id}"))
    assert linked.total == 6 and all(any(link.activity_id == a14.id for link in i.links) for i in linked.items)
    assert services.search(ctx.id, services.Filters(link="none")).total == 0
    services.create_item(ctx, {"kind": "other", "title": "Loose note"}, {})
    assert [i.title for i in services.search(ctx.id, services.Filters(link="none")).items] == ["Loose note"]
    item = item_titled("spotlight")
    services.review(item, "queried", "Which page?", user("auditor"))
    assert services.search(ctx.id, services.Filters(state="queried")).items == [item]
    assert services.search(ctx.id, services.Filters(state="pending", kind="press_clipping")).total == 8


def test_search_pages(ctx):
    first = services.search(ctx.id, services.Filters(), page_size=5)
    assert (first.total, first.pages, first.first, first.last, len(first.items)) == (12, 3, 1, 5, 5)
    last = services.search(ctx.id, services.Filters(page=99), page_size=5)
    assert last.page == 3 and len(last.items) == 2 and last.first == 11


def test_filters_from_the_url_ignore_nonsense():
    filters = services.Filters.from_args({"q": "  Huế ", "kind": "poem", "link": "activity:x", "state": "gone",
                                          "page": "-4"})
    assert (filters.q, filters.kind, filters.link, filters.state, filters.page) == ("Huế", "", "", "", 1)
    filters = services.Filters.from_args({"link": "period:12", "state": "verified", "page": "2"})
    assert filters.query_string() == "link=period%3A12&state=verified&page=2"
    assert filters.query_string(page=1) == "link=period%3A12&state=verified"


def test_evidence_for_many_targets_in_one_query(ctx, app):
    receipt(ctx)
    activities = [a.id for a in db.session.execute(select(Activity)).scalars()]
    expenditures = [e.id for e in db.session.execute(select(Expenditure)).scalars()]
    a14, period, project_id = activity("A1.4").id, press_period().id, ctx.id
    statements = []

    def listener(_c, _cu, statement, *_):
        statements.append(statement)

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        index = services.evidence_for(project_id, activities=activities, expenditures=expenditures,
                                      periods=[period])
        assert len(statements) == 1
        statements.clear()
        titles = {i.title for i in index.activity(a14)}
        files = [i.file for i in index.activity(a14)]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert "Workshop agenda: Policy Dialogue on Creative hubs and Creative industries" in titles
    assert len(files) == 6 and statements == []  # nothing lazy-loaded afterwards
    assert len(index.period(period)) == 9
    assert [i.kind for i in index.expenditure(expenditure("V-2016-003").id)] == ["receipt"]
    assert index.expenditure(expenditure("V-2016-001").id) == []
    assert services.evidence_for(ctx.id).get("activity", 1) == []


def test_coverage_of_money_and_actuals(ctx):
    coverage = services.coverage(ctx.id)
    assert (coverage.disbursed_cents, coverage.disbursed_verified_cents, coverage.disbursed_backed_cents) == \
        (40_450_00, 0, 0)
    assert (coverage.actuals, coverage.actuals_backed, coverage.actuals_verified) == (8, 1, 0)
    assert coverage.states == {"pending": 12, "verified": 0, "queried": 0}
    item = receipt(ctx)
    assert services.coverage(ctx.id).disbursed_backed_cents == 14_250_00
    services.review(item, "verified", "", user("auditor"))
    clipping = item_titled("spotlight")
    services.review(clipping, "verified", "", user("auditor"))
    coverage = services.coverage(ctx.id)
    assert coverage.disbursed_verified_cents == 14_250_00
    assert round(coverage.disbursed_verified_pct, 2) == round(14_250 * 100 / 40_450, 2)
    assert (coverage.actuals_backed, coverage.actuals_verified) == (1, 1)
    assert coverage.states == {"pending": 11, "verified": 2, "queried": 0}
    # A committed (not disbursed) expenditure does not count towards disbursed dollars.
    receipt(ctx, voucher="V-2016-006", title="Contract with the research team")
    assert services.coverage(ctx.id).disbursed_backed_cents == 14_250_00


def test_queues_for_the_auditor_and_the_officer(ctx):
    assert len(services.waiting_for_review(ctx.id)) == 12
    item = item_titled("spotlight")
    services.review(item, "queried", "Which page?", user("auditor"))
    assert services.queried_items(ctx.id) == [item]
    assert item not in services.waiting_for_review(ctx.id)
    assert len(services.unbacked_expenditures(ctx.id)) == 6
    receipt(ctx)
    assert [e.voucher for e in services.unbacked_expenditures(ctx.id)] == [
        "V-2016-001", "V-2016-002", "V-2016-004", "V-2016-005", "V-2016-006"]


def test_link_choices_and_filter_options(ctx):
    choices = services.link_choices(ctx.id)
    assert len(choices.activities) == 7 and len(choices.results) == 7 and len(choices.expenditures) == 6
    assert [label.split()[0] for _, label in choices.results] == ["1", "1.1", "1.1.1", "1.1.2", "1.2", "1.2.1",
                                                                  "1.2.2"]
    assert len(choices.periods) == 24 and choices.periods[0][1].endswith("2016-01-01 – 2016-06-30")
    options = dict(services.linked_target_options(ctx.id))
    assert f"activity:{activity('A1.4').id}" in options
    assert f"activity:{activity('A2').id}" not in options  # nothing backs A2 yet
    assert any(label.startswith("Indicator period 1.1.b") for label in options.values())


def test_nothing_is_counted_twice_when_an_item_has_many_links(ctx):
    item = receipt(ctx)
    services.update_item(item, {"kind": "receipt", "title": item.title},
                         {"expenditure": [expenditure("V-2016-003").id], "activity": [activity("A1.4").id]})
    other = receipt(ctx, title="Second invoice")
    services.review(item, "verified", "", user("auditor"))
    services.review(other, "verified", "", user("auditor"))
    assert services.coverage(ctx.id).disbursed_verified_cents == 14_250_00
    count = db.session.execute(select(func.count()).select_from(EvidenceItem)).scalar()
    assert services.search(ctx.id, services.Filters(), page_size=100).total == count


def test_evidence_imports_nothing_of_the_budget_area():
    """Budget pages show evidence (budget -> evidence); evidence never imports budget, so no cycle."""
    import ast
    from pathlib import Path

    import tracker.evidence

    imported = []
    for path in Path(tracker.evidence.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                imported += [f"{path.name}: {module}"] + [f"{path.name}: {module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                imported += [f"{path.name}: {a.name}" for a in node.names]
    assert imported, "no imports found: the check would prove nothing"
    assert [line for line in imported if "budget" in line.split(": ", 1)[1]] == []
