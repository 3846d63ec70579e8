"""Staff views: exact operational counts by precinct and month, for program staff only.

Program staff run LEAD precinct by precinct: who was referred and enrolled
this month, how many people each precinct's case managers carry, whose
screening is still waiting. They need exact numbers at a monthly grain, which
the public never gets (see docs/privacy.md). These views therefore refuse any
audience but staff themselves (`PermissionError`): a page guard is the first
line, the view is the second, so that a public code path that reached this
module by mistake still gets no figures.

The figures go through the same disclosure functions as the public ones, with
`audience=Audience.STAFF`, so every table is a `Protected` marked `exact=True`
and a renderer can tell staff output from public output.

The window is the twelve months ending with the selected period (for a year,
the year itself), so a quarter's page still shows a year of monthly trend; the
period's own totals are published beside it. A precinct-month without rows in
the release counts as zero: the release lists every referral, so no row means
nobody was referred.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import (
    DerivedKind,
    Protected,
    ProtectedCounts,
    protect_counts,
    protect_derived,
    with_time_levels,
)
from data_access.periods import parse_period
from data_access.views.base import Selection, ViewResult, view, words

STAFF_OPERATIONS = "staff_operations"
WINDOW_MONTHS = 12
PRECINCT, MONTH = "precinct_id", "month"

# Monthly flows (referrals, enrollments, pending screenings) add up over months;
# the caseload is a stock (people active in a month), and a sum over months would
# count one person once per month, so it is totalled across precincts only.
FLOW_MARGINS: tuple[tuple[str, ...], ...] = (
    (MONTH,),
    (PRECINCT,),
    (),
    (PRECINCT, "quarter"),
    (PRECINCT, "year"),
    ("quarter",),
    ("year",),
)
STOCK_MARGINS: tuple[tuple[str, ...], ...] = ((MONTH,),)


def require_staff(audience: Audience, name: str = STAFF_OPERATIONS) -> None:
    """Refuse anyone but staff: exact monthly counts by precinct are never public."""
    if audience is not Audience.STAFF:
        raise PermissionError(
            f"view {name!r} holds exact counts for program staff only; it was asked for "
            f"the {getattr(audience, 'value', audience)!r} audience. Public figures come "
            "from the public views."
        )


def _month_number(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def _month_code(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_window(period_code: str, as_of_month: str, launched: str) -> list[str]:
    """The months shown: twelve ending with the period (never after as_of, nor before launch)."""
    end = min(_month_number(parse_period(period_code).end_month), _month_number(as_of_month))
    start = max(end - WINDOW_MONTHS + 1, _month_number(launched))
    return [_month_code(n) for n in range(start, end + 1)]


def _span(months: Sequence[str]) -> str:
    """ "January to December 2025", "July 2024 to June 2025", or "" for no months."""
    if not months:
        return ""
    first, last = (parse_period(m) for m in (months[0], months[-1]))
    if first == last:
        return last.span
    head = first.span if first.year != last.year else first.span.rsplit(" ", 1)[0]
    return f"{head} to {last.span}"


def _grid(precincts: Sequence[str], months: Sequence[str]) -> pl.DataFrame:
    """Every (precinct, month) of the view, so a month with no rows shows as 0, not a gap."""
    return pl.DataFrame(
        [(p, m) for p in precincts for m in months],
        schema={PRECINCT: pl.String, MONTH: pl.String},
        orient="row",
    )


def _monthly(
    engine: sa.Engine,
    table: str,
    scope: q.Scope,
    grid: pl.DataFrame,
    measures: dict[str, str],
    where: pl.Expr | None = None,
    by: Sequence[str] = (),
) -> pl.DataFrame:
    """Exact monthly sums per precinct over the grid; `measures` maps source -> output column."""
    found = q.aggregate(engine, table, scope, by=[PRECINCT, *by], grain="month")
    if where is not None:
        found = found.filter(where)
    found = (
        found.rename({"period": MONTH})
        .group_by([PRECINCT, MONTH])
        .agg(pl.col(source).sum().alias(name) for source, name in measures.items())
    )
    filled = grid.join(found, on=[PRECINCT, MONTH], how="left")
    return filled.with_columns(
        pl.col(name).fill_null(0).cast(pl.Int64) for name in measures.values()
    )


def _cube(
    frame: pl.DataFrame, count: str, margins: Sequence[Sequence[str]], name: str
) -> ProtectedCounts:
    return protect_counts(
        with_time_levels(frame, MONTH),
        view=f"{STAFF_OPERATIONS}.{name}",
        dimensions=(PRECINCT, MONTH),
        count=count,
        margins=margins,
        audience=Audience.STAFF,
    )


def _level(cube: ProtectedCounts, level: Sequence[str], rows: pl.Expr | None = None) -> Protected:
    """One level of a cube, sorted by its keys; period columns a caller filtered on dropped."""
    protected = cube.level(level)
    keep = [c for c in protected.frame.columns if c not in ("quarter", "year")]
    return protected.subset(rows=rows, columns=keep, sort=[c for c in level if c in keep])


def _enrollment_shares(
    referrals: Protected, enrolled: Protected, keys: Sequence[str], name: str
) -> Protected:
    """Referrals and enrollments side by side with the share enrolled, from the cubes' counts."""
    joined = referrals.frame.select(*keys, "referrals").join(
        enrolled.frame.select(*keys, "enrolled"), on=list(keys), how="left"
    ) if keys else pl.concat(
        [referrals.frame.select("referrals"), enrolled.frame.select("enrolled")], how="horizontal"
    )  # fmt: skip
    joined = joined.with_columns(
        pl.when(pl.col("referrals") > 0)
        .then(pl.col("enrolled") / pl.col("referrals"))
        .otherwise(None)
        .alias("enrolled_share")
    )
    return protect_derived(
        joined,
        view=f"{STAFF_OPERATIONS}.{name}",
        keys=list(keys),
        numerator="enrolled",
        denominator="referrals",
        estimates=["enrolled_share"],
        kind=DerivedKind.PROPORTION,
        keep_counts=True,
        audience=Audience.STAFF,
    )


