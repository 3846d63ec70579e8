"""Views of re-arrest: LEAD against the comparison group, the cumulative curve, the trend.

Everything published about re-arrest at a site comes out of ONE protected cube,
because the numbers are linked by sums and differences:

- people re-arrested within w months are a subset of their cohort, so the
  re-arrested and the not re-arrested are published together (a status
  dimension), never a count beside a total;
- a pooled figure is the sum of its cohorts' figures, so the trend by cohort
  and the pooled comparison share cells;
- two windows of the same cohorts differ by the people first re-arrested
  between them (by 12 months minus by 6 months), and consecutive points of the
  cumulative curve differ by the people first re-arrested in that interval.

So the finest (never published) cell is a group of people with the same fate
in the life table: entry cohort x group x follow-up horizon x status, where

    status  = "event_TT"  first re-arrest in the quarterly interval ending at TT months,
              "none_HH"   not re-arrested by the horizon HH (the last follow-up point
                          the cohort has completed by the release's as_of),
    horizon = how far the cohort has been followed (a multiple of 3 months; 0 for
              a cohort that entered less than 3 months before as_of).

Every published figure is a margin of these cells:

    (group)                      people followed from entry (the curve's N at 0)
    (group, status)              the curve: events D_j and censored C_j per interval
    (group, by_W)  W = 6..36     re-arrested yes / no within W months, over the cohorts
                                 whose W-month window has closed; "na" = the others
    (cohort12, group, by_12)     the trend: each closed cohort's 12-month yes / no
    (year12, group, by_12)       the same by entry year, for sites with small quarters

so protect_counts withholds small cells and their complements across all of
them at once, and its exact audit checks that no withheld cell and no small
finest cell (for example "2 people of cohort 2023-Q1 first re-arrested between
months 6 and 9") can be worked out from the rest. Window structure is inside
the cube, so differencing windows or curve points is covered by the audit
rather than left as a residual risk.

Estimates are computed from PUBLISHED counts only, with the metric functions
of data_access.metrics.recidivism (withheld = null, which they propagate), and
then protected: rates with protect_derived, LEAD against comparison with
protect_comparison. The curve is computed only as far as every count behind
it is published and at least k people are still at risk; past that point it
is withheld ("the curve stops"), because one more point would reveal the
withheld interval count through S(t_j) / S(t_j-1).

Across releases (disclosure/earlier.py): a reader holding every release sees
the pooled windows, the curve and the totals grow by the cohorts closed since,
so the cube is protected with every earlier public release's cells (the
publication ledger) as extra levels. It is built on a common refinement of all
of them (`fine_table`: first re-arrest per quarter of follow-up, for every
cohort that has entered), onto which each publication's own cells map through
its grid, floor and as_of (`publication_columns`); the cells each design
protects are latent levels, audited but never published. A cohort whose rows
changed since an earlier release is not linked to it. When a growth of 1 to k-1
people would have to be withheld with its complements, the figures stay those
counted as of the earlier date (`choose_design`) until the change can be shown.

Pooled figures use every cohort whose window has closed by the release's
as_of, whatever period a viewer selects: pooling over "cohorts closed by the
end of the selected period" would publish nested sums whose differences are
single cohorts, outside what the cube protects. The selected period only ends
the trend (cohorts that entered up to its end), which is a subset of rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import (
    UNPUBLISHED,
    WITHHELD_COUNT_REASON,
    DerivedKind,
    EarlierPublication,
    Policy,
    Protected,
    ProtectedCounts,
    policy_from_environment,
    protect_comparison,
    protect_counts,
    protect_derived,
    rename_levels,
    storable,
)
from data_access.ledger import Publication
from data_access.metrics.recidivism import (
    lead_vs_comparison,
    recidivism_trend,
    window_closes,
)
from data_access.metrics.stats import actuarial_survival
from data_access.periods import parse_period
from data_access.views.base import (
    Selection,
    ViewResult,
    earlier_publications,
    memoize,
    view,
    words,
)
from data_access.views.linking import loaded_as_published

log = logging.getLogger(__name__)

OUTCOME = "rearrested"
COUNT = "persons"
GROUPS = ("lead", "comparison")
WINDOWS: tuple[int, ...] = (6, 12, 24, 36)
# Quarterly life-table intervals: monthly points would publish one small count per month.
STEP_MONTHS = 3
TREND_WINDOW = 12
# The headline window, in order of preference: 12 months covers recent cohorts and is the
# most common benchmark; 6 months when no 12-month comparison can be published.
HEADLINE_WINDOWS: tuple[int, ...] = (12, 6, 24)
OPEN = "open"
# The cells one design protects (never published): see finest_table.
DIMENSIONS = ("cohort", "group", "horizon", "status")
# The finest table the cube is built on (never published): see fine_table.
FINE_DIMENSIONS = ("cohort", "arm", "followed", "fate")
Level = tuple[str, ...]
# A stand-in cohort label for pooled counts fed to the fixed-window metric: its windows
# have all closed, so the metric treats the pooled counts as one complete cohort.
_POOLED_COHORT = "1900-Q1"


def by_column(window: int) -> str:
    return f"by_{window}"


@storable
@dataclass(frozen=True)
class Design:
    """Which margins a site publishes: the curve's grid, the trend's cohorts, the population.

    curve: "quarterly" (every 3 months), "windows" (6, 12, 24, 36) or "" (no curve).
    trend: the cohort columns of the 12-month trend ("cohort12" by quarter, "year12").
    floor: only cohorts followed at least this many months are counted. With 6, the
        6-month figure covers every cohort closed at 6 months, and the people closed at 6
        but not 12 months are published by difference; a small site may need 12.
    """

    name: str
    curve: str
    trend: tuple[str, ...]
    floor: int = 6


# Tried in this order; the first that publishes every pooled window count is used (see
# choose_design). Small sites have few people per quarter, so a quarterly curve or trend
# would force the pooled windows themselves to be withheld as complements.
DESIGNS: tuple[Design, ...] = (
    Design("quarterly curve, trend by entry quarter and year", "quarterly", ("cohort12", "year12")),
    Design("curve at the windows, trend by entry year", "windows", ("year12",)),
    Design("no curve, trend by entry year", "", ("year12",)),
    Design("pooled windows only", "", ()),
    Design("cohorts followed 12 months or more, trend by entry year", "", ("year12",), 12),
    Design("cohorts followed 12 months or more, pooled windows only", "", (), 12),
)


def public_levels(
    windows: Sequence[int], design: Design = DESIGNS[0]
) -> tuple[tuple[str, ...], ...]:
    """Every margin published from the cube, on any page, download or briefing."""
    levels: list[tuple[str, ...]] = [("group",)]
    if design.curve:
        levels.append(("group", "status"))
    levels += [("group", by_column(w)) for w in windows]
    if TREND_WINDOW in windows:
        levels += [(column, "group", by_column(TREND_WINDOW)) for column in design.trend]
    return tuple(levels)


# ------------------------------------------------------------------ the finest table


def _entered(as_of: dt.date) -> pl.Expr:
    """A cohort has entered once its quarter is over."""
    return window_closes(pl.lit(0)) <= pl.lit(as_of)


def follow_up_grid(frame: pl.DataFrame, curve: str) -> tuple[int, ...]:
    """The follow-up points of the life table: every 3 months present, or the windows only."""
    quarterly = tuple(
        sorted(int(m) for m in frame["followup_months"].unique() if int(m) % STEP_MONTHS == 0)
    )
    return quarterly if curve == "quarterly" else windows_of(quarterly)


def fine_table(frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Cohort x arm x followed x fate counts: the common refinement of every release's cells.

    frame: cohort, group, race_ethnicity, followup_months, cohort_size, rearrested
    (cumulative counts, as the release holds them). Each cohort-group-race is
    followed along the quarterly grid as far as its rows are present and its
    window has closed by as_of (`followed`, 0 when no 3-month window has); `fate`
    is "event_TT" (first re-arrest in the quarter ending at TT months) or
    "none_HH" (not re-arrested by HH = followed). Every cohort that has entered
    is here, whichever design or floor a release uses: an earlier release may
    have counted cohorts this one does not, and each release's cells are sums of
    these (`publication_columns`).
    """
    unit = ["cohort", "group", "race_ethnicity"]
    grid = follow_up_grid(frame, "quarterly")
    frame = frame.filter(_entered(as_of))
    if frame.is_empty():
        return pl.DataFrame(
            schema={"cohort": pl.String, "arm": pl.String, "followed": pl.Int64,
                    "fate": pl.String, COUNT: pl.Int64},
        )  # fmt: skip
    sizes = frame.group_by(unit).agg(pl.col("cohort_size").max().alias("size"))
    position = {m: i for i, m in enumerate(grid)}
    points = (
        frame.filter(
            pl.col("followup_months").is_in(grid)
            & (window_closes(pl.col("followup_months")) <= pl.lit(as_of))
        )
        .with_columns(pl.col("followup_months").replace_strict(position).alias("idx"))
        .sort([*unit, "idx"])
        # Followed as far as the points run without a gap from the first one.
        .with_columns((pl.col("idx") == pl.int_range(pl.len()).over(unit)).alias("_next"))
        .filter(pl.col("_next").cum_min().over(unit))
        .with_columns(
            (pl.col(OUTCOME) - pl.col(OUTCOME).shift(1, fill_value=0).over(unit)).alias("new")
        )
    )
    points = points.join(sizes, on=unit)
    bad = points.filter((pl.col("new") < 0) | (pl.col(OUTCOME) > pl.col("size")))
    if bad.height:
        row = bad.row(0, named=True)
        raise ValueError(
            f"recidivism counts of cohort {row['cohort']}, group {row['group']}, race "
            f"{row['race_ethnicity']} at {row['followup_months']} months are inconsistent: "
            "cumulative re-arrests must not fall and must not exceed the cohort size"
        )
    followed = points.group_by(unit).agg(
        pl.col("followup_months").max().alias("followed"), pl.col(OUTCOME).max().alias("so_far")
    )
    units = sizes.join(followed, on=unit, how="left").with_columns(
        pl.col("followed").fill_null(0).cast(pl.Int64), pl.col("so_far").fill_null(0)
    )
    events = points.join(units.select(*unit, "followed"), on=unit).select(
        "cohort", pl.col("group").alias("arm"), "followed",
        pl.format("event_{}", pl.col("followup_months").cast(pl.String).str.zfill(2)).alias("fate"),
        pl.col("new").alias(COUNT),
    )  # fmt: skip
    survivors = units.select(
        "cohort", pl.col("group").alias("arm"), "followed",
        pl.format("none_{}", pl.col("followed").cast(pl.String).str.zfill(2)).alias("fate"),
        (pl.col("size") - pl.col("so_far")).alias(COUNT),
    )  # fmt: skip
    return (
        pl.concat([events, survivors])
        .group_by(list(FINE_DIMENSIONS))
        .agg(pl.col(COUNT).sum().cast(pl.Int64))
        .filter(pl.col(COUNT) > 0)
        .sort(list(FINE_DIMENSIONS))
    )


