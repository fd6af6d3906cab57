"""Building the results framework: results (objective, outcomes, outputs) and their indicators.

The one rule of each, for every way a framework is built (the workbook import's create mode
today; a page later). Values are plain (typed text or a workbook cell's value):

* a **code** is required, has at most 20 characters and names one thing in the project's
  framework: no other result or indicator of the project has it;
* a **result's parent** is the result whose code is its code without the last part (1.1 for
  1.1.2) and must exist before it; a result with a one-part code (1, 2) has none. A result
  sits below its parent's level (an output under an expected result, never the reverse);
* a **level** or a **unit** is its stored value or its label from the one label map in
  ``tracker.models.results`` (``LEVEL_LABELS``, ``UNIT_LABELS``), in any case
  (``parse_level``, ``parse_unit``), as ``progress.services.parse_status`` reads a status;
* an indicator's **baseline** and end **target** are read by ``values.parse_value`` for its
  unit (so a count cannot be negative, a percentage stays within 0-100...).

Each service collects every field's error into one ``InputError`` keyed by the field name
(``code``, ``level``, ``statement``, ``parent``, ``result``, ``title``, ``unit``, ``baseline``,
``target``), adds nothing when it refuses, and flushes (never commits) when it accepts; the
audit trail records the new rows through the session hook.
"""

from __future__ import annotations

import re

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Indicator, Project, ResultNode
from ..models.results import LEVEL_LABELS, RESULT_LEVELS, UNIT_LABELS
from ..validation import InputError, clean_text, raise_if
from .values import parse_value

CODE_LENGTH = 20  # the columns of result_node.code and indicator.code


def _squeezed(text: str) -> str:
    """Case and spaces do not matter when a word is compared with a label ("yes/no", "Yes / no")."""
    return re.sub(r"\s+", "", text).casefold()


def _label_forms(label) -> set[str]:
    """A (lazy) label as it is written in every language of the app (English, Vietnamese...), squeezed."""
    from ..i18n import LANGUAGES

    forms = set()
    for language in LANGUAGES:
        with force_locale(language):
            forms.add(_squeezed(str(label)))
    return forms


def _choice(raw, labels: dict[str, str]) -> str | None:
    """The stored value for ``raw``, given as the value or its label (in any of the app's
    languages, any case); None when unknown."""
    text = clean_text(raw)
    if text in labels:
        return text
    wanted = _squeezed(text)
    for value, label in labels.items():  # the value, or the label in the person's language
        if wanted in (_squeezed(value), _squeezed(str(label))):
            return value
    for value, label in labels.items():  # else the label in another language (a workbook in English...)
        if wanted in _label_forms(label):
            return value
    return None


def parse_level(raw) -> str:
    """A result level as stored (``outcome``) or shown (``Expected result``, any case) -> the stored value."""
    level = _choice(raw, LEVEL_LABELS)
    if level is None:
        shown = clean_text(raw)
        choices = _listed(LEVEL_LABELS.values())
        raise InputError(_("“%(typed)s” is not a level of the results framework; use %(choices)s.",
                           typed=shown[:40], choices=choices) if shown else
                         _("Give the level; use %(choices)s.", choices=choices), field="level")
    return level


def parse_unit(raw) -> str:
    """An indicator unit as stored (``yesno``) or shown (``Yes / no``, any case); empty is a number.

    ``%`` is read as Percent (the sign people type for it).
    """
    text = clean_text(raw)
    if not text:
        return "number"
    unit = "percent" if text == "%" else _choice(text, UNIT_LABELS)
    if unit is None:
        raise InputError(_("unknown unit “%(typed)s”: use %(choices)s.", typed=text[:40],
                           choices=_listed(UNIT_LABELS.values())), field="unit")
    return unit


def _listed(labels) -> str:
    labels = [str(label) for label in labels]
    return _("%(first)s or %(last)s", first=", ".join(labels[:-1]), last=labels[-1])


def _check_code(project: Project, raw, what: str, example: str) -> tuple[str, str | None]:
    """(the code, its error or None): required, at most 20 characters, no other result or indicator
    has it. ``what``: "result" or "indicator" (each message is one whole sentence per kind)."""
    code = clean_text(raw)
    result = what == "result"
    if not code:
        return code, (_("Give the result a code, for example %(example)s.", example=example) if result else
                      _("Give the indicator a code, for example %(example)s.", example=example))
    if len(code) > CODE_LENGTH:
        return code, (_("A result code has at most %(limit)s characters.", limit=CODE_LENGTH) if result else
                      _("An indicator code has at most %(limit)s characters.", limit=CODE_LENGTH))
    for model, kind in ((ResultNode, "result"), (Indicator, "indicator")):
        if db.session.execute(select(model.id).where(model.project_id == project.id, model.code == code)).first():
            return code, (_("The code %(code)s is already used by a result of this project; each code names one "
                            "thing in the results framework.", code=code) if kind == "result" else
                          _("The code %(code)s is already used by an indicator of this project; each code names "
                            "one thing in the results framework.", code=code))
    return code, None


