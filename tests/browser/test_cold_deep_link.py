"""A shared link is the first request a freshly restarted server gets.

Until some session has run the router in dashboard.py, Streamlit treats pages/
as a legacy pages-directory app: a deep link ran the page file by itself, and
the sidebar listed file names ("dashboard", "staff operations") instead of the
router's pages. A server reached only through shared links never left that
mode. ui/context.py now hands the first such run over to the router.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import MAIN, exception_texts, open_app, selected_text

ROUTER = Path(__file__).resolve().parents[2] / "dashboard.py"


def public_titles() -> list[str]:
    """The titles of dashboard.py's PUBLIC_PAGES, read from its source."""
    for node in ast.parse(ROUTER.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PUBLIC_PAGES":
            return [
                ast.literal_eval(k.value)
                for call in node.value.elts
                for k in call.keywords
                if k.arg == "title"
            ]
    raise AssertionError("dashboard.py has no PUBLIC_PAGES list")


def navigation(page) -> list[str]:
    return [t.strip() for t in page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]


def test_a_deep_link_to_a_cold_server_opens_that_page_with_the_routers_navigation(
    start_streamlit, page, browser_log, screenshot
):
    server = start_streamlit()
    open_app(page, server.url("recidivism", site="albany"))
    page.get_by_role("heading", name="Recidivism", exact=True).wait_for()
    screenshot("cold-deep-link-recidivism")

    assert exception_texts(page) == []
    assert navigation(page) == public_titles()
    assert "site=albany" in page.url
    assert selected_text(page, "Site") == "Albany"
    # A second visitor, also by a shared link, sees the same.
    second = page.context.new_page()
    open_app(second, server.url("costs"))
    second.get_by_role("heading", name="Costs", exact=True).wait_for()
    assert navigation(second) == public_titles()
    assert second.locator(MAIN).get_by_text("staff operations").count() == 0
    assert browser_log.page_errors == []