def floor_of(grid: Sequence[int], floor: int) -> int:
    """The shortest follow-up a counted cohort has had.

    Only cohorts followed through the first window (or `floor`): a cohort followed
    for less would sit in the curve's first interval alone, and the curve minus the
    6-month figures would then be that one cohort's small count.
    """
    return max(floor, min(windows_of(grid), default=grid[0] if grid else 0))


def publication_columns(
    fine: pl.DataFrame,
    grid: Sequence[int],
    as_of: dt.date,
    floor: int,
    suffix: str = "",
    linked: pl.Expr | None = None,
) -> pl.DataFrame:
    """`fine` with the columns one publication's cells are broken down by.

    A publication (this release, or an earlier one: its grid, floor and as_of)
    follows a cohort to the largest point of its grid that the cohort has reached
    and whose window had closed by its as_of (`horizon`); it counts the cohort
    when that is at least its floor, and then a fine cell's `status` is the
    interval of the grid its first re-arrest falls in, or "none" at the horizon.
    `group`, `status`, `horizon` and the margin columns (by_W, cohort12, year12)
    get `suffix`; they are UNPUBLISHED for cohorts the publication does not count
    and, where `linked` is false, for cohorts whose rows changed since (an
    unknown change: the publication's cells of them are not sums of these).
    """
    grid = tuple(grid)
    horizon = pl.lit(None, pl.Int64)
    for g in grid:  # both conditions hold for a prefix of the grid: the last one wins
        reached = (pl.col("followed") >= g) & (window_closes(pl.lit(g)) <= pl.lit(as_of))
        horizon = pl.when(reached).then(pl.lit(g, pl.Int64)).otherwise(horizon)
    counted = horizon.is_not_null() & (horizon >= floor_of(grid, floor))
    if linked is not None:
        counted = counted & linked
    time = pl.col("fate").str.slice(-2).cast(pl.Int64)
    first_point = {t: next((g for g in grid if g >= t), None) for t in range(0, 100)}
    cells = fine.select(
        "cohort",
        "arm",
        "fate",
        horizon.alias("horizon"),
        counted.fill_null(False).alias("_in"),
        time.replace_strict(first_point, default=None, return_dtype=pl.Int64).alias("_point"),
    )
    is_event = pl.col("fate").str.starts_with("event_") & (time <= pl.col("horizon"))
    status = (
        pl.when(is_event)
        .then(pl.format("event_{}", pl.col("_point").cast(pl.String).str.zfill(2)))
        .otherwise(pl.format("none_{}", pl.col("horizon").cast(pl.String).str.zfill(2)))
    )
    cells = cells.with_columns(status.fill_null("none_00").alias("status")).with_columns(
        pl.col("horizon").fill_null(0)
    )
    cells = _with_margin_columns(cells, grid, as_of)
    columns = ["group", "status", "horizon", *map(by_column, windows_of(grid)), "cohort12",
               "year12"]  # fmt: skip
    cells = cells.with_columns(pl.col("arm").alias("group"), pl.col("horizon").cast(pl.String))
    marked = [
        pl.when(pl.col("_in")).then(pl.col(c)).otherwise(pl.lit(UNPUBLISHED)).alias(f"{c}{suffix}")
        for c in columns
    ]
    return fine.with_columns(cells.select(marked))


