"""Nothing grows without bound from refused requests: a refused upload leaves no file under
the evidence folder (failed logins are counted, not each written: tests/test_accounts.py)."""

from pathlib import Path

from sqlalchemy import func, select

from tests.test_uploads import PNG, post_item
from tracker.extensions import db
from tracker.models import StoredFile


def stored_files(app):
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_valid_file_in_a_refused_form_leaves_no_file(app, client, auth, demo):
    auth.login("officer")
    before = stored_files(app)
    response = post_item(client, demo, "photo.png", PNG + b"refused-form", title="")
    assert response.status_code == 422 and "A title is required." in response.get_data(as_text=True)
    assert stored_files(app) == before
    with app.app_context():  # the row went with the rolled-back request
        assert db.session.execute(select(func.count()).select_from(StoredFile)
                                  .where(StoredFile.size == len(PNG) + len(b"refused-form"))).scalar() == 0


def test_refused_files_leave_nothing(app, client, auth, demo):
    auth.login("officer")
    before = stored_files(app)
    for name, data in (("photo.pdf", PNG), ("tool.exe", b"MZ\x90\0"), ("empty.pdf", b"")):
        assert post_item(client, demo, name, data).status_code == 422
    assert stored_files(app) == before


def test_an_accepted_upload_keeps_its_file_and_the_same_content_refused_later_keeps_it(app, client, auth, demo):
    auth.login("officer")
    assert post_item(client, demo, "photo.png", PNG + b"kept").status_code == 303
    kept = stored_files(app)
    assert len(kept) == 1
    # The same content again in a refused form: the file belongs to the first item and stays.
    assert post_item(client, demo, "photo.png", PNG + b"kept", title="").status_code == 422
    assert stored_files(app) == kept
