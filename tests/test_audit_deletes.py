"""Deletions with a trace: whatever removes or changes a row of an audited table (an explicit
delete, orphan removal from a collection, a bulk ``delete()``, the database's ON DELETE
CASCADE or SET NULL), the trail has an event for it, with the old values.

The tables and relationships come from the mapper registry, so a new model or cascade is
covered without touching this file. What vanished or changed is found by comparing every
audited table before and after, not by re-deriving the cascades.
"""

import json

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import close_app, make_app
from tracker.audit import trail
from tracker.extensions import db
from tracker.models import AuditEvent


def audited_mappers():
    import tracker.models  # noqa: F401  (every model registered)

    return sorted((m for m in db.Model.registry.mappers if getattr(m.class_, "__audit__", False)),
                  key=lambda m: m.local_table.name)


def orphan_relationships():
    found = []
    for mapper in db.Model.registry.mappers:
        for rel in mapper.relationships:
            if rel.cascade.delete_orphan and rel.uselist:
                found.append((mapper.class_.__name__, rel.key))
    return sorted(found)


def cascading_relationships():
    return sorted((m.class_.__name__, rel.key) for m in db.Model.registry.mappers for rel in m.relationships
                  if rel.cascade.delete)


TABLES = [m.local_table.name for m in audited_mappers()]


def snapshot() -> dict:
    """Every row of every audited table, by (table, id), without the noise columns."""
    rows = {}
    for mapper in audited_mappers():
        table = mapper.local_table
        for row in db.session.execute(select(table)).mappings():
            kept = {k: v for k, v in row.items() if k not in trail.NOISE_COLUMNS}
            rows[(table.name, row["id"])] = kept
    return rows


def events_after(first_id):
    return db.session.execute(select(AuditEvent).where(AuditEvent.id > first_id)).scalars().all()


def assert_every_change_has_its_event(before, after, first_id):
    events = {}
    for event_ in events_after(first_id):
        events.setdefault((event_.table_name, event_.row_id), []).append(event_)
    gone = [key for key in before if key not in after]
    changed = [key for key in before if key in after and before[key] != after[key]]
    assert gone, "nothing was removed: the test removed nothing"
    for key in gone:
        deletes = [e for e in events.get(key, []) if e.action == "delete"]
        assert deletes, f"{key} was deleted without an event"
        old = json.loads(deletes[0].changes)
        for column, value in before[key].items():  # the old values are in the event
            if value is not None and column != "id" and column in old:
                assert old[column][1] is None
        assert old, f"{key}'s delete event has no old values"
    for key in changed:
        assert [e for e in events.get(key, []) if e.action == "update"], f"{key} changed without an event"
    assert trail.verify_chain(db.session).ok


@pytest.fixture
def demo_app(databases, tmp_path):
    """The demo, with a weekly log (the demo has none) so every audited table has rows."""
    from datetime import date

    from tracker.models import Activity, ProgressLog, ResultNode, User

    app = make_app(databases, tmp_path)
    with app.app_context():
        activity = db.session.execute(select(Activity).order_by(Activity.id)).scalars().first()
        author = db.session.execute(select(User.id).where(User.email == "officer@demo.test")).scalar()
        db.session.add(ProgressLog(project_id=activity.project_id, activity_id=activity.id, iso_week="2016-W47",
                                   week_start=date(2016, 11, 21), status=activity.status, percent_complete=10,
                                   done="Workshop held", author_id=author))
        # A result with nothing under it: the ORM deletes a result only once its indicators
        # and activities are gone (ResultNode's collections do not cascade).
        db.session.add(ResultNode(project_id=activity.project_id, parent_id=activity.result_id, level="output",
                                  code="9.9", statement="A leaf to delete", position=99))
        db.session.commit()
    yield app
    close_app(databases, app)


def _last_id():
    return db.session.execute(select(func.max(AuditEvent.id))).scalar() or 0


@pytest.mark.parametrize("table_name", TABLES)
def test_an_explicit_delete_of_any_audited_row_and_its_cascades_are_in_the_trail(demo_app, table_name):
    mapper = next(m for m in audited_mappers() if m.local_table.name == table_name)
    with demo_app.app_context():
        candidates = db.session.execute(select(mapper.class_).order_by(mapper.class_.id.desc())).scalars().all()
        assert candidates, f"the demo has no {table_name} row to delete"
        for candidate in candidates:  # the first one nothing RESTRICTs (or the ORM cannot detach)
            before = snapshot()
            first = _last_id()
            try:
                db.session.delete(candidate)
                db.session.flush()
            except IntegrityError:
                db.session.rollback()
                continue
            assert_every_change_has_its_event(before, snapshot(), first)
            db.session.commit()
            return
        pytest.fail(f"no {table_name} row could be deleted through the ORM")


@pytest.mark.parametrize("table_name", TABLES)
def test_a_bulk_delete_and_its_database_cascades_are_in_the_trail(demo_app, table_name):
    mapper = next(m for m in audited_mappers() if m.local_table.name == table_name)
    with demo_app.app_context():
        ids = db.session.execute(select(mapper.class_.id).order_by(mapper.class_.id)).scalars().all()
        for row_id in ids:
            before = snapshot()
            first = _last_id()
            try:
                with db.session.begin_nested():
                    db.session.execute(delete(mapper.class_).where(mapper.class_.id == row_id))
            except IntegrityError:
                continue
            db.session.expire_all()
            assert_every_change_has_its_event(before, snapshot(), first)
            db.session.commit()
            return
        pytest.fail(f"no {table_name} row could be deleted in bulk")