def finest_table(
    frame: pl.DataFrame, as_of: dt.date, grid: Sequence[int], floor: int = 6
) -> pl.DataFrame:
    """Cohort x group x horizon x status counts at one design's grid: what it protects.

    The cells one publication would have as its finest table, with the columns
    its margins are broken down by; cohorts it does not count are left out.
    """
    cells = publication_columns(fine_table(frame, as_of), grid, as_of, floor)
    keys = ["cohort", *(c for c in cells.columns if c not in (*FINE_DIMENSIONS, COUNT))]
    return (
        cells.filter(pl.col("group") != UNPUBLISHED)
        .group_by(keys)
        .agg(pl.col(COUNT).sum())
        .with_columns(pl.col("horizon").cast(pl.Int64))
        .sort(list(DIMENSIONS))
        .select(*DIMENSIONS, COUNT, *(c for c in keys if c not in DIMENSIONS))
    )


def _with_margin_columns(cells: pl.DataFrame, grid: Sequence[int], as_of: dt.date) -> pl.DataFrame:
    """The columns the published margins are broken down by, as functions of each cell."""
    status_time = pl.col("status").str.slice(-2).cast(pl.Int64)
    is_event = pl.col("status").str.starts_with("event_")
    columns = []
    for w in windows_of(grid):
        columns.append(
            pl.when(pl.col("horizon") < w)
            .then(pl.lit("na"))
            .when(is_event & (status_time <= w))
            .then(pl.lit("yes"))
            .otherwise(pl.lit("no"))
            .alias(by_column(w))
        )
    closed = pl.col("horizon") >= TREND_WINDOW
    year = pl.col("cohort").str.slice(0, 4)
    # An entry year counts once its last quarter has closed, so a year is all four quarters.
    year_closed = window_closes(pl.lit(TREND_WINDOW), "_last_quarter") <= pl.lit(as_of)
    frame = cells.with_columns(*columns, (year + "-Q4").alias("_last_quarter"))
    return frame.with_columns(
        pl.when(closed).then(pl.col("cohort")).otherwise(pl.lit(OPEN)).alias("cohort12"),
        pl.when(closed & year_closed).then(year).otherwise(pl.lit(OPEN)).alias("year12"),
    ).drop("_last_quarter")


def windows_of(grid: Sequence[int]) -> tuple[int, ...]:
    return tuple(w for w in WINDOWS if w in grid)


