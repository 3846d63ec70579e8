"""The landing page and the site comparison, through the real router (AppTest)."""

from __future__ import annotations

from apptest_support import SMALL_COUNT, chart_specs, count_values, open_page, table_cells, texts

from data_access.audience import Audience
from data_access.db import make_engine
from data_access.views import Selection, build

PAGES = ("overview", "referrals", "services", "recidivism", "disparities", "costs", "compare")


def test_landing_page_answers_the_three_questions_for_the_default_view(app_env):
    at = open_page()
    assert not at.exception
    shown = texts(at)
    assert "LEAD at a glance" in shown
    for heading in ("Does it work?", "Is it fair?", "What does it cost?"):
        assert heading in shown
    assert "Data through 31 December 2025, release demo\\-2025\\-12" in shown
    labels = [m.label for m in at.metric]
    assert labels[:2] == ["Referrals", "Enrolled"]
    assert "Active caseload" in labels
    # The synthetic release is labelled as such.
    assert "Synthetic demonstration data" in " ".join(w.value for w in at.warning)


def test_landing_page_headline_is_the_referrals_views_number(app_env, demo_sqlite_url):
    at = open_page(None, site="seattle", period="2025")
    view = build(
        "referrals",
        make_engine(demo_sqlite_url),
        Selection("demo-2025-12", "seattle", "2025"),
        Audience.PUBLIC,
    )
    current = view.table("change").frame["current"][0]
    assert next(m.value for m in at.metric if m.label == "Referrals") == f"{current:,}"


def test_compare_lists_every_site_without_small_counts(app_env):
    at = open_page("compare", period="2025")
    assert not at.exception
    table = at.dataframe[0].value
    assert table["Site"].to_list() == ["Seattle", "Santa Fe", "Albany"]
    assert not [c for c in table_cells(at) if SMALL_COUNT.match(c.strip())]
    for spec in chart_specs(at):
        assert not [v for v in count_values(spec) if 0 < v < 11]


def test_compare_marks_a_period_before_a_site_launched(app_env):
    at = open_page("compare", period="2014")
    table = at.dataframe[0].value  # a pandas frame, as Streamlit hands it over
    albany = table[table["Site"] == "Albany"].iloc[0]
    assert albany["Referrals"] == "no data for 2014"


def test_every_public_page_renders_for_a_small_site_and_an_early_period(app_env):
    # Santa Fe is the smallest demo site; 2015 is its first full year.
    for page in PAGES:
        at = open_page(page if page != "overview" else None, site="santa-fe", period="2015")
        assert not at.exception, page
        assert at.title, page
