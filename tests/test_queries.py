"""The query API on real databases: filters reach SQL, bad filters never do.

Every test runs on SQLite and on PostgreSQL. The small release of
tests/release_builder.py gives numbers that can be checked by hand; the demo
release checks that metrics computed from each database agree and recover the
demo's calibration targets.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from release_builder import minimal_release

from data_access import queries as q
from data_access.db import DatabaseUnavailable, make_engine
from data_access.load import load_release
from data_access.metrics import disparities, recidivism, referrals, services


@pytest.fixture
def engine(database_url, tmp_path):
    engine = make_engine(database_url)
    load_release(engine, minimal_release().write(tmp_path / "release"))
    yield engine
    engine.dispose()


@pytest.fixture
def release(engine):
    return q.get_release(engine)


def test_newest_release_is_the_default_and_earlier_ones_stay_readable(engine, tmp_path):
    later = minimal_release("test-2025-06", as_of="2025-06-30")
    load_release(engine, later.write(tmp_path / "later"))
    assert q.get_release(engine).release_id == "test-2025-06"
    assert q.get_release(engine, "test-2024-12").as_of == dt.date(2024, 12, 31)
    assert [r.release_id for r in q.list_releases(engine)] == ["test-2025-06", "test-2024-12"]


def test_unknown_release_is_refused_by_name(engine):
    with pytest.raises(q.InvalidFilter, match="release='nope'"):
        q.get_release(engine, "nope")


def test_site_total_sums_every_precinct(engine, release):
    # Seattle rows: north 3 + 2 referrals (2 + 1 enrolled), west 1 (1 enrolled).
    scope = q.resolve_scope(engine, release, site_id="sea")
    totals = q.aggregate(engine, "referrals", scope)
    assert totals.to_dicts() == [{"referrals": 6, "enrolled": 4}]


def test_precinct_filter_is_applied(engine, release):
    scope = q.resolve_scope(engine, release, site_id="sea", precinct_ids=["west"])
    assert q.aggregate(engine, "referrals", scope)["referrals"].to_list() == [1]


def test_grouping_by_month_and_race(engine, release):
    scope = q.resolve_scope(engine, release, site_id="sea")
    frame = q.aggregate(engine, "referrals", scope, by=["race_ethnicity"], grain="month")
    assert frame.columns == ["period", "race_ethnicity", "referrals", "enrolled"]
    assert frame.rows() == [
        ("2024-01", "black", 3, 2),
        ("2024-01", "white", 2, 1),
        ("2024-02", "hispanic_latino", 1, 1),
    ]


def test_quarter_and_year_labels(engine, release):
    scope = q.resolve_scope(engine, release, site_id="sea")
    quarters = q.aggregate(engine, "referrals", scope, grain="quarter")
    years = q.aggregate(engine, "referrals", scope, grain="year")
    assert quarters.rows() == [("2024-Q1", 6, 4)]
    assert years.rows() == [("2024", 6, 4)]


def test_month_range_filter(engine, release):
    scope = q.resolve_scope(engine, release, "sea", start_month="2024-02", end_month="2024-12")
    assert q.aggregate(engine, "referrals", scope)["referrals"].to_list() == [1]
    assert q.month_range(engine, scope) == ("2024-02", "2024-02")


def test_empty_scope_gives_zero_not_null(engine, release):
    scope = q.resolve_scope(engine, release, "sea", start_month="2024-06", end_month="2024-06")
    assert q.aggregate(engine, "referrals", scope).to_dicts() == [{"referrals": 0, "enrolled": 0}]
    assert q.month_range(engine, scope) is None


def test_an_empty_result_has_the_types_of_a_full_one(engine, release):
    # Without rows polars has no value to infer a type from; a Null-typed key column
    # made the staff view's join onto its precinct-month grid fail (issue 11).
    full = q.resolve_scope(engine, release, "sea")
    empty = q.resolve_scope(engine, release, "sea", start_month="2024-06", end_month="2024-06")
    for by in (["precinct_id"], ["precinct_id", "race_ethnicity"]):
        found = q.aggregate(engine, "referrals", full, by=by, grain="month")
        none = q.aggregate(engine, "referrals", empty, by=by, grain="month")
        assert none.is_empty() and not found.is_empty()
        assert none.schema == found.schema
        assert none.schema["precinct_id"] == pl.String
    assert q.aggregate(engine, "costs", empty, by=["fiscal_year"]).schema == pl.Schema(
        {"fiscal_year": pl.Int64, "persons": pl.Int64, "total_cost_usd": pl.Float64}
    )
    assert q.sites(engine, "no-such-release").schema == q.sites(engine, release.release_id).schema
    assert q.precincts(engine, release.release_id, "nowhere").schema == pl.Schema(
        {"site_id": pl.String, "precinct_id": pl.String, "precinct_name": pl.String}
    )


def test_money_and_counts_have_the_same_types_on_both_databases(engine, release):
    scope = q.resolve_scope(engine, release, "sea")
    costs = q.aggregate(engine, "costs", scope, by=["group"])
    assert costs.schema == pl.Schema(
        {"group": pl.String, "persons": pl.Int64, "total_cost_usd": pl.Float64}
    )
    assert costs.sort("group").rows() == [("comparison", 18, 98000.0), ("lead", 20, 150000.5)]


def test_sites_and_precincts(engine, release):
    assert q.sites(engine, release.release_id)["site_name"].to_list() == ["Santa Fe", "Seattle"]
    names = q.precincts(engine, release.release_id, "sea")["precinct_name"].to_list()
    assert names == ["North", "West"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"site_id": "atlantis"}, "site='atlantis': not a site in this release"),
        ({"site_id": "sea", "precinct_ids": ["central"]}, "not a precinct of site sea"),
        ({"precinct_ids": ["north"]}, "choose a site first"),
        ({"site_id": "sea", "start_month": "2024-13"}, "a month is written YYYY-MM"),
        ({"site_id": "sea", "start_month": "'; DROP TABLE referrals; --"}, "YYYY-MM"),
        ({"site_id": "sea", "end_month": "2031-01"}, "after the data's end"),
        ({"site_id": "sea", "start_month": "2024-05", "end_month": "2024-02"}, "after the end"),
    ],
)
def test_bad_filters_are_named_before_any_data_query(engine, release, kwargs, message):
    with pytest.raises(q.InvalidFilter, match=message):
        q.resolve_scope(engine, release, **kwargs)
    # The hostile value reached no SQL: the table is still there and whole.
    assert q.aggregate(engine, "referrals", q.Scope(release.release_id))["referrals"][0] == 10


def test_grouping_by_an_unknown_column_is_refused(engine, release):
    with pytest.raises(ValueError, match="cannot be grouped by 'month; --'"):
        q.aggregate(engine, "referrals", q.Scope(release.release_id), by=["month; --"])


def test_published_tables_tell_which_optional_tables_a_site_has(engine, release):
    assert "costs" in q.published_tables(engine, release.release_id, "sea")
    assert "costs" not in q.published_tables(engine, release.release_id, "sfe")


def test_unreachable_database_gives_a_plain_message():
    engine = make_engine("postgresql+psycopg://nobody:secret@127.0.0.1:9/none")
    with pytest.raises(DatabaseUnavailable) as caught:
        q.list_releases(engine)
    # Visitors read this message: the kind of database, never where it is (see test_db.py).
    assert str(caught.value).startswith("Cannot reach the PostgreSQL database: ")
    assert "127.0.0.1" not in str(caught.value)
    assert "secret" not in str(caught.value)


# --- The demo release: the same metrics from both databases, and its calibration ---


def _seattle(url):
    engine = make_engine(url)
    release = q.get_release(engine)
    return engine, release, q.resolve_scope(engine, release, site_id="seattle")


def _metric_results(url) -> dict[str, pl.DataFrame]:
    engine, release, scope = _seattle(url)
    refs = q.aggregate(engine, "referrals", scope, by=["pathway", "race_ethnicity"], grain="year")
    contacts = q.aggregate(engine, "eligible_contacts", scope, by=["race_ethnicity"], grain="year")
    served = q.aggregate(engine, "services", scope, by=["service"], grain="year")
    active = q.aggregate(engine, "caseload", scope, grain="year")
    cohorts = q.aggregate(
        engine, "recidivism", scope, by=["cohort", "group", "race_ethnicity", "followup_months"]
    )
    results = {
        "trend": referrals.referral_trend(
            q.aggregate(engine, "referrals", scope, grain="month"), grain="month"
        ),
        "rri": disparities.referral_rri(contacts, refs, by=["period"]),
        "uptake": services.service_uptake(served, active, by=["period"]),
        "recidivism": recidivism.lead_vs_comparison(cohorts, release.as_of),
    }
    engine.dispose()
    return results


def test_metrics_agree_on_sqlite_and_postgresql(demo_sqlite_url, demo_postgres_url):
    sqlite = _metric_results(demo_sqlite_url)
    postgres = _metric_results(demo_postgres_url)
    for name, frame in sqlite.items():
        assert frame.height > 0, name
        assert_frame_equal(frame, postgres[name], check_exact=False, rel_tol=1e-12)


def test_demo_recovers_the_published_odds_ratio(demo_database_url):
    # Calibration target (docs/demo-data.md): Seattle LEAD participants' odds of
    # re-arrest within 24 months about 0.42 times the comparison group's.
    engine, release, scope = _seattle(demo_database_url)
    cohorts = q.aggregate(
        engine, "recidivism", scope, by=["cohort", "group", "race_ethnicity", "followup_months"]
    )
    result = recidivism.lead_vs_comparison(cohorts, release.as_of, windows=(24,))
    odds = result.filter(pl.col("metric_id") == "recidivism.odds_ratio").row(0, named=True)
    assert odds["estimate"] == pytest.approx(0.42, abs=0.06)
    assert odds["ci_low"] < 0.42 < odds["ci_high"]
