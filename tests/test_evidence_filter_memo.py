"""The evidence register's "Backs up" filter lists only what some evidence backs. Its options
are remembered between visits (tracker/evidence/services.py) until the data changes: a new
link shows in the very next page, and a page in another language gets its own words."""

from sqlalchemy import select

from tests.helpers import count_queries
from tracker.extensions import db
from tracker.models import Activity, EvidenceItem, EvidenceLink


def _option(activity_id: int) -> str:
    return f'<option value="activity:{activity_id}"'


def test_a_new_link_shows_in_the_filter_at_once_and_unchanged_data_costs_no_query(app, client, auth, demo):
    auth.login("manager")
    with app.app_context():
        linked = {row for row in db.session.execute(select(EvidenceLink.activity_id).where(
            EvidenceLink.project_id == demo, EvidenceLink.activity_id.is_not(None))).scalars()}
        activity = db.session.execute(select(Activity).where(Activity.project_id == demo, Activity.id.not_in(linked))
                                      .order_by(Activity.id)).scalars().first()
        item = db.session.execute(select(EvidenceItem).where(EvidenceItem.project_id == demo)
                                  .order_by(EvidenceItem.id)).scalars().first()
        assert activity is not None and item is not None
        activity_id, item_id = activity.id, item.id
    url = f"/projects/{demo}/evidence"
    first = client.get(url).get_data(as_text=True)
    assert _option(activity_id) not in first  # nothing backs it yet
    with count_queries(app) as statements:
        again = client.get(url).get_data(as_text=True)
    assert again.count("<option") == first.count("<option")
    assert not any(s.lstrip().startswith("SELECT activity.id, activity.code, activity.title") for s in statements), \
        "the options were read again"

    with app.app_context():  # a link made by the app (audited): the options are read afresh
        db.session.add(EvidenceLink(project_id=demo, evidence_id=item_id, activity_id=activity_id))
        db.session.commit()
    assert _option(activity_id) in client.get(url).get_data(as_text=True)


def test_each_language_gets_its_own_words(client, auth, demo):
    auth.login("manager")
    english = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    client.post("/language", data={"locale": "vi", "next": "/"})
    vietnamese = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    assert '">Activity A1 ' in english  # an option: "Activity A1 Raise awareness..."
    assert '">Activity A1 ' not in vietnamese and 'lang="vi"' in vietnamese
