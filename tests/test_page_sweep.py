"""Every public page on the filter choices its own sidebar offers, on the demo data (issue 17).

The page tests each try a few chosen views; a visitor can choose about 1,700 per
page, and about one Services view in eight crashed on a choice none of them
tried (a precinct before LEAD worked there). This sweep renders each page
of dashboard.py's public list on the edges of every release and site (first and
last periods, each precinct) and a seeded draw of the rest (tests/filter_sweep.py),
plus the page's own choices where a page has them, and fails with the address of
every choice that showed an exception, an error box, or an empty chart where the
page should have said in words why there is nothing to show.

The newest release's cubes are precomputed (conftest, as `make run` does); an
older release's are computed when a page first asks, as on a live server.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from apptest_support import DASHBOARD, open_page, show
from filter_sweep import (
    Choice,
    SiteChoices,
    missing_edges,
    public_pages,
    sidebar_choices,
    sweep_sample,
)
from sqlalchemy.engine import make_url
from streamlit import config
from streamlit.testing.v1 import AppTest

from data_access.db import make_engine
from ui.charts import NO_DATA_TEXT

PAGES = public_pages(Path(DASHBOARD))
EXTRA = 8  # random choices per page beyond the edges (58 on the three demo releases)
FILTERS = ("release", "site", "period", "precinct")


@pytest.fixture(scope="module")
def sweep_database(demo_sqlite_url, tmp_path_factory) -> str:
    """A copy of the demo database for the sweep alone.

    Serving an older release records its cubes in the publication ledger, which
    later protection reads; on a copy, no other test's figures depend on whether
    the sweep ran first. The newest release is precomputed already (conftest).
    """
    copy = tmp_path_factory.mktemp("sweep-db") / "demo.sqlite"
    # SQLite's backup, not a file copy: it carries what is still in the write-ahead log.
    source = sqlite3.connect(make_url(demo_sqlite_url).database)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return f"sqlite:///{copy}"


@pytest.fixture(scope="module")
def swept_sites(sweep_database) -> list[SiteChoices]:
    engine = make_engine(sweep_database)
    try:
        return sidebar_choices(engine)
    finally:
        engine.dispose()


@pytest.fixture
def error_details():
    """The real exception in a failure message, not the public's redacted one."""
    before = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")
    yield
    config.set_option("client.showErrorDetails", before)


def problems(at: AppTest, where: str, choice: Choice) -> list[str]:
    """What a visitor would see go wrong: an exception, an error box, an empty chart, or
    a sidebar showing another view than the one asked for."""
    found = [f"{where}: {e.message} {''.join(e.stack_trace[-3:])}" for e in at.exception]
    found += [f"{where}: error shown: {e.value}" for e in at.error]
    found += [
        f"{where}: an empty chart ({chart['alt']}) where the page should say why"
        for chart in _charts(at)
        if any(a.get("text") == NO_DATA_TEXT for a in chart["layout"].get("annotations", []))
    ]
    if not found:
        shown = {w.key: w.value for w in at.selectbox if w.key}
        asked = choice.query()
        found += [
            f"{where}: the sidebar shows {key} {shown.get(f'w_{key}')!r}, not {asked[key]!r}"
            for key in FILTERS
            if shown.get(f"w_{key}") != asked[key]
        ]
    return found


def _charts(at: AppTest) -> list[dict]:
    return [{**json.loads(c.proto.spec), "alt": c.proto.alt} for c in at.get("plotly_chart")]


def _widget(widgets, key: str):
    return next((w for w in widgets if w.key == key), None)


def page_choices(at: AppTest, page: str, rng: random.Random) -> Iterator[str]:
    """Change the page's own widgets one at a time, as a visitor would; yield what changed.

    A generator, so the caller checks the page after each change before the next.
    """
    if page == "services" and rng.random() < 0.3:
        if trend := _widget(at.multiselect, "services_trend_choice"):
            trend.set_value([]).run()  # nothing chosen: the page shows the most-used service
            yield "services shown over time cleared"
        if race := _widget(at.selectbox, "services_race_choice"):
            race.select_index(len(race.options) - 1).run()
            yield "last service by race"
    if page == "disparities" and (reference := _widget(at.selectbox, "w_ref")):
        others = [i for i in range(len(reference.options)) if i != reference.index]
        if others:
            index = rng.choice(others)
            label = reference.options[index]
            reference.select_index(index).run()
            yield f"reference group {label}"


@pytest.mark.parametrize("page", PAGES)
def test_every_sidebar_choice_shows_without_an_error_or_an_empty_chart(
    page, app_env, sweep_database, swept_sites, error_details
):
    app_env.setenv("DATABASE_URL", sweep_database)
    sample = sweep_sample(swept_sites, seed=f"sweep-{page}", extra=EXTRA)
    rng = random.Random(f"widgets-{page}")
    at = open_page(page)
    failures, runs = [], 0
    for choice in sample:
        show(at, page, choice.query())
        runs += 1
        found = problems(at, choice.url(page), choice)
        if not found:
            for changed in page_choices(at, page, rng):
                runs += 1
                found += problems(at, f"{choice.url(page)} ({changed})", choice)
        failures += found
    assert not missing_edges(sample, swept_sites), "the sample lost edges"
    assert not failures, f"{len(failures)} of {runs} runs of {page} failed:\n" + "\n".join(failures)
