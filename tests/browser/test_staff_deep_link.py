"""A cold server's first visitor deep-links to the staff page: nothing staff-only may appear.

The router registers the staff page on every server, hidden from the menu of
anyone who is not staff, so /staff runs the page and its own guard must stop the
visitor. /staff_operations (the file's name) is no address at all since the page
scripts left pages/ (ui/navigation.py): it must not open the page either. Each
test starts its own server so that the deep link really is its very first request.

The last test is the positive control: with the development flag the same
selectors do find the staff content, so the checks above can fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import MAIN, exception_texts, open_app

STAFF_ELEMENTS = '[class*="st-key-staff-"], [class*="st-key-chart_card_staff-"]'
STAFF_ONLY_TITLE = "Program staff only"
STAFF_PAGE_TITLE = "Precinct operations (staff only)"
ROUTER_PATH = "staff"  # the url_path dashboard.py gives the page
FILE_PATH = "staff_operations"  # the file's name, which the legacy pages/ mode served
AUDIENCES = {
    "public": {"LEAD_AUDIENCE": "public"},
    "staff-without-sign-in": {"LEAD_AUDIENCE": "staff"},
}
VIEWS_PACKAGE = Path(__file__).resolve().parents[2] / "data_access" / "views" / "__init__.py"


def staff_view_registered() -> bool:
    """Whether data_access/views/__init__.py imports the staff view (the lead adds it).

    Read from the source, not by importing: another test module in this run may
    have imported the staff view already, which says nothing about the server.
    """
    tree = ast.parse(VIEWS_PACKAGE.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "data_access.views":
            if any(alias.name == "staff" for alias in node.names):
                return True
        if isinstance(node, ast.ImportFrom) and node.module == "data_access.views.staff":
            return True
        if isinstance(node, ast.Import):
            if any(alias.name == "data_access.views.staff" for alias in node.names):
                return True
    return False


def headings(page) -> list[str]:
    return [t.strip() for t in page.locator(f"{MAIN} h1").all_inner_texts()]


def assert_nothing_staff_only(page) -> None:
    assert page.locator(STAFF_ELEMENTS).count() == 0, "a staff-only element is on the page"
    everything = page.locator("body").inner_text().lower()
    assert "exact counts" not in everything
    assert "not for publication" not in everything
    assert STAFF_PAGE_TITLE not in headings(page)


@pytest.mark.parametrize("path", [FILE_PATH, ROUTER_PATH])
@pytest.mark.parametrize("audience", list(AUDIENCES))
def test_first_request_to_a_cold_server_is_a_staff_deep_link(
    start_streamlit, page, browser_log, screenshot, audience, path
):
    server = start_streamlit(env=AUDIENCES[audience])
    open_app(page, server.url(path, site="albany"))
    screenshot(f"staff-deep-link-{audience}-{path}")

    assert exception_texts(page) == []
    assert_nothing_staff_only(page)
    shown = headings(page)
    main = page.locator(MAIN).inner_text()
    if STAFF_ONLY_TITLE in shown:
        # The page ran and its guard stopped it.
        assert "This page is for program staff" in main
    else:
        # Not an address: the router fell back to the public default page.
        assert shown and shown[0], "neither the staff-only message nor a public page"
        assert page.get_by_role("combobox", name="Site").count() == 1
    if audience == "staff-without-sign-in":
        assert "staff sign-in is not configured" in main
    if path == ROUTER_PATH:
        # A warm server now: the file's own name must not open the page either.
        open_app(page, server.url(FILE_PATH))
        assert exception_texts(page) == []
        assert_nothing_staff_only(page)
    assert browser_log.page_errors == []


@pytest.mark.xfail(
    not staff_view_registered(),
    reason="the staff view is not yet imported in data_access/views/__init__.py",
    run=False,  # a cold server costs seconds; once the import is there this runs for real
)
def test_positive_control_the_dev_flag_shows_the_staff_content(start_streamlit, page, screenshot):
    server = start_streamlit(
        env={"LEAD_AUDIENCE": "staff", "LEAD_ALLOW_UNAUTHENTICATED_STAFF": "1"}
    )
    open_app(page, server.url(ROUTER_PATH, site="albany"))
    screenshot("staff-page-dev-flag")
    assert exception_texts(page) == []
    assert STAFF_PAGE_TITLE in headings(page)
    assert page.locator(STAFF_ELEMENTS).count() > 0
    assert "exact counts, not for publication" in page.locator(MAIN).inner_text()
