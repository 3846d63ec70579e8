"""The dashboard under hostile data and a failing database, in a real browser.

- A release whose names carry HTML and markdown shows them as text and runs
  nothing, on every element they reach (select boxes, headings, captions, notes,
  chart labels, tables).
- When the database goes away during a session, the reader gets the friendly
  message, and the same session shows figures again once it is back, without a
  restart.

Each test starts its own server on its own small database (tests/release_builder.py).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from data_access.db import init_db, make_engine
from data_access.load import load_release
from tests.release_builder import minimal_release

from .conftest import (
    MAIN,
    PUBLIC_PAGES,
    chart_card,
    chart_titles,
    choose,
    exception_texts,
    grid_rows,
    headline_figures,
    main_text,
    open_app,
    open_table_view,
    selected_text,
    wait_for_charts,
)

# If any of this were parsed as HTML the image would fail to load and its handler
# would set window.__pwned.
HOSTILE_PRECINCT = '<img src=x onerror="window.__pwned=1">'
# Markdown, HTML and Streamlit's own directives: rendered, each would leave a trace
# in the page (a bold element, a link, a coloured span, a formula).
HOSTILE_SITE = "Santa Fe **bold** [link](https://example.invalid/) <b>tag</b> :red[red] $x^2$"
MINIMAL_PERIOD = "2024"  # the minimal release's data fall in January and February 2024
FRIENDLY_MESSAGE = "cannot reach its database"


def build_database(url: str, release, folder: Path) -> str:
    """Create the schema at `url`, load `release` written into `folder`; return `url`."""
    engine = make_engine(url)
    try:
        init_db(engine)
        load_release(engine, release.write(folder))
    finally:
        engine.dispose()
    return url


def hostile_release():
    release = minimal_release()
    for row in release.tables["precincts"]:
        if row["precinct_id"] == "central":
            row["precinct_name"] = HOSTILE_PRECINCT
    for row in release.tables["sites"]:
        if row["site_id"] == "sfe":
            row["site_name"] = HOSTILE_SITE
    return release


def what_ran_or_rendered(page, where: str) -> list[str]:
    """Each sign, on the page now open, that a name was read as HTML or markdown."""
    signs = {
        "the name ran as HTML (window.__pwned is set)": page.evaluate("window.__pwned") is not None,
        "an <img src=x> element exists": page.locator('img[src="x"]').count(),
        "a link to example.invalid exists": page.locator(
            'a[href^="https://example.invalid"]'
        ).count(),
        "**bold** was rendered bold": page.locator(f"{MAIN} strong", has_text="bold").count(),
        "<b>tag</b> was rendered bold": page.locator(f"{MAIN} b", has_text="tag").count(),
        ":red[red] was rendered in colour": page.locator(
            f"{MAIN} span[class*='colored'], {MAIN} span[style*='color']", has_text="red"
        ).count(),
        "$x^2$ was typeset as a formula": page.locator(f"{MAIN} .katex").count(),
        "an exception box is shown": len(exception_texts(page)),
    }
    return [f"{where}: {sign}" for sign, present in signs.items() if present]


def test_a_hostile_precinct_or_site_name_is_shown_as_text_and_runs_nothing(
    start_streamlit, page, tmp_path, screenshot
):
    url = build_database(f"sqlite:///{tmp_path / 'hostile.sqlite'}", hostile_release(), tmp_path)
    server = start_streamlit(env={"DATABASE_URL": url})
    found: list[str] = []

    # The default page first (so the router is in charge), on the hostile site.
    open_app(page, server.url(site="sfe", period=MINIMAL_PERIOD))
    assert selected_text(page, "Site") == HOSTILE_SITE

    # The precinct chart names every precinct: the hostile one on its axis and in its
    # table view. Then the reader chooses that precinct in the sidebar.
    open_app(page, server.url("referrals", site="sfe", period=MINIMAL_PERIOD))
    wait_for_charts(page)
    card = chart_card(page, "chart-referrals-by_precinct")
    assert HOSTILE_PRECINCT in card.locator(".js-plotly-plot").inner_text()
    open_table_view(card)
    assert [row[0] for row in grid_rows(card)[1:]] == [HOSTILE_PRECINCT]
    found += what_ran_or_rendered(page, "referrals, all precincts")
    choose(page, "Precinct", HOSTILE_PRECINCT)
    assert parse_qs(urlparse(page.url).query)["precinct"] == ["central"]
    assert selected_text(page, "Precinct") == HOSTILE_PRECINCT
    found += what_ran_or_rendered(page, "referrals, the hostile precinct")

    # Every public page, where the site's name reaches captions, notes and headings.
    for path, _heading, _charts in PUBLIC_PAGES:
        open_app(page, server.url(path, site="sfe", period=MINIMAL_PERIOD))
        screenshot(f"hostile-names-{path or 'overview'}")
        found += what_ran_or_rendered(page, path or "overview")
        # escape_markdown puts an invisible word joiner (U+2060) inside "//", "www." and
        # "@" so an address in a name is not turned into a link; a reader sees no difference.
        text = main_text(page).replace("\u2060", "")
        if "Santa Fe" in text and HOSTILE_SITE not in text:
            found.append(f"{path or 'overview'}: the site's name is shown, but not as written")

    assert found == [], "names read as markup:\n" + "\n".join(found)


@pytest.fixture
def proxied_postgres(postgres_url, tcp_proxy, tmp_path):
    """(url through a relay, relay): the minimal release in a fresh PostgreSQL schema."""
    build_database(postgres_url, minimal_release(), tmp_path / "release")
    parsed = sa.engine.make_url(postgres_url)
    proxy = tcp_proxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    relayed = parsed.set(host="127.0.0.1", port=proxy.port)
    return relayed.render_as_string(hide_password=False), proxy


def test_a_database_outage_gives_the_friendly_message_then_the_session_recovers(
    start_streamlit, page, proxied_postgres
):
    url, proxy = proxied_postgres
    server = start_streamlit(env={"DATABASE_URL": url})
    open_app(page, server.url(site="sea", period=MINIMAL_PERIOD))
    open_app(page, server.url("referrals", site="sea", period=MINIMAL_PERIOD))
    wait_for_charts(page)
    assert FRIENDLY_MESSAGE not in main_text(page)

    proxy.cut()
    # A period not asked for before, so its figures are in no cache and must come
    # from the database. (The minimal release has no referrals in it.)
    choose(page, "Period", "Q2 2024 (April to June)")

    assert FRIENDLY_MESSAGE in main_text(page)
    assert exception_texts(page) == []
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0

    proxy.restore()
    # Another period never asked for, in the same session of the same server.
    choose(page, "Period", "Q1 2024 (January to March)")
    wait_for_charts(page)

    assert FRIENDLY_MESSAGE not in main_text(page)
    assert exception_texts(page) == []
    assert any("Q1 2024" in title for title in chart_titles(page))
    assert headline_figures(page) == ["Referrals fewer than 11"]  # 3 + 2 + 1 referrals

    # The period that failed works now too: failures are not cached.
    choose(page, "Period", "Q2 2024 (April to June)")
    assert FRIENDLY_MESSAGE not in main_text(page)
    assert page.locator('[data-testid="stPlotlyChart"]').count() > 0
    assert exception_texts(page) == []
