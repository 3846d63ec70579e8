"""The Data and methods page, run on the demo database (AppTest), and its open-data download."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import polars as pl
from apptest_support import SMALL_COUNT, table_cells, texts
from streamlit.testing.v1 import AppTest

import data_access.views.methods  # noqa: F401  (registers release_history until __init__ does)
from data_access import __version__
from data_access.metrics.registry import list_metrics

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "methods.py")


def open_methods(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _download(at: AppTest):
    (button,) = [b for b in at.get("download_button") if b.key == "download-open-data"]
    return button


def test_page_lists_every_definition_the_rules_the_contract_and_the_releases(app_env):
    at = open_methods()
    assert not at.exception
    assert [t.value for t in at.title] == ["Data and methods"]
    headers = [h.value for h in at.header]
    assert headers == [
        "Open data",
        "How each figure is defined",
        "How people are protected",
        "Where the data come from",
        "Releases and corrections",
    ]
    # One expander per metric of the registry, each with its method and denominator.
    labels = [e.label for e in at.expander]
    shown = texts(at)
    for definition in list_metrics():
        assert definition.name in labels
    assert "Numerator" in shown and "Denominator" in shown and "Sources" in shown
    # The privacy rules with k from the protected tables (11 by default).
    assert "1 to 10 people" in shown and '"fewer than 11"' in shown
    # The data contract in brief and every release with its notes (the corrections log).
    tables = [d.value for d in at.dataframe]
    assert "referrals" in tables[0]["Table"].to_list()
    assert tables[1]["Release"].to_list() == ["demo-2025-12", "demo-2025-09", "demo-2025-06"]
    assert "imported twice" in shown  # the demo correction, from the release notes
    assert "(shown on this dashboard now)" in shown


def test_the_page_says_which_version_of_the_software_shows_the_figures(app_env):
    at = open_methods()
    assert (
        at.caption[-1].value == f"Dashboard software: LEAD public dashboard, version {__version__}."
    )


def test_the_selected_site_and_release_change_what_is_offered(app_env):
    seattle = open_methods()
    albany = open_methods(site="albany", release="demo-2025-06")
    assert not albany.exception
    assert "Seattle" in _download(seattle).label
    assert "Albany" in _download(albany).label
    marked = [m.value for m in albany.markdown if "shown on this dashboard now" in m.value]
    assert marked and "demo\\-2025\\-06" in marked[0]


def test_no_small_count_in_any_table_of_the_page(app_env):
    at = open_methods()
    assert not any(SMALL_COUNT.match(cell) for cell in table_cells(at))


def test_staff_see_the_staff_label(app_env):
    app_env.setenv("LEAD_AUDIENCE", "staff")
    app_env.setenv("LEAD_ALLOW_UNAUTHENTICATED_STAFF", "1")
    at = open_methods()
    assert not at.exception
    assert "STAFF ONLY" in _download(at).label
    assert "exact" in texts(at)


def test_the_download_is_the_open_data_bundle_of_the_selected_site(app_env, demo_sqlite_url):
    # The button's data is this call (run on click); check what it serves.
    from data_access.audience import Audience
    from data_access.db import make_engine
    from data_access.views import Selection, build
    from ui.open_data import file_name, open_data_zip

    zipped = open_data_zip(demo_sqlite_url, "demo-2025-12", "checksum", "albany", Audience.PUBLIC)
    assert file_name("demo-2025-12", "albany", Audience.PUBLIC) == (
        "lead-open-data-demo-2025-12-albany.zip"
    )
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        names = set(archive.namelist())
        folder = "lead-open-data-demo-2025-12-albany/"
        assert {f"{folder}README.md", f"{folder}data-dictionary.csv"} <= names
        readme = archive.read(f"{folder}README.md").decode()
        trend = pl.read_csv(archive.read(f"{folder}view-referrals-trend.csv"))
    assert "\n- Sites: Albany (albany)\n" in readme
    # The trend table in the download is the page's trend table.
    view = build(
        "referrals",
        make_engine(demo_sqlite_url),
        Selection("demo-2025-12", "albany", "2025-Q4"),
        Audience.PUBLIC,
    )
    page = view.table("trend").frame
    assert trend["site_id"].unique().to_list() == ["albany"]
    assert trend["referrals"].to_list() == page["referrals"].to_list()
