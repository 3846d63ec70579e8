"""A site that raises k to 16 publishes nothing built on 1 to 15 people, anywhere.

`LEAD_DISCLOSURE_K=16` is set for the whole module; then every public view (every
site of both demo releases, the default period and a seeded sample of others),
every page's charts and tables (AppTest), the open-data bundle and the briefing
PDF are read as a visitor gets them. Which columns are person counts is read
from the data dictionary (data_access/export_dictionary.py), the metadata the
bundle publishes, not guessed here.

"Built on" is checked against the exact figures: each public table is laid
beside the staff (exact) table of the same view and selection, and a published
figure (share, rate, ratio, cost per person, average caseload, life-table
value) must not stand in a row whose exact person counts include one from 1 to
15. A table without counts of its own (a cost per person, a risk ratio, a
saving) is matched to the count tables of its view by the keys they share.
"""

from __future__ import annotations

import random

import polars as pl
import pytest
import streamlit as st

from data_access import queries as q
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.disclosure import policy_from_environment
from data_access.export_dictionary import (
    AVERAGE,
    CODE,
    COUNT,
    DATE,
    IDENTIFIER,
    MEASURES,
    MONTHS,
    PERIOD,
    describe,
)
from data_access.export_sources import periods_of_site, view_table_name
from data_access.views import Selection, build, view_names
from data_access.views.base import clear_memos

K = 16
OLD_WORDS = ("fewer than 11", "1 to 10", "under 11")
KEY_TYPES = {IDENTIFIER, CODE, PERIOD, MONTHS, DATE}
PERSON_TYPES = {COUNT, AVERAGE}
# A headline view shows its figures without the counts behind them; they are in the view
# it summarises (same cubes, same selection).
COUNTS_OF = {
    "cost_headline": "costs",
    "disparity_headline": "disparities",
    "caseload_headline": "services",
    "recidivism_headline": "recidivism",
}
OTHER_PERIODS = 2  # besides the default (latest) quarter, per site and release
SEED = 16


def small(value) -> bool:
    """A person count (or an average of people) from 1 to k-1; 0.4 people is 1 person."""
    return value is not None and 0 < value < K


@pytest.fixture(scope="module")
def k16(demo_sqlite_url):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEAD_DISCLOSURE_K", str(K))
        patch.setenv("DATABASE_URL", demo_sqlite_url)
        for variable in ("LEAD_AUDIENCE", "LEAD_ALLOW_UNAUTHENTICATED_STAFF"):
            patch.delenv(variable, raising=False)
        clear_memos()
        st.cache_data.clear()
        st.cache_resource.clear()
        assert policy_from_environment().k == K
        yield make_engine(demo_sqlite_url)
        clear_memos()
        st.cache_data.clear()
        st.cache_resource.clear()


def _selections(engine) -> list[Selection]:
    """Every site of every release: its default period and a seeded sample of others."""
    chooser = random.Random(SEED)
    chosen = []
    for release in q.list_releases(engine):
        sites = q.sites(engine, release.release_id)
        launched = dict(zip(sites["site_id"], sites["launched"], strict=True))
        for site_id in release.sites:
            periods = [p.code for p in periods_of_site(release, launched[site_id])]
            picks = [periods[0], *chooser.sample(periods[1:], min(OTHER_PERIODS, len(periods) - 1))]
            chosen += [Selection(release.release_id, site_id, code) for code in picks]
    return chosen


def _types(table: str, frame: pl.DataFrame) -> dict[str, str]:
    return {c: describe(table, c, dtype)[0].type for c, dtype in frame.schema.items()}


def _keys(types: dict[str, str]) -> list[str]:
    return [c for c, t in types.items() if t in KEY_TYPES]


def _figures(types: dict[str, str]) -> list[str]:
    """Published numbers that are not themselves person counts: they are built on some."""
    return [c for c, t in types.items() if t in MEASURES and t not in PERSON_TYPES]


def _counts(types: dict[str, str]) -> list[str]:
    return [c for c, t in types.items() if t in PERSON_TYPES]


def _shown_counts(where: str, frame: pl.DataFrame, types: dict[str, str]) -> list[str]:
    found = []
    for column in _counts(types):
        for value in frame[column].drop_nulls().to_list():
            if small(value):
                found.append(f"{where}.{column} = {value}")
    return found


