"""Uploaded evidence files: type from content, size limit, content-addressed storage, downloads, `evidence verify`."""

import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from tests.conftest import running_app
from tracker.evidence import storage
from tracker.extensions import db
from tracker.models import EvidenceItem, StoredFile

# --------------------------------------------------------------------------------------------- sample files


def zip_bytes(entries: dict[str, bytes], first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first:
            archive.writestr(first, entries.pop(first), compress_type=zipfile.ZIP_STORED)
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ole(stream_name: str) -> bytes:
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    return header + stream_name.encode("utf-16-le") + b"\0" * 600


def xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["A1"] = "Huế"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 40
SAMPLES = {
    "agenda.pdf": b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n",
    "photo.png": PNG,
    "photo.jpg": b"\xff\xd8\xff\xe0\0\x10JFIF\0" + b"\0" * 40,
    "photo.JPEG": b"\xff\xd8\xff\xe1\0\x10Exif\0" + b"\0" * 40,
    "banner.gif": b"GIF89a" + b"\0" * 40,
    "banner.webp": b"RIFF\x24\0\0\0WEBPVP8 " + b"\0" * 40,
    "report.docx": zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
    "budget.xlsx": xlsx(),
    "slides.pptx": zip_bytes({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}),
    "old.doc": ole("WordDocument"),
    "old.xls": ole("Workbook"),
    "old.ppt": ole("PowerPoint Document"),
    "minutes.odt": zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
                             first="mimetype"),
    "sheet.ods": zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"},
                           first="mimetype"),
    "notes.txt": "Hội thảo ở Huế, 24/11/2016.\nQuyết định 1755/QĐ-TTg\n".encode(),
    "list.csv": "\ufeffname,city\nMai,Hà Nội\n".encode(),
}
EXPECTED_KIND = {"agenda.pdf": "pdf", "photo.png": "png", "photo.jpg": "jpeg", "photo.JPEG": "jpeg",
                 "banner.gif": "gif", "banner.webp": "webp", "report.docx": "docx", "budget.xlsx": "xlsx",
                 "slides.pptx": "pptx", "old.doc": "doc", "old.xls": "xls", "old.ppt": "ppt", "minutes.odt": "odt",
                 "sheet.ods": "ods", "notes.txt": "text", "list.csv": "text"}


