"""The dashboard starts on the demo database and shows its first page, and the helpers work.

The page-specific end-to-end tests of issue 7 (filters, URLs, downloads, staff pages)
are added here as the pages land; they rely on the helpers checked below.
"""

from __future__ import annotations

import os

import pytest

from .conftest import MAIN, app_rerun, exception_texts, open_app, wait_for_charts


def test_dashboard_opens_on_the_demo_database_without_an_error(
    streamlit_server, page, browser_log, screenshot
):
    open_app(page, streamlit_server.url())
    screenshot("dashboard-default-page")

    assert exception_texts(page) == []
    heading = page.locator(f"{MAIN} h1:visible").first
    assert heading.is_visible()
    assert heading.inner_text().strip(), "the page's main heading is empty"
    assert page.title().strip(), "the browser tab has no title"
    assert browser_log.meaningful_console_errors() == []


def test_helpers_wait_for_the_rerun_a_click_causes(harness_server, page):
    open_app(page, harness_server.url())
    assert wait_for_charts(page) == 1
    main = page.locator(MAIN)
    assert "Values for Alpha" in main.inner_text()

    # inner_text() does not wait or retry: it reads the page as app_rerun left it, so
    # these lines fail if app_rerun returned before the rerun finished.
    with app_rerun(page):
        page.get_by_role("button", name="Count a click").click()
    assert "Clicks so far: 1" in main.inner_text()

    with app_rerun(page):
        page.get_by_role("combobox", name="Site").click()
        page.get_by_role("option", name="Beta").click()
    wait_for_charts(page)
    text = main.inner_text()
    assert "Plotted values: [5, 8, 13]" in text
    assert "Values for Beta" in text
    assert "Values for Alpha" not in text


def test_a_cold_server_gets_its_own_environment_and_leaves_no_process(
    start_streamlit, harness_server, page, monkeypatch
):
    # A developer's own setting must not leak into a test's server.
    monkeypatch.setenv("LEAD_AUDIENCE", "public")
    server = start_streamlit(env={"LEAD_AUDIENCE": "staff"}, script=harness_server.script)
    open_app(page, server.url())
    assert "Audience setting seen by the server: staff" in page.locator(MAIN).inner_text()

    pid = server.process.pid
    server.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # signal 0 only asks whether the process group still exists
