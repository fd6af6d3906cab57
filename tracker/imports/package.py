"""The file itself: refuse anything that is not a plain .xlsx workbook before openpyxl opens it.

Refused with a clear message, nothing read: an empty file, junk, CSV, an old .xls or a
password-protected workbook (OLE2), a macro-enabled workbook, an OpenDocument or Word file, a
damaged zip, too many entries, too much unpacked data or a suspicious compression ratio (a zip
bomb), encrypted entries, an entry that unpacks to more than its directory says, and XML with a
DTD (``<!DOCTYPE`` or ``<!ENTITY``) in *any* part of the package, in UTF-8 or UTF-16: every
entry is read through, not only its first bytes or only workbook.xml.
"""

from __future__ import annotations

import io
import re
import zipfile

from flask import current_app
from flask_babel import gettext as _

from ..formatting import number
from ..i18n import N_
from ..validation import InputError

# Limits (each can be set in the app config under the same name).
DEFAULT_LIMITS = {
    "IMPORT_MAX_ENTRIES": 2_000,          # files inside the zip package
    "IMPORT_MAX_UNPACKED_MB": 60,         # all entries together, unpacked
    "IMPORT_MAX_RATIO": 200,              # unpacked / packed, for entries above 2 MB unpacked
    "IMPORT_MAX_ROWS": 100_000,           # rows read per sheet
}
XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
AS_XLSX = N_("save it as “Excel Workbook (.xlsx)” and upload that.")
_CHUNK = 256 * 1024


def _declaration_pattern() -> re.Pattern:
    """``<!DOCTYPE`` / ``<!ENTITY`` in any case, as UTF-8 (or ASCII) and as UTF-16 LE or BE."""
    variants = []
    for word in ("<!DOCTYPE", "<!ENTITY"):
        for encoding in ("ascii", "utf-16-le", "utf-16-be"):
            parts = []
            for ch in word:
                encoded = ch.encode(encoding)
                if ch.isalpha():
                    encoded_other = ch.swapcase().encode(encoding)
                    parts.append(b"(?:" + re.escape(encoded) + b"|" + re.escape(encoded_other) + b")")
                else:
                    parts.append(re.escape(encoded))
            variants.append(b"".join(parts))
    return re.compile(b"|".join(variants))


DECLARATION = _declaration_pattern()
_OVERLAP = 32  # bytes kept between chunks so a declaration split across two chunks is still seen


class ImportRefused(InputError):
    """The file as a whole cannot be imported (the message says why); nothing was read."""


def limit(name: str) -> int:
    try:
        return int(current_app.config.get(name, DEFAULT_LIMITS[name]))
    except RuntimeError:  # outside an app (scripts)
        return DEFAULT_LIMITS[name]


def check_package(data: bytes, filename: str = "") -> None:
    """Refuse anything that is not a plain .xlsx workbook, before openpyxl opens it."""
    name = (filename or "").lower()
    if not data:
        raise ImportRefused(_("The file is empty."))
    if name.endswith((".xlsm", ".xltm", ".xlam")):
        raise ImportRefused(_macros_refused())
    if data.startswith(OLE2_MAGIC):
        raise ImportRefused(_("This is an old-format Excel file (.xls) or a password-protected workbook. Save it as "
                              "“Excel Workbook (.xlsx)” without a password and upload that."))
    if not data.startswith(XLSX_MAGIC):
        looks_like_text = all(32 <= b < 127 or b in (9, 10, 13) or b >= 128 for b in data[:512])
        message = _("This file is not an Excel workbook (.xlsx): it is not a zip package as .xlsx files are.")
        if looks_like_text:
            message += " " + _("It looks like text (CSV?): open it in Excel and save it as .xlsx.")
        raise ImportRefused(message)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise ImportRefused(_(_DAMAGED)) from None
    with archive:
        _check_entries(archive, entries)


_DAMAGED = N_("This file is damaged or not an Excel workbook (.xlsx): its zip package cannot be read.")
_BOMB = N_("Nothing was read (this looks like a zip bomb).")


