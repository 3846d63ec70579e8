"""The referrals page, run through the real router on the demo database (AppTest)."""

from __future__ import annotations

from apptest_support import (
    SMALL_COUNT,
    chart_specs,
    count_values,
    open_page,
    table_cells,
    texts,
)

from data_access.audience import Audience
from data_access.db import make_engine
from data_access.views import Selection, build


def _headline(at) -> str:
    return next(m.value for m in at.metric if m.label == "Referrals")


def test_page_renders_with_its_charts_each_with_alt_text_and_a_table(app_env):
    at = open_page("referrals")
    assert not at.exception
    assert "Referrals and screening" in [t.value for t in at.title]
    charts = at.get("plotly_chart")
    assert len(charts) >= 4
    for chart in charts:
        assert chart.proto.alt.strip(), "every chart needs alt text"
    # A table view and a CSV download behind every chart.
    assert len(at.dataframe) >= len(charts)
    assert len(at.get("download_button")) >= len(charts)


def test_headline_matches_the_protected_view(app_env, demo_sqlite_url):
    at = open_page("referrals", site="seattle", period="2025-Q4")
    view = build(
        "referrals",
        make_engine(demo_sqlite_url),
        Selection("demo-2025-12", "seattle", "2025-Q4"),
        Audience.PUBLIC,
    )
    current = view.table("change").frame["current"][0]
    assert _headline(at) == f"{current:,}"


def test_changing_the_site_changes_the_numbers(app_env):
    seattle = open_page("referrals", site="seattle", period="2025")
    albany = open_page("referrals", site="albany", period="2025")
    assert _headline(seattle) != _headline(albany)
    assert chart_specs(seattle) != chart_specs(albany)


def test_changing_the_period_through_the_widget_changes_the_numbers(app_env):
    at = open_page("referrals", site="seattle")
    before = _headline(at)
    at.selectbox(key="w_period").select("2024").run()
    assert not at.exception
    assert _headline(at) != before


def test_url_parameters_set_the_filters(app_env):
    at = open_page("referrals", site="santa-fe", period="2024", precinct="all")
    assert at.selectbox(key="w_site").value == "santa-fe"
    assert at.selectbox(key="w_period").value == "2024"
    assert "2024" in texts(at)


def test_hostile_parameters_fall_back_with_a_visible_note(app_env):
    at = open_page("referrals", site="<script>alert(1)</script>", period="1999-Q9")
    assert not at.exception
    notes = " ".join(w.value for w in at.warning)
    assert "is not available here" in notes
    assert "Showing the first site instead" in notes
    assert "Showing the latest quarter instead" in notes


def test_a_long_url_value_is_cut_short_in_the_note(app_env):
    # A 100 kB parameter was repeated whole: a 100,101-character warning (issue 17).
    at = open_page("referrals", site="x" * 100_000, precinct="p" * 5_000)
    assert not at.exception
    notes = [w.value for w in at.warning]
    site_note = next(n for n in notes if "site" in n)
    assert "“" + "x" * 39 + "…”" in site_note
    assert len(site_note) < 200, len(site_note)
    assert all(len(n) < 200 for n in notes), [len(n) for n in notes]


def test_no_small_count_reaches_a_chart_or_table(app_env):
    for site in ("seattle", "albany", "santa-fe"):
        at = open_page("referrals", site=site, period="2025")
        for spec in chart_specs(at):
            small = [v for v in count_values(spec) if 0 < v < 11]
            assert not small, f"{site}: counts {small} plotted"
        assert not [c for c in table_cells(at) if SMALL_COUNT.match(c.strip())], site


def test_single_precinct_view_for_the_public(app_env):
    at = open_page("referrals", site="seattle", period="2025", precinct="west")
    assert not at.exception
    assert "whole site only" in texts(at)
