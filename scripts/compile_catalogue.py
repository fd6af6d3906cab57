"""Compile one catalogue (.po -> .mo), as ``pybabel compile`` does, less one false alarm.

``make translations`` runs this for each language whose .po is newer than its .mo. It is
``pybabel compile -i PO -o MO`` (the same Babel reader, checks and writer; fuzzy entries are
left out) with one difference: pybabel reads any msgid holding "% " and a letter as a printf
placeholder ("% of target" as "% o", "% complete" as "% c") and then refuses every
translation that does not repeat it ("% so với mục tiêu"). Such texts are column headers
given to gettext without arguments, never %-formatted, and no message of this app means a
placeholder written with a space; so that one complaint is ignored for them. Every other
problem (a named placeholder missing or added, a broken .po) fails the build.

Usage: python scripts/compile_catalogue.py tracker/translations/vi/LC_MESSAGES/messages.po OUT.mo
"""

import re
import sys

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

_SPACED = re.compile(r"(?<!%)% [a-zA-Z]")  # "% o": a printf placeholder with the space flag
_NAMED = re.compile(r"%\([A-Za-z_]\w*\)")


def false_alarm(msgid) -> bool:
    """True for a text whose only "placeholders" are "% x" with a space (never formatted)."""
    text = msgid[0] if isinstance(msgid, tuple) else msgid
    return bool(_SPACED.search(text)) and not _NAMED.search(text)


def compile_catalogue(po_path: str, mo_path: str) -> list[str]:
    with open(po_path, "rb") as handle:
        catalog = read_po(handle)
    problems = [f"{po_path}:{message.lineno}: {error}" for message, errors in catalog.check()
                for error in errors if not false_alarm(message.id)]
    if problems:
        return problems
    translated = sum(1 for message in catalog if message.id and not message.fuzzy
                     and all(message.string if isinstance(message.string, tuple) else [message.string]))
    with open(mo_path, "wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    print(f"compiled {po_path} -> {mo_path}: {translated} of {len(catalog)} messages translated")
    return []


if __name__ == "__main__":
    found = compile_catalogue(sys.argv[1], sys.argv[2])
    for line in found:
        print("error:", line, file=sys.stderr)
    sys.exit(1 if found else 0)