@storable
@dataclass(frozen=True)
class RecidivismCube:
    """The protected cube of a site and how it was designed (no numbers outside `cube`)."""

    cube: ProtectedCounts | None  # None: the site publishes no recidivism table
    design: Design
    grid: tuple[int, ...]  # the curve's follow-up points; () when no curve is published
    windows: tuple[int, ...]
    as_of: dt.date


# ------------------------------------------------------------------ earlier releases


_LINK_COLUMNS = ["cohort", "group", "race_ethnicity", "followup_months", "cohort_size", OUTCOME]


def changed_cohorts(new: pl.DataFrame, old: pl.DataFrame, old_as_of: dt.date) -> set[str]:
    """Cohorts whose rows an earlier release (as of `old_as_of`) had differently.

    Compared: per group and race, each follow-up month whose window had closed by
    then, and the cohort size. A cohort that differs (a correction) is not linked.
    """
    closed = _entered(old_as_of) & (window_closes(pl.col("followup_months")) <= pl.lit(old_as_of))
    a, b = new.filter(closed).select(_LINK_COLUMNS), old.filter(closed).select(_LINK_COLUMNS)
    unit = ["cohort", "group", "race_ethnicity"]
    sizes = [
        f.filter(_entered(old_as_of)).group_by(unit).agg(pl.col("cohort_size").max())
        for f in (new, old)
    ]
    differ = pl.concat(
        [
            a.join(b, on=_LINK_COLUMNS, how="anti", nulls_equal=True).select("cohort"),
            b.join(a, on=_LINK_COLUMNS, how="anti", nulls_equal=True).select("cohort"),
            sizes[0].join(sizes[1], on=[*unit, "cohort_size"], how="anti").select("cohort"),
            sizes[1].join(sizes[0], on=[*unit, "cohort_size"], how="anti").select("cohort"),
        ]
    )
    return set(differ["cohort"].to_list())


def link_earlier(
    fine: pl.DataFrame,
    frame: pl.DataFrame,
    publications: Sequence[Publication],
    rows_then: Callable[[Publication], pl.DataFrame | None],
) -> tuple[pl.DataFrame, tuple[EarlierPublication, ...], tuple[Level, ...]]:
    """The fine table with each earlier publication's columns (`@n`), its levels over them,
    and the latent levels (its finest cells, which must keep a range when small).

    A cohort whose rows changed since is UNPUBLISHED in that publication's columns;
    when the earlier rows are gone (the release was replaced), every cohort is linked
    and the earlier cells that no longer add up are dropped (earlier.py counts them).
    """
    earlier: list[EarlierPublication] = []
    latent: list[Level] = []
    for n, publication in enumerate(publications):
        then: RecidivismCube = publication.value
        if then.cube is None:
            continue
        old = rows_then(publication)
        changed = changed_cohorts(frame, old, then.as_of) if old is not None else set()
        grid = then.grid if then.design.curve else then.windows
        suffix = f"@{n}"
        fine = publication_columns(
            fine, grid, then.as_of, then.design.floor, suffix,
            linked=~pl.col("cohort").is_in(sorted(changed)),
        )  # fmt: skip
        levels = {level: table.frame for level, table in then.cube.levels.items()}
        renamed = {c: f"{c}{suffix}" for level in levels for c in level}
        earlier.append(
            EarlierPublication(
                publication.release_id, publication.k, rename_levels(levels, renamed, {}), levels
            )
        )
        latent.append(("cohort", f"group{suffix}", f"horizon{suffix}", f"status{suffix}"))
    return fine, tuple(earlier), tuple(latent)


# ------------------------------------------------------------------ the design


def _withheld_window_cells(cube: ProtectedCounts, windows: Sequence[int]) -> int:
    """Pooled re-arrested / not re-arrested counts withheld: what a design must keep."""
    withheld = 0
    for w in windows:
        frame = cube.level(("group", by_column(w))).frame
        rows = frame.filter(pl.col(by_column(w)).is_in(["yes", "no"]))
        withheld += rows.filter(pl.col(f"{COUNT}_flag") != "").height
    return withheld