@view(STAFF_OPERATIONS)
def staff_operations(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """Exact referrals, enrollments, caseload and pending screenings by precinct and month.

    Tables (all exact, for staff):
    - referrals_by_month, enrolled_by_month: precinct_id, month, count;
    - period_by_precinct, period_total: referrals, enrolled and enrolled_share in
      the selected period, per precinct and for the selected precincts together;
      window_by_precinct, window_total: the same over the whole window;
    - caseload_by_month (precinct_id, month, active_participants), caseload_latest
      (per precinct) and caseload_latest_total, for the window's last month;
    - pending_by_month, pending_by_precinct, pending_total: screenings still
      pending among people referred in the window.
    Caseload and screening tables are absent when the site does not publish them
    (facts caseload_published / screening_published say so).
    """
    require_staff(audience)
    release = q.get_release(engine, selection.release_id)
    scope = q.resolve_scope(engine, release, selection.site_id, selection.precinct_ids)
    period = parse_period(selection.period)
    site = q.sites(engine, release.release_id).filter(pl.col("site_id") == selection.site_id)
    all_precincts = q.precincts(engine, release.release_id, selection.site_id)[PRECINCT]
    precincts = list(scope.precinct_ids) or all_precincts.to_list()
    as_of_month = f"{release.as_of:%Y-%m}"
    months = month_window(period.code, as_of_month, site["launched"][0])
    if not months:
        raise q.InvalidFilter("period", selection.period, "no month of it has data for this site")
    scope = q.Scope(
        release.release_id, selection.site_id, scope.precinct_ids, months[0], months[-1]
    )
    grid = _grid(precincts, months)
    present = q.published_tables(engine, release.release_id, selection.site_id)
    time = "year" if period.grain == "year" else "quarter"
    in_period = pl.col(time) == period.code

    flows = _monthly(
        engine, "referrals", scope, grid, {"referrals": "referrals", "enrolled": "enrolled"}
    )
    referrals = _cube(flows.drop("enrolled"), "referrals", FLOW_MARGINS, "referrals")
    enrolled = _cube(flows.drop("referrals"), "enrolled", FLOW_MARGINS, "enrolled")
    tables: dict[str, Protected] = {
        "referrals_by_month": _level(referrals, (PRECINCT, MONTH)),
        "enrolled_by_month": _level(enrolled, (PRECINCT, MONTH)),
        "period_by_precinct": _enrollment_shares(
            _level(referrals, (PRECINCT, time), in_period),
            _level(enrolled, (PRECINCT, time), in_period),
            [PRECINCT],
            "period_by_precinct",
        ),
        "period_total": _enrollment_shares(
            _level(referrals, (time,), in_period),
            _level(enrolled, (time,), in_period),
            [],
            "period_total",
        ),
        "window_by_precinct": _enrollment_shares(
            _level(referrals, (PRECINCT,)),
            _level(enrolled, (PRECINCT,)),
            [PRECINCT],
            "window_by_precinct",
        ),
        "window_total": _enrollment_shares(
            _level(referrals, ()), _level(enrolled, ()), [], "window_total"
        ),
    }
    facts = {
        "period_phrase": period.phrase,
        "period_span": period.span,
        "window_start": months[0],
        "window_end": months[-1],
        "window_span": _span(months),
        "caseload_published": "yes" if "caseload" in present else "no",
        "screening_published": "yes" if "screening" in present else "no",
        "caseload_month": months[-1],
        "caseload_month_span": parse_period(months[-1]).span,
    }
    if "caseload" in present:
        stock = _monthly(
            engine, "caseload", scope, grid, {"active_participants": "active_participants"}
        )
        caseload = _cube(stock, "active_participants", STOCK_MARGINS, "caseload")
        latest = pl.col(MONTH) == months[-1]
        tables["caseload_by_month"] = _level(caseload, (PRECINCT, MONTH))
        tables["caseload_latest"] = _level(caseload, (PRECINCT, MONTH), latest)
        tables["caseload_latest_total"] = _level(caseload, (MONTH,), latest)
    if "screening" in present:
        waiting = _monthly(
            engine,
            "screening",
            scope,
            grid,
            {"persons": "pending"},
            where=pl.col("outcome") == "pending",
            by=["outcome"],
        )
        pending = _cube(waiting, "pending", FLOW_MARGINS, "pending")
        tables["pending_by_month"] = _level(pending, (PRECINCT, MONTH))
        tables["pending_by_precinct"] = _level(pending, (PRECINCT,))
        tables["pending_total"] = _level(pending, ())
    notes = (
        "Exact counts for program staff: small numbers are shown as they are. "
        "Not for publication; public figures are on the public pages.",
    )
    return ViewResult(STAFF_OPERATIONS, tables, words(facts), notes)
