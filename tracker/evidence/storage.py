"""Uploaded evidence files: type from content, content-addressed storage, integrity check.

* **Type.** What a file *is* comes from its first bytes (and, for zip and OLE containers,
  from what is inside), never from its name or the browser's Content-Type. Accepted: PDF;
  PNG, JPEG, GIF and WebP images; office documents (Word, Excel and PowerPoint as OOXML or
  the legacy OLE format; OpenDocument text, spreadsheet and presentation); plain UTF-8 text.
  The name's extension must agree with the content (a PNG called ``report.pdf`` is refused),
  so the file opens with the right program on the reader's machine. Macro-enabled OOXML
  (a ``vbaProject.bin`` inside) is refused. SVG and HTML are not accepted: they can carry
  scripts.
* **Storage.** Bytes are written under ``UPLOAD_DIR`` (``instance/evidence``, never under
  ``static/``) in a file named by their SHA-256, in a sub-folder named by its first two hex
  digits: ``instance/evidence/3f/3fa9...``. The user's file name is kept on the evidence item
  for display only and never reaches a filesystem path. The same bytes uploaded twice are
  stored once.
* **Size.** ``MAX_UPLOAD_MB`` (default 20). Werkzeug refuses a request far above it before
  reading it; a file just above the limit is measured here while it is streamed to disk.
* **Integrity.** ``verify_files()`` re-hashes every stored file (``flask evidence verify``).
* **Images.** An image above Pillow's pixel limit is refused; each image gets a thumbnail beside
  it (``thumbnails``: ``<sha256>-160.webp``, re-encoded, no metadata), which ``verify`` knows.

A file written for a request that then fails stays on disk unreferenced; it is harmless
(content-addressed, never served without a row) and ``verify`` lists such strays.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import StoredFile
from ..validation import InputError
from . import thumbnails

CHUNK = 1024 * 1024

# extension -> (content kind it must have, Content-Type to serve it with)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "gif": ("gif", "image/gif"),
    "webp": ("webp", "image/webp"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "doc": ("doc", "application/msword"),
    "xls": ("xls", "application/vnd.ms-excel"),
    "ppt": ("ppt", "application/vnd.ms-powerpoint"),
    "odt": ("odt", "application/vnd.oasis.opendocument.text"),
    "ods": ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    "odp": ("odp", "application/vnd.oasis.opendocument.presentation"),
    "txt": ("text", "text/plain; charset=utf-8"),
    "csv": ("text", "text/csv; charset=utf-8"),
    "md": ("text", "text/markdown; charset=utf-8"),
}

KIND_NAMES = {
    "pdf": _l("a PDF document"), "png": _l("a PNG image"), "jpeg": _l("a JPEG image"), "gif": _l("a GIF image"),
    "webp": _l("a WebP image"), "docx": _l("a Word document"), "xlsx": _l("an Excel workbook"),
    "pptx": _l("a PowerPoint presentation"), "doc": _l("a Word 97-2003 document"), "xls": _l("an Excel 97-2003 workbook"),
    "ppt": _l("a PowerPoint 97-2003 presentation"), "odt": _l("an OpenDocument text"), "ods": _l("an OpenDocument spreadsheet"),
    "odp": _l("an OpenDocument presentation"), "text": _l("plain text"), "ole": _l("an unrecognised Office 97-2003 file"),
    "zip": _l("a zip archive"), "macro": _l("an Office document with macros"), "unknown": _l("of a type that is not accepted"),
}

ACCEPTED_TEXT = _l("Accepted: PDF, images (PNG, JPEG, GIF, WebP), office documents (Word, Excel, PowerPoint, "
                   "OpenDocument) and plain text (.txt, .csv, .md).")

INLINE_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp")
IMAGE_KINDS = ("png", "jpeg", "gif", "webp")


def accept_attribute() -> str:
    """The file input's ``accept``: the types' MIME names (so a phone offers its camera and
    photos, and converts a HEIC photo to JPEG) and every accepted extension."""
    types = sorted({content_type.split(";")[0] for kind, content_type in EXTENSIONS.values()
                    if kind in IMAGE_KINDS or kind == "pdf"})
    return ",".join(types + [f".{extension}" for extension in EXTENSIONS])


def photo_accept_attribute() -> str:
    """The "Take a photo" input's ``accept``: image types only, which is what ``capture`` needs."""
    return ",".join(sorted({content_type for kind, content_type in EXTENSIONS.values() if kind in IMAGE_KINDS}))