def choose_design(
    frame: pl.DataFrame,
    as_of: dt.date,
    site_id: str,
    audience: Audience,
    publications: Sequence[Publication] = (),
    rows_then: Callable[[Publication], pl.DataFrame | None] = lambda publication: None,
) -> RecidivismCube:
    """The most detailed design whose cube still publishes every pooled window count.

    The pooled LEAD-against-comparison figures are the page's headline; a
    finer curve or trend is worth publishing only if it does not cost them.
    When no design keeps them all, the one withholding fewest is used (earlier
    designs on ties). The choice depends on the data only through which cells
    would be withheld, which the published flags show anyway.

    Every design is protected together with the earlier `publications` of the
    cube (the ledger), whatever design they had: their cells are sums of the
    same fine table. Pooled figures grow by the cohorts closed since, and a
    growth of 1 to k-1 people is withheld with its complements; so after a
    design fails as of this release, the same design as of the date the latest
    publication's figures were counted is tried: the same cohorts followed as
    far, the earlier figures again (`as_of` says so). A pooled figure is thus
    updated once its increment can be published, which time brings.
    """
    policy = policy_from_environment()
    windows = windows_of(follow_up_grid(frame, "quarterly"))
    fine = fine_table(frame, as_of)
    earlier: tuple[EarlierPublication, ...] = ()
    latent: tuple[Level, ...] = ()
    if audience is Audience.PUBLIC and publications and not fine.is_empty():
        fine, earlier, latent = link_earlier(fine, frame, publications, rows_then)
    counted = publication_columns(fine, follow_up_grid(frame, "quarterly"), as_of, DESIGNS[0].floor)
    if counted.filter(pl.col("group") != UNPUBLISHED).is_empty():
        return RecidivismCube(None, DESIGNS[0], (), windows, as_of)
    last = _latest(publications) if audience is Audience.PUBLIC else None
    candidates = []
    for design in DESIGNS:
        candidates.append((design, as_of))
        if last is not None and last.design == design and last.as_of < as_of:
            candidates.append((design, last.as_of))
    tables: dict[tuple, pl.DataFrame] = {}
    best: tuple[int, RecidivismCube] | None = None
    for design, counted_as_of in candidates:
        grid = follow_up_grid(frame, design.curve or "windows")
        key = (grid, design.floor, counted_as_of)
        if key not in tables:
            tables[key] = publication_columns(fine, grid, counted_as_of, design.floor)
        cells = tables[key]
        if audience is Audience.PUBLIC and design is not DESIGNS[-1]:
            # Cheap necessary conditions, so small sites do not pay for an audit of each
            # design: a small cell in a published line forces a complement in that line.
            if _has_small(cells, [("group", by_column(w)) for w in windows], policy):
                continue  # the pooled windows' own line would lose a count
            if design.curve and _has_small(cells, [("group", "status")], policy):
                continue  # the curve would be cut and its complements spread
        try:
            cube = protect_counts(
                cells,
                view=f"recidivism:{site_id}",
                dimensions=FINE_DIMENSIONS,
                count=COUNT,
                margins=public_levels(windows, design),
                finest_published=False,
                audience=audience,
                policy=policy,
                earlier=earlier,
                # What each design promised to protect: its own finest cells, small ones
                # never worked out (the fine table is finer than any one design's).
                latent_levels=(DIMENSIONS, *latent),
            )
        except RuntimeError:
            if not earlier:
                raise
            # The repair loop found no way to protect this design against the earlier
            # releases (Seattle's quarterly curve in September against June's): it is
            # not published; a coarser design, or the earlier figures, are.
            log.warning("recidivism %s: design %r as of %s could not be protected against "
                        "the earlier releases", site_id, design.name, counted_as_of)  # fmt: skip
            continue
        result = RecidivismCube(cube, design, grid if design.curve else (), windows, counted_as_of)
        withheld = _withheld_window_cells(cube, windows)
        if withheld == 0:
            return result
        if best is None or withheld < best[0]:
            best = (withheld, result)
    if best is None:
        raise RuntimeError(f"recidivism {site_id}: no design could be protected; please report it")
    return best[1]


def _latest(publications: Sequence[Publication]) -> RecidivismCube | None:
    """The cube the public saw last (the ledger lists entries oldest first)."""
    cubes = [p.value for p in publications if p.value.cube is not None]
    return max(cubes, key=lambda rc: rc.as_of) if cubes else None


def _has_small(cells: pl.DataFrame, levels: Sequence[tuple[str, ...]], policy: Policy) -> bool:
    """True when any exact cell of these levels is from 1 to k-1."""
    k = policy.k
    for level in levels:
        shown = cells.filter(pl.all_horizontal(pl.col(c) != UNPUBLISHED for c in level))
        sums = shown.group_by(list(level)).agg(pl.col(COUNT).sum())[COUNT]
        if ((sums > 0) & (sums < k)).any():
            return True
    return False


@memoize(maxsize=64)
def recidivism_cube(
    engine: sa.Engine, release_id: str, checksum: str, site_id: str, audience: Audience
) -> RecidivismCube:
    """The site's re-arrest cube with every public level protected together.

    The public cube is protected against every earlier public release of the site.
    """
    del checksum  # only part of the memo key: a replaced release is recomputed
    release = q.get_release(engine, release_id)
    if "recidivism" not in q.published_tables(engine, release_id, site_id):
        return RecidivismCube(None, DESIGNS[0], (), (), release.as_of)
    frame = _rows(engine, release_id, site_id)
    publications = (
        earlier_publications(recidivism_cube, engine, release_id, site_id)
        if audience is Audience.PUBLIC
        else []
    )
    return choose_design(
        frame,
        release.as_of,
        site_id,
        audience,
        publications,
        rows_then=lambda publication: _rows_then(engine, publication, site_id),
    )


def _rows(engine: sa.Engine, release_id: str, site_id: str) -> pl.DataFrame:
    return q.aggregate(
        engine,
        "recidivism",
        q.Scope(release_id, site_id),
        by=["cohort", "group", "race_ethnicity", "followup_months"],
    )


def _rows_then(engine: sa.Engine, publication: Publication, site_id: str) -> pl.DataFrame | None:
    """The rows an earlier publication was made from, while they are loaded unchanged."""
    if not loaded_as_published(engine, publication):
        return None
    return _rows(engine, publication.release_id, site_id)


def cube_for(engine: sa.Engine, selection: Selection, audience: Audience) -> RecidivismCube:
    release = q.get_release(engine, selection.release_id)
    return recidivism_cube(
        engine, release.release_id, release.checksum, selection.site_id, audience
    )


# ------------------------------------------------------------------ reading published cells


def _cells(cube: ProtectedCounts, level: tuple[str, ...]) -> dict[tuple, tuple[int | None, str]]:
    """Published (value, reason) of each cell of a level; an absent cell is a true zero."""
    frame = cube.level(level).frame
    flag = f"{COUNT}_flag"
    return {
        tuple(row[c] for c in level): (row[COUNT], row[flag] or "")
        for row in frame.iter_rows(named=True)
    }


def _cell(cells: dict, key: tuple) -> tuple[int | None, str]:
    return cells.get(key, (0, ""))


