"""The Disparities page on the demo database (AppTest, run directly until it is routed)."""

from __future__ import annotations

from apptest_support import ROOT, SMALL_COUNT, chart_specs, count_values, table_cells, texts
from streamlit.testing.v1 import AppTest

import data_access.views.disparities  # noqa: F401  (registers the views)
from briefing.sentences import format_ratio
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.views import Selection, build

PAGE = str(ROOT / "app_pages" / "disparities.py")


def open_disparities(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _titles(at) -> list[str]:
    """Chart titles as a reader sees them (the page escapes Markdown with backslashes)."""
    return [s.value.replace("\\", "") for s in at.subheader]


def test_page_renders_with_charts_each_with_alt_text_a_table_and_a_download(app_env):
    at = open_disparities(site="seattle", period="2025")
    assert not at.exception
    assert "Disparities" in [t.value for t in at.title]
    charts = at.get("plotly_chart")
    assert len(charts) >= 5  # two rate charts, two forest plots, representation
    for chart in charts:
        assert chart.proto.alt.strip(), "every chart needs alt text"
    assert len(at.dataframe) >= len(charts)
    assert len(at.get("download_button")) >= len(charts)
    assert "What a Relative Rate Index is, and what it is not" in [e.label for e in at.expander]


def test_forest_plots_are_on_a_log_axis_with_a_line_at_one(app_env):
    at = open_disparities(site="seattle", period="2025")
    forests = [s for s in chart_specs(at) if s["layout"].get("xaxis", {}).get("type") == "log"]
    assert len(forests) == 2
    for spec in forests:
        lines = [s for s in spec["layout"].get("shapes", []) if s.get("x0") == 1 == s.get("x1")]
        assert lines, "a reference line at 1"


def test_the_title_states_the_ratio_the_view_computed(app_env, demo_sqlite_url):
    at = open_disparities(site="seattle", period="2025")
    view = build(
        "disparities",
        make_engine(demo_sqlite_url),
        Selection("demo-2025-12", "seattle", "2025"),
        Audience.PUBLIC,
    )
    row = (
        view.table("rri")
        .frame.filter(
            (view.table("rri").frame["decision_point"] == "eligible_contact_to_referral")
            & (view.table("rri").frame["race_ethnicity"] == "black")
        )
        .row(0, named=True)
    )
    assert any(format_ratio(row["estimate"]) in t for t in _titles(at))


def test_the_share_of_unknown_race_is_beside_the_ratios(app_env):
    at = open_disparities(site="seattle", period="2025")
    captions = [c.value for c in at.caption]
    assert sum("Race unknown" in c for c in captions) >= 2


def test_changing_the_site_or_the_year_changes_the_numbers(app_env):
    seattle = open_disparities(site="seattle", period="2025")
    albany = open_disparities(site="albany", period="2025")
    earlier = open_disparities(site="seattle", period="2024")
    assert chart_specs(seattle) != chart_specs(albany)
    assert chart_specs(seattle) != chart_specs(earlier)
    assert _titles(seattle) != _titles(earlier)


def test_a_quarter_says_the_page_shows_its_whole_year(app_env):
    at = open_disparities(site="seattle", period="2025-Q3")
    assert not at.exception
    assert "cover the whole of 2025" in texts(at)


def test_the_reference_group_comes_from_the_url_and_changes_the_ratios(app_env):
    white = open_disparities(site="seattle", period="2025")
    black = open_disparities(site="seattle", period="2025", ref="black")
    assert black.selectbox(key="w_ref").value == "black"
    assert any("the rate of Black or African American people" in t for t in _titles(black))
    assert _titles(white) != _titles(black)


def test_choosing_a_reference_group_writes_it_to_the_url(app_env):
    at = open_disparities(site="seattle", period="2025")
    assert "ref" not in at.query_params  # the default keeps the link clean
    at.selectbox(key="w_ref").select("black").run()
    assert not at.exception
    assert at.query_params["ref"] in ("black", ["black"])
    at.selectbox(key="w_ref").select("white").run()
    assert "ref" not in at.query_params


def test_a_hostile_reference_falls_back_to_white_with_a_note(app_env):
    at = open_disparities(site="seattle", period="2025", ref="<img src=x onerror=alert(1)>")
    assert not at.exception
    notes = " ".join(w.value for w in at.warning)
    assert "not a group counted here" in notes and "Showing White instead" in notes
    assert at.selectbox(key="w_ref").value == "white"


def test_a_single_precinct_gets_its_own_comparison(app_env):
    at = open_disparities(site="seattle", period="2025", precinct="west")
    assert not at.exception
    assert "In West" in texts(at)
    assert len(at.get("plotly_chart")) == 6


def test_no_small_count_reaches_a_chart_or_table(app_env):
    for site, period in (("seattle", "2025"), ("albany", "2025"), ("santa-fe", "2024")):
        at = open_disparities(site=site, period=period)
        assert not at.exception, site
        for spec in chart_specs(at):
            small = [v for v in count_values(spec) if 0 < v < 11]
            assert not small, f"{site}: counts {small} plotted"
        assert not [c for c in table_cells(at) if SMALL_COUNT.match(c.strip())], site


def test_a_site_with_thin_numbers_says_so_instead_of_failing(app_env):
    at = open_disparities(site="santa-fe", period="2024")
    assert not at.exception
    assert any("no group could be compared" in t for t in _titles(at))


def test_a_quarter_of_a_year_under_way_shows_the_last_whole_year(app_env):
    # The June 2025 release: 2025 is not over, so the page reads 2024 and says why; before,
    # it said nobody of known race was referred (the partial year is not published).
    at = open_disparities(site="seattle", period="2025-Q2", release="demo-2025-06")
    assert not at.exception
    shown = texts(at)
    assert "2025 is not over yet" in shown and "2024, the latest whole year" in shown
    assert "has no referrals of known race" not in shown
    assert len(at.get("plotly_chart")) >= 4
    assert any("2024" in title for title in _titles(at))
