"""The Services page on the demo database (AppTest, run from its file until the router lists it)."""

from __future__ import annotations

from apptest_support import ROOT, SMALL_COUNT, chart_specs, count_values, table_cells, texts
from streamlit.testing.v1 import AppTest

from data_access.audience import Audience
from data_access.db import make_engine
from data_access.views import Selection, build
from data_access.views import services as _services  # noqa: F401  (registers the views)

PAGE = str(ROOT / "app_pages" / "services.py")
CHART_KEYS = ("uptake", "trend", "race", "caseload")


def _open(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _kpi(at: AppTest, label: str) -> str:
    # Labels and values are markdown-escaped ("Most\\-used"); compare the plain text.
    return next(
        m.value.replace("\\", "") for m in at.metric if m.label.replace("\\", "").startswith(label)
    )


def test_page_renders_four_charts_each_with_alt_text_table_and_download(app_env):
    at = _open(site="seattle", period="2025-Q4")
    assert not at.exception
    assert "Services" in [t.value for t in at.title]
    charts = at.get("plotly_chart")
    assert len(charts) == len(CHART_KEYS)
    for chart in charts:
        assert chart.proto.alt.strip(), "every chart needs alt text"
    assert len(at.dataframe) >= len(charts)
    assert len(at.get("download_button")) >= len(charts)
    words = texts(at)
    assert "of active participants in an average month of Q4 2025" in words
    assert "Race was not recorded for" in words


def test_headlines_match_the_protected_view(app_env, demo_sqlite_url):
    at = _open(site="seattle", period="2025-Q4")
    view = build(
        "services",
        make_engine(demo_sqlite_url),
        Selection("demo-2025-12", "seattle", "2025-Q4"),
        Audience.PUBLIC,
    )
    change = view.table("caseload_change").frame
    assert _kpi(at, "Active caseload") == f"{change['current'][0]:,}"
    uptake = view.table("uptake").frame.sort("estimate", descending=True)
    share = round(uptake["estimate"][0] * 100)
    assert _kpi(at, "Most-used service").endswith(f"{share}%")


def test_changing_site_or_period_changes_the_numbers(app_env):
    seattle = _open(site="seattle", period="2025")
    albany = _open(site="albany", period="2025")
    assert _kpi(seattle, "Active caseload") != _kpi(albany, "Active caseload")
    assert chart_specs(seattle) != chart_specs(albany)
    before = _kpi(seattle, "Active caseload")
    seattle.selectbox(key="w_period").select("2019").run()
    assert not seattle.exception
    assert _kpi(seattle, "Active caseload") != before


def test_choosing_a_service_redraws_the_race_chart(app_env):
    at = _open(site="seattle", period="2025")
    before = chart_specs(at)[2]
    options = at.selectbox(key="services_race_choice").options
    at.selectbox(key="services_race_choice").select_index(len(options) - 1).run()
    assert not at.exception
    assert chart_specs(at)[2] != before


def test_no_small_count_reaches_a_chart_or_table(app_env):
    for site in ("seattle", "albany", "santa-fe"):
        at = _open(site=site, period="2025")
        assert not at.exception
        for spec in chart_specs(at):
            small = [v for v in count_values(spec) if 0 < v < 11]
            assert not small, f"{site}: counts {small} plotted"
        assert not [c for c in table_cells(at) if SMALL_COUNT.match(c.strip())], site


def test_small_site_marks_withheld_values_and_folded_groups(app_env):
    at = _open(site="albany", period="2025")
    words = texts(at)
    assert "Other races (combined)" in words
    assert "Some values are not shown" in words
    assert "withheld" in words


def test_one_precinct_shows_yearly_uptake_and_explains_the_missing_race_chart(app_env):
    at = _open(site="seattle", period="2025-Q4", precinct="west")
    assert not at.exception
    words = texts(at)
    assert "published for the whole site only" in words
    assert "single precinct" in words
    assert len(at.get("plotly_chart")) == 3


def test_a_precinct_before_lead_worked_there_says_so_instead_of_an_empty_chart(app_env):
    # Seattle's East precinct joined LEAD in 2016: in 2011 it had nobody to serve.
    at = _open(site="seattle", period="2011-Q4", precinct="east")
    assert not at.exception
    assert not at.get("plotly_chart"), "nothing to draw: no chart, empty or not"
    notes = [i.value.replace("\\", "") for i in at.info]
    assert any(
        n.startswith("No participants were active in Seattle (East Precinct) in 2011")
        for n in notes
    )
    assert any("no caseload to show" in n for n in notes)
    assert _kpi(at, "Most-used service").endswith("nobody active")


def test_a_launch_quarter_before_the_first_enrollment_says_so(app_env):
    at = _open(site="santa-fe", period="2014-Q2")
    assert not at.exception
    words = texts(at).replace("\\", "")
    assert "No participants were active in Santa Fe in the second quarter of 2014" in words
    # The year's race chart still has participants from later in 2014 to show.
    assert len(at.get("plotly_chart")) == 1
