"""The results area in either language (issue 12): levels and units are read in English or
Vietnamese whatever the interface speaks (a workbook may be in the other language), and the
grid's texts and state words follow the person's language.

The Vietnamese words are taken from the catalogue (``force_locale("vi")``) rather than written
here, except "Mục tiêu tổng thể", so the tests follow the translators' choices."""

import pytest
from flask_babel import force_locale, gettext

from tracker.models.results import LEVEL_LABELS, PERIOD_STATE_LABELS, UNIT_LABELS
from tracker.results.framework import parse_level, parse_unit
from tracker.validation import InputError


def in_vietnamese(label) -> str:
    with force_locale("vi"):
        return str(label)


@pytest.mark.parametrize("locale", ["en", "vi"])
def test_levels_and_units_are_read_in_either_language(app, locale):
    with app.test_request_context("/"):
        vi_outcome, vi_yesno = in_vietnamese(LEVEL_LABELS["outcome"]), in_vietnamese(UNIT_LABELS["yesno"])
        with force_locale(locale):
            assert parse_level("Overall objective") == "objective"
            assert parse_level("mục tiêu tổng thể") == "objective"
            assert parse_level("EXPECTED RESULT") == "outcome"
            assert parse_level(vi_outcome.upper()) == "outcome"
            assert parse_unit("yes/no") == "yesno"
            assert parse_unit(vi_yesno) == "yesno"
            assert parse_unit("%") == "percent"
            with pytest.raises(InputError):
                parse_level("Mục tiêu cụ thể")


def test_english_messages_name_the_english_labels(app):
    with app.test_request_context("/"), pytest.raises(InputError) as refused:
        parse_level("Goal")
    assert str(refused.value) == ("“Goal” is not a level of the results framework; use Overall objective, "
                                  "Expected result or Output.")


def test_the_grid_speaks_the_persons_language(app, client, auth, demo):
    auth.login("manager")
    english = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    assert ">Approved" in english and "<h1>Indicators: targets and actuals</h1>" in english
    client.post("/language", data={"locale": "vi", "next": "/"})
    page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    with app.test_request_context("/"), force_locale("vi"):
        approved, heading = str(PERIOD_STATE_LABELS["approved"]), gettext("Indicators: targets and actuals")
    assert '<html lang="vi"' in page
    assert f">{approved}" in page  # the state under each approved actual
    assert f"<h1>{heading}</h1>" in page
