"""One protected cube per site and year for everything published about caseload and services.

Participants served by a service are a subset of the participants active that
month (the release's cross-checks enforce `participants_served <=
active_participants`), and one person can receive several services in a month,
so the eight service counts do not partition the caseload. Protecting caseload
and each service as separate tables would let a reader subtract "served" in one
table from "active" in another and recover a withheld "not served", so they are
protected together, as margins of one finest table:

    precinct x quarter x race x housing x counseling x ... x job_training

where each service column says whether the participant-months of the row
received that service ("yes") or not ("no"). The count is participant-months:
a person active for three months counts three times, as in the metric
services.uptake. Every published level that names a service publishes both
"yes" and "no", so the people not served are protected like the people served.

A release has no cross-tabulation of services (nobody knows how many got both
housing and counseling), and none is needed: any finest table whose margins
equal the true ones serves, because a reader who sees only margins deduces the
same from each. `staircase` builds one: within each precinct, quarter and race,
number the active participant-months 1..active and give service s to those
numbered 1..served(s). That yields at most nine service patterns per cell. It
is built on quarterly sums, since nothing finer than a quarter is published.

One cube per site *and year*: every published level names a quarter or a year,
so no published sum crosses a year boundary and each year is an independent
linear system. Protecting years separately is therefore as safe as protecting
them together, each year is protected exactly once (memoized), and a page that
shows three years pays for three years, not for a site's whole history (about
0.8 s of CPU per Seattle year against about 8 s for all fifteen at once).

Race groups too small to show by service fold into one combined group before
protection (fold_small_groups, decided on that year's service counts by race),
so the race tables show "Other races (combined)" instead of a wall of withheld
cells. Precinct is never crossed with race in a published level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import (
    COMBINED_RACE_CODE,
    ProtectedCounts,
    fold_small_groups,
    protect_counts,
    quarter_of,
    storable,
)
from data_access.ledger import Publication
from data_access.views.base import earlier_publications, memoize
from data_access.views.linking import link_by_quarter, loaded_as_published, whole_periods_only
from data_access.vocabulary import SERVICES

COUNT = "participant_months"
YES, NO = "yes", "no"
SERVICE_CODES = tuple(SERVICES)
DIMENSIONS = ("precinct_id", "quarter", "year", "race_ethnicity", *SERVICE_CODES)
_CELL = ("precinct_id", "quarter", "race_ethnicity")

CASELOAD_LEVELS: tuple[tuple[str, ...], ...] = (
    ("quarter",),
    ("year",),
    ("precinct_id", "quarter"),
    ("precinct_id", "year"),
    ("year", "race_ethnicity"),
)


def service_levels(service: str) -> tuple[tuple[str, ...], ...]:
    """The levels published for one service; each names it, so yes and no go out together."""
    return (
        (service, "quarter"),
        (service, "year"),
        (service, "year", "race_ethnicity"),
        (service, "precinct_id", "year"),
    )


# Every margin published anywhere from this cube, on any page or download.
PUBLIC_LEVELS: tuple[tuple[str, ...], ...] = (
    *CASELOAD_LEVELS,
    *(level for service in SERVICE_CODES for level in service_levels(service)),
)


@storable
@dataclass(frozen=True)
class CaseloadCube:
    """One site-year's protected caseload-and-services cube, and what a page must say about it.

    `counts` is None when the site has no caseload rows that year. Without a
    services table only CASELOAD_LEVELS are published (`has_services` False).
    `folded` lists the race codes combined into COMBINED_RACE_CODE; `fold_note`
    says so in words.
    """

    year: int
    counts: ProtectedCounts | None
    has_services: bool
    folded: tuple[str, ...] = ()
    fold_note: str = ""


def staircase(caseload: pl.DataFrame, services: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Participant-months by pattern of services, whose margins equal the true ones.

    caseload: one row per `key` with `active_participants`.
    services: one row per `key` and `service` with `participants_served`.
    Returns one row per `key` and pattern of the eight services (columns named by
    service code, "yes" or "no") with COUNT > 0.

    Worked example, one cell with 10 active, housing 6 and counseling 2 (others 0):
    participant-months 1-2 get both, 3-6 housing only, 7-10 neither, so the rows are
    (housing yes, counseling yes) 2, (yes, no) 4 and (no, no) 4: housing 2 + 4 = 6,
    counseling 2, active 2 + 4 + 4 = 10.
    """
    if services.height:
        wide = services.pivot(
            on="service", index=key, values="participants_served", aggregate_function="sum"
        )
    else:
        wide = caseload.select(key).head(0)
    for code in SERVICE_CODES:
        if code not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(code))
    cells = caseload.join(wide.select(*key, *SERVICE_CODES), on=key, how="left")
    cells = cells.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in SERVICE_CODES)
    over = cells.filter(pl.max_horizontal(SERVICE_CODES) > pl.col("active_participants"))
    if over.height:
        row = over.row(0, named=True)
        where = ", ".join(f"{k} {row[k]!r}" for k in key)
        raise ValueError(
            f"services: more participants served than active at {where}; the release's "
            "cross-checks should have refused it"
        )
    served = cells.select(SERVICE_CODES).to_numpy().astype(np.int64)  # cells x services
    active = cells["active_participants"].to_numpy().astype(np.int64)
    order = np.argsort(-served, axis=1, kind="stable")  # most-served service first
    ranked = np.take_along_axis(served, order, axis=1)
    # Pattern j (0..8) holds the j most-served services; its size is the step from the
    # j-th to the (j+1)-th largest served count (with active above and zero below).
    edges = np.column_stack([active, ranked, np.zeros(len(active), dtype=np.int64)])
    sizes = edges[:, :-1] - edges[:, 1:]  # cells x 9 patterns
    position = np.argsort(order, axis=1)  # each service's place in its cell's order
    n_cells, n_patterns = sizes.shape
    cell_of_row = np.repeat(np.arange(n_cells), n_patterns)
    pattern = np.tile(np.arange(n_patterns), n_cells)
    keep = sizes.ravel() > 0
    cell_of_row, pattern = cell_of_row[keep], pattern[keep]
    has = position[cell_of_row] < pattern[:, None]  # rows x services
    rows = cells.select(key)[cell_of_row].with_columns(
        *(
            pl.Series(code, np.where(has[:, i], YES, NO), dtype=pl.String)
            for i, code in enumerate(SERVICE_CODES)
        ),
        pl.Series(COUNT, sizes.ravel()[keep], dtype=pl.Int64),
    )
    return rows


