"""What the open-data bundle exports, and how each table is collected through the choke point.

Two kinds of source, both already protected for the audience:

- the published levels of each protected count cube (`CUBES`): every count the
  pages show, at every grain they show it (quarter and year, site and
  precinct, by race), one table per level across the sites;
- the tables of every registered view (`data_access.views.view_names()`), built
  for each site and each complete period a visitor can choose (whole quarters
  and whole years), with the site and the selected period added as columns.
  Views listed in `RELEASE_VIEWS` describe the whole release and are built once.

Nothing here runs a query or computes a figure: frames come out of
`views.build` or a cube's `levels`, which are `Protected`. A new cube (a view
module's memoized function returning `ProtectedCounts`) must be listed in
`CUBES`; tests/test_export.py fails until it is, so no count table is left out.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from data_access import views
from data_access.audience import Audience
from data_access.disclosure import Protected, ProtectedCounts
from data_access.periods import Period, available_periods
from data_access.queries import Release
from data_access.views import Selection
from data_access.views import methods as _methods  # noqa: F401  (registers RELEASE_VIEWS)
from data_access.views.caseload_cube import caseload_services
from data_access.views.costs import site_costs
from data_access.views.recidivism import recidivism_cube
from data_access.views.referral_flow import finest_table as referral_flow_finest
from data_access.views.referral_flow import referral_flow

SITE_COLUMN = "site_id"
PERIOD_COLUMN = "selected_period"


@dataclass(frozen=True)
class CubeExport:
    """A protected count cube whose published levels go into the bundle.

    function: the view module's memoized cube function itself (tests check that
        every such function is listed here). It is called with the arguments its
        parameters name (engine, release_id, checksum, site_id, audience, and
        year for a cube protected one year at a time, called for every year).
    part: the attribute of its result holding the ProtectedCounts (None: the
        result is one); a None there means the site does not publish that table.
    finest: the exact finest table, for audits that also check unpublished
        small cells (tests only; never written to the bundle).
    """

    name: str
    description: str
    function: Callable
    part: str | None = None
    finest: Callable[[sa.Engine, Release, str], pl.DataFrame | None] | None = None

    def build(
        self,
        engine: sa.Engine,
        release: Release,
        site_id: str,
        audience: Audience,
        years: Sequence[int] = (),
    ) -> list[ProtectedCounts]:
        """The site's protected cubes: one, or one per year for a cube built by year."""
        signature = inspect.signature(self.function).parameters
        # Optional parameters (staff-only restrictions, say) keep their defaults: they come
        # last, and memoized functions take positional arguments, so they are left out.
        parameters = [name for name, p in signature.items() if p.default is inspect.Parameter.empty]
        known = {
            "engine": engine,
            "release_id": release.release_id,
            "checksum": release.checksum,
            "site_id": site_id,
            "audience": audience,
        }
        unknown = [p for p in parameters if p not in known and p != "year"]
        if unknown:
            raise ExportFailed(f"cube {self.name!r}: cannot fill parameters {unknown}")
        found = []
        for year in years if "year" in parameters else (None,):
            values = {**known, "year": year}
            # Memoized cube functions take positional arguments only.
            result = self.function(*(values[p] for p in parameters))
            counts = getattr(result, self.part) if self.part else result
            if counts is not None:
                found.append(counts)
        return found


CUBES: tuple[CubeExport, ...] = (
    CubeExport(
        "referral_flow",
        "People referred to LEAD, their screening outcomes and enrollments, and the eligible "
        "contacts who were not referred, protected together as one table with its totals.",
        referral_flow,
        finest=lambda engine, release, site_id: referral_flow_finest(
            engine, release.release_id, site_id
        ),
    ),
    CubeExport(
        "caseload_services",
        "Participant-months of active participants and of those who received each service, "
        "by quarter or year, precinct and race, protected together (one year at a time).",
        caseload_services,
        part="counts",
    ),
    CubeExport(
        "recidivism",
        "Entry cohorts of LEAD and of the comparison group, and the people in them re-arrested "
        "within each follow-up window, protected together.",
        recidivism_cube,
        part="cube",
    ),
    CubeExport(
        "costs",
        "People in LEAD and in the comparison group in each complete fiscal year (the "
        "denominators of the cost figures).",
        site_costs,
        part="persons",
    ),
)

