"""The logframe's lean rows (issue 15): the figures it shows come from SQL aggregates and must say
what the one progress rule (``results.values.indicator_progress``) says, and its pages together
show every result exactly once, indicators or not, in logframe order."""

import re
from decimal import Decimal

from markupsafe import escape
from sqlalchemy import select, update

from tracker import formatting
from tracker.extensions import db
from tracker.models import Indicator, IndicatorPeriod, Project, User
from tracker.projects import logframe
from tracker.projects.services import framework_rows


def _expected(project):
    """Indicator id -> (latest actual, its period's end) as the progress rule reads them."""
    expected = {}
    for _result, progress_list in framework_rows(project):
        for p in progress_list:
            if p.indicator.unit == "qualitative":
                latest = p.text_to_date or "–"
            else:
                latest = formatting.number(p.value_to_date) if p.value_to_date is not None else "–"
            day = formatting.day(p.latest_period.end_date) if p.latest_period else ""
            expected[p.indicator.id] = (escape(latest), day)  # the logframe holds them escaped
    return expected


def _shown(project):
    return {i.id: (i.latest, i.latest_day) for _r, indicators, _a in logframe.logframe_stream(project, batch=3)
            for i in indicators}


def test_the_logframe_figures_follow_the_progress_rule(app, demo):
    with app.test_request_context("/"):
        project = db.session.get(Project, demo)
        # Make the cases the aggregate must get right: a cumulative and a non-cumulative
        # indicator with gaps, a qualitative one reported, one with nothing reported.
        indicators = db.session.execute(select(Indicator).where(Indicator.project_id == demo)
                                        .order_by(Indicator.id)).scalars().all()
        numeric = [i for i in indicators if i.unit == "number"]
        assert len(numeric) >= 2
        numeric[0].cumulative, numeric[1].cumulative = True, False
        for indicator, actuals in ((numeric[0], ["3", None, "4.5", None]), (numeric[1], ["7", "2", None, None])):
            periods = sorted(indicator.periods, key=lambda p: p.start_date)[:4]
            for period, actual in zip(periods, actuals, strict=False):
                period.actual = None if actual is None else Decimal(actual)
        db.session.flush()
        expected, shown = _expected(project), _shown(project)
        assert shown == expected
        assert shown[numeric[0].id][0] == formatting.number(
            sum(p.actual for p in numeric[0].periods if p.actual is not None))
        silent = next(i for i in indicators if i not in numeric[:2])  # nothing reported
        for period in silent.periods:
            period.actual, period.actual_text = None, ""
        db.session.flush()
        assert _shown(project)[silent.id] == ("–", "") == _expected(project)[silent.id]
        db.session.rollback()


def test_a_qualitative_indicator_shows_its_latest_text(app, demo):
    with app.test_request_context("/"):
        project = db.session.get(Project, demo)
        indicator = db.session.execute(select(Indicator).where(Indicator.project_id == demo)).scalars().first()
        indicator.unit = "qualitative"
        periods = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.indicator_id == indicator.id)
                                     .order_by(IndicatorPeriod.start_date)).scalars().all()
        assert len(periods) >= 2
        for period in periods:
            period.actual_text = ""
        periods[0].actual_text, periods[1].actual_text = "Workshop held in Huế", "Report <b>sent</b>"
        db.session.flush()
        shown = _shown(project)[indicator.id]
        assert shown == ("Report &lt;b&gt;sent&lt;/b&gt;", formatting.day(periods[1].end_date)) \
            == _expected(project)[indicator.id]
        item = next(i.item for _r, found, _a in logframe.logframe_stream(project) for i in found if i.id == indicator.id)
        assert "<dd>Report &lt;b&gt;sent&lt;/b&gt; <span class=\"muted\">(" in item and "<b>" not in item
        db.session.rollback()


def test_the_pages_show_every_result_once_in_order(app, demo):
    with app.test_request_context("/"):
        project = db.session.get(Project, demo)
        every = [result.id for result, _indicators, _a in logframe.logframe_stream(project)]
        indicators = [i.id for _r, found, _a in logframe.logframe_stream(project) for i in found]
        for per_page in (1, 2, 3, 5):
            first = logframe.logframe_page(project, 1, per_page)
            results, shown_indicators = [], []
            for page in range(1, first.pages + 1):
                framework = logframe.logframe_page(project, page, per_page)
                results += [result.id for result, _found in framework.rows]
                shown_indicators += [i.id for _result, found in framework.rows for i in found]
                assert framework.last - framework.first + 1 == len([i for _r, f in framework.rows for i in f])
            assert shown_indicators == indicators, per_page
            # A result spanning pages is shown on each of them; no result is left out.
            assert [r for n, r in enumerate(results) if n == 0 or results[n - 1] != r] == every, per_page


def _item(page: str, code: str) -> str:
    found = re.search(r'<li><span class="code">' + re.escape(code) + r"</span>.*?</li>", page, re.S)
    assert found, code
    return found.group(0)


def test_an_indicator_reads_the_same_on_both_logframes_escaped_in_either_language(app, client, auth, demo):
    """The paged logframe and the printable one write an indicator's item from the same code: the
    same HTML, every stored value escaped, the labels in the reader's language."""
    with app.test_request_context("/"):
        project = db.session.get(Project, demo)
        first = next(i for _r, found in logframe.logframe_page(project, 1).rows for i in found)
        indicator = db.session.get(Indicator, first.id)
        indicator.title = 'Trẻ em <script>alert("x")</script> & cha mẹ'
        indicator.means_of_verification = "<b>Sổ</b> theo dõi"
        indicator.illustrative = True
        code = indicator.code
        db.session.commit()
    auth.login("manager")
    for language, labels in (("en", ("Baseline", "Target", "Latest actual")),
                             ("vi", ("Giá trị cơ sở", "Chỉ tiêu", "Thực tế gần nhất"))):
        with app.app_context():
            db.session.execute(update(User).values(locale=language))
            db.session.commit()
        paged = client.get(f"/projects/{demo}/logframe").get_data(as_text=True)
        printable = client.get(f"/projects/{demo}/logframe?all=1").get_data(as_text=True)
        item = _item(paged, code)
        assert item == _item(printable, code)
        assert "Trẻ em &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; cha mẹ" in item
        assert '<abbr class="illustrative"' in item
        assert all(f"<dt>{escape(label)}</dt><dd>" in item for label in labels), (language, item)
        verification = f'<p><span class="code">{code}</span> &lt;b&gt;Sổ&lt;/b&gt; theo dõi</p>'
        assert verification in paged and verification in printable
        assert "<script>alert" not in paged + printable and "<b>Sổ" not in paged + printable