class UploadTooLarge(InputError):
    """The file is above MAX_UPLOAD_MB (``tracker.htmx.write`` answers with its ``status``, 413)."""

    status = 413


def limit_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def path_for(sha256: str) -> Path:
    """Where the bytes with this hash live; only ever built from a hex digest."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return upload_dir() / sha256[:2] / sha256


def display_name(raw: str | None) -> str:
    """The user's file name, made safe to show: no folders, no control characters, 255 characters at most."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:255]
    return name


def extension_of(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


# --------------------------------------------------------------------------------------------- sniffing

SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"PK\x03\x04", "zip"),
)
OLE_STREAMS = (
    ("WordDocument".encode("utf-16-le"), "doc"),
    ("Workbook".encode("utf-16-le"), "xls"),
    ("Book".encode("utf-16-le"), "xls"),
    ("PowerPoint Document".encode("utf-16-le"), "ppt"),
)
ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
# Control characters other than tab, line feed, form feed and carriage return: not plain text.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                return "macro"
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return "docx"
                if "xl/workbook.xml" in names:
                    return "xlsx"
                if "ppt/presentation.xml" in names:
                    return "pptx"
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
                return ODF_TYPES.get(archive.read("mimetype").strip(), "zip")
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return "unknown"
    return "zip"


def _ole_kind(path: Path) -> str:
    data = path.read_bytes()
    for marker, kind in OLE_STREAMS:
        if marker in data:
            return kind
    return "ole"


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                if CONTROL_CHARACTERS.search(decoder.decode(chunk)):
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff(path: Path) -> str:
    """The kind of the file's content (a key of KIND_NAMES), from its bytes alone."""
    with path.open("rb") as handle:
        head = handle.read(64)
    for signature, kind in SIGNATURES:
        if head.startswith(signature):
            if kind == "zip":
                return _zip_kind(path)
            if kind == "ole":
                return _ole_kind(path)
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if _is_utf8_text(path):
        return "text"
    return "unknown"


# --------------------------------------------------------------------------------------------- storing


@dataclass
class Upload:
    stored: StoredFile
    file_name: str


def _allowed_list() -> str:
    return ", ".join(f".{e}" for e in EXTENSIONS)


NEW_FILES = "evidence_new_files"


@event.listens_for(Session, "after_commit")
def _keep_new_files(session) -> None:
    session.info.pop(NEW_FILES, None)


@event.listens_for(Session, "after_rollback")
def _remove_new_files(session) -> None:
    """A refused request (invalid fields, a stale form, any error) rolls back its StoredFile
    row; the file it stored goes with it, unless another request committed the same content
    meanwhile. So a refused upload leaves nothing under UPLOAD_DIR."""
    created = session.info.pop(NEW_FILES, None)
    if not created:
        return
    with session.get_bind().connect() as connection:  # committed state, outside the rolled-back transaction
        kept = set(connection.execute(select(StoredFile.sha256).where(
            StoredFile.sha256.in_([sha for sha, _path in created]))).scalars())
    for sha, path in created:
        if sha not in kept:
            Path(path).unlink(missing_ok=True)