# Views about the whole release (not one site or period): built once, no selection columns.
RELEASE_VIEWS = ("places", "release_history")
# Views that only gather other views' tables (each site's own, unchanged): their tables are
# already in the bundle under the views they come from, so they are not written twice.
GATHERING_VIEWS: dict[str, str] = {
    "compare_sites": "The Compare sites page shows, side by side, each site's own headline "
    "tables (views referrals, recidivism_headline, disparity_headline and cost_headline); "
    "they are in the files of those views.",
}


class ExportFailed(RuntimeError):
    """The bundle could not be built; the message names the source that failed."""


@dataclass(frozen=True)
class CollectedTable:
    """One bundle table before it is written: the frame and where it came from."""

    name: str  # the file stem, e.g. "view-referrals-funnel"
    kind: str  # "count level", "view table" or "reference"
    source: str  # what produced it, in words
    frame: pl.DataFrame
    count_column: str | None = None  # the cube's count column, for count levels
    level: tuple[str, ...] = ()  # the cube level's columns, for count levels
    cube: str = ""
    protected: tuple[Protected, ...] = ()  # every Protected the rows came from


def count_table_name(cube: str, level: Sequence[str]) -> str:
    return f"count-{cube}-by-{'-'.join(level) or 'total'}"


def view_table_name(view: str, table: str) -> str:
    """The file stem of a view's table: letters, digits, "_" and "-" only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", f"view-{view}-{table}")


def _check_audience(protected: Protected, audience: Audience, where: str) -> Protected:
    if protected.audience is not audience:
        raise ExportFailed(f"{where} came back for the {protected.audience} audience")
    return protected


def _with_selection(frame: pl.DataFrame, site_id: str, period: str | None) -> pl.DataFrame:
    """The frame with the selection it answers in front: site_id (and selected_period)."""
    site_column = SITE_COLUMN if SITE_COLUMN not in frame.columns else f"selected_{SITE_COLUMN}"
    if PERIOD_COLUMN in frame.columns or site_column in frame.columns:
        raise ExportFailed(f"a view table already has a column named {site_column!r}")
    front = [pl.lit(site_id, dtype=pl.String).alias(site_column)]
    if period is not None:
        front.append(pl.lit(period, dtype=pl.String).alias(PERIOD_COLUMN))
    return frame.select(*front, pl.all())


def collect_cubes(
    engine: sa.Engine,
    release: Release,
    site_years: dict[str, list[int]],
    audience: Audience,
    cubes: Sequence[CubeExport] = CUBES,
) -> list[CollectedTable]:
    """One table per published level of each cube, the sites (and years) one under another.

    Sites may publish different levels of one cube (a site without a services
    table has only the caseload levels): each level holds the sites that publish it.
    """
    tables = []
    for cube in cubes:
        per_site: dict[str, list[ProtectedCounts]] = {}
        for site_id, years in site_years.items():
            try:
                per_site[site_id] = cube.build(engine, release, site_id, audience, years)
            except (LookupError, ValueError) as exc:
                raise ExportFailed(f"cube {cube.name!r} for site {site_id!r}: {exc}") from exc
        every = [c for found in per_site.values() for c in found]
        if not every:
            continue
        for level in dict.fromkeys(level for c in every for level in c.levels):
            parts, sources = [], []
            for site_id, found in per_site.items():
                for counts in found:
                    if level not in counts.levels:
                        continue
                    protected = _check_audience(
                        counts.levels[level], audience, f"cube {cube.name!r} level {list(level)}"
                    )
                    sources.append(protected)
                    # Periods in order (the cube lists cells in its own order).
                    frame = protected.frame.sort(list(level), maintain_order=True)
                    parts.append(_with_selection(frame, site_id, None))
            tables.append(
                CollectedTable(
                    name=count_table_name(cube.name, level),
                    kind="count level",
                    source=f"cube {cube.name}, level {' x '.join(level) or 'total'}",
                    frame=pl.concat(parts, how="diagonal_relaxed"),
                    count_column=every[0].count,
                    level=tuple(level),
                    cube=cube.name,
                    protected=tuple(sources),
                )
            )
    return tables


def periods_of_site(release: Release, launched: str) -> list[Period]:
    """The periods a visitor can choose for a site: whole quarters, then whole years."""
    return available_periods(release.as_of, launched)


def _build(name: str, engine, selection: Selection, audience: Audience) -> views.ViewResult:
    try:
        return views.build(name, engine, selection, audience)
    except (LookupError, ValueError) as exc:
        raise ExportFailed(
            f"view {name!r} for site {selection.site_id!r}, period {selection.period}: {exc}"
        ) from exc


def collect_views(
    engine: sa.Engine,
    release: Release,
    site_periods: dict[str, list[Period]],
    audience: Audience,
    view_names: Sequence[str] | None = None,
) -> tuple[list[CollectedTable], list[str]]:
    """Every table of every per-site view, for each site and each of its periods.

    A table that is the same for every period of every site (a quarterly trend,
    say) is written once per site, without `selected_period`; the others carry
    the period the dashboard was set to, so a row can be matched to a page.
    Also returns the views' notes (groups combined, tables not published...),
    each once, with the sites it applies to.
    """
    skipped = {*RELEASE_VIEWS, *GATHERING_VIEWS}
    names = [n for n in (view_names or views.view_names()) if n not in skipped]
    tables = []
    notes: dict[str, list[str]] = {}
    for name in names:
        # table key -> site -> [(period code, Protected)]
        found: dict[str, dict[str, list[tuple[str, Protected]]]] = {}
        try:
            results = [
                (site_id, period.code, _build(name, engine, Selection(release.release_id,
                                                                      site_id, period.code),
                                              audience))
                for site_id, periods in site_periods.items()
                for period in periods
            ]  # fmt: skip
        except PermissionError:
            continue  # a view for another audience (staff only) is not in this bundle
        for site_id, period, result in results:
            for note in (*result.notes, *(n for p in result.tables.values() for n in p.notes)):
                sites = notes.setdefault(f"{name}: {note}", [])
                if site_id not in sites:
                    sites.append(site_id)
            for key, protected in result.tables.items():
                _check_audience(protected, audience, f"view {name!r} table {key!r}")
                found.setdefault(key, {}).setdefault(site_id, []).append((period, protected))
        for key, by_site in found.items():
            table = _view_table(name, key, by_site)
            if any(t.name == table.name for t in tables):
                raise ExportFailed(f"view {name!r}: two tables would be written as {table.name}")
            tables.append(table)
    return tables, [f"{note} (sites: {', '.join(sites)})" for note, sites in notes.items()]


def _view_table(
    name: str, key: str, by_site: dict[str, list[tuple[str, Protected]]]
) -> CollectedTable:
    same_every_period = all(
        all(p.frame.equals(entries[0][1].frame) for _, p in entries[1:])
        for entries in by_site.values()
    )
    parts, sources = [], []
    for site_id, entries in by_site.items():
        chosen = entries[:1] if same_every_period else entries
        for period, protected in chosen:
            sources.append(protected)
            parts.append(
                _with_selection(protected.frame, site_id, None if same_every_period else period)
            )
    return CollectedTable(
        name=view_table_name(name, key),
        kind="view table",
        source=f"view {name}, table {key}"
        + (" (the same for every period)" if same_every_period else ", for each period"),
        frame=pl.concat(parts, how="diagonal_relaxed"),
        protected=tuple(sources),
    )


def collect_release_views(
    engine: sa.Engine, release: Release, site_id: str, audience: Audience
) -> dict[str, views.ViewResult]:
    """The views about the whole release, built once (the site only fills the selection)."""
    selection = Selection(release.release_id, site_id, str(release.as_of.year))
    return {name: _build(name, engine, selection, audience) for name in RELEASE_VIEWS}
