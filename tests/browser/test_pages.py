"""Every public page in a real browser: it loads, draws its charts, follows the filters,
and a copied link or a downloaded table gives back exactly what the reader saw.

All tests share the demo dashboard (the `dashboard` fixture), so they only read.
Screenshots of every page go to $LEAD_SCREENSHOT_DIR when it is set, for a person
to look at (what to look for: tests/browser/README.md).
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import (
    MAIN,
    PUBLIC_PAGES,
    chart_card,
    chart_titles,
    choose,
    exception_texts,
    fresh_page,
    grid_rows,
    headline_figures,
    main_text,
    open_app,
    open_table_view,
    selected_text,
    wait_for_charts,
)

# What a reader must never see: Python's None or NaN, a markdown escape left as text
# ("\:" or "\("), or a code from the vocabulary ("arrest_diversion") where its label
# belongs.
PYTHON_VALUE = re.compile(r"\b(None|nan|NaN)\b")
MARKDOWN_ESCAPE = re.compile(r"\\[\\`*_{}\[\]<>()#+\-.!|~$:=^&\"']")
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


@pytest.mark.parametrize(
    ("path", "heading", "charts"), PUBLIC_PAGES, ids=[p[0] or "overview" for p in PUBLIC_PAGES]
)
def test_every_page_loads_from_its_url_and_draws_its_charts(
    dashboard, page, browser_log, screenshot, path, heading, charts
):
    open_app(page, dashboard.url(path))
    if charts:
        assert wait_for_charts(page, minimum=charts) == charts
    screenshot(f"page-{path or 'overview'}")

    assert exception_texts(page) == []
    assert page.locator(f"{MAIN} h1").first.inner_text().strip() == heading
    text = main_text(page)
    assert not PYTHON_VALUE.findall(text), f"a Python value is shown: {PYTHON_VALUE.findall(text)}"
    assert not MARKDOWN_ESCAPE.findall(text), f"escapes shown: {MARKDOWN_ESCAPE.findall(text)}"
    # Commands and file names in code spans are meant to be typed as they are.
    words = main_text(page, hide="code")
    assert not RAW_CODE.findall(words), f"codes shown instead of labels: {RAW_CODE.findall(words)}"
    assert browser_log.meaningful_console_errors() == []


def test_a_filter_updates_the_charts_and_the_url(dashboard, page):
    open_app(page, dashboard.url("referrals"))
    wait_for_charts(page)
    seattle_titles = chart_titles(page)
    assert selected_text(page, "Site") == "Seattle"
    assert "East Precinct" in chart_card(page, "chart-referrals-by_precinct").inner_text()

    choose(page, "Site", "Albany")
    wait_for_charts(page)

    assert query_of(page.url)["site"] == ["albany"]
    assert selected_text(page, "Site") == "Albany"
    albany_titles = chart_titles(page)
    assert albany_titles != seattle_titles
    # The precinct chart names Albany's precincts now, not Seattle's.
    precinct_chart = chart_card(page, "chart-referrals-by_precinct").inner_text()
    assert "East Precinct" not in precinct_chart

    choose(page, "Period", "Q3 2025 (July to September)")
    wait_for_charts(page)

    assert query_of(page.url)["period"] == ["2025-Q3"]
    assert query_of(page.url)["site"] == ["albany"]
    assert chart_titles(page) != albany_titles
    assert any("Q3 2025" in title for title in chart_titles(page))


def test_a_copied_url_reproduces_the_view_in_a_fresh_browser(dashboard, page, browser):
    # A reader sets up a view by clicking, on a page with a filter of its own (the
    # reference group), then copies the address bar.
    open_app(page, dashboard.url("disparities"))
    wait_for_charts(page)
    choose(page, "Precinct", "West Precinct")
    choose(page, "Compare each group with", "Black or African American")
    wait_for_charts(page)
    copied = page.url
    assert query_of(copied)["precinct"] == ["west"]
    assert query_of(copied)["ref"] == ["black"]
    seen = {
        "titles": chart_titles(page),
        "figures": headline_figures(page),
        "main": main_text(page),
    }
    assert any("the rate of Black or African American people" in t for t in seen["titles"])

    # Someone else opens the link: a new context shares no cookie, storage or session.
    with fresh_page(browser) as other:
        open_app(other, copied)
        wait_for_charts(other)

        assert selected_text(other, "Precinct") == "West Precinct"
        assert selected_text(other, "Compare each group with") == "Black or African American"
        assert chart_titles(other) == seen["titles"]
        assert headline_figures(other) == seen["figures"]
        assert main_text(other) == seen["main"]


def test_a_downloaded_table_holds_the_numbers_shown(dashboard, page):
    # 2025-Q3: a quarter whose pathways are all published (in 2025-Q4 the December
    # correction of January withholds some, with their complements).
    open_app(page, dashboard.url("referrals", period="2025-Q3"))
    wait_for_charts(page)
    card = chart_card(page, "chart-referrals-by_pathway")
    title = card.locator("h3").inner_text()
    open_table_view(card)
    shown = grid_rows(card)

    with page.expect_download() as download_info:
        card.get_by_role("button", name="Download this table (CSV)").click()
    download = download_info.value
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        downloaded = list(csv.reader(io.StringIO(handle.read())))

    assert download.suggested_filename == "referrals-by_pathway-2025-q3-seattle.csv"
    assert downloaded == shown
    # Worked example: the title names the largest pathway and its count, e.g. "the
    # largest group is Arrest diversion (55)"; the file says the same, and that
    # count is the largest of the published ones.
    largest, count = re.search(r"largest group is (.+) \((\d+)\)", title).groups()
    by_pathway = {row[0]: row[1] for row in downloaded[1:]}
    assert by_pathway[largest] == count
    published = [int(v) for v in by_pathway.values() if v.isdigit()]
    assert int(count) == max(published)