def _quarterly(
    engine: sa.Engine, scope: q.Scope, table: str, count: str, by: list[str]
) -> pl.DataFrame:
    frame = q.aggregate(engine, table, scope, by=by, grain="month")
    return (
        frame.with_columns(quarter_of(pl.col("period")).alias("quarter"))
        .group_by(["quarter", *by])
        .agg(pl.col(count).sum())
    )


def finest_table(engine: sa.Engine, release_id: str, site_id: str, year: int) -> pl.DataFrame:
    """The exact finest table of one site-year (never published); empty without caseload."""
    scope = q.Scope(release_id, site_id, (), f"{year:04d}-01", f"{year:04d}-12")
    present = q.published_tables(engine, release_id, site_id)
    empty = pl.DataFrame(
        schema={**{d: pl.String for d in DIMENSIONS}, COUNT: pl.Int64}
    )  # fmt: skip
    if "caseload" not in present:
        return empty
    cells = ["precinct_id", "race_ethnicity"]
    caseload = _quarterly(engine, scope, "caseload", "active_participants", cells)
    caseload = caseload.filter(pl.col("active_participants") > 0)
    if caseload.is_empty():
        return empty
    if "services" in present:
        services = _quarterly(engine, scope, "services", "participants_served", [*cells, "service"])
    else:
        services = pl.DataFrame(
            schema={**{c: pl.String for c in (*_CELL, "service")}, "participants_served": pl.Int64}
        )
    finest = staircase(caseload, services, list(_CELL))
    finest = finest.with_columns(pl.col("quarter").str.slice(0, 4).alias("year"))
    return finest.select(*DIMENSIONS, COUNT).sort(DIMENSIONS)


