"""Every address of every page lands on that page, on a cold server and on a warm one.

A shared link is often the first request a freshly started server gets. With the
page scripts in a folder named pages/, Streamlit ran in its legacy multipage mode
until a session had run the router, and a cold server's first /staff or /briefing
opened its "Page not found" dialog over the page; on a warm server /overview (the
default page's own name; the page lives at /) did the same. See ui/navigation.py.

One server per audience. Cold: every page is opened at once, in its own tab, before
any session has run on the server. Warm: each page again, one after the other, in
one tab, after those sessions have run. The pages come from the router's own list
(ui.navigation.PAGES); the heading each should show comes from its script's
page_setup call, so neither list is typed twice.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from data_access.audience import Audience
from ui.navigation import DEFAULT_PAGE, PAGES, PageEntry, pages_for

from .conftest import MAIN, exception_texts, open_app, wait_for_app_idle

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AUDIENCES = {
    Audience.PUBLIC: {"LEAD_AUDIENCE": "public"},
    Audience.STAFF: {"LEAD_AUDIENCE": "staff", "LEAD_ALLOW_UNAUTHENTICATED_STAFF": "1"},
}
STAFF_ONLY_TITLE = "Program staff only"  # the guard's heading for a staff page's other viewers
PAGE_NOT_FOUND = "Page not found"  # the title of Streamlit's dialog
NAV_LINK = '[data-testid="stSidebarNavLink"]'
# Every page of an audience opened at once on a two-core machine: give the last time.
COLD_TIMEOUT_MS = 180_000


@cache
def heading_of(entry: PageEntry) -> str:
    """The title the page's script passes to page_setup: the page's heading."""
    tree = ast.parse((PROJECT_ROOT / entry.script).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "page_setup":
            return ast.literal_eval(node.args[0])
    raise AssertionError(f"{entry.script} has no page_setup(...) call")


def problems_on(page, entry: PageEntry, audience: Audience) -> list[str]:
    """What is wrong with the page shown for `entry`'s address (empty when it landed)."""
    found = []
    said = page.locator("body").inner_text()
    if PAGE_NOT_FOUND in said:
        found.append(f"{PAGE_NOT_FOUND!r} is on the page")
    if exception_texts(page):
        found.append(f"exception: {exception_texts(page)}")
    for_this_viewer = entry in pages_for(audience)
    expected = heading_of(entry) if for_this_viewer else STAFF_ONLY_TITLE
    shown = [t.strip() for t in page.locator(f"{MAIN} h1").all_inner_texts()]
    if shown[:1] != [expected]:
        found.append(f"heading {shown[:1]}, expected {expected!r}")
    url = urlsplit(page.url)
    path = "/" if entry is DEFAULT_PAGE else f"/{entry.url_path}"
    if url.path != path:
        found.append(f"address {url.path}, expected {path}")
    if parse_qs(url.query).get("site") != ["albany"]:
        found.append(f"the link's site=albany was lost: {page.url}")
    menu = [t.strip() for t in page.locator(NAV_LINK).all_inner_texts()]
    if menu != [p.title for p in pages_for(audience)]:
        found.append(f"menu {menu}")
    current = [
        t.strip() for t in page.locator(f'{NAV_LINK}[aria-current="page"]').all_inner_texts()
    ]
    if current != ([entry.title] if for_this_viewer else []):
        found.append(f"the menu marks {current} as the current page")
    return [f"{entry.url_path}: {problem}" for problem in found]


@pytest.mark.parametrize("audience", list(AUDIENCES), ids=str)
def test_every_address_lands_on_its_page_cold_and_warm(
    start_streamlit, browser_context, browser_log, audience
):
    server = start_streamlit(env=AUDIENCES[audience])
    link = {entry: server.url(entry.url_path, site="albany") for entry in PAGES}

    # Cold: every address is among the server's first requests.
    tabs = {entry: browser_context.new_page() for entry in PAGES}
    for entry, tab in tabs.items():
        tab.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
        tab.goto(link[entry], wait_until="commit")
    cold = []
    for entry, tab in tabs.items():
        wait_for_app_idle(tab, timeout_ms=COLD_TIMEOUT_MS)
        cold += problems_on(tab, entry, audience)
    for tab in list(tabs.values())[1:]:
        tab.close()

    # Warm: the same addresses after those sessions have run, in one tab.
    warm = []
    tab = tabs[PAGES[0]]
    for entry in PAGES:
        open_app(tab, link[entry])
        warm += problems_on(tab, entry, audience)

    assert (cold, warm) == ([], []), "\n".join(["cold:", *cold, "warm:", *warm])
    assert browser_log.page_errors == []
