"""Forms for evidence items and their review (rules live in ``services`` and ``storage``)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField

from ..concurrency import new_form_token
from ..forms import label_choices
from ..models.evidence import KIND_LABELS, LANGUAGE_LABELS, LINK_TARGETS


class EvidenceForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=label_choices(KIND_LABELS), validate_choice=False)
    title = StringField(_l("Title"), render_kw={"maxlength": 500})
    dated = StringField(_l("Date"), render_kw={"type": "date"})
    source = StringField(_l("Source"), description=_l("Who issued it, for example the media agency."),
                         render_kw={"maxlength": 200})
    url = StringField(_l("Link (URL)"), render_kw={"type": "url", "maxlength": 1000})
    language = SelectField(_l("Language"), choices=label_choices(LANGUAGE_LABELS), validate_choice=False)
    description = TextAreaField(_l("Description"))
    file = FileField(_l("File (optional)"))
    # A second input for the phone's camera: ``capture`` only applies to an input that accepts
    # images alone, and the file input also takes PDFs and documents (templates/evidence/form.html).
    photo = FileField(_l("Take a photo"))
    remove_file = BooleanField(_l("Remove the current file"))
    activity_ids = SelectMultipleField(_l("Activities"), coerce=int, choices=[], validate_choice=False)
    period_ids = SelectMultipleField(_l("Indicator periods"), coerce=int, choices=[], validate_choice=False)
    result_ids = SelectMultipleField(_l("Results"), coerce=int, choices=[], validate_choice=False)
    expenditure_ids = SelectMultipleField(_l("Expenditures"), coerce=int, choices=[], validate_choice=False)
    # The item's version when the form was opened (editing; its links included), and the
    # new-item form's one-time token (a double submit makes one item): tracker.concurrency.
    version = HiddenField()
    form_token = HiddenField(default=new_form_token)
    # Where the person came from ("Add evidence" on a period, an expenditure, a weekly log): after
    # saving they go back there (checked by tracker.redirects).
    next = HiddenField()

    @classmethod
    def for_item(cls, item) -> "EvidenceForm":
        """The form filled from a stored item and its links."""
        form = cls(formdata=None, obj=item)
        form.dated.data = item.dated.isoformat() if item.dated else ""
        form.version.data = str(item.version)
        for name in LINK_TARGETS:
            getattr(form, f"{name}_ids").data = [getattr(link, f"{name}_id") for link in item.links
                                                 if getattr(link, f"{name}_id") is not None]
        return form

    def prefill_links(self, args) -> None:
        """``?activity=3&expenditure=7`` from another page's "Add evidence" link."""
        for name in LINK_TARGETS:
            ids = [int(v) for v in args.getlist(name) if v.isdigit()]
            if ids:
                getattr(self, f"{name}_ids").data = ids

    def prefill(self, values: dict) -> None:
        """Fill fields the person has not typed yet (kind, date, title from an expenditure)."""
        for name, value in values.items():
            getattr(self, name).data = value

    def chosen_file(self):
        """(the chosen file, the input it came from): the photo taken, else the file chosen."""
        for field in (self.photo, self.file):
            if getattr(field.data, "filename", ""):
                return field.data, field.name
        return None, "file"

    def both_files_chosen(self) -> bool:
        return all(getattr(field.data, "filename", "") for field in (self.photo, self.file))

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("kind", "title", "dated", "source", "url", "language", "description")}

    def links(self) -> dict[str, list[int]]:
        return {"activity": self.activity_ids.data or [], "period": self.period_ids.data or [],
                "result": self.result_ids.data or [], "expenditure": self.expenditure_ids.data or []}


class ReviewForm(FlaskForm):
    """Verify or query one item; ``context`` says which row to answer with (register, auditor, item)."""

    note = TextAreaField(_l("Note"))
    decision = StringField()  # sent by the button pressed: "verified" or "queried"
    context = HiddenField(default="auditor")