def store_upload(file_storage) -> Upload:
    """Check and store an uploaded file; return its StoredFile (new or existing) and display name.

    Raises InputError for an empty file, a disallowed type or content that does not match
    the name, UploadTooLarge above the limit. Flushes, never commits.
    """
    name = display_name(getattr(file_storage, "filename", ""))
    if not name:
        raise InputError(_("The file has no name; rename it (for example report.pdf) and upload it again."))
    extension = extension_of(name)
    if extension not in EXTENSIONS:
        refused = (_("Files of type %(extension)s are not accepted.", extension=f".{extension}") if extension
                   else _("Files without an extension are not accepted."))
        raise InputError(f"{refused} {ACCEPTED_TEXT}")
    expected_kind, content_type = EXTENSIONS[extension]

    incoming = upload_dir() / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    limit = limit_bytes()
    fd, temp_name = tempfile.mkstemp(dir=incoming, prefix="upload-")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            stream = file_storage.stream
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(_("The file is larger than the limit of %(limit)s MB. Nothing was saved.",
                                           limit=current_app.config["MAX_UPLOAD_MB"]))
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InputError(_("The file is empty. Choose the file again; nothing was saved."))
        kind = sniff(temp)
        if kind != expected_kind:
            if kind in ("unknown", "zip", "ole"):
                raise InputError(_("The content of %(name)s is not %(expected)s (it is %(found)s, or damaged).",
                                   name=name, expected=KIND_NAMES[expected_kind], found=KIND_NAMES[kind])
                                 + f" {ACCEPTED_TEXT}")
            if kind == "macro":
                raise InputError(_("%(name)s contains macros, which are not accepted. Save it without macros "
                                   "(as .docx, .xlsx or .pptx) and upload it again.", name=name))
            raise InputError(_("%(name)s is named as %(expected)s but its content is %(found)s. Rename it or "
                               "choose the right file.", name=name, expected=KIND_NAMES[expected_kind],
                               found=KIND_NAMES[kind]))
        if kind in IMAGE_KINDS:
            thumbnails.check_pixels(temp, name, kind)  # a decompression bomb goes no further
        sha = digest.hexdigest()
        final = path_for(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if not final.exists() or file_sha256(final) != sha:
            created = not final.exists()
            os.replace(temp, final)  # atomic on one filesystem; also repairs a damaged copy
            os.chmod(final, 0o640)
            if created:  # the request may still be refused: then the file goes too
                db.session().info.setdefault(NEW_FILES, []).append((sha, final))
        if expected_kind in IMAGE_KINDS and not thumbnails.path_for(final).exists():
            if thumbnails.ensure(final) is not None:
                db.session().info.setdefault(NEW_FILES, []).append((sha, thumbnails.path_for(final)))
    finally:
        temp.unlink(missing_ok=True)

    stored = db.session.execute(select(StoredFile).where(StoredFile.sha256 == sha)).scalar()
    if stored is None:
        stored = StoredFile(sha256=sha, size=size, content_type=content_type)
        db.session.add(stored)
        db.session.flush()
    return Upload(stored, name)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def served_inline(content_type: str) -> bool:
    """Images and PDFs open in the browser; everything else downloads."""
    return content_type.split(";")[0].strip() in INLINE_TYPES


# --------------------------------------------------------------------------------------------- verifying


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[StoredFile] = field(default_factory=list)
    altered: list[tuple[StoredFile, str]] = field(default_factory=list)
    strays: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.altered


def verify_files() -> VerifyReport:
    """Re-hash every stored file; list missing and altered ones, and files no row refers to."""
    report = VerifyReport()
    known = set()
    for stored in db.session.execute(select(StoredFile).order_by(StoredFile.id)).scalars():
        report.checked += 1
        known.add(stored.sha256)
        path = path_for(stored.sha256)
        if not path.is_file():
            report.missing.append(stored)
            continue
        actual = file_sha256(path)
        if actual != stored.sha256:
            report.altered.append((stored, actual))
    root = upload_dir()
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and len(p.name) == 2):
            for path in sorted(folder.iterdir()):
                if path.name not in known and not thumbnails.is_thumbnail_name(path.name, known):
                    report.strays.append(path)
    return report
