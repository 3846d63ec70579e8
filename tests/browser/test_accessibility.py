"""WCAG 2.1 AA checks in a real browser: axe-core on our content, and the keyboard.

Our content (the main area) must have no serious or critical violation. Streamlit's
own chrome (the sidebar navigation) is scanned apart: what it gives is listed in
docs/accessibility.md with the upstream issue, and a new kind of violation there fails
here so that the list stays true.
"""

from __future__ import annotations

import pytest

from .conftest import (
    BLOCKING_IMPACTS,
    CHART_CARD,
    MAIN,
    PUBLIC_PAGES,
    axe_violations,
    describe_violations,
    open_app,
    wait_for_charts,
    walk_tab_order,
)

# Rules Streamlit 1.67's sidebar navigation breaks when pages are grouped in sections:
# section headers are <div>s inside the <ul>, and each section's <li>s sit in a <div>.
# See docs/accessibility.md ("Streamlit's own chrome").
KNOWN_NAV_VIOLATIONS = {"list", "listitem"}
SIDEBAR_NAV = '[data-testid="stSidebarNav"]'

SERVERS = ["streamlit_server", "harness_server"]


def _outside(page, selector: str, violations: list[dict]) -> list[dict]:
    """The violations with at least one offending element outside `selector`."""
    found = []
    for violation in violations:
        targets = [node["target"][0] for node in violation["nodes"]]
        inside = page.evaluate(
            "([targets, sel]) => targets.map((t) => !!document.querySelector(t)?.closest(sel))",
            [targets, selector],
        )
        if not all(inside):
            found.append(violation)
    return found


@pytest.mark.parametrize("server_fixture", SERVERS)
def test_streamlit_chrome_gives_only_the_documented_violations(server_fixture, request, page):
    server = request.getfixturevalue(server_fixture)
    open_app(page, server.url())

    violations = axe_violations(page)

    outside_main = _outside(page, MAIN, violations)
    undocumented = [v for v in outside_main if v["id"] not in KNOWN_NAV_VIOLATIONS]
    assert undocumented == [], (
        "Streamlit's chrome gives violations not listed in docs/accessibility.md:\n"
        + describe_violations(undocumented)
    )
    outside_nav = _outside(page, SIDEBAR_NAV, outside_main)
    assert outside_nav == [], (
        "the known navigation violations now reach beyond the sidebar navigation:\n"
        + describe_violations(outside_nav)
    )


def test_harness_navigation_still_shows_the_documented_upstream_violations(harness_server, page):
    # When a Streamlit upgrade fixes its navigation markup this fails, so that
    # docs/accessibility.md and KNOWN_NAV_VIOLATIONS are brought up to date.
    open_app(page, harness_server.url())

    found = {v["id"] for v in axe_violations(page, include=SIDEBAR_NAV)}

    assert found == KNOWN_NAV_VIOLATIONS


@pytest.mark.parametrize("server_fixture", SERVERS)
def test_tab_alone_reaches_every_interactive_element(server_fixture, request, page):
    server = request.getfixturevalue(server_fixture)
    open_app(page, server.url())
    if page.locator('[data-testid="stPlotlyChart"]').count():
        wait_for_charts(page)

    walk = walk_tab_order(page, scope=None)

    assert walk.expected, "the page offers nothing to reach by keyboard"
    assert walk.missed() == [], f"Tab never reached: {walk.missed()}"


def test_a_table_view_opened_by_keyboard_can_be_reached_by_keyboard(harness_server, page):
    open_app(page, harness_server.url())
    expander = page.locator('[data-testid="stExpander"] summary', has_text="Table view")
    expander.focus()
    page.keyboard.press("Enter")
    page.locator('[data-testid="stDataFrame"]').wait_for(state="visible")

    walk = walk_tab_order(page, scope=MAIN)

    assert walk.missed() == [], f"Tab never reached: {walk.missed()}"
    assert walk.stops_inside("stDataFrame"), "no Tab stop inside the opened table view"


def test_first_tab_stop_skips_to_the_main_content(streamlit_server, page):
    open_app(page, streamlit_server.url())

    page.keyboard.press("Tab")
    skip_link = page.locator(":focus")
    assert skip_link.inner_text().strip() == "Skip to main content"
    page.keyboard.press("Enter")

    focused_in_main = page.evaluate("(sel) => !!document.activeElement?.closest(sel)", MAIN)
    assert focused_in_main, "after the skip link, focus is not in the main content"


