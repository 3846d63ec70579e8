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
import re

import polars as pl
import pytest
import streamlit as st
from apptest_support import chart_specs, count_values, open_page, table_cells, texts

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
from ui import navigation

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
        if public.facts.get("design") != staff.facts.get("design") or public.facts.get(
            "as_of"
        ) != staff.facts.get("as_of"):
            # Staff get the finest design (a quarterly curve), counted as of the release; the
            # public one may be coarser, or held at an earlier release's date (docs/privacy.md),
            # so rows with the same keys cover other people. The public counts are scanned.
            continue
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


# ---------------------------------------------------------------- pages, bundle, PDF

# The router's public pages (ui/navigation.py), by script name.
PUBLIC_PAGES = tuple(entry.name for entry in navigation.PUBLIC_PAGES)
# A count in running text is followed by what it counts ("Page 1 of 2" is not one).
COUNTED = re.compile(r"(?<!Page )\b(\d+) (?:people|persons|referrals|participants|of)\b")
SMALL_TEXT = re.compile(r"^(?:[1-9]|1[0-5])$")  # a table cell that is a count of 1 to 15


def _strings(value) -> list[str]:
    """Every string anywhere in a chart spec (hover text, labels, custom data)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("page", PUBLIC_PAGES)
@pytest.mark.parametrize("site", ["seattle", "santa-fe"])
def test_no_page_shows_a_count_from_1_to_15_or_the_old_threshold(k16, page, site):
    at = open_page(page, site=site)
    assert not at.exception, at.exception
    specs = chart_specs(at)
    for spec in specs:
        assert not [v for v in count_values(spec) if small(v)], (page, spec["layout"].get("title"))
        words = " ".join(_strings(spec["data"]))
        assert not [w for w in OLD_WORDS if w in words], page
    assert not [c for c in table_cells(at) if SMALL_TEXT.match(c.strip())], page
    shown = texts(at) + " ".join(table_cells(at))
    assert not [w for w in OLD_WORDS if w in shown], page
    if page in ("referrals", "methods"):
        assert f"fewer than {K}" in shown, page  # the reason is there, in the policy's words


def test_the_open_data_bundle_holds_no_count_from_1_to_15(k16):
    from data_access.export import build_bundle

    bundle = build_bundle(k16, periods="years")
    assert bundle.k == K
    readme = bundle.files["README.md"].decode()
    assert f"k = {K}" in readme and f'"fewer than {K}"' in readme
    assert not [w for w in OLD_WORDS if w in readme]
    scanned, problems = 0, []
    for table in bundle.tables:
        types = _types(table.name, table.frame)
        scanned += sum(table.frame[c].drop_nulls().len() for c in _counts(types))
        problems += _shown_counts(table.name, table.frame, types)
        flags = [c for c in table.frame.columns if c.endswith("_flag")]
        words = " ".join(str(v) for c in flags for v in table.frame[c].drop_nulls().unique())
        problems += [f"{table.name} says {w!r}" for w in OLD_WORDS if w in words]
    assert problems == [], "\n".join(problems[:40])
    assert scanned > 2000  # not vacuous


def test_the_briefing_pdf_states_k_16_and_shows_no_count_from_1_to_15(k16):
    from briefing_support import pdf_text, require_pdf_tools

    from briefing.assemble import assemble
    from briefing.pdf import render_pdf

    require_pdf_tools()
    release = q.get_release(k16)
    for site_id in release.sites:
        selection = Selection(release.release_id, site_id, "2025-Q4")
        assembled = assemble(k16, selection)
        for item in assembled.briefing.headlines:
            assert not SMALL_TEXT.match(item.value_text.replace(",", "")), (site_id, item)
        for frame in assembled.chart_tables:
            for column, dtype in frame.schema.items():
                if dtype.is_numeric() and column not in ("year", "quarter", "window_months"):
                    assert not [v for v in frame[column].drop_nulls() if small(v)
                                and float(v).is_integer()], (site_id, column)  # fmt: skip
        text = pdf_text(render_pdf(assembled.briefing))
        assert f"Counts from 1 to {K - 1}" in text, site_id
        assert not [w for w in OLD_WORDS if w in text], site_id
        counted = re.findall(COUNTED, text)
        assert not [n for n in counted if small(int(n))], (site_id, counted)


def test_an_average_caseload_of_11_to_15_is_withheld_at_k_16(monkeypatch):
    # The demo's caseloads are all above 15 or below 11, so the rule is checked directly:
    # 13 people a month for a quarter is 39 participant-months, published at k=16 (>= 16).
    import datetime as dt

    from data_access.views.services import caseload_trend

    active = pl.DataFrame(
        {"period": ["2025-Q3", "2025-Q4"], "participant_months": [39, 120],
         "participant_months_flag": ["", ""]},
    )  # fmt: skip
    monkeypatch.setenv("LEAD_DISCLOSURE_K", str(K))
    shown = caseload_trend(active, "2020-01", dt.date(2025, 12, 31), "t", Audience.PUBLIC).frame
    assert shown["average_active"].to_list() == [None, 40]
    assert shown["average_active_flag"].to_list()[0] != ""
