"""The Briefing page (AppTest) and its PDF: the same numbers on screen and on paper.

Run straight from its file (page_setup works without the router) until the
page is registered in dashboard.py.
"""

from __future__ import annotations

import re

from apptest_support import ROOT, SMALL_COUNT, table_cells
from briefing_support import pdf_pages, pdf_text, require_pdf_tools, unescape
from streamlit.testing.v1 import AppTest

from briefing.assemble import assemble
from briefing.pdf import render_pdf
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.views import Selection, build

PAGE = str(ROOT / "app_pages" / "briefing_page.py")
DEMO = "demo-2025-12"


def open_briefing(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def headlines(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def sentences_shown(at: AppTest) -> list[str]:
    return [unescape(m.value) for m in at.markdown]


def test_page_renders_figures_sections_charts_and_the_pdf_button(app_env, demo_sqlite_url):
    at = open_briefing(site="seattle", period="2025-Q4")
    assert not at.exception
    assert [t.value for t in at.title] == ["Briefing"]
    assert 4 <= len(at.metric) <= 6
    change = build(
        "referrals",
        make_engine(demo_sqlite_url),
        Selection(DEMO, "seattle", "2025-Q4"),
        Audience.PUBLIC,
    ).table("change")
    assert headlines(at)["Referrals"] == f"{change.frame['current'][0]:,}"
    subheaders = [unescape(s.value) for s in at.subheader]
    for section in ("Re-arrest: LEAD against the comparison group", "Disparities", "Costs"):
        assert section in subheaders
    charts = at.get("plotly_chart")
    assert 1 <= len(charts) <= 2
    for chart in charts:
        assert chart.proto.alt.strip(), "every chart needs alt text"
    assert len(at.dataframe) >= len(charts)
    buttons = at.get("download_button")
    assert "Download PDF" in [b.proto.label for b in buttons]
    captions = " ".join(unescape(c.value) for c in at.caption)
    assert "Synthetic demonstration data" in captions
    assert f"release {DEMO}" in captions and "Data through 31 December 2025" in captions
    assert "Methods:" in captions and "Privacy:" in captions
    assert "briefing?site=seattle&period=2025-Q4&release=demo-2025-12" in captions


def test_period_default_changes_and_precinct_links(app_env):
    at = open_briefing(site="albany")
    # Demo data run through 31 December 2025, so Q4 2025 is the latest complete quarter.
    assert at.selectbox(key="w_period").value == "2025-Q4"
    assert any("The fourth quarter of 2025" in unescape(s.value) for s in at.subheader)
    quarter = headlines(at)
    at.selectbox(key="w_period").select("2024").run()
    assert not at.exception
    assert headlines(at)["Referrals"] != quarter["Referrals"]
    # A precinct in a shared link: the briefing still covers the whole site, and says so.
    linked = open_briefing(site="albany", period="2025-Q4", precinct="north")
    assert not linked.exception
    assert headlines(linked) == quarter
    assert any("covers the whole of Albany" in unescape(i.value) for i in linked.info)


def test_no_small_count_is_shown(app_env):
    for site in ("albany", "santa-fe"):
        at = open_briefing(site=site, period="2025-Q4")
        for value in headlines(at).values():
            assert not SMALL_COUNT.match(value), (site, value)
        assert not [c for c in table_cells(at) if SMALL_COUNT.match(c)], site


def test_the_pdf_carries_the_pages_numbers_and_sentences(app_env, demo_sqlite_url):
    """Santa Fe, Q4 2025: small numbers, so the check covers withheld figures too."""
    require_pdf_tools()
    at = open_briefing(site="santa-fe", period="2025-Q4")
    engine = make_engine(demo_sqlite_url)
    selection = Selection(DEMO, "santa-fe", "2025-Q4")
    data = render_pdf(assemble(engine, selection).briefing)
    text = pdf_text(data)
    assert pdf_pages(data) <= 2
    shown = headlines(at)
    for label, value in shown.items():
        assert label.upper() in text
        assert unescape(value) in text, (label, value)
    # Every sentence under a figure and every section paragraph, word for word.
    for sentence in sentences_shown(at):
        if sentence.startswith("Some values are not shown"):
            continue  # the page's own note; the PDF has its privacy footnote instead
        assert " ".join(sentence.split()) in text, sentence
    # The withheld referral count: staff see it, neither the page nor the PDF do.
    hidden = build("referrals", engine, selection, Audience.STAFF).table("change").frame
    hidden_count = hidden["current"][0]
    assert shown["Referrals"] == "fewer than 11"
    referrals_sentence = next(s for s in sentences_shown(at) if s.startswith("Referrals"))
    numbers = re.findall(r"(?<![\w.,])\d[\d,]*(?![\d.])", referrals_sentence)
    assert str(hidden_count) not in numbers
    assert "SYNTHETIC DEMONSTRATION DATA" in text
