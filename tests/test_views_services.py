"""The services and caseload_headline views, and the caseload-and-services cube behind them."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from release_builder import minimal_release

from data_access import queries as q
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.disclosure import audit_counts
from data_access.load import load_release
from data_access.views import Selection, build
from data_access.views import services as services_views  # registers the views
from data_access.views.caseload_cube import (
    COUNT,
    SERVICE_CODES,
    apply_fold,
    caseload_services,
    finest_table,
    fold_races,
    staircase,
)

DEMO = "demo-2025-12"
SITES = ("seattle", "albany", "santa-fe")
# Columns of the view's tables that hold counts of people (or averages of them).
COUNT_COLUMNS = ("participant_months", "numerator", "denominator", "current", "base")


def _view(url, site, period, precincts=(), audience=Audience.PUBLIC, name="services"):
    return build(name, make_engine(url), Selection(DEMO, site, period, precincts), audience)


def _raw(url, table, site, start, end, by=()):
    engine = make_engine(url)
    scope = q.Scope(DEMO, site, (), start, end)
    return q.aggregate(engine, table, scope, by=list(by))


# ------------------------------------------------------------------ the staircase


def _cell_frames(active: int, served: dict[str, int]):
    key = {"precinct_id": ["p"], "quarter": ["2025-Q1"], "race_ethnicity": ["black"]}
    caseload = pl.DataFrame({**key, "active_participants": [active]})
    services = pl.DataFrame(
        {
            "precinct_id": ["p"] * len(served),
            "quarter": ["2025-Q1"] * len(served),
            "race_ethnicity": ["black"] * len(served),
            "service": list(served),
            "participants_served": list(served.values()),
        },
        schema_overrides={"participants_served": pl.Int64},
    )
    return caseload, services


def test_staircase_worked_example():
    # 10 active, housing 6, counseling 2: participant-months 1-2 get both, 3-6 housing
    # only, 7-10 neither. Rows: (yes, yes) 2, (yes, no) 4, (no, no) 4.
    caseload, services = _cell_frames(10, {"housing": 6, "counseling": 2})
    rows = staircase(caseload, services, ["precinct_id", "quarter", "race_ethnicity"])
    got = {(r["housing"], r["counseling"]): r[COUNT] for r in rows.iter_rows(named=True)}
    assert got == {("yes", "yes"): 2, ("yes", "no"): 4, ("no", "no"): 4}
    assert set(rows["job_training"]) == {"no"}


@settings(max_examples=80, deadline=None)
@given(
    active=st.integers(min_value=1, max_value=60),
    shares=st.lists(st.floats(min_value=0, max_value=1), min_size=8, max_size=8),
)
def test_staircase_margins_equal_the_true_counts(active, shares):
    pairs = zip(SERVICE_CODES, shares, strict=True)
    served = {code: math.floor(share * active) for code, share in pairs}
    caseload, services = _cell_frames(active, served)
    rows = staircase(caseload, services, ["precinct_id", "quarter", "race_ethnicity"])
    assert rows[COUNT].sum() == active
    for code, count in served.items():
        assert rows.filter(pl.col(code) == "yes")[COUNT].sum() == count
    assert rows.height <= 9  # at most nine patterns per cell
    assert rows[COUNT].min() > 0


def test_staircase_refuses_more_served_than_active():
    caseload, services = _cell_frames(5, {"housing": 6})
    with pytest.raises(ValueError, match="more participants served than active"):
        staircase(caseload, services, ["precinct_id", "quarter", "race_ethnicity"])


# ------------------------------------------------------------------ the cube


@pytest.mark.parametrize("site", SITES)
def test_the_cube_passes_an_exact_audit(demo_sqlite_url, site):
    engine = make_engine(demo_sqlite_url)
    release = q.get_release(engine, DEMO)
    for year in (2025, 2017):
        finest = finest_table(engine, DEMO, site, year)
        cube = caseload_services(engine, DEMO, release.checksum, site, year, Audience.PUBLIC)
        folded, _ = fold_races(finest, cube.has_services)
        assert folded == cube.folded
        report = audit_counts(cube.counts, apply_fold(finest, folded))
        assert report.passed, f"{site} {year}: {report.problems[:3]}"


def test_the_cube_margins_equal_the_release(demo_sqlite_url):
    # Staff see the cube exactly: its margins must be the release's own sums.
    engine = make_engine(demo_sqlite_url)
    release = q.get_release(engine, DEMO)
    cube = caseload_services(engine, DEMO, release.checksum, "seattle", 2025, Audience.STAFF)
    active = _raw(demo_sqlite_url, "caseload", "seattle", "2025-01", "2025-12")
    served = _raw(demo_sqlite_url, "services", "seattle", "2025-01", "2025-12", ["service"])
    assert cube.counts.level(("year",)).frame[COUNT][0] == active["active_participants"][0]
    for row in served.iter_rows(named=True):
        level = cube.counts.level((row["service"], "year")).frame
        yes = level.filter(pl.col(row["service"]) == "yes")[COUNT][0]
        no = level.filter(pl.col(row["service"]) == "no")[COUNT][0]
        assert yes == row["participants_served"]
        assert yes + no == active["active_participants"][0]


# ------------------------------------------------------------------ the services view


def test_uptake_is_served_over_active_with_a_wilson_interval(demo_database_url):
    view = _view(demo_database_url, "seattle", "2025")
    active = _raw(demo_database_url, "caseload", "seattle", "2025-01", "2025-12")
    served = _raw(demo_database_url, "services", "seattle", "2025-01", "2025-12", ["service"])
    n = active["active_participants"][0]
    x = served.filter(pl.col("service") == "housing")["participants_served"][0]
    row = view.table("uptake").frame.filter(pl.col("service") == "housing").row(0, named=True)
    # Share p = x / n. Wilson: centre = (p + z²/2n) / (1 + z²/n),
    # half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
    z = 1.959963984540054
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (row["numerator"], row["denominator"]) == (x, n)
    assert row["estimate"] == pytest.approx(p)
    assert row["ci_low"] == pytest.approx(centre - half)
    assert row["ci_high"] == pytest.approx(centre + half)
    assert view.table("uptake").height == len(SERVICE_CODES)


def test_average_monthly_caseload_and_its_change(demo_sqlite_url):
    view = _view(demo_sqlite_url, "seattle", "2025-Q4")
    q4 = _raw(demo_sqlite_url, "caseload", "seattle", "2025-10", "2025-12")
    q3 = _raw(demo_sqlite_url, "caseload", "seattle", "2025-07", "2025-09")
    now, before = q4["active_participants"][0], q3["active_participants"][0]
    change = view.table("caseload_change").frame.filter(pl.col("comparison") == "previous")
    row = change.row(0, named=True)
    # Average monthly caseload = participant-months / 3 months, rounded to whole people.
    assert row["current"] == round(now / 3)
    assert row["base"] == round(before / 3)
    assert row["change"] == round(now / 3) - round(before / 3)
    assert row["relative_change"] == pytest.approx((now / 3 - before / 3) / (before / 3))
    trend = view.table("caseload_trend").frame
    assert trend.filter(pl.col("period") == "2025-Q4")["average_active"][0] == round(now / 3)
    # Three years of quarters, ending with the selected one.
    assert trend["period"].to_list()[0] == "2023-Q1"
    assert trend["period"].to_list()[-1] == "2025-Q4"


def test_caseload_headline_matches_the_services_view(demo_sqlite_url):
    services = _view(demo_sqlite_url, "albany", "2025-Q2")
    headline = _view(demo_sqlite_url, "albany", "2025-Q2", name="caseload_headline")
    assert headline.table("change").frame.equals(services.table("caseload_change").frame)
    assert "participant-months" in headline.facts["caseload_definition"]


@pytest.mark.parametrize("period", ["2025", "2025-Q4", "2019-Q1"])
def test_no_small_count_in_any_public_table(demo_sqlite_url, period):
    for site in SITES:
        view = _view(demo_sqlite_url, site, period)
        for key, table in view.tables.items():
            frame = table.frame
            for column in COUNT_COLUMNS:
                if column in frame.columns:
                    small = frame.filter((pl.col(column) > 0) & (pl.col(column) < 11))
                    assert small.is_empty(), f"{site} {period} {key}.{column}: {small}"


def test_withheld_counts_leave_the_share_unknown_with_a_reason(demo_sqlite_url):
    # Albany 2025 has 1 participant-month of unknown race: withheld for the public,
    # exact for staff, and the unknown-race share with it.
    public = _view(demo_sqlite_url, "albany", "2025")
    staff = _view(demo_sqlite_url, "albany", "2025", audience=Audience.STAFF)
    unknown = public.table("unknown_race").frame.row(0, named=True)
    assert unknown["estimate"] is None and unknown["estimate_flag"]
    # The year's caseload is published (it is the cube's own total): withholding it
    # beside its small part would hide a number anyone can add up from the race table.
    by_race = public.table("caseload_by_race").frame
    assert unknown["denominator"] is not None and unknown["denominator"] > 0
    assert unknown["denominator"] >= by_race["participant_months"].fill_null(0).sum()
    exact = staff.table("unknown_race").frame.row(0, named=True)
    raw = _raw(demo_sqlite_url, "caseload", "albany", "2025-01", "2025-12", ["race_ethnicity"])
    unknown_raw = raw.filter(pl.col("race_ethnicity") == "unknown")["active_participants"][0]
    assert exact["numerator"] == unknown_raw
    assert exact["estimate"] == pytest.approx(unknown_raw / raw["active_participants"].sum())
    for key, table in public.tables.items():
        frame = table.frame
        for flag in [c for c in frame.columns if c.endswith("_flag")]:
            value = flag.removesuffix("_flag")
            if value in frame.columns:
                hidden = frame.filter(pl.col(flag).fill_null("") != "")
                assert hidden[value].null_count() == hidden.height, f"{key}.{value}"


def test_small_race_groups_fold_with_a_note(demo_sqlite_url):
    view = _view(demo_sqlite_url, "albany", "2025")
    races = set(view.table("uptake_by_race").frame["race_ethnicity"])
    assert "other_combined" in races
    assert any("Other races (combined)" in note for note in view.notes)


def test_changing_the_period_or_site_changes_the_numbers(demo_sqlite_url):
    q4 = _view(demo_sqlite_url, "seattle", "2025-Q4").table("uptake").frame
    q3 = _view(demo_sqlite_url, "seattle", "2025-Q3").table("uptake").frame
    albany = _view(demo_sqlite_url, "albany", "2025-Q4").table("uptake").frame
    assert q4["estimate"].to_list() != q3["estimate"].to_list()
    assert q4["estimate"].to_list() != albany["estimate"].to_list()


def test_one_precinct_gets_yearly_uptake_and_no_race_breakdown(demo_sqlite_url):
    engine = make_engine(demo_sqlite_url)
    precinct = q.precincts(engine, DEMO, "seattle")["precinct_id"][0]
    view = _view(demo_sqlite_url, "seattle", "2025-Q4", (precinct,))
    assert view.facts["uptake_period"] == "2025"
    assert "uptake_by_race" not in view.tables
    assert any("single precinct" in note for note in view.notes)
    active = q.aggregate(
        engine, "caseload", q.Scope(DEMO, "seattle", (precinct,), "2025-01", "2025-12")
    )["active_participants"][0]
    assert view.table("uptake").frame["denominator"][0] == active


def test_the_public_cannot_sum_a_chosen_set_of_precincts(demo_sqlite_url):
    engine = make_engine(demo_sqlite_url)
    two = tuple(q.precincts(engine, DEMO, "seattle")["precinct_id"][:2])
    with pytest.raises(ValueError, match="one precinct or all"):
        _view(demo_sqlite_url, "seattle", "2025", two)
    staff = _view(demo_sqlite_url, "seattle", "2025", two, audience=Audience.STAFF)
    active = q.aggregate(engine, "caseload", q.Scope(DEMO, "seattle", two, "2025-01", "2025-12"))
    assert staff.table("uptake").frame["denominator"][0] == active["active_participants"][0]


def test_months_running_counts_only_months_since_launch():
    as_of = dt.date(2025, 12, 31)
    assert services_views.months_running("2011-Q4", "2011-10", as_of) == 3
    assert services_views.months_running("2011", "2011-10", as_of) == 3  # Oct, Nov, Dec
    assert services_views.months_running("2011-Q3", "2011-10", as_of) == 0
    assert services_views.months_running("2025", "2011-10", dt.date(2025, 6, 30)) == 6


# ------------------------------------------------------------------ sites missing tables


def _load(sqlite_url, tmp_path, drop_from_sfe):
    release = minimal_release()
    for table in drop_from_sfe:
        release.tables[table] = [r for r in release.tables[table] if r["site_id"] != "sfe"]
    engine = make_engine(sqlite_url)
    load_release(engine, release.write(tmp_path / "release"))
    return engine


def test_a_site_without_caseload_says_so(sqlite_url, tmp_path):
    engine = _load(sqlite_url, tmp_path, ("caseload", "services"))
    selection = Selection("test-2024-12", "sfe", "2024-Q1")
    view = build("services", engine, selection, Audience.PUBLIC)
    assert view.facts["caseload_published"] == "no"
    assert not view.tables
    headline = build("caseload_headline", engine, selection, Audience.PUBLIC)
    assert headline.facts["caseload_published"] == "no" and not headline.tables


def test_a_site_with_caseload_but_no_services(sqlite_url, tmp_path):
    engine = _load(sqlite_url, tmp_path, ("services",))
    selection = Selection("test-2024-12", "sfe", "2024-Q1")
    view = build("services", engine, selection, Audience.STAFF)
    assert view.facts["services_published"] == "no"
    assert "uptake" not in view.tables and "uptake_by_race" not in view.tables
    # Santa Fe: 7 active participants in January 2024, so 7 participant-months in Q1,
    # an average of 7 / 3 = 2.33, i.e. 2 per month (staff see it exactly).
    trend = view.table("caseload_trend").frame.filter(pl.col("period") == "2024-Q1")
    assert trend["participant_months"][0] == 7
    assert trend["average_active"][0] == 2
    public = build("services", engine, selection, Audience.PUBLIC)
    row = public.table("caseload_trend").frame.filter(pl.col("period") == "2024-Q1")
    assert row["average_active"][0] is None and row["participant_months"][0] is None


def test_a_quarter_of_a_year_under_way_reads_the_last_whole_year_by_race(demo_sqlite_url):
    # In the June 2025 release, 2025 is not over: figures by year (by race, and a single
    # precinct's uptake) are published for whole years, so they cover 2024, and say so.
    engine = make_engine(demo_sqlite_url)

    def june(period, precincts=()):
        selection = Selection("demo-2025-06", "seattle", period, precincts)
        return build("services", engine, selection, Audience.PUBLIC)

    quarter, year = june("2025-Q2"), june("2024")
    assert quarter.facts["race_year"] == "2024"
    assert quarter.facts["race_span"] == "January to December 2024"
    assert any("2025 is not over yet" in note for note in quarter.notes)
    by_race = quarter.table("caseload_by_race").frame
    assert by_race.height >= 3 and by_race["participant_months"].max() > 0
    assert by_race.equals(year.table("caseload_by_race").frame)
    precinct = q.precincts(engine, "demo-2025-06", "seattle")["precinct_id"][0]
    one = june("2025-Q2", (precinct,))
    assert one.facts["uptake_period"] == "2024"
    assert one.table("uptake").frame["denominator"].max() > 0
