"""Downloads: one Content-Disposition built safely for any name (RFC 6266 / 5987), and evidence
files that a browser could run as active content never open in place on the app's origin."""

import hashlib
from urllib.parse import unquote

import pytest
from sqlalchemy import select, update

from tracker.downloads import content_disposition
from tracker.evidence import storage
from tracker.extensions import db
from tracker.models import EvidenceItem, Project, StoredFile

HOSTILE_NAMES = [
    'Báo cáo "cuối kỳ".pdf',
    "report\r\nSet-Cookie: x=1.pdf",
    "Hội thảo Huế 2016 – Đà Nẵng.xlsx",
    "back\\slash;and%20percent.csv",
    "evil\u202egpj.exe",
    "\x00\x07\x1b",
    "",
    "...",
    "a" * 400 + ".pdf",
    "đ",
]


def _parse(value: str) -> tuple[str, str, str]:
    kind, rest = value.split(";", 1)
    assert 'filename="' in rest and "filename*=UTF-8''" in rest
    plain = rest.split('filename="', 1)[1].split('"', 1)[0]
    extended = unquote(rest.split("filename*=UTF-8''", 1)[1], encoding="utf-8", errors="strict")
    return kind, plain, extended


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_content_disposition_is_safe_for_any_name(name):
    value = content_disposition(name, fallback="evidence-7")
    assert value.isascii() and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)
    kind, plain, extended = _parse(value)
    assert kind == "attachment"
    assert plain and not set(plain) & set('"\\%;') and plain.isascii()
    assert extended and not any(ord(ch) < 0x20 for ch in extended) and "\u202e" not in extended
    assert "/" not in extended and "\\" not in extended and len(extended) <= 150
    assert value.count('"') == 2  # the quoted fallback is one quoted string


def test_content_disposition_keeps_vietnamese_letters_and_an_ascii_fallback():
    kind, plain, extended = _parse(content_disposition("Hội thảo Huế 2016 – Đà Nẵng.xlsx", inline=True))
    assert kind == "inline"
    assert extended == "Hội thảo Huế 2016 – Đà Nẵng.xlsx"
    assert plain == "Hoi thao Hue 2016  Da Nang.xlsx".replace("  ", " ")
    assert _parse(content_disposition('Báo cáo "cuối kỳ".pdf'))[1] == "Bao cao cuoi ky.pdf"
    assert _parse(content_disposition("\x00", fallback="evidence-7"))[1:] == ("evidence-7", "evidence-7")


HOSTILE_CODE = 'KFIT "VN"\nHuế'


@pytest.mark.parametrize("path", ["/audit/export.csv", "/audit/export.xlsx", "/export.xlsx",
                                  "/export/budget.csv", "/export.iati.xml"])
def test_every_export_answers_for_a_project_code_with_a_quote_a_newline_and_vietnamese(app, auth, client, demo,
                                                                                     path):
    with app.app_context():
        db.session.execute(update(Project).where(Project.id == demo).values(code=HOSTILE_CODE))
        db.session.commit()
    auth.login("admin")
    response = client.get(f"/projects/{demo}{path}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    kind, plain, extended = _parse(disposition)
    assert kind == "attachment" and "\n" not in extended and '"' not in plain
    assert "Huế" in extended or "Hu" in plain
    assert response.headers["Content-Type"].count("charset") <= 1
    response.close()


def _store(app, demo, content: bytes, content_type: str, file_name: str) -> int:
    with app.app_context():
        sha = hashlib.sha256(content).hexdigest()
        target = storage.path_for(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        stored = db.session.execute(select(StoredFile).where(StoredFile.sha256 == sha)).scalar()
        if stored is None:
            stored = StoredFile(sha256=sha, size=len(content), content_type=content_type)
            db.session.add(stored)
            db.session.flush()
        item = EvidenceItem(project_id=demo, title=f"File {file_name!r}", file_id=stored.id, file_name=file_name)
        db.session.add(item)
        db.session.commit()
        return item.id


ACTIVE = [
    (b"<html><script>alert(document.cookie)</script></html>", "text/html; charset=utf-8", "báo cáo.html"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml", 'ảnh "logo".svg'),
    (b"<?xml version='1.0'?><x/>", "application/xml", "data.xml"),
    (b"plain words", "text/plain; charset=utf-8", "ghi chú\n.txt"),
    (b"\x00\x01", "application/octet-stream", "blob"),
]


@pytest.mark.parametrize("content, content_type, file_name", ACTIVE, ids=[a[1] for a in ACTIVE])
def test_evidence_that_could_be_active_downloads_sandboxed(app, auth, client, demo, content, content_type,
                                                           file_name):
    item = _store(app, demo, content, content_type, file_name)
    auth.login("auditor")
    response = client.get(f"/projects/{demo}/evidence/{item}/file")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Security-Policy"].split(";")[0] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"].lower().count("charset") <= 1
    assert response.get_data() == content
    response.close()


@pytest.mark.parametrize("content_type, sandboxed", [("image/png", True), ("application/pdf", False)])
def test_images_and_pdfs_open_in_place(app, auth, client, demo, content_type, sandboxed):
    item = _store(app, demo, b"\x89PNG\r\n\x1a\n" if content_type == "image/png" else b"%PDF-1.4\n",
                  content_type, "Hội thảo.png" if sandboxed else "Hội thảo.pdf")
    auth.login("officer")
    response = client.get(f"/projects/{demo}/evidence/{item}/file")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert ("sandbox" in response.headers.get("Content-Security-Policy", "")) is sandboxed
    assert "Hội thảo" in unquote(response.headers["Content-Disposition"].split("UTF-8''")[1])
    response.close()