def _parent_of(project: Project, code: str, level: str | None, parent: ResultNode | None) -> str | None:
    """The error of the result's parent, or None: the parent's code is the code's prefix and it sits above."""
    wanted = code.rsplit(".", 1)[0] if "." in code else None
    if wanted is None:
        if parent is not None:
            return _("Result %(code)s has a one-part code, so it has no parent; number it under its parent "
                     "(%(parent)s.1, %(parent)s.2...).", code=code, parent=parent.code)
        return None
    if parent is None:
        parent = db.session.execute(
            select(ResultNode).where(ResultNode.project_id == project.id, ResultNode.code == wanted)).scalar()
        if parent is None:
            return _("Result %(code)s needs its parent result %(parent)s; add %(parent)s first.", code=code,
                     parent=wanted)
    elif parent.project_id != project.id or parent.code != wanted:
        return _("Result %(code)s belongs under result %(parent)s, not %(given)s: its code starts with its parent's.",
                 code=code, parent=wanted, given=parent.code)
    if level is not None and RESULT_LEVELS.index(level) <= RESULT_LEVELS.index(parent.level):
        return _("%(level)s %(code)s cannot sit under %(parent_level)s %(parent)s: a result sits at a lower level "
                 "than its parent (%(order)s).", level=str(LEVEL_LABELS[level]), code=code,
                 parent_level=str(LEVEL_LABELS[parent.level]).lower(), parent=parent.code,
                 order=" > ".join(str(label) for label in LEVEL_LABELS.values()))
    return None


def create_result(project: Project, *, code, level, statement, assumptions="", parent: ResultNode | None = None,
                  position: int = 0) -> ResultNode:
    """Add a result (the overall objective, an expected result or an output) to the framework.

    ``parent`` may be given; when not, it is found by its code (the code without its last
    part). Errors are keyed ``code``, ``level``, ``statement``, ``parent``, ``assumptions``.
    """
    errors: dict[str, str] = {}
    code, error = _check_code(project, code, "result", "1.2")
    if error:
        errors["code"] = error
    try:
        level = parse_level(level)
    except InputError as refused:
        errors["level"], level = str(refused), None
    statement, assumptions = clean_text(statement), clean_text(assumptions)
    if not statement:
        errors["statement"] = _("State the result (its intervention logic).")
    if "code" not in errors:
        error = _parent_of(project, code, level, parent)
        if error:
            errors["parent"] = error
    raise_if(errors)
    if parent is None and "." in code:
        parent = db.session.execute(select(ResultNode).where(
            ResultNode.project_id == project.id, ResultNode.code == code.rsplit(".", 1)[0])).scalar_one()
    node = ResultNode(project_id=project.id, code=code, level=level, statement=statement, assumptions=assumptions,
                      parent=parent, position=position)
    db.session.add(node)
    db.session.flush()
    return node


def create_indicator(project: Project, result: ResultNode | None, *, code, title, unit, means_of_verification="",
                     baseline=None, target=None, position: int = 0) -> Indicator:
    """Add an indicator to one of the project's results, with its unit, baseline and end target.

    Errors are keyed ``result``, ``code``, ``title``, ``unit``, ``baseline``, ``target``.
    """
    errors: dict[str, str] = {}
    code, error = _check_code(project, code, "indicator", "1.2.a")
    if error:
        errors["code"] = error
    if result is None or result.project_id != project.id:
        errors["result"] = _("Indicator %(code)s needs the result it measures; put it under its result.",
                             code=code) if code \
            else _("An indicator needs the result it measures; put it under its result.")
    title = clean_text(title)
    if not title:
        errors["title"] = _("Give the indicator a title (what it measures).")
    try:
        unit = parse_unit(unit)
    except InputError as refused:
        errors["unit"], unit = str(refused), None
    figures = {}
    if unit is not None:
        for name, raw, what in (("baseline", baseline, _("The baseline")), ("target", target, _("The target"))):
            try:
                figures[name] = parse_value(unit, raw, what)
            except InputError as refused:
                errors[name] = str(refused)
    raise_if(errors)
    indicator = Indicator(project_id=project.id, result_id=result.id, code=code, title=title, unit=unit,
                          means_of_verification=clean_text(means_of_verification), position=position)
    indicator.baseline_value, indicator.baseline_text = figures["baseline"]
    indicator.target_value, indicator.target_text = figures["target"]
    db.session.add(indicator)
    db.session.flush()
    return indicator