@pytest.mark.parametrize("class_name, key", orphan_relationships())
def test_removing_a_row_from_a_collection_is_in_the_trail(demo_app, class_name, key):
    """Unlinking evidence, removing an allocation, clearing a breakdown: delete-orphan collections."""
    import tracker.models as models

    parent_class = next(m.class_ for m in db.Model.registry.mappers if m.class_.__name__ == class_name)
    with demo_app.app_context():
        parents = db.session.execute(select(parent_class)).scalars().all()
        parent = next((p for p in parents if getattr(p, key)), None)
        assert parent is not None, f"the demo has no {class_name} with {key}"
        for child in list(getattr(parent, key))[::-1]:  # the first one nothing holds on to
            if not getattr(type(child), "__audit__", False):
                pytest.fail(f"{child.__table__.name} is removed as an orphan but is not audited")
            before = snapshot()
            first = _last_id()
            try:
                with db.session.begin_nested():
                    getattr(parent, key).remove(child)
                    db.session.flush()
            except IntegrityError:
                db.session.expire_all()
                continue
            assert_every_change_has_its_event(before, snapshot(), first)
            del models
            return
        pytest.fail(f"no row could be removed from {class_name}.{key}")


def test_the_registry_lists_the_cascades_this_file_covers():
    """A reminder that cascades exist and are enumerated, not listed by hand."""
    assert ("EvidenceItem", "links") in orphan_relationships()
    assert ("BudgetLine", "allocations") in orphan_relationships()
    assert cascading_relationships()


def test_deleting_a_period_records_its_evidence_links_the_database_cascades(demo_app):
    """An indicator period has no relationship to its links: the database deletes them."""
    from tracker.models import EvidenceLink, IndicatorPeriod

    with demo_app.app_context():
        link = db.session.execute(select(EvidenceLink).where(EvidenceLink.period_id.is_not(None))).scalars().first()
        assert link is not None
        link_id, period_id, evidence_id = link.id, link.period_id, link.evidence_id
        db.session.expunge_all()
        first = _last_id()
        db.session.delete(db.session.get(IndicatorPeriod, period_id))
        db.session.commit()
        event_ = db.session.execute(select(AuditEvent).where(
            AuditEvent.id > first, AuditEvent.table_name == "evidence_link", AuditEvent.row_id == link_id)
        ).scalar_one()
        assert event_.action == "delete" and json.loads(event_.changes)["evidence_id"] == [evidence_id, None]


# ---------------------------------------------------------------------------------------
# An approved period is locked, its evidence links included


def _form_data(item):
    return {"kind": item.kind, "title": item.title, "dated": item.dated.isoformat() if item.dated else "",
            "source": item.source, "url": item.url, "language": item.language, "description": item.description}


def _links_of(item):
    from tracker.evidence.services import link_target

    links = {}
    for link in item.links:
        name, target = link_target(link)
        links.setdefault(name, []).append(target)
    return links


def test_evidence_cannot_be_unlinked_from_or_linked_to_an_approved_period(demo_app):
    from tracker.evidence import services
    from tracker.models import EvidenceItem, EvidenceLink, IndicatorPeriod
    from tracker.validation import InputError

    with demo_app.app_context():
        link = db.session.execute(select(EvidenceLink).where(EvidenceLink.period_id.is_not(None))
                                  .order_by(EvidenceLink.id)).scalars().first()
        item, period = link.evidence, link.period
        period.state = "approved"
        db.session.commit()
        before = _last_id()
        links = _links_of(item)
        links["period"] = [i for i in links["period"] if i != period.id]
        with pytest.raises(InputError, match="approved and locked") as refused:
            services.update_item(item, _form_data(item), links)
        assert "period_ids" in refused.value.errors
        db.session.rollback()
        linked = select(EvidenceLink.evidence_id).where(EvidenceLink.period_id == period.id)
        other = db.session.execute(select(EvidenceItem).where(EvidenceItem.id.not_in(linked))
                                   .order_by(EvidenceItem.id)).scalars().first()
        links = _links_of(other)
        links.setdefault("period", []).append(period.id)
        with pytest.raises(InputError, match="approved and locked"):
            services.update_item(other, _form_data(other), links)
        db.session.rollback()
        assert _last_id() == before and db.session.get(EvidenceLink, link.id) is not None
        # Unlocked again, the same change goes through and is in the trail.
        db.session.get(IndicatorPeriod, period.id).state = "draft"
        db.session.commit()
        item = db.session.get(EvidenceItem, item.id)
        links = _links_of(item)
        links["period"] = [i for i in links["period"] if i != period.id]
        services.update_item(item, _form_data(item), links)
        db.session.commit()
        assert db.session.execute(select(AuditEvent).where(
            AuditEvent.table_name == "evidence_link", AuditEvent.row_id == link.id,
            AuditEvent.action == "delete")).scalar_one()