def _sum(*parts: tuple[int | None, str]) -> tuple[int | None, str]:
    """A sum of published cells: unknown (with the first reason) when any part is withheld."""
    reasons = [r for v, r in parts if v is None]
    if reasons:
        return None, reasons[0] or WITHHELD_COUNT_REASON
    return sum(v for v, _ in parts), ""


def _window_counts(rc: RecidivismCube) -> pl.DataFrame:
    """Published re-arrested and group size per window and group, pooled over closed cohorts."""
    rows = []
    for w in rc.windows:
        cells = _cells(rc.cube, ("group", by_column(w)))
        for group in GROUPS:
            yes = _cell(cells, (group, "yes"))
            size = _sum(yes, _cell(cells, (group, "no")))
            rows.append(
                {"group": group, "window_months": w, OUTCOME: yes[0], "cohort_size": size[0],
                 "count_flag": yes[1] or size[1]}
            )  # fmt: skip
    return pl.DataFrame(
        rows,
        schema={"group": pl.String, "window_months": pl.Int64, OUTCOME: pl.Int64,
                "cohort_size": pl.Int64, "count_flag": pl.String},
    )  # fmt: skip


def _closed_span(rc: RecidivismCube, window: int) -> tuple[str, str] | None:
    """First and last entry cohort whose `window` has closed (labels, not counts)."""
    keys = rc.cube.finest_keys.filter(pl.col(by_column(window)).is_in(["yes", "no"]))
    if keys.is_empty():
        return None
    return keys["cohort"].min(), keys["cohort"].max()


# ------------------------------------------------------------------ LEAD against comparison


def _comparison_tables(
    rc: RecidivismCube, audience: Audience, view_name: str
) -> tuple[Protected, Protected]:
    """Rates per window and group, and RD / RR / OR per window, from published counts."""
    counts = _window_counts(rc)
    pooled = counts.filter(pl.col("cohort_size").is_not_null() & (pl.col("cohort_size") > 0))
    stand_in = pooled.select(
        pl.lit(_POOLED_COHORT).alias("cohort"),
        "group",
        pl.col("window_months").alias("followup_months"),
        "cohort_size",
        OUTCOME,
        pl.lit(None, pl.Int64).alias("new_felony_charge"),
    )
    # Windows where a group's size is withheld still need a row saying so.
    withheld = counts.filter(pl.col("cohort_size").is_null()).select(
        pl.lit(_POOLED_COHORT).alias("cohort"), "group",
        pl.col("window_months").alias("followup_months"),
        pl.col("cohort_size"), pl.col(OUTCOME), pl.lit(None, pl.Int64).alias("new_felony_charge"),
    )  # fmt: skip
    metrics = lead_vs_comparison(pl.concat([stand_in, withheld]), rc.as_of, rc.windows)
    flags = counts.group_by("window_months").agg(
        pl.col("count_flag").filter(pl.col("count_flag") != "").first().fill_null("")
    )
    metrics = metrics.join(flags, on="window_months", how="left").with_columns(
        pl.col("count_flag").fill_null("")
    )
    metrics = metrics.with_columns(_span_columns(rc))
    group_flags = counts.select("group", "window_months", pl.col("count_flag").alias("own_flag"))
    rates = metrics.filter(pl.col("metric_id") == "recidivism.rate").join(
        group_flags, on=["group", "window_months"], how="left"
    )
    rate_table = protect_derived(
        rates,
        view=f"{view_name}.rates",
        keys=["window_months", "group", "reliability", "note", "first_cohort", "last_cohort"],
        numerator="numerator",
        denominator="denominator",
        estimates=["estimate", "ci_low", "ci_high"],
        kind=DerivedKind.PROPORTION,
        withheld_flags=["own_flag"],
        keep_counts=True,
        audience=audience,
    )
    compared = metrics.filter(pl.col("metric_id") != "recidivism.rate")
    comparison_table = protect_comparison(
        compared,
        view=f"{view_name}.comparison",
        keys=["window_months", "metric_id", "reliability", "note", "first_cohort", "last_cohort"],
        groups=[("numerator", "denominator"), ("reference_numerator", "reference_denominator")],
        estimates=["estimate", "ci_low", "ci_high"],
        withheld_flags=["count_flag"],
        audience=audience,
    )
    return rate_table, comparison_table


def _span_columns(rc: RecidivismCube) -> list[pl.Expr]:
    spans = {w: _closed_span(rc, w) for w in rc.windows}
    first = {w: s[0] for w, s in spans.items() if s}
    last = {w: s[1] for w, s in spans.items() if s}
    return [
        pl.col("window_months").replace_strict(first, default=None, return_dtype=pl.String)
        .alias("first_cohort"),
        pl.col("window_months").replace_strict(last, default=None, return_dtype=pl.String)
        .alias("last_cohort"),
    ]  # fmt: skip


# ------------------------------------------------------------------ the cumulative curve