def fold_races(finest: pl.DataFrame, has_services: bool) -> tuple[tuple[str, ...], str]:
    """Race groups too small in this year's race tables, and the sentence that says so.

    Sized on participant-months served by each service (the sparsest race table
    published), or on active participant-months when there are no services.
    """
    if finest.is_empty():
        return (), ""
    if has_services:
        sizing = pl.concat(
            finest.filter(pl.col(code) == YES)
            .group_by("race_ethnicity")
            .agg(pl.col(COUNT).sum())
            .with_columns(pl.lit(code).alias("service"))
            for code in SERVICE_CODES
        )
        keys = ["race_ethnicity", "service"]
    else:
        sizing = finest.group_by("race_ethnicity").agg(pl.col(COUNT).sum())
        keys = ["race_ethnicity"]
    folded = fold_small_groups(sizing, keys=keys, counts=[COUNT])
    return folded.folded, folded.note


def apply_fold(finest: pl.DataFrame, folded: tuple[str, ...]) -> pl.DataFrame:
    """The finest table with the `folded` race codes combined into one group."""
    if not folded:
        return finest
    combined = pl.when(pl.col("race_ethnicity").is_in(list(folded))).then(
        pl.lit(COMBINED_RACE_CODE)
    )
    return (
        finest.with_columns(combined.otherwise(pl.col("race_ethnicity")).alias("race_ethnicity"))
        .group_by(DIMENSIONS)
        .agg(pl.col(COUNT).sum())
        .sort(DIMENSIONS)
    )


@memoize(maxsize=256)
def caseload_services(
    engine: sa.Engine,
    release_id: str,
    checksum: str,
    site_id: str,
    year: int,
    audience: Audience,
) -> CaseloadCube:
    """One site-year's caseload-and-services cube, every public level protected together."""
    del checksum  # only part of the memo key: a replaced release is recomputed
    finest = finest_table(engine, release_id, site_id, year)
    if finest.is_empty():
        return CaseloadCube(year, None, False)
    has_services = "services" in q.published_tables(engine, release_id, site_id)
    folded, note = fold_races(finest, has_services)
    finest = apply_fold(finest, folded)
    earlier = ()
    if audience is Audience.PUBLIC:
        # Whole periods only (a year once it is over), protected against earlier releases.
        finest = whole_periods_only(finest, q.get_release(engine, release_id).as_of)
        finest, earlier = link_by_quarter(
            finest,
            earlier_publications(caseload_services, engine, release_id, site_id, year),
            finest_then=lambda publication: _finest_then(engine, publication, site_id, folded),
            levels_then=lambda publication: (
                {level: t.frame for level, t in publication.value.counts.levels.items()}
                if publication.value.counts is not None
                else None
            ),
            count=COUNT,
        )
    counts = protect_counts(
        finest,
        view=f"caseload_services:{site_id}:{year}",
        dimensions=DIMENSIONS,
        count=COUNT,
        margins=PUBLIC_LEVELS if has_services else CASELOAD_LEVELS,
        finest_published=False,
        audience=audience,
        earlier=earlier,
    )
    return CaseloadCube(year, counts, has_services, folded, note)


def _finest_then(
    engine: sa.Engine, publication: Publication, site_id: str, folded: tuple[str, ...]
) -> pl.DataFrame | None:
    """An earlier publication's finest table, folded as this release folds, while loaded.

    Compared quarter by quarter with this release's: a year with the same rows folds
    the same way, so its cells link; a changed one does not link at all.
    """
    if not loaded_as_published(engine, publication):
        return None
    year = publication.value.year
    return apply_fold(finest_table(engine, publication.release_id, site_id, year), folded)
