"""The dashboard as installed from the wheel and started by `lead-dashboard serve`, in Chromium.

tests/test_packaging.py checks that the installed server answers; this checks what a
visitor gets from it: the router's pages found in the installed copy, even through a
deep link to a cold server, and the dashboard's own Streamlit settings in force although
the server runs in a folder that has none.
"""

from __future__ import annotations

from packaging_support import clean_environment, serving

from data_access import __version__
from data_access.audience import Audience
from ui.navigation import pages_for

from .conftest import MAIN, exception_texts, main_text, open_app


def test_the_installed_server_serves_every_page_with_the_dashboards_settings(
    installed_package, demo_database, tmp_path, page
):
    env = clean_environment({"DATABASE_URL": demo_database})
    with serving(installed_package, tmp_path, env) as server:
        # The first request of a cold server, and a deep link.
        open_app(page, f"{server.url}/methods")
        assert exception_texts(page) == []
        assert page.locator(f"{MAIN} h1").first.inner_text().strip() == "Data and methods"
        menu = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
        assert [t.strip() for t in menu] == [p.title for p in pages_for(Audience.PUBLIC)]
        assert f"LEAD public dashboard, version {__version__}." in main_text(page)
        # .streamlit/config.toml of the installed app: toolbarMode "minimal". Streamlit's
        # own default on 127.0.0.1 shows a Deploy button.
        assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
        log = server.log()
    assert "Serving the public dashboard" in log and str(installed_package.venv) in log