def _curve(rc: RecidivismCube, audience: Audience, view_name: str, policy: Policy) -> Protected:
    """Life table per group over the quarterly grid, as far as its counts are published.

    N at the start of interval j is the people followed from entry minus the
    events and censored of earlier intervals: a sum of published cells, so it
    is never a small count. The curve stops at the first interval whose events
    or censored are withheld, or where fewer than k people remain at risk.
    """
    k = policy.k if audience is Audience.PUBLIC else 0
    stable = policy.unstable_below
    totals = _cells(rc.cube, ("group",))
    status = _cells(rc.cube, ("group", "status"))
    rows = []
    for group in GROUPS:
        entered = _cell(totals, (group,))
        at_risk, reason = entered
        stopped = reason
        previous = 0
        so_far = 0
        for t in rc.grid:
            events = _cell(status, (group, f"event_{t:02d}"))
            censored = _cell(status, (group, f"none_{previous:02d}"))
            if not stopped:
                stopped = events[1] or censored[1]
            if not stopped and at_risk is not None and at_risk < k:
                stopped = f"the curve stops: fewer than {k} people still at risk"
            if not stopped and at_risk == 0:
                stopped = "no one left at risk"
            shown = not stopped
            so_far += events[0] if shown else 0
            rows.append(
                {
                    "group": group,
                    "followup_months": t,
                    "at_risk": at_risk if shown else None,
                    "events": events[0] if shown else None,
                    "censored": censored[0] if shown else None,
                    "events_so_far": so_far if shown else None,
                    "entered": entered[0],
                    "input_flag": stopped,
                }
            )
            if shown:
                at_risk = at_risk - events[0] - censored[0]
            previous = t
    table = pl.DataFrame(
        rows,
        schema={"group": pl.String, "followup_months": pl.Int64, "at_risk": pl.Int64,
                "events": pl.Int64, "censored": pl.Int64, "events_so_far": pl.Int64,
                "entered": pl.Int64, "input_flag": pl.String},
    )  # fmt: skip
    shown = table.filter(pl.col("input_flag") == "")
    if shown.height:
        shown = actuarial_survival(shown, ["group"], "followup_months").select(
            "group",
            "followup_months",
            (1.0 - pl.col("survival")).alias("estimate"),
            (1.0 - pl.col("survival_high")).alias("ci_low"),
            (1.0 - pl.col("survival_low")).alias("ci_high"),
        )
    else:
        shown = pl.DataFrame(
            schema={"group": pl.String, "followup_months": pl.Int64, "estimate": pl.Float64,
                    "ci_low": pl.Float64, "ci_high": pl.Float64},
        )  # fmt: skip
    table = table.join(shown, on=["group", "followup_months"], how="left").with_columns(
        pl.when(pl.col("at_risk") < stable)
        .then(pl.lit(f"fewer than {stable} people at risk: interpret with caution"))
        .when(pl.col("events_so_far") < stable)
        .then(pl.lit(policy.unstable_note))
        .otherwise(pl.lit(""))
        .alias("stability")
    )
    return protect_derived(
        table,
        view=f"{view_name}.curve",
        keys=["group", "followup_months", "stability"],
        numerator="events_so_far",
        denominator="entered",
        estimates=["estimate", "ci_low", "ci_high", "at_risk", "events", "censored"],
        kind=DerivedKind.RATE,
        withheld_flags=["input_flag"],
        keep_counts=True,
        audience=audience,
        policy=policy,
    )


# ------------------------------------------------------------------ the trend across cohorts


def _trend(
    rc: RecidivismCube, audience: Audience, view_name: str, column: str, until: str
) -> Protected:
    """12-month re-arrest of each entry cohort (quarter, or year) that has completed it."""
    cells = _cells(rc.cube, (column, "group", by_column(TREND_WINDOW)))
    labels = sorted({key[0] for key in cells if key[0] != OPEN and key[0] <= until})
    rows = []
    for label in labels:
        for group in GROUPS:
            yes = _cell(cells, (label, group, "yes"))
            size = _sum(yes, _cell(cells, (label, group, "no")))
            rows.append(
                {
                    # A year stands in as its last quarter: the year closes when that quarter does.
                    "cohort": label if column == "cohort12" else f"{label}-Q4",
                    "label": label,
                    "group": group,
                    "followup_months": TREND_WINDOW,
                    "cohort_size": size[0] if size[0] is not None else 0,
                    OUTCOME: yes[0] if yes[0] is not None else 0,
                    "new_felony_charge": 0,
                    "own_flag": yes[1] or size[1],
                }
            )
    schema = {"cohort": pl.String, "label": pl.String, "group": pl.String,
              "followup_months": pl.Int64, "cohort_size": pl.Int64, OUTCOME: pl.Int64,
              "new_felony_charge": pl.Int64, "own_flag": pl.String}  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema)
    known = frame.filter(pl.col("own_flag") == "")
    unknown = frame.filter(pl.col("own_flag") != "").with_columns(
        pl.lit(None, pl.Int64).alias("cohort_size"), pl.lit(None, pl.Int64).alias(OUTCOME)
    )
    # Withheld inputs are null, so the metric marks them not computable instead of using them.
    trend = recidivism_trend(pl.concat([known, unknown]), rc.as_of, TREND_WINDOW)
    trend = trend.join(
        frame.select("cohort", "label", "group", "own_flag"), on=["cohort", "group"], how="left"
    )
    return protect_derived(
        trend,
        view=f"{view_name}.trend",
        keys=["label", "group", "reliability", "note"],
        numerator="numerator",
        denominator="denominator",
        estimates=["estimate", "ci_low", "ci_high"],
        kind=DerivedKind.PROPORTION,
        withheld_flags=["own_flag"],
        keep_counts=True,
        audience=audience,
    ).subset(rename={"label": "cohort"})


# ------------------------------------------------------------------ the views


_SITE_ONLY = (
    "Re-arrest is published for the whole site only: entry cohorts are not broken down by "
    "precinct, and a precinct's cohorts would hold too few people."
)


def _still_as_of(as_of: dt.date) -> str:
    return (
        f"Re-arrest is counted as of {as_of:%d %B %Y}, as published before: adding the people "
        "whose follow-up has ended since would reveal groups too small to publish. They are "
        "added in a later release, once their number can be shown."
    )


