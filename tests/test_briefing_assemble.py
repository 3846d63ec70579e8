"""briefing.assemble on the demo release: the briefing says what the protected views say.

Numbers are read from the views (the choke point) and the arithmetic the
sentences rest on is written out; a withheld value is checked against the exact
figure staff would see, which must not reach the public briefing.
"""

from __future__ import annotations

import re

import pytest
from release_builder import minimal_release

from briefing.assemble import (
    DEFAULT_PUBLIC_URL,
    PUBLIC_URL_VARIABLE,
    assemble,
    briefing_url,
    pdf_file_name,
    public_base_url,
)
from briefing.disparity import headline_rate_ratio
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.load import load_release
from data_access.views import Selection, build

DEMO = "demo-2025-12"
SITES = ("seattle", "albany", "santa-fe")


@pytest.fixture(scope="module")
def engine(demo_sqlite_url):
    return make_engine(demo_sqlite_url)


def _headline(assembled, label):
    return next(h for h in assembled.briefing.headlines if h.label == label)


def test_referrals_figure_and_sentence_follow_the_view(engine):
    selection = Selection(DEMO, "seattle", "2025-Q4")
    change = build("referrals", engine, selection, Audience.PUBLIC).table("change").frame
    rows = {r["comparison"]: r for r in change.iter_rows(named=True)}
    now, before, year = (
        rows["previous"]["current"],
        rows["previous"]["base"],
        rows["year_ago"]["base"],
    )
    item = _headline(assemble(engine, selection), "Referrals")
    assert item.value_text == f"{now:,}"
    # Demo: 112 now, 110 in Q3: (112 - 110) / 110 = 1.8%, under the 2% "about the same" line;
    # 99 in Q4 2024, so "up from 99". The sentence must say so whatever the demo holds.
    relative = (now - before) / before
    if abs(relative) < 0.02:
        expected = f"about the same at {now:,} compared with {before:,}"
    else:
        verb = "rose" if relative > 0 else "fell"
        expected = f"{verb} {round(abs(relative) * 100)}% to {now:,} compared with {before:,}"
    assert expected in item.sentence
    assert "in the third quarter of 2025" in item.sentence
    direction = "up" if now > year else "down"
    assert f"({direction} from {year:,} in the fourth quarter of 2024)" in item.sentence


def test_enrollment_figures_come_from_the_screening_funnel_of_each_period(engine):
    # A quarter whose screening has long been final, so neither figure is withheld as a
    # change since an earlier release (docs/privacy.md, corrections).
    current = Selection(DEMO, "seattle", "2024-Q3")
    funnels = {
        code: build("referrals", engine, Selection(DEMO, "seattle", code), Audience.PUBLIC)
        .table("funnel")
        .frame.filter(stage="enrolled")
        .row(0, named=True)
        for code in ("2024-Q3", "2024-Q2")
    }
    assembled = assemble(engine, current)
    enrolled = _headline(assembled, "Enrolled")
    share = _headline(assembled, "Share enrolled")
    now, before = funnels["2024-Q3"], funnels["2024-Q2"]
    assert enrolled.value_text == f"{now['numerator']:,}"
    assert f"compared with {before['numerator']:,} in the second quarter of 2024" in (
        enrolled.sentence
    )
    # The share is enrolled / referred: e.g. 80 / 112 = 71.4%, shown as "71%".
    assert now["estimate"] == pytest.approx(now["numerator"] / now["denominator"])
    # Shown to whole percents, or to one decimal (issue 12 unifies the formatters).
    assert float(share.value_text.rstrip("%")) == pytest.approx(now["estimate"] * 100, abs=0.5)
    points = abs(now["estimate"] - before["estimate"]) * 100
    assert f"{round(points)} percentage points" in share.sentence or points < 10


def test_a_year_is_compared_with_the_year_before_once(engine):
    item = _headline(assemble(engine, Selection(DEMO, "seattle", "2025")), "Referrals")
    # For a year, the previous period and the year earlier are both 2024: said once.
    assert item.sentence.count("2024") == 1


def test_a_withheld_count_is_named_never_shown(engine):
    """Santa Fe's referrals in Q4 2025 are fewer than 11: staff see the count, the public not."""
    selection = Selection(DEMO, "santa-fe", "2025-Q4")
    exact = build("referrals", engine, selection, Audience.STAFF).table("change").frame
    hidden = exact["current"][0]
    assert 1 <= hidden <= 10, "the demo's Santa Fe Q4 2025 referrals are a small count"
    public = assemble(engine, selection)
    item = _headline(public, "Referrals")
    assert item.value_text == "fewer than 11"
    assert "fewer than 11 in the fourth quarter of 2025" in item.sentence
    figure_words = " ".join([item.value_text, item.sentence, public.briefing.charts[0].title])
    # Standalone numbers only: "Q1" or "2025" do not count as the figure.
    assert str(hidden) not in re.findall(r"(?<![\w.,])\d[\d,]*(?![\d.])", figure_words)
    # The table behind the chart shows the reason where the count would be.
    table = public.chart_tables[0]
    assert str(hidden) not in [str(v) for v in table.row(-1)]


