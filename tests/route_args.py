"""Demo values for URL arguments, used by tests/test_route_matrix.py to build every route's URL.

``ARGS`` maps an argument name (as written in the route, ``<int:activity_id>``) to a function
``(session, project_id) -> value`` that finds a suitable row of the demo project. When you add
a route with a new argument name, add it here; the route matrix test fails and says so until
you do. ``ENDPOINT_ARGS`` overrides a value for one endpoint when a generic name (``sheet``,
``kind``) means something else there.

Values of rows that a permitted POST may delete (a membership, a user to deactivate) are
chosen so that the people the matrix test logs in as keep their access: the matrix checks
forbidden requests first and gives each permitted, destructive POST a fresh database.
"""

import io

from sqlalchemy import select

from tracker.models import (
    Activity,
    AgendaItem,
    BudgetAllocation,
    BudgetLine,
    Dimension,
    DimensionCategory,
    DisaggregatedValue,
    Event,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Membership,
    ProgressLog,
    ResultNode,
    User,
)


def first(model, *conditions, order=None):
    """The first row of ``model`` in the demo project (by id), as a value function."""

    def value(session, project_id):
        query = select(model.id).where(model.project_id == project_id, *conditions)
        found = session.execute(query.order_by(order if order is not None else model.id).limit(1)).scalar()
        assert found is not None, f"the demo project has no {model.__tablename__} row for this URL argument"
        return found

    return value


def _liaison_membership(session, project_id):
    return session.execute(
        select(Membership.id).join(User).where(Membership.project_id == project_id,
                                               User.email == "liaison@demo.test")).scalar_one()


def _liaison_user(session, _project_id):
    return session.execute(select(User.id).where(User.email == "liaison@demo.test")).scalar_one()


def _evidence_with_file(session, project_id):
    """An evidence item with a stored file (downloads need one). The demo's items are
    links and clippings without files, so a small text file is stored on the first item
    (through the app's own storage, under this test's UPLOAD_DIR) when none has one."""
    found = session.execute(
        select(EvidenceItem.id).where(EvidenceItem.project_id == project_id, EvidenceItem.file_id.is_not(None))
        .order_by(EvidenceItem.id).limit(1)).scalar()
    if found is not None:
        return found
    from werkzeug.datastructures import FileStorage

    from tracker.evidence.storage import store_upload

    item = session.get(EvidenceItem, first(EvidenceItem)(session, project_id))
    upload = store_upload(FileStorage(io.BytesIO("Chương trình hội thảo, Huế\n".encode()), filename="agenda.txt"))
    item.file_id, item.file_name = upload.stored.id, upload.file_name
    session.commit()
    return item.id


ARGS = {
    "project_id": lambda _session, project_id: project_id,
    "activity_id": first(Activity),
    "log_id": first(ProgressLog),
    "event_id": first(Event),
    "agenda_item_id": first(AgendaItem),
    "result_id": first(ResultNode),
    "node_id": first(ResultNode),
    "indicator_id": first(Indicator),
    "period_id": first(IndicatorPeriod),
    "dimension_id": first(Dimension),
    "category_id": first(DimensionCategory),
    "value_id": first(DisaggregatedValue),
    "line_id": first(BudgetLine),
    "budget_line_id": first(BudgetLine),
    "allocation_id": first(BudgetAllocation),
    "expenditure_id": first(Expenditure),
    "evidence_id": _evidence_with_file,
    "item_id": _evidence_with_file,
    "link_id": first(EvidenceLink),
    "membership_id": _liaison_membership,
    "user_id": _liaison_user,
    # The audit history panel: one activity's history.
    "table": lambda _session, _project_id: "activity",
    "row_id": first(Activity),
    # ISO week of the Huế dialogue (24 November 2016).
    "week": lambda _session, _project_id: "2016-W47",
}


def _export_job(_session, project_id):
    """A finished background export of the demo project (issue 6), with a file to download."""
    from flask import current_app

    from tracker.exports import jobs
    from tracker.exports.workbook import write_template

    job = jobs.Job(id="matrix-export-job-0001", project_id=project_id, user_id=None, state="done", done=1, total=1)
    directory = jobs.jobs_dir(current_app)
    jobs.save(directory, job)
    write_template(directory / f"{job.id}.xlsx")
    return job.id


# Exports (issue 6): one CSV sheet, and a finished background export.
ARGS["slug"] = lambda _session, _project_id: "budget"
ARGS["job_id"] = _export_job
# The auditor's workspace: one of its lists loaded when revealed (evidence.auditor_section).
ARGS["section"] = lambda _session, _project_id: "unbacked"


def _reporting_period(session, project_id):
    """The demo's first reporting period (the dates of its first indicator period), ISO dates."""
    row = session.execute(select(IndicatorPeriod.start_date, IndicatorPeriod.end_date)
                          .where(IndicatorPeriod.project_id == project_id)
                          .order_by(IndicatorPeriod.start_date, IndicatorPeriod.end_date).limit(1)).one()
    return row


# A reporting period in a URL (the progress report): /reports/<start>/<end>
ARGS["start"] = lambda session, project_id: _reporting_period(session, project_id)[0].isoformat()
ARGS["end"] = lambda session, project_id: _reporting_period(session, project_id)[1].isoformat()



def _evidence_with_image(session, project_id):
    """An evidence item with a stored image (its thumbnail route answers only for images): a
    small PNG stored on the demo's second item, through the app's own storage."""
    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from tracker.evidence.storage import store_upload

    found = session.execute(
        select(EvidenceItem.id).join(EvidenceItem.file)
        .where(EvidenceItem.project_id == project_id, EvidenceItem.file_name == "matrix-photo.png")).scalar()
    if found is not None:
        return found
    ids = session.execute(select(EvidenceItem.id).where(EvidenceItem.project_id == project_id)
                          .order_by(EvidenceItem.id).limit(2)).scalars().all()
    item = session.get(EvidenceItem, ids[-1])
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(picture, "PNG")
    picture.seek(0)
    upload = store_upload(FileStorage(picture, filename="matrix-photo.png"))
    item.file_id, item.file_name = upload.stored.id, upload.file_name
    session.commit()
    return item.id


# endpoint -> {argument: value function}, for the few places where a generic name needs a
# particular value.
ENDPOINT_ARGS: dict[str, dict] = {"evidence.thumbnail": {"item_id": _evidence_with_image}}


def value_for(endpoint: str, name: str, session, project_id: int):
    """The demo value of argument ``name`` for ``endpoint``; KeyError when none is known."""
    if name in ENDPOINT_ARGS.get(endpoint, {}):
        return ENDPOINT_ARGS[endpoint][name](session, project_id)
    return ARGS[name](session, project_id)