@view("recidivism")
def recidivism_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """Windows side by side, LEAD against comparison, the curve and the trend across cohorts."""
    rc = cube_for(engine, selection, audience)
    notes = [_SITE_ONLY] if selection.precinct_ids else []
    if rc.cube is None:
        return ViewResult("recidivism", {}, words({"published": "no"}), tuple(notes))
    if rc.as_of < q.get_release(engine, selection.release_id).as_of:
        notes.append(_still_as_of(rc.as_of))
    period = parse_period(selection.period)
    rates, comparison = _comparison_tables(rc, audience, "recidivism")
    tables: dict[str, Protected] = {"rates": rates, "comparison": comparison}
    if rc.grid:
        tables["curve"] = _curve(rc, audience, "recidivism", policy_from_environment())
    if TREND_WINDOW in rc.windows:
        end_quarter = f"{period.year}-Q{period.number if period.grain == 'quarter' else 4}"
        if "cohort12" in rc.design.trend:
            tables["trend"] = _trend(rc, audience, "recidivism", "cohort12", end_quarter)
        if "year12" in rc.design.trend:
            tables["trend_by_year"] = _trend(rc, audience, "recidivism", "year12", str(period.year))
    span = _closed_span(rc, min(rc.windows)) if rc.windows else None
    facts = words(
        {
            "published": "yes",
            "as_of": rc.as_of.isoformat(),
            "windows": ",".join(str(w) for w in rc.windows),
            "design": rc.design.name,
            "curve_points": ",".join(str(t) for t in rc.grid),
            "trend_window": TREND_WINDOW if TREND_WINDOW in rc.windows else "",
            "trend_until": period.short,
            "first_cohort": span[0] if span else "",
            "last_cohort": span[1] if span else "",
            "period_phrase": period.phrase,
        }
    )
    return ViewResult("recidivism", tables, facts, tuple(notes))


@view("recidivism_headline")
def recidivism_headline_view(
    engine: sa.Engine, selection: Selection, audience: Audience
) -> ViewResult:
    """One window's LEAD-against-comparison result, pooled over closed cohorts, for headlines.

    The window is the first of HEADLINE_WINDOWS whose risk ratio is published;
    if none is, the first window the site has, so the reason can be told.
    Same cube as the page, so the numbers agree to the digit.
    """
    rc = cube_for(engine, selection, audience)
    notes = (_SITE_ONLY,) if selection.precinct_ids else ()
    if rc.cube is None or not rc.windows:
        return ViewResult("recidivism_headline", {}, words({"published": "no"}), notes)
    rates, comparison = _comparison_tables(rc, audience, "recidivism_headline")
    ratios = comparison.frame.filter(pl.col("metric_id") == "recidivism.risk_ratio")
    published = set(ratios.filter(pl.col("estimate").is_not_null())["window_months"].to_list())
    candidates = [w for w in HEADLINE_WINDOWS if w in rc.windows]
    window = next((w for w in candidates if w in published), (candidates or rc.windows)[0])
    in_window = pl.col("window_months") == window
    span = _closed_span(rc, window)
    facts = words(
        {
            "published": "yes",
            "window_months": window,
            "as_of": rc.as_of.isoformat(),
            "first_cohort": span[0] if span else "",
            "last_cohort": span[1] if span else "",
        }
    )
    tables = {
        "rates": rates.subset(rows=in_window, view="recidivism_headline.rates"),
        "comparison": comparison.subset(rows=in_window, view="recidivism_headline.comparison"),
    }
    return ViewResult("recidivism_headline", tables, facts, notes)


def _first(frame: pl.DataFrame, **equal) -> dict:
    for column, value in equal.items():
        frame = frame.filter(pl.col(column) == value)
    return frame.row(0, named=True) if frame.height else {}


def sentence_inputs(result: ViewResult, window_months: int | None = None) -> dict:
    """Keyword arguments for briefing.sentences.recidivism_sentence from a view's tables.

    Works on "recidivism_headline" (its one window) and on "recidivism" (pass
    the window). Only published values are passed; a withheld comparison passes
    its reason instead, so the sentence never sees a hidden number.
    """
    if result.facts.get("published") != "yes":
        return {"window_months": window_months or TREND_WINDOW, "lead_rate": None,
                "comparison_rate": None, "reliability": "not_computable"}  # fmt: skip
    window = window_months or int(result.facts["window_months"])
    rates = result.table("rates").frame.filter(pl.col("window_months") == window)
    comparison = result.table("comparison").frame.filter(pl.col("window_months") == window)
    lead, other = _first(rates, group="lead"), _first(rates, group="comparison")
    rd = _first(comparison, metric_id="recidivism.risk_difference")
    rr = _first(comparison, metric_id="recidivism.risk_ratio")
    odds = _first(comparison, metric_id="recidivism.odds_ratio")
    reliability = rr.get("reliability") or "not_computable"
    if reliability == "not_computable" and rr.get("note", "") == "input withheld or missing":
        withheld = rr.get("estimate_flag") or WITHHELD_COUNT_REASON
    else:
        withheld = rr.get("estimate_flag") or None
    return {
        "window_months": window,
        "lead_rate": lead.get("estimate"),
        "comparison_rate": other.get("estimate"),
        "lead_people": lead.get("denominator"),
        "comparison_people": other.get("denominator"),
        "risk_difference": rd.get("estimate"),
        "rd_low": rd.get("ci_low"),
        "rd_high": rd.get("ci_high"),
        "risk_ratio": rr.get("estimate"),
        "rr_low": rr.get("ci_low"),
        "rr_high": rr.get("ci_high"),
        "odds_ratio": odds.get("estimate"),
        "or_low": odds.get("ci_low"),
        "or_high": odds.get("ci_high"),
        "withheld": withheld,
        "reliability": reliability,
    }
