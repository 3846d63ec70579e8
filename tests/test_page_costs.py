"""The costs page on the demo database and on a small release (AppTest).

The page is run from its file (page_setup works without the router) until the
lead registers it in dashboard.py; importing data_access.views.costs registers
its views, as data_access/views/__init__.py will once it imports the module.
"""

from __future__ import annotations

import pytest
from apptest_support import ROOT, SMALL_COUNT, chart_specs, count_values, table_cells, texts
from streamlit.testing.v1 import AppTest
from test_views_costs import costs_release

import data_access.views.costs  # noqa: F401  (registers the costs views)
from briefing.sentences import format_dollars
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.load import load_release
from data_access.views import Selection, build

PAGE = str(ROOT / "app_pages" / "costs.py")


def open_costs(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _plain(text: str) -> str:
    """Text as a reader sees it (escape_markdown's backslashes removed)."""
    return text.replace("\\", "")


def _kpi(at, label: str) -> str:
    return next(_plain(m.value) for m in at.metric if _plain(m.label) == label)


@pytest.fixture
def small_env(app_env, sqlite_url, tmp_path):
    """The app on the small worked release (site sfe publishes no costs)."""
    engine = make_engine(sqlite_url)
    load_release(engine, costs_release().write(tmp_path / "release"))
    engine.dispose()
    app_env.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


def test_page_renders_every_chart_with_alt_text_a_table_and_a_download(app_env):
    at = open_costs(site="seattle", period="2025-Q4")
    assert not at.exception
    assert "Costs" in [t.value for t in at.title]
    charts = at.get("plotly_chart")
    assert len(charts) == 5  # by category, legal trend, saving range, pockets, program
    for chart in charts:
        assert chart.proto.alt.strip(), "every chart needs alt text"
        assert "confidence interval" not in chart.proto.alt  # costs have none
    assert len(at.dataframe) >= len(charts)
    assert len(at.get("download_button")) >= len(charts)
    words = texts(at)
    for phrase in ("Marginal", "Fully loaded", "Who saves is not who pays", "baseline",
                   "falls in fiscal year 2025", "quasi-experimental"):  # fmt: skip
        assert phrase in _plain(words), phrase


def test_headline_figures_match_the_protected_view(app_env, demo_sqlite_url):
    at = open_costs(site="seattle", period="2025-Q4")
    engine = make_engine(demo_sqlite_url)
    view = build("costs", engine, Selection("demo-2025-12", "seattle", "2025-Q4"), Audience.PUBLIC)
    engine.dispose()
    program = view.table("program").frame.filter(fiscal_year=2025)["estimate"][0]
    assert _kpi(at, "Program cost per participant") == format_dollars(program)
    saving = view.table("saving").frame.sort("saving")["saving"].to_list()
    expected = f"{format_dollars(saving[0])} to {format_dollars(saving[1])}"
    assert _kpi(at, "Saving per person-year (legal system)") == expected


def test_changing_the_site_changes_the_numbers(app_env):
    seattle = open_costs(site="seattle", period="2025")
    santa_fe = open_costs(site="santa-fe", period="2025")
    assert _kpi(seattle, "Program cost per participant") != _kpi(
        santa_fe, "Program cost per participant"
    )
    assert chart_specs(seattle) != chart_specs(santa_fe)


def test_changing_the_period_through_the_widget_changes_the_numbers(app_env):
    at = open_costs(site="seattle", period="2025")
    before = _kpi(at, "Public cost per LEAD person-year")
    at.selectbox(key="w_period").select("2020").run()
    assert not at.exception
    assert _kpi(at, "Public cost per LEAD person-year") != before
    assert "fiscal year 2020" in texts(at)


def test_no_small_count_reaches_a_chart_or_table(app_env):
    for site in ("seattle", "albany", "santa-fe"):
        at = open_costs(site=site, period="2025")
        for spec in chart_specs(at):
            assert not [v for v in count_values(spec) if 0 < v < 11], site
        assert not [c for c in table_cells(at) if SMALL_COUNT.match(c.strip())], site


def test_albany_early_year_withholds_and_explains(app_env):
    at = open_costs(site="albany", period="2017")
    assert not at.exception
    assert _kpi(at, "Public cost per comparison person-year") == "withheld"
    words = _plain(texts(at))
    assert "choose a period in a later fiscal year" in words
    assert "denominator under 30" in words  # the withheld note gives the reason
    assert "denominator under 30" in table_cells(at)


def test_an_incomplete_fiscal_year_falls_back_with_a_note(app_env):
    at = open_costs(site="seattle", period="2025-Q1", release="demo-2025-06")
    assert not at.exception
    words = _plain(texts(at))
    assert "Fiscal year 2025 is not complete in this release" in words
    assert "Fiscal year 2024: LEAD participants cost the public" in words


def test_a_site_without_costs_says_so_plainly(small_env):
    at = open_costs(site="sfe", period="2024")
    assert not at.exception
    assert "does not publish cost figures" in texts(at)
    assert not at.get("plotly_chart")


def test_small_release_worked_figures_on_the_page(small_env):
    at = open_costs(site="sea", period="2023")
    assert not at.exception
    # Worked in tests/test_views_costs.py: $3,000 (marginal) to $3,400 (fully loaded).
    assert _kpi(at, "Saving per person-year (legal system)") == "$3,000 to $3,400"
    assert _kpi(at, "Program cost per participant") == "$3,500"


def test_staff_see_the_per_month_program_cost(app_env):
    app_env.setenv("LEAD_AUDIENCE", "staff")
    app_env.setenv("LEAD_ALLOW_UNAUTHENTICATED_STAFF", "1")
    at = open_costs(site="seattle", period="2025")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 6
    assert "per participant-month" in _plain(texts(at))