def _macros_refused() -> str:
    return _("This is a macro-enabled workbook (.xlsm). For safety only plain .xlsx workbooks are imported: "
             "%(how)s", how=_(AS_XLSX))


def _check_entries(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > limit("IMPORT_MAX_ENTRIES"):
        raise ImportRefused(_("The workbook holds %(count)s files inside; a workbook never needs that many.",
                              count=number(len(entries))) + " " + _(_BOMB))
    budget = limit("IMPORT_MAX_UNPACKED_MB") * 1024 * 1024
    unpacked = sum(e.file_size for e in entries)
    if unpacked > budget:
        raise ImportRefused(_("The workbook would unpack to %(size)s MB, more than the limit of %(limit)s MB.",
                              size=number(round(unpacked / 1024 / 1024)), limit=limit("IMPORT_MAX_UNPACKED_MB"))
                            + " " + _(_BOMB))
    for entry in entries:
        if entry.file_size > 2 * 1024 * 1024 and entry.file_size > limit("IMPORT_MAX_RATIO") * max(entry.compress_size, 1):
            raise ImportRefused(_("“%(name)s” inside the workbook is compressed %(ratio)s times, far more than any "
                                  "real workbook.", name=entry.filename[:80],
                                  ratio=number(entry.file_size // max(entry.compress_size, 1))) + " " + _(_BOMB))
        if entry.flag_bits & 0x1:
            raise ImportRefused(_("The workbook's contents are encrypted. Remove the password and upload it again."))
    names = {e.filename for e in entries}
    lowered = {n.lower() for n in names}
    if any(n.endswith("vbaproject.bin") for n in lowered):
        raise ImportRefused(_("This workbook contains macros (a VBA project). For safety only plain .xlsx workbooks "
                              "are imported: %(how)s", how=_(AS_XLSX)))
    if "mimetype" in names and b"opendocument" in _read(archive, archive.getinfo("mimetype"))[:200]:
        raise ImportRefused(_("This is an OpenDocument spreadsheet (.ods). Save it as “Excel 2007-365 (.xlsx)” and "
                              "upload that."))
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        raise ImportRefused(_("This is a Word or PowerPoint file, not an Excel workbook (.xlsx)."))
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportRefused(_("This zip file is not an Excel workbook (.xlsx): it has no workbook inside."))
    content_types = _read(archive, archive.getinfo("[Content_Types].xml"))[:200_000]
    if b"macroEnabled" in content_types or b"vbaProject" in content_types:
        raise ImportRefused(_macros_refused())
    for entry in entries:
        _scan(archive, entry)


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes:
    try:
        return archive.read(entry)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        raise ImportRefused(_(_DAMAGED)) from None


def _scan(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    """Read one entry through: no DTD anywhere in it, and no more bytes than its directory says."""
    seen = 0
    tail = b""
    try:
        with archive.open(entry) as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                seen += len(chunk)
                if seen > entry.file_size:
                    raise ImportRefused(_("“%(name)s” inside the workbook unpacks to more than its zip directory says.",
                                          name=entry.filename[:80]) + " " + _(_BOMB))
                if DECLARATION.search(tail + chunk):
                    raise ImportRefused(_("The workbook contains XML declarations (DTD) that Excel never writes "
                                          "(in “%(name)s”). Nothing was read.", name=entry.filename[:80]))
                tail = chunk[-_OVERLAP:]
    except ImportRefused:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        raise ImportRefused(_(_DAMAGED)) from None


def open_workbook(data: bytes, filename: str = ""):
    """Check the package, then open it with openpyxl (read-only, formulas kept as formulas)."""
    from openpyxl import load_workbook

    check_package(data, filename)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds on damaged files
        raise ImportRefused(_("The workbook could not be read: it is damaged or not in the Excel .xlsx format. "
                              "Open it in Excel or LibreOffice and save it again as .xlsx.")) from None
