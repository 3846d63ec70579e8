"""The staff view builds for every period a staff member (or the staff export) can choose.

`python -m data_access export --audience staff` builds `staff_operations` for
every quarter and year of every site; it stopped on Santa Fe's first quarter,
whose twelve-month window holds referrals but no caseload month yet. So the
view is built here for every period of every demo site in every demo release,
on both databases, and its monthly tables are checked against what the view's
docstring and docs/staff-mode.md promise: one row per precinct and month of the
window (0 when the release has no rows), exact counts, nothing withheld.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from data_access import queries as q
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.export_sources import periods_of_site
from data_access.views import Selection, build
from data_access.views.staff import STAFF_OPERATIONS, month_window

# Monthly table -> its count column, and the release table that must be published for it.
MONTHLY = {
    "referrals_by_month": ("referrals", None),
    "enrolled_by_month": ("enrolled", None),
    "caseload_by_month": ("active_participants", "caseload_published"),
    "pending_by_month": ("pending", "screening_published"),
}


def _monthly_problems(result, precincts: list[str], months: list[str]) -> list[str]:
    """What is wrong with the view's monthly tables, in words (empty when nothing is)."""
    problems = []
    grid = sorted((p, m) for p in precincts for m in months)
    for key, (count, published) in MONTHLY.items():
        if published and result.facts[published] != "yes":
            continue
        if key not in result.tables:
            problems.append(f"{key} is missing")
            continue
        frame = result.table(key).frame
        expected = pl.Schema(
            {
                "precinct_id": pl.String,
                "month": pl.String,
                count: pl.Int64,
                f"{count}_flag": pl.String,
            }
        )
        if frame.schema != expected:
            problems.append(f"{key} has columns {dict(frame.schema)}")
            continue
        if sorted(frame.select("precinct_id", "month").rows()) != grid:
            problems.append(f"{key} does not hold one row per precinct and month of the window")
        if frame[count].null_count() or (frame[count] < 0).any():
            problems.append(f"{key} has a missing or negative count")
        if set(frame[f"{count}_flag"]) - {""}:
            problems.append(f"{key} withholds a count from staff")
    return problems


def test_the_staff_view_builds_for_every_period_of_every_demo_site(demo_database_url):
    engine = make_engine(demo_database_url)
    problems: list[str] = []
    built: Counter[tuple[str, str]] = Counter()
    with_caseload = 0
    for release in q.list_releases(engine):
        sites = q.sites(engine, release.release_id).select("site_id", "launched").rows()
        for site_id, launched in sites:
            precincts = q.precincts(engine, release.release_id, site_id)["precinct_id"].to_list()
            for period in periods_of_site(release, launched):
                where = f"{release.release_id} {site_id} {period.code}"
                selection = Selection(release.release_id, site_id, period.code)
                try:
                    result = build(STAFF_OPERATIONS, engine, selection, Audience.STAFF)
                except Exception as exc:  # every failing period is reported, not just the first
                    problems.append(f"{where}: {type(exc).__name__}: {exc}")
                    continue
                months = month_window(period.code, f"{release.as_of:%Y-%m}", launched)
                problems += [f"{where}: {p}" for p in _monthly_problems(result, precincts, months)]
                built[(release.release_id, site_id)] += 1
                with_caseload += result.facts["caseload_published"] == "yes"
    engine.dispose()
    assert not problems, "\n".join(problems)
    # Every demo release (two or more) and each of its sites, with years of quarters each.
    assert len({release_id for release_id, _ in built}) >= 2, built
    assert min(built.values()) > 4 * 9, built
    assert with_caseload == sum(built.values()), "the caseload path was not exercised everywhere"


def test_a_window_before_the_first_caseload_month_counts_every_precinct_as_zero(
    demo_database_url,
):
    # Santa Fe launched in May 2014; its referrals start in June, its caseload in July.
    # The first quarter's window (May and June 2014) therefore has referrals but no
    # caseload row at all, which is where the staff export used to stop.
    engine = make_engine(demo_database_url)
    for release in q.list_releases(engine):
        result = build(
            STAFF_OPERATIONS,
            engine,
            Selection(release.release_id, "santa-fe", "2014-Q2"),
            Audience.STAFF,
        )
        precincts = q.precincts(engine, release.release_id, "santa-fe")["precinct_id"]
        caseload = result.table("caseload_by_month").frame
        assert sorted(caseload["month"].unique()) == ["2014-05", "2014-06"]
        assert caseload.height == 2 * precincts.len()
        assert caseload["active_participants"].to_list() == [0] * caseload.height
        assert result.table("caseload_latest_total").frame["active_participants"].to_list() == [0]
        assert result.table("period_total").frame["referrals"][0] > 0
    engine.dispose()