def test_every_site_assembles_with_sections_and_at_most_two_charts(engine):
    for site in SITES:
        assembled = assemble(engine, Selection(DEMO, site, "2025-Q4"))
        briefing = assembled.briefing
        assert 4 <= len(briefing.headlines) <= 6, site
        assert briefing.synthetic and briefing.release_id == DEMO
        assert "12 months" in briefing.recidivism
        assert "comparison group" in briefing.recidivism
        assert "parity" in briefing.disparity or "no group could be compared" in briefing.disparity
        assert "per participant-year" in briefing.cost or "not published" in briefing.cost
        assert 1 <= len(briefing.charts) <= 2
        assert len(assembled.chart_tables) == len(briefing.charts)
        for chart in briefing.charts:
            assert chart.alt_text.strip() and chart.caption.strip()


def test_the_disparity_is_the_views_headline_in_the_page_words(engine):
    # One implementation serves the page and the PDF; it reads the view's own row.
    for site in SITES:
        view = build("disparity_headline", engine, Selection(DEMO, site, "2025"), Audience.PUBLIC)
        ratio = headline_rate_ratio(view)
        if view.facts.get("found") != "yes":
            assert ratio is None
            continue
        row = view.table("headline").frame.row(0, named=True)
        assert ratio.rri == row["estimate"]
        assert (ratio.ci_low, ratio.ci_high) == (row["ci_low"], row["ci_high"])
        assert ratio.group_label.startswith(view.facts["group_label"])


def test_disparity_paragraph_says_whether_it_differs_from_parity(engine):
    selection = Selection(DEMO, "seattle", "2025-Q4")
    view = build("disparity_headline", engine, selection, Audience.PUBLIC)
    row = view.table("headline").frame.row(0, named=True)
    text = assemble(engine, selection).briefing.disparity
    assert f"{row['estimate']:.2f} times the rate" in text
    assert f"95% interval {row['ci_low']:.2f} to {row['ci_high']:.2f}" in text
    apart = row["ci_high"] < 1 or row["ci_low"] > 1
    assert ("unlikely to be chance alone" in text) is apart
    assert ("cannot be told apart from parity" in text) is (not apart)


def test_the_footer_link_reproduces_the_view(engine, monkeypatch):
    monkeypatch.setenv(PUBLIC_URL_VARIABLE, "https://lead.example.org/")
    briefing = assemble(engine, Selection(DEMO, "albany", "2025")).briefing
    assert briefing.dashboard_url == (
        "https://lead.example.org/briefing?site=albany&period=2025&release=demo-2025-12"
    )
    explicit = assemble(engine, Selection(DEMO, "albany", "2025"), Audience.PUBLIC, "http://x:1")
    assert explicit.briefing.dashboard_url.startswith("http://x:1/briefing?site=albany")


def test_public_base_url_default_and_bad_value(monkeypatch):
    monkeypatch.delenv(PUBLIC_URL_VARIABLE, raising=False)
    assert public_base_url() == DEFAULT_PUBLIC_URL
    monkeypatch.setenv(PUBLIC_URL_VARIABLE, "lead.example.org")
    with pytest.raises(ValueError, match="LEAD_PUBLIC_URL must be an http"):
        public_base_url()


def test_names_and_addresses():
    selection = Selection(DEMO, "santa-fe", "2025-Q4")
    assert pdf_file_name("santa-fe", "2025-Q4") == "briefing-santa-fe-2025-Q4.pdf"
    assert briefing_url("http://localhost:8501/", selection) == (
        "http://localhost:8501/briefing?site=santa-fe&period=2025-Q4&release=demo-2025-12"
    )


def test_a_briefing_covers_a_whole_site_and_a_whole_quarter_or_year(engine):
    with pytest.raises(ValueError, match="whole site"):
        assemble(engine, Selection(DEMO, "seattle", "2025-Q4", precinct_ids=("north",)))
    with pytest.raises(ValueError, match="quarter or year"):
        assemble(engine, Selection(DEMO, "seattle", "2025-03"))


def test_a_site_without_caseload_still_gets_a_briefing(sqlite_url, tmp_path):
    release = minimal_release()
    for table in ("caseload", "services"):
        release.tables[table] = [r for r in release.tables[table] if r["site_id"] != "sfe"]
    engine = make_engine(sqlite_url)
    load_release(engine, release.write(tmp_path / "release"))
    assembled = assemble(engine, Selection("test-2024-12", "sfe", "2024-Q1"))
    labels = [h.label for h in assembled.briefing.headlines]
    # Nothing is made up for tables the site does not publish.
    assert labels == ["Referrals", "Enrolled", "Share enrolled"]
