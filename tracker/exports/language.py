"""The language of an export: English, Vietnamese, or both (bilingual).

The workbook and the CSV are written in the language chosen on the exports page (the
person's interface language by default): sheet titles, column headers, enum labels (status
words), yes/no, totals, notes and the Summary's labels go through gettext under
``flask_babel.force_locale``. Headers and labels are declared in English (the catalogue's
msgids, marked ``N_`` in ``columns.py``); this module translates them.

* ``en``: English, as before. ``vi``: Vietnamese. ``both``: each word the app writes is
  "Vietnamese / English" (``Mã / Code``), in one header row, so a filter, a pivot table and the
  import all see one header per column. A sheet title is "Vietnamese – English" when that fits
  Excel's 31 characters, else Vietnamese.
* What people typed (titles, payees, notes) is never translated; numbers stay numbers with their
  number formats, dates stay dates; the IATI file stays ISO and English codes.
* **The workbook says its language** in its document property *language* (``dc:language`` in
  docProps/core.xml, openpyxl's ``wb.properties.language``): ``en``, ``vi``, or ``vi, en`` for
  a bilingual one; ``workbook_language(wb)`` reads it back as en / vi / both. The import reads
  numbers typed as text in that language (``tracker.imports.sheets.workbook_locale``: one
  language named, that one; a bilingual workbook or none named, the importing person's
  locale). A "Language of this workbook" row on the Summary sheet says it to people.
* The import finds sheets and columns by their title or header in any of the three forms
  (``names_of``), so a Vietnamese or bilingual export can be imported back.
"""

from __future__ import annotations

import re

from flask_babel import force_locale, gettext

LANGUAGES = ("en", "vi", "both")
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt", "both": "Tiếng Việt / English"}
DOCUMENT_LANGUAGE = {"en": "en", "vi": "vi", "both": "vi, en"}  # the workbook's dc:language
EXCEL_SHEET_TITLE = 31


def N_(message: str) -> str:  # noqa: N802  (Babel's default keyword for "extract, translate later")
    """Marks a message for the catalogue without translating it (it is translated when written)."""
    return message


def chosen(value: str | None, default: str = "en") -> str:
    """A language from a form or URL: one of ``LANGUAGES``, else ``default``."""
    return value if value in LANGUAGES else default


def _msgid(message) -> str:
    """The English text of a message: a lazy string (lazy_gettext) is resolved in English."""
    if isinstance(message, str):
        return message
    with force_locale("en"):
        return str(message)


def _in(locale: str, msgid: str) -> str:
    with force_locale(locale):
        return gettext(msgid) if msgid else msgid


class Translator:
    """``tr("Total")`` in one export's language; templates are cached, placeholders are named."""

    def __init__(self, language: str = "en"):
        self.language = chosen(language)
        self._cache: dict[str, tuple[str, ...]] = {}

    def _templates(self, message) -> tuple[str, ...]:
        msgid = _msgid(message)
        found = self._cache.get(msgid)
        if found is None:
            if self.language == "both":
                vi, en = _in("vi", msgid), _in("en", msgid)
                found = (vi,) if vi == en else (vi, en)
            else:
                found = (_in(self.language, msgid),)
            self._cache[msgid] = found
        return found

    def __call__(self, message, **values) -> str:
        parts = self._templates(message)
        if values:
            parts = tuple(part % values for part in parts)
        return " / ".join(parts)

    def title(self, message) -> str:
        """A sheet title: Excel allows 31 characters and no ``/``."""
        parts = self._templates(message)
        joined = " – ".join(parts)
        return joined if len(joined) <= EXCEL_SHEET_TITLE else parts[0][:EXCEL_SHEET_TITLE]

    def labels(self, labels) -> dict:
        """An enum's value -> label map, translated."""
        return {value: self(label) for value, label in labels.items()}


def norm(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().lower()


def names_of(message, *, title: bool = False) -> set[str]:
    """Every form a header (or, with ``title``, a sheet title) takes in the three languages,
    normalised (lower case, single spaces): what the import accepts."""
    forms = set()
    for language in LANGUAGES:
        translator = Translator(language)
        forms.add(norm(translator.title(message) if title else translator(message)))
    return forms


def workbook_language(wb) -> str | None:
    """The language a workbook was exported in (en, vi or both, from its document property
    *language*), or None for a workbook that does not say."""
    declared = str(getattr(getattr(wb, "properties", None), "language", None) or "").strip().lower()
    return next((code for code, value in DOCUMENT_LANGUAGE.items() if value == declared), None)


def mark_workbook(wb, language: str) -> None:
    """Write the export's language into the workbook's document property *language*."""
    wb.properties.language = DOCUMENT_LANGUAGE[chosen(language)]
