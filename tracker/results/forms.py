"""Forms of the indicator grid and the period page.

Cell values are plain text parsed by ``services.parse_value`` for the indicator's unit, so
what was typed comes back as typed with a message saying what the unit expects.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length

from ..concurrency import new_form_token
from ..forms import IsoDateField


class CellForm(FlaskForm):
    """One target or actual: the value as typed and the period's version when the grid was loaded."""

    value = StringField(_l("Value"), validators=[Length(max=4000)])
    version = HiddenField()


class StepForm(FlaskForm):
    """Submit, approve, unlock: a button with the period's version (and an optional note)."""

    version = HiddenField()
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    # Submit only, shown when the period is off target without one (tracker/results/narratives.py).
    variance_explanation = TextAreaField(_l("Variance explanation"), validators=[Length(max=4000)],
                                         description=_l("Why the actual is off target."), id="submit-variance")


class ReturnForm(FlaskForm):
    version = HiddenField()
    note = TextAreaField(_l("What needs changing"), validators=[Length(max=2000)],
                         description=_l("The officer sees this note on the period."))


def breakdown_form(indicator) -> FlaskForm:
    """The period's breakdown: one field per category (``category-<id>``) and the ``total``."""
    fields = {f"category-{category.id}": StringField(category.label, validators=[Length(max=100)])
              for dimension in indicator.dimensions for category in dimension.categories}
    form_class = type("BreakdownForm", (FlaskForm,), {"version": HiddenField(),
                                                      "total": StringField(_l("Total"), validators=[Length(max=100)]),
                                                      **fields})
    return form_class()


class PeriodForm(FlaskForm):
    """A reporting period's dates."""

    start_date = IsoDateField(_l("Starts"))
    end_date = IsoDateField(_l("Ends"))
    version = HiddenField()
    form_token = HiddenField(default=new_form_token)  # a new period is added once


class DimensionForm(FlaskForm):
    name = StringField(_l("Dimension"), validators=[Length(max=100)], description=_l("For example Sex or City."))
    categories = StringField(_l("Categories"), validators=[Length(max=2000)],
                             description=_l("Separated by semicolons, for example Hà Nội; Huế; Hồ Chí Minh City."))


class ThresholdsForm(FlaskForm):
    on_track_pct = StringField(_l("On track from (% of target)"), render_kw={"inputmode": "decimal", "size": 6})
    at_risk_pct = StringField(_l("At risk from (% of target)"), render_kw={"inputmode": "decimal", "size": 6})
    late_after_days = StringField(
        _l("A period without an actual is late after (days)"),
        description=_l("Counted from the period's end; flagged in the inbox and its counts. 0 to 365."),
        render_kw={"inputmode": "numeric", "size": 4})
    version = HiddenField()  # the project's version when the form was opened


class PeriodNarrativeForm(FlaskForm):
    """A period's narrative and variance explanation (issue 16; tracker/results/narratives.py)."""

    narrative = TextAreaField(_l("Progress narrative"), validators=[Length(max=4000)],
                              description=_l("What happened in the period."), id="period-narrative")
    variance_explanation = TextAreaField(
        _l("Variance explanation"), validators=[Length(max=4000)],
        description=_l("Why the actual is off target. Required to submit a period whose actual is below the "
                       "project's at-risk % of its target."), id="period-variance")
    version = HiddenField()


class ResultNarrativeForm(FlaskForm):
    """A result's narrative for one reporting period (what changed, why, what next)."""

    start_date = HiddenField()
    end_date = HiddenField()
    text = TextAreaField(_l("Narrative"), validators=[Length(max=4000)],
                         description=_l("What changed, why, and what next."))
    version = HiddenField()  # the narrative's version; 0 when there is none yet