def upload(name: str, data: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield app


# --------------------------------------------------------------------------------------------- storage, directly


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_accepted_type_is_recognised_from_its_content(ctx, name):
    stored = storage.store_upload(upload(name, SAMPLES[name]))
    sha = hashlib.sha256(SAMPLES[name]).hexdigest()
    assert stored.stored.sha256 == sha and stored.file_name == name
    path = Path(ctx.config["UPLOAD_DIR"]) / sha[:2] / sha
    assert path.read_bytes() == SAMPLES[name]
    assert storage.sniff(path) == EXPECTED_KIND[name]
    extension = name.rsplit(".", 1)[1].lower()
    assert stored.stored.content_type == storage.EXTENSIONS[extension][1]


@pytest.mark.parametrize("name, data, message", [
    ("empty.pdf", b"", "The file is empty."),
    ("tool.exe", b"MZ\x90\0" + b"\0" * 100, "Files of type .exe are not accepted."),
    ("page.html", b"<html><script>alert(1)</script></html>", "Files of type .html are not accepted."),
    ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Files of type .svg are not accepted."),
    ("README", b"plain words", "Files without an extension are not accepted."),
    ("photo.pdf", PNG, "photo.pdf is named as a PDF document but its content is a PNG image."),
    ("agenda.png", b"%PDF-1.4\n%%EOF", "agenda.png is named as a PNG image but its content is a PDF document."),
    ("report.docx", b"just text pretending", "report.docx is named as a Word document but its content is plain text"),
    ("report.pdf", b"\x00\x01binary junk\xff", "The content of report.pdf is not a PDF document"),
    ("archive.docx", zip_bytes({"a.txt": b"x"}), "The content of archive.docx is not a Word document (it is a zip"),
    ("macro.docx", zip_bytes({"[Content_Types].xml": b"<T/>", "word/document.xml": b"<d/>",
                              "word/vbaProject.bin": b"\0"}), "contains macros"),
    ("budget.xlsx", zip_bytes({"[Content_Types].xml": b"<T/>", "word/document.xml": b"<d/>"}),
     "budget.xlsx is named as an Excel workbook but its content is a Word document."),
    ("binary.txt", b"abc\0\x01\x02def", "The content of binary.txt is not plain text"),
    ("latin1.txt", "Hu\xe9".encode("latin-1"), "The content of latin1.txt is not plain text"),
    ("data.doc", ole("Nothing known"), "is not a Word 97-2003 document"),
])
def test_disallowed_or_mismatched_files_are_refused_and_not_stored(ctx, name, data, message):
    with pytest.raises(storage.InputError) as caught:
        storage.store_upload(upload(name, data))
    assert message in str(caught.value)
    stored = [p for p in Path(ctx.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]
    assert stored == []  # nothing left behind, not even in .incoming
    assert db.session.execute(select(func.count()).select_from(StoredFile)).scalar() == 0


def test_a_file_over_the_limit_is_refused(ctx):
    ctx.config["MAX_UPLOAD_MB"] = 1
    with pytest.raises(storage.UploadTooLarge) as caught:
        storage.store_upload(upload("big.txt", b"a" * (1024 * 1024 + 1)))
    assert "larger than the limit of 1 MB" in str(caught.value)
    assert storage.store_upload(upload("fits.txt", b"a" * (1024 * 1024))).stored.size == 1024 * 1024


def test_the_same_bytes_are_stored_once(ctx):
    first = storage.store_upload(upload("agenda.pdf", SAMPLES["agenda.pdf"]))
    second = storage.store_upload(upload("chương trình.pdf", SAMPLES["agenda.pdf"]))
    assert first.stored.id == second.stored.id and second.file_name == "chương trình.pdf"
    assert len([p for p in Path(ctx.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]) == 1


def test_the_users_file_name_never_reaches_a_path(ctx):
    stored = storage.store_upload(upload("../../../etc/Báo cáo\x00\u202e.txt", b"hello"))
    assert stored.file_name == "Báo cáo.txt"
    files = [p for p in Path(ctx.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]
    assert [p.name for p in files] == [hashlib.sha256(b"hello").hexdigest()]
    assert storage.display_name("C:\\Users\\mai\\Biên bản.docx") == "Biên bản.docx"
    long_name = storage.display_name("a" * 400 + ".pdf")
    assert len(long_name) <= 255 and long_name.endswith("a.pdf")
    with pytest.raises(ValueError):
        storage.path_for("../etc/passwd")


def test_a_damaged_copy_is_repaired_by_uploading_the_file_again(ctx):
    stored = storage.store_upload(upload("agenda.pdf", SAMPLES["agenda.pdf"]))
    path = storage.path_for(stored.stored.sha256)
    path.write_bytes(b"tampered")
    storage.store_upload(upload("agenda.pdf", SAMPLES["agenda.pdf"]))
    assert path.read_bytes() == SAMPLES["agenda.pdf"]


# --------------------------------------------------------------------------------------------- over HTTP

HX = {"HX-Request": "true"}


def post_item(client, demo, name, data, **fields):
    values = {"kind": "report", "title": "Báo cáo tình hình", "dated": "2016-12-15", "language": "vi"}
    values.update(fields)
    if name is not None:
        values["file"] = (io.BytesIO(data), name)
    return client.post(f"/projects/{demo}/evidence/new", data=values, content_type="multipart/form-data")


def item_count(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(EvidenceItem)).scalar()


def test_uploading_through_the_form_and_downloading_inline(app, client, auth, demo):
    auth.login("officer")
    response = post_item(client, demo, "Biên bản họp.pdf", SAMPLES["agenda.pdf"])
    assert response.status_code == 303
    item_id = int(re.search(r"/evidence/(\d+)$", response.headers["Location"]).group(1))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Biên bản họp.pdf" in page and "application/pdf" in page
    download = client.get(f"/projects/{demo}/evidence/{item_id}/file")
    assert download.status_code == 200 and download.data == SAMPLES["agenda.pdf"]
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("inline")
    assert "filename*=UTF-8''Bi%C3%AAn%20b%E1%BA%A3n%20h%E1%BB%8Dp.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]


@pytest.mark.parametrize("name, disposition", [("report.docx", "attachment"), ("notes.txt", "attachment"),
                                               ("photo.png", "inline"), ("old.xls", "attachment")])
def test_only_images_and_pdfs_open_in_the_browser(app, client, auth, demo, name, disposition):
    auth.login("manager")
    response = post_item(client, demo, name, SAMPLES[name])
    item_id = int(response.headers["Location"].rsplit("/", 1)[1])
    download = client.get(f"/projects/{demo}/evidence/{item_id}/file")
    assert download.headers["Content-Disposition"].startswith(disposition)
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name, data, message", [
    ("empty.pdf", b"", "The file is empty."),
    ("tool.exe", b"MZ\x90\0", "Files of type .exe are not accepted."),
    ("photo.pdf", PNG, "photo.pdf is named as a PDF document but its content is a PNG image."),
])
def test_a_refused_file_comes_back_with_its_message_and_nothing_saved(app, client, auth, demo, name, data, message):
    auth.login("officer")
    before = item_count(app)
    response = post_item(client, demo, name, data, source="Typed source")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and "Typed source" in body and "Báo cáo tình hình" in body
    assert item_count(app) == before


def test_a_file_chosen_with_other_errors_asks_to_choose_it_again(app, client, auth, demo):
    auth.login("officer")
    response = post_item(client, demo, "agenda.pdf", SAMPLES["agenda.pdf"], title="")
    assert response.status_code == 422
    assert "A title is required." in response.get_data(as_text=True)
    assert "Choose the file again" in response.get_data(as_text=True)


@pytest.fixture
def small_app(databases, tmp_path):
    with running_app(databases, tmp_path, MAX_UPLOAD_MB=1) as application:
        yield application


def test_over_the_limit_answers_413_with_a_clear_message(small_app):
    client = small_app.test_client()
    client.post("/login", data={"email": "officer@demo.test", "password": "demo-officer-pass"})
    # Just above the limit: measured while streaming, the form comes back with the message.
    response = post_item(client, 1, "big.txt", b"a" * (1024 * 1024 + 10))
    assert response.status_code == 413
    assert "larger than the limit of 1 MB. Nothing was saved." in response.get_data(as_text=True)
    # Far above: Werkzeug refuses the request before reading it; the app's 413 page says why.
    response = post_item(client, 1, "huge.txt", b"a" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than the limit of 1 MB" in response.get_data(as_text=True)
    assert item_count(small_app) == 12
    assert [p for p in Path(small_app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()] == []


def test_files_are_only_served_to_members(app, client, auth, demo):
    from tracker.accounts.services import create_user

    auth.login("officer")
    location = post_item(client, demo, "agenda.pdf", SAMPLES["agenda.pdf"]).headers["Location"]
    url = location + "/file"
    auth.logout()
    assert client.get(url).status_code == 302  # to the login page
    with app.app_context():
        create_user("stranger@demo.test", "Stranger", "stranger-pass-1")
        db.session.commit()
    client.post("/login", data={"email": "stranger@demo.test", "password": "stranger-pass-1"})
    assert client.get(url).status_code == 404
    auth.logout()
    for role in ("liaison", "auditor", "manager"):
        auth.login(role)
        assert client.get(url).status_code == 200
        auth.logout()


def test_an_item_without_a_file_or_a_missing_file_is_404(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        without = db.session.execute(select(EvidenceItem.id)).scalars().first()
    assert client.get(f"/projects/{demo}/evidence/{without}/file").status_code == 404
    location = post_item(client, demo, "agenda.pdf", SAMPLES["agenda.pdf"]).headers["Location"]
    with app.app_context():
        path = Path(app.config["UPLOAD_DIR"]) / hashlib.sha256(SAMPLES["agenda.pdf"]).hexdigest()[:2]
        for file in path.iterdir():
            file.unlink()
    assert client.get(location + "/file").status_code == 404


def test_replacing_and_removing_a_file(app, client, auth, demo):
    auth.login("officer")
    location = post_item(client, demo, "agenda.pdf", SAMPLES["agenda.pdf"]).headers["Location"]
    item_id = int(location.rsplit("/", 1)[1])
    edit = f"/projects/{demo}/evidence/{item_id}/edit"
    assert "Current file" in client.get(edit).get_data(as_text=True)
    def version():  # the edit form's hidden field
        with app.app_context():
            return str(db.session.get(EvidenceItem, item_id).version)

    response = client.post(edit, content_type="multipart/form-data", data={
        "kind": "report", "title": "Báo cáo tình hình", "file": (io.BytesIO(SAMPLES["report.docx"]), "báo cáo.docx"),
        "version": version()})
    assert response.status_code == 303
    with app.app_context():
        item = db.session.get(EvidenceItem, item_id)
        assert item.file_name == "báo cáo.docx" and item.file.content_type.endswith("wordprocessingml.document")
    response = client.post(edit, data={"kind": "report", "title": "Báo cáo tình hình", "remove_file": "y",
                                       "version": version()})
    assert response.status_code == 303
    with app.app_context():
        item = db.session.get(EvidenceItem, item_id)
        assert item.file_id is None and item.file_name == ""


# --------------------------------------------------------------------------------------------- evidence verify


def test_evidence_verify_reports_missing_and_altered_files(app, client, auth, demo, runner):
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0 and "Evidence files intact: 0 checked" in result.output
    auth.login("officer")
    for name in ("agenda.pdf", "report.docx", "notes.txt"):
        assert post_item(client, demo, name, SAMPLES[name]).status_code == 303
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0 and "Evidence files intact: 3 checked" in result.output
    root = Path(app.config["UPLOAD_DIR"])
    pdf = hashlib.sha256(SAMPLES["agenda.pdf"]).hexdigest()
    text = hashlib.sha256(SAMPLES["notes.txt"]).hexdigest()
    (root / pdf[:2] / pdf).write_bytes(b"%PDF-1.4 altered")
    (root / text[:2] / text).unlink()
    (root / "ab").mkdir(exist_ok=True)
    (root / "ab" / ("ab" + "0" * 62)).write_bytes(b"stray")
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1
    assert f"ALTERED  {pdf}" in result.output and f"MISSING  {text}" in result.output
    assert "used by item" in result.output and "agenda.pdf" in result.output
    assert "1 missing, 1 altered, of 3 checked" in result.output
    assert "unreferenced file (not an error)" in result.output
