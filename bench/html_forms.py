"""Reading the forms of an HTML page as a browser would submit them, for scripts and tests
that post through the real forms (bench/load.py, tests/test_concurrency.py, tests/test_fuzz.py,
tests/test_faults.py). Standard library only; knows nothing of the app.

    form = find_form(page_html, "/activities/12/log")
    set_field(form, "percent_complete", "40")
    client.post(form["action"], data=form["fields"])
"""

from __future__ import annotations

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    """Collects every form of a page: action, method and the fields a browser would send."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._multiple = False
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": {}, "options": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "button" and a.get("name") and (a.get("type") or "submit").lower() == "submit":
            # A named submit button sends its value when it is the one pressed: a choice, not a field.
            self._form["options"].setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "input":
            name, kind = a.get("name"), (a.get("type") or "text").lower()
            if name and kind == "submit":
                self._form["options"].setdefault(name, []).append(a.get("value", ""))
                return
            if not name or kind in ("button", "image", "reset", "file"):
                return
            value = a.get("value") or ("on" if kind == "checkbox" else "")
            if kind in ("checkbox", "radio"):
                self._form["options"].setdefault(name, []).append(value)
                if "checked" not in a:
                    return
                if kind == "checkbox" and name in self._form["fields"]:  # several boxes, one name
                    previous = self._form["fields"][name]
                    value = [*previous, value] if isinstance(previous, list) else [previous, value]
            self._form["fields"][name] = value
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._multiple = "multiple" in a
            self._form["options"][self._select] = []
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form["options"][self._select].append(value)
            fields = self._form["fields"]
            if self._multiple:  # a browser sends only the chosen ones (nothing when none is)
                if "selected" in a:
                    fields[self._select] = [*fields.get(self._select, []), value]
            elif "selected" in a or self._select not in fields:  # else the first option
                fields[self._select] = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data


def parse_forms(html: str) -> list[dict]:
    """Every form of a page: {"action", "method", "fields": {name: value}, "options": {select: [values]}}."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def find_form(html: str, action_ends_with: str) -> dict | None:
    """The first form whose action (without its query) ends with ``action_ends_with``."""
    for form in parse_forms(html):
        if form["action"].split("?")[0].endswith(action_ends_with):
            return form
    return None


def set_field(form: dict, suffix: str, value: str) -> None:
    """Set the field whose name is ``suffix`` or ends with ``-suffix`` (forms may be prefixed)."""
    for name in form["fields"].keys() | form["options"].keys():
        if name == suffix or name.endswith("-" + suffix):
            form["fields"][name] = value
            return
    raise KeyError(f"no field {suffix!r} in the form posting to {form['action']}")
