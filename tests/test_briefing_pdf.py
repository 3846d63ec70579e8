"""The briefing PDF: produced, at most two pages, its text (pdftotext) carries the headline
numbers, sentences and the synthetic marking, and a withheld value's number never appears.

Needs poppler-utils (pdftotext, pdfinfo) and, for charts, Chromium. Without them the tests
skip and say why, unless LEAD_REQUIRE_BROWSER=1 (as in CI), when they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess

import plotly.graph_objects as go
import pytest

from briefing import sentences as s
from briefing.content import (
    SYNTHETIC_MARK,
    Briefing,
    BriefingChart,
    HeadlineItem,
    headline_item,
    methods_note,
    privacy_note,
    value_text,
)
from briefing.pdf import BriefingTooLong, browser_available, latin1_safe, render_pdf
from data_access.disclosure import policy_from_environment
from data_access.metrics.registry import get_metric

REQUIRE = os.environ.get("LEAD_REQUIRE_BROWSER") == "1"
Q4, Q3 = "the fourth quarter of 2025", "the third quarter of 2025"
SMALL = "fewer than 11"
HIDDEN = 7  # the true value behind each withheld cell below
URL = "https://lead.example.org/briefing?site=harbor&period=2025-Q4"


def require(available: bool, what: str) -> None:
    if available:
        return
    if REQUIRE:
        pytest.fail(f"{what} is required (LEAD_REQUIRE_BROWSER=1) but not installed")
    pytest.skip(f"{what} is not installed; CI installs it (.ci/run)")


def pdf_text(data: bytes, page: int | None = None) -> str:
    """pdftotext in content order (-raw), whitespace collapsed so wrapped sentences match."""
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    pages = ["-f", str(page), "-l", str(page)] if page else []
    out = subprocess.run(
        ["pdftotext", "-raw", *pages, "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    return " ".join(out.split())


def pdf_info(data: bytes) -> dict[str, str]:
    require(shutil.which("pdfinfo") is not None, "pdfinfo (poppler-utils)")
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True)
    return dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in out.stdout.decode().splitlines())
    )


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d[\d,]*(?:\.\d+)?", text))


def small_figure() -> go.Figure:
    figure = go.Figure()
    figure.add_bar(name="LEAD", x=["6 months", "12 months", "24 months"], y=[0.22, 0.31, 0.38])
    figure.add_bar(name="Comparison", x=["6 months", "12 months", "24 months"], y=[0.3, 0.45, 0.55])
    figure.update_layout(yaxis_tickformat=".0%", yaxis_title="Share re-arrested")
    return figure


def make_briefing(*, synthetic: bool = True, chart_count: int = 2, **overrides) -> Briefing:
    headlines = (
        headline_item(
            "referrals.count", 214, 191, period_label=Q4, previous_label=Q3, year_ago=180
        ),
        headline_item(
            "screening.enrolled",
            0.62,
            0.58,
            period_label=Q4,
            previous_label=Q3,
            unit="proportion",
            label="Enrolled after screening",
            sentence_label="The share of eligible people who enrolled",
            singular=True,
        ),
        # Withheld this quarter: the true count (7) must not appear anywhere.
        headline_item(
            "referrals.count",
            HIDDEN,
            12,
            period_label=Q4,
            previous_label=Q3,
            current_withheld=SMALL,
            label="Community referrals",
        ),
        headline_item(
            "diversion.rate",
            0.248,
            0.241,
            period_label=Q4,
            previous_label=Q3,
            unit="proportion",
            sentence_label="The diversion rate",
            singular=True,
            unstable=True,
        ),
        headline_item(
            "costs.program_per_participant_month",
            612,
            650,
            period_label=Q4,
            previous_label=Q3,
            unit="dollars",
            singular=True,
        ),
        # The previous quarter is withheld (true value 7): no comparison may be printed.
        headline_item(
            "referrals.count",
            312,
            HIDDEN,
            period_label=Q4,
            previous_label=Q3,
            previous_withheld=SMALL,
            label="Social contact referrals",
        ),
    )
    figures = (
        BriefingChart(
            small_figure(),
            "LEAD participants were re-arrested less often at every window",
            "Grouped bar chart: share re-arrested within 6, 12 and 24 months, LEAD 22%, 31%, "
            "38%; comparison 30%, 45%, 55%.",
            "Share of each group arrested again, closed cohorts only.",
        ),
        BriefingChart(
            go.Figure(go.Scatter(x=["Q1", "Q2", "Q3", "Q4"], y=[160, 175, 191, 214])),
            "Referrals rose in each quarter of 2025",
            "Line chart of referrals per quarter of 2025: 160, 175, 191, 214.",
            "People referred to LEAD per quarter.",
        ),
    )
    values = {
        "site_name": "Harbor City (demo)",
        "period_label": "The fourth quarter of 2025",
        "period_detail": "October to December 2025",
        "release_id": "2026-01-r1",
        "as_of": dt.date(2026, 1, 15),
        "synthetic": synthetic,
        "headlines": headlines,
        "recidivism": s.recidivism_sentence(
            window_months=12,
            lead_rate=0.31,
            comparison_rate=0.45,
            lead_people=412,
            comparison_people=388,
            risk_difference=-0.14,
            rd_low=-0.212,
            rd_high=-0.083,
            risk_ratio=0.69,
            rr_low=0.56,
            rr_high=0.83,
            odds_ratio=0.55,
            or_low=0.41,
            or_high=0.64,
        ),
        "disparity": s.disparity_sentence(
            group_label="Black residents",
            reference_label="white residents",
            decision="eligible contacts were referred",
            rri=0.87,
            ci_low=0.78,
            ci_high=0.96,
        ),
        "cost": s.cost_sentence(
            saving_marginal=1200,
            saving_fully_loaded=8061,
            period_label="2025",
            program_cost=6400,
            net_marginal=-5200,
            net_fully_loaded=1661,
        ),
        "charts": figures[:chart_count],
        "methods_note": methods_note("2026-01-r1"),
        "privacy_note": privacy_note(policy_from_environment()),
        "dashboard_url": URL,
    }
    values.update(overrides)
    return Briefing(**values)


@pytest.fixture(scope="module")
def briefing() -> Briefing:
    return make_briefing()


@pytest.fixture(scope="module")
def rendered(briefing) -> bytes:
    require(browser_available(), "Chromium (for kaleido's chart images)")
    return render_pdf(briefing)


def test_pdf_is_produced_on_letter_paper_in_at_most_two_pages(rendered):
    assert rendered.startswith(b"%PDF-")
    info = pdf_info(rendered)
    assert 1 <= int(info["Pages"]) <= 2
    assert info["Page size"].startswith("612 x 792 pts")  # US letter
    assert info["Title"] == "LEAD briefing: Harbor City (demo), The fourth quarter of 2025"
    assert "synthetic demonstration data" in info["Subject"]
    assert info["Tagged"] == "yes"
    assert b"/Lang (en-US)" in rendered


def test_text_carries_headline_numbers_and_sentences(rendered, briefing):
    text = pdf_text(rendered)
    for item in briefing.headlines:
        assert item.label.upper() in text
        assert item.value_text in text
        assert item.sentence in text
    # The worked example: (214 - 191) / 191 = 12%.
    assert "Referrals rose 12% to 214 compared with 191 in the third quarter of 2025" in text
    for paragraph in (briefing.recidivism, briefing.disparity, briefing.cost):
        assert paragraph in text
    assert "LEAD briefing: Harbor City (demo)" in text
    assert "October to December 2025" in text
    assert "Data through 15 January 2026" in text and "Release 2026-01-r1" in text


def test_every_page_is_marked_synthetic_and_numbered(rendered):
    pages = int(pdf_info(rendered)["Pages"])
    for page in range(1, pages + 1):
        text = pdf_text(rendered, page)
        assert text.startswith(SYNTHETIC_MARK)
        assert f"Page {page} of {pages}" in text
        assert URL in text


def test_withheld_values_never_appear(rendered, briefing):
    text = pdf_text(rendered)
    assert str(HIDDEN) not in numbers_in(text)
    assert "Community referrals were fewer than 11 in the fourth quarter of 2025" in text
    assert "A comparison with the third quarter of 2025 is withheld to protect privacy." in text
    # Not in the alt text or any other uncompressed string either.
    assert f"({HIDDEN})".encode() not in rendered


def test_charts_carry_alt_text_and_the_footer_links_back(rendered, briefing):
    for chart in briefing.charts:
        assert f"/Alt ({chart.alt_text})".encode() in rendered
    assert f"/URI ({URL})".encode() in rendered
    text = pdf_text(rendered)
    for chart in briefing.charts:
        assert chart.title in text and chart.caption in text


def test_real_data_has_no_synthetic_marking_and_needs_no_browser_without_charts():
    data = render_pdf(make_briefing(synthetic=False, chart_count=0))
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "SYNTHETIC" not in text.upper()
    assert "Referrals rose 12% to 214" in text
    assert int(pdf_info(data)["Pages"]) <= 2


def test_a_briefing_too_long_for_two_pages_is_refused():
    endless = "\n".join(f"Line {i} of a note far too long for a briefing." for i in range(400))
    with pytest.raises(BriefingTooLong, match="needs more than 2 pages"):
        render_pdf(make_briefing(chart_count=0, methods_note=endless), embed_fonts=False)


def test_core_font_keeps_text_latin1_safe():
    data = render_pdf(
        make_briefing(chart_count=0, disparity="Groups of ≥ 30 people – Seattle’s “LEAD” …"),
        embed_fonts=False,
    )
    assert 'Groups of >= 30 people - Seattle\'s "LEAD" ...' in pdf_text(data)
    assert latin1_safe("Zoë ≤ 5 → ok") == "Zoë <= 5 ? ok"


# ------------------------------------------------------------------ content


def test_headline_item_takes_definition_and_denominator_from_the_registry():
    item = headline_item(
        "screening.enrolled", 0.62, 0.58, period_label=Q4, previous_label=Q3, unit="proportion"
    )
    definition = get_metric("screening.enrolled")
    assert item.label == definition.name
    assert item.definition == definition.description
    assert item.denominator_text == f"Out of: {definition.denominator}"
    assert item.value_text == "62%"
    count = headline_item("referrals.count", 214, 191, period_label=Q4, previous_label=Q3)
    assert count.denominator_text == ""  # a count has no denominator


def test_value_text_shows_the_reason_never_the_number():
    assert value_text(HIDDEN, SMALL) == "fewer than 11"
    assert value_text(HIDDEN, "withheld to protect another cell") == "withheld"
    assert value_text(None) == "not published"
    assert value_text(12480) == "12,480"
    # Proportions with a sub-point change show a decimal, as their sentence does.
    item = headline_item(
        "diversion.rate", 0.148, 0.141, period_label=Q4, previous_label=Q3, unit="proportion"
    )
    assert item.value_text == "14.8%" and "to 14.8% compared with 14.1%" in item.sentence


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dashboard_url": "javascript:alert(1)"}, "http"),
        ({"headlines": ()}, "between 1 and 6"),
        ({"site_name": " "}, "site_name must be non-empty"),
        ({"as_of": "2026-01-15"}, "as_of must be a date"),
    ],
)
def test_briefing_rejects_what_would_break_the_page(overrides, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_briefing(**overrides)


def test_briefing_limits_headlines_and_charts():
    item = HeadlineItem("Referrals", "214", "Referrals were 214.")
    with pytest.raises(ValueError, match="between 1 and 6"):
        make_briefing(headlines=(item,) * 7)
    chart = BriefingChart(go.Figure(), "A title", "An alt text")
    with pytest.raises(ValueError, match="at most 2 charts"):
        make_briefing(charts=(chart,) * 3)
    with pytest.raises(ValueError, match="alt_text must be non-empty"):
        BriefingChart(go.Figure(), "A title", "")