# ---------------------------------------------------------------------------
# The dashboard's pages (issue 7)

SIDEBAR_FILTERS = ["Data release", "Site", "Period", "Precinct"]
TABLE_VIEW_SUMMARY = f'{CHART_CARD} [data-testid="stExpander"] summary'
DOWNLOAD_BUTTON = f'{CHART_CARD} [data-testid="stDownloadButton"] button'


@pytest.mark.parametrize(
    ("path", "heading", "charts"), PUBLIC_PAGES, ids=[p[0] or "overview" for p in PUBLIC_PAGES]
)
def test_every_page_has_no_serious_violation_and_only_documented_chrome_ones(
    dashboard, page, path, heading, charts
):
    open_app(page, dashboard.url(path))
    if charts:
        wait_for_charts(page, minimum=charts)

    violations = axe_violations(page)

    ours = [v for v in violations if _inside_any(page, MAIN, v)]
    blocking = [v for v in ours if v["impact"] in BLOCKING_IMPACTS]
    assert blocking == [], f"axe found in the content of /{path}:\n" + describe_violations(blocking)
    chrome = _outside(page, MAIN, violations)
    undocumented = [v for v in chrome if v["id"] not in KNOWN_NAV_VIOLATIONS]
    assert undocumented == [], (
        "Streamlit's chrome gives violations not listed in docs/accessibility.md:\n"
        + describe_violations(undocumented)
    )
    assert _outside(page, SIDEBAR_NAV, chrome) == [], (
        "the known navigation violations now reach beyond the sidebar navigation"
    )


def _inside_any(page, selector: str, violation: dict) -> bool:
    """Whether any element the violation names lies inside `selector`."""
    targets = [node["target"][0] for node in violation["nodes"]]
    return page.evaluate(
        "([targets, sel]) => targets.some((t) => !!document.querySelector(t)?.closest(sel))",
        [targets, selector],
    )


def _focused(page, selector: str) -> bool:
    """Whether the focused element matches `selector`."""
    return page.evaluate("(sel) => !!document.activeElement?.matches(sel)", selector)


def _tab_until(page, selector: str, max_presses: int = 200) -> list[set[str]]:
    """Press Tab until the focused element matches `selector`.

    Returns, for each stop on the way, the data-testids of the elements holding it.
    Fails when `selector` is not reached.
    """
    passed = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if _focused(page, selector):
            return passed
        passed.append(
            set(
                page.evaluate(
                    """() => Array.from(document.querySelectorAll('[data-testid]'))
                         .filter((h) => h.contains(document.activeElement))
                         .map((h) => h.dataset.testid)"""
                )
            )
        )
    pytest.fail(f"{max_presses} presses of Tab never reached {selector}: passed {passed}")


def test_keyboard_alone_reaches_the_filters_a_table_view_and_its_download(dashboard, page):
    open_app(page, dashboard.url("referrals"))
    wait_for_charts(page)

    walk = walk_tab_order(page, scope=None)

    assert walk.missed() == [], f"Tab never reached: {walk.missed()}"
    filters = [
        stop for stop in walk.reached if "stSidebar" in stop["inside"] and stop["tag"] == "input"
    ]
    labels = [
        page.locator(f'[data-lead-tab-id="{stop["id"]}"]').get_attribute("aria-label")
        for stop in filters
    ]
    assert labels == SIDEBAR_FILTERS

    # From the top of the page: Tab to the first chart's "Table view", open it with
    # Enter, then Tab into its grid and on to its download button.
    page.locator("body").focus()
    page.evaluate("() => document.activeElement?.blur()")
    _tab_until(page, TABLE_VIEW_SUMMARY)
    page.keyboard.press("Enter")
    page.locator(f'{CHART_CARD} [data-testid="stDataFrame"]').first.wait_for(state="visible")
    passed = _tab_until(page, DOWNLOAD_BUTTON)

    assert any("stDataFrame" in holders for holders in passed), (
        f"Tab skipped the opened table: passed {passed}"
    )
    assert (
        page.evaluate("() => document.activeElement.innerText")
        .strip()
        .endswith("Download this table (CSV)")
    )