def _small_exact_rows(exact: pl.DataFrame, types: dict[str, str]) -> pl.DataFrame:
    """Rows of an exact table with a person count from 1 to k-1, keys and that count."""
    counts = _counts(types)
    if not counts:
        return exact.clear()
    condition = pl.any_horizontal([(pl.col(c) > 0) & (pl.col(c) < K) for c in counts])
    return exact.filter(condition.fill_null(False))


def _built_on_small(
    where: str,
    public: pl.DataFrame,
    types: dict[str, str],
    sources: list[tuple[str, pl.DataFrame, dict[str, str]]],
) -> list[str]:
    """Figures published in `public` whose row matches exact rows with a small count."""
    figures = [c for c in _figures(types) if c in public.columns]
    if not figures:
        return []
    shown = public.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in figures]))
    found = []
    keys = _keys(types)
    for name, exact, exact_types in sources:
        smalls = _small_exact_rows(exact, exact_types)
        if smalls.is_empty():
            continue
        shared = [c for c in keys if c in _keys(exact_types)]
        if not shared:
            # A saving (baseline_year, followup_year) is built on each year's people.
            periods = [c for c in keys if types[c] == PERIOD]
            exact_periods = [c for c in _keys(exact_types) if exact_types[c] == PERIOD]
            if len(exact_periods) != 1 or not periods:
                continue
            years = set(smalls[exact_periods[0]].to_list())
            for row in shown.iter_rows(named=True):
                if {row[c] for c in periods} & years:
                    found.append(f"{where} {row} is built on {name} rows {smalls.to_dicts()}")
            continue
        joined = shown.select(*shared, *figures).join(
            smalls.select(*shared, *_counts(exact_types)).unique(), on=shared, how="inner"
        )
        for row in joined.iter_rows(named=True):
            found.append(f"{where}: {row} (counts from {name})")
    return found


def _matching(table: str, types: dict[str, str], sources: list) -> list:
    """The exact tables a figure is built on: its own when it has counts, else the count
    tables sharing the most keys with it (rates by race for a ratio between races)."""
    if _counts(types):
        return [s for s in sources if s[0] == table]
    keys = set(_keys(types))
    shared = {s[0]: len(keys & set(_keys(s[2]))) for s in sources if _counts(s[2])}
    best = max(shared.values(), default=0)
    return [s for s in sources if s[0] in shared and shared[s[0]] == best]


def _view_problems(engine, selection: Selection) -> list[str]:
    problems = []
    exact_by_view: dict[str, list[tuple[str, pl.DataFrame, dict[str, str]]]] = {}
    public_by_view = {}
    for name in view_names():
        try:
            public = build(name, engine, selection, Audience.PUBLIC)
        except PermissionError:
            continue  # a staff-only view
        staff = build(name, engine, selection, Audience.STAFF)
        public_by_view[name] = public
        exact_by_view[name] = []
        for key, protected in staff.tables.items():
            table = view_table_name(name, key)
            frame = protected.frame
            exact_by_view[name].append((table, frame, _types(table, frame)))
    for name, public in public_by_view.items():
        sources = exact_by_view[name] + exact_by_view.get(COUNTS_OF.get(name, ""), [])
        for key, protected in public.tables.items():
            table = view_table_name(name, key)
            frame = protected.frame
            types = _types(table, frame)
            where = f"{selection.release_id}/{selection.site_id}/{selection.period} {table}"
            problems += _shown_counts(where, frame, types)
            problems += _built_on_small(where, frame, types, _matching(table, types, sources))
            flags = [c for c in frame.columns if c.endswith("_flag")]
            words = " ".join(str(v) for c in flags for v in frame[c].drop_nulls().unique())
            problems += [f"{where} says {w!r}" for w in OLD_WORDS if w in words]
    return problems


def test_no_view_publishes_a_count_or_a_figure_built_on_1_to_15_people(k16):
    selections = _selections(k16)
    assert len(selections) >= 12  # 3 sites x 2 releases x (default + samples)
    problems = []
    for selection in selections:
        problems += _view_problems(k16, selection)
    assert problems == [], "\n".join(problems[:40])
