"""Read aggregates from the database as polars DataFrames.

Every function takes an engine and a `Scope` (release, site, precincts, period)
and pushes filtering and summing into SQL as bound parameters. A scope is
checked against the release's own sites and precincts before any query runs
(`resolve_scope`), so an unknown value never reaches SQL and the caller gets
an `InvalidFilter` naming the parameter and the value.

The frames returned here are exact aggregates. Public output must pass them
through disclosure control first; pages never call this module directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal

import polars as pl
import sqlalchemy as sa

from data_access.db import unavailable
from data_access.licences import SiteTerms, site_terms
from data_access.schema import DATA_TABLES, open_data_terms, releases

GRAINS = ("month", "quarter", "year")
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# The dimensions each table may be grouped by (besides its period).
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "referrals": (
        "site_id",
        "precinct_id",
        "pathway",
        "offense",
        "race_ethnicity",
        "gender",
        "age_band",
    ),
    "screening": ("site_id", "precinct_id", "outcome"),
    "eligible_contacts": ("site_id", "precinct_id", "race_ethnicity"),
    "caseload": ("site_id", "precinct_id", "race_ethnicity"),
    "services": ("site_id", "precinct_id", "race_ethnicity", "service"),
    "recidivism": ("site_id", "cohort", "group", "race_ethnicity", "followup_months"),
    "costs": ("site_id", "fiscal_year", "group", "category"),
    "population": ("site_id", "precinct_id", "race_ethnicity", "year"),
}
# The summed columns of each table.
MEASURES: dict[str, tuple[str, ...]] = {
    "referrals": ("referrals", "enrolled"),
    "screening": ("persons",),
    "eligible_contacts": ("eligible_contacts",),
    "caseload": ("active_participants",),
    "services": ("participants_served",),
    "recidivism": ("cohort_size", "rearrested", "new_felony_charge"),
    "costs": ("persons", "total_cost_usd"),
    "population": ("population",),
}
MONTHLY_TABLES = ("referrals", "screening", "eligible_contacts", "caseload", "services")


class InvalidFilter(ValueError):
    """A filter value that is not valid for this release; names parameter and value."""

    def __init__(self, parameter: str, value: object, reason: str):
        self.parameter, self.value, self.reason = parameter, value, reason
        super().__init__(f"{parameter}={value!r}: {reason}")


@dataclass(frozen=True)
class Release:
    release_id: str
    as_of: date
    synthetic: bool
    produced_by: str
    notes: str
    sites: tuple[str, ...]
    checksum: str = ""  # changes when a release is replaced; part of every cache key


@dataclass(frozen=True)
class Scope:
    """What a view covers. Build one with `resolve_scope`, which checks every value."""

    release_id: str
    site_id: str | None = None  # None: every site in the release
    precinct_ids: tuple[str, ...] = ()  # empty: every precinct
    start_month: str | None = None  # inclusive, YYYY-MM
    end_month: str | None = None  # inclusive, YYYY-MM


def _connect(engine: sa.Engine):
    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        raise unavailable("Cannot reach the {db}", engine.url, exc) from exc


def _read(engine: sa.Engine, query: sa.Select) -> pl.DataFrame:
    with _connect(engine) as conn:
        try:
            frame = pl.read_database(query, connection=conn)
        except sa.exc.OperationalError as exc:
            raise unavailable("The {db} stopped answering", engine.url, exc) from exc
    return _with_sql_types(frame, query)


# The polars type each kind of SQL value comes back as when there are values to see.
_POLARS_TYPE_OF = {
    str: pl.String,
    int: pl.Int64,
    float: pl.Float64,
    bool: pl.Boolean,
    date: pl.Date,
}


def _with_sql_types(frame: pl.DataFrame, query: sa.Select) -> pl.DataFrame:
    """Give a column with no value to infer from (no rows, or only NULLs) its SQL type.

    polars infers types from the values it reads, so an empty result comes back
    with every column of type Null, on SQLite and PostgreSQL alike. A caller that
    joins it to a typed frame (a grid of precincts and months, say) then fails
    with a SchemaError for a period that merely has no rows. A column that did
    get values keeps the type polars gave it.
    """
    casts = []
    for name, column in zip(frame.columns, query.selected_columns, strict=True):
        if frame.schema[name] != pl.Null:
            continue
        try:
            python_type = column.type.python_type
        except NotImplementedError:  # a type without one (NULL literals): nothing to restore
            continue
        if python_type is Decimal:
            dtype = pl.Decimal(38, column.type.scale or 0)  # as both drivers give NUMERIC
        else:
            dtype = _POLARS_TYPE_OF.get(python_type)
        if dtype is not None:
            casts.append(pl.col(name).cast(dtype))
    return frame.with_columns(casts) if casts else frame


RELEASE_LIST_SCHEMA = {
    "release_id": pl.String,
    "as_of": pl.Date,
    "loaded_at": pl.Datetime("us", "UTC"),
    "synthetic": pl.Boolean,
    "sites": pl.List(pl.String),
    "rows": pl.Int64,
    "row_counts": pl.String,
    "checksum": pl.String,
    "produced_by": pl.String,
    "notes": pl.String,
    "contract_version": pl.String,
}


def release_history(engine: sa.Engine) -> pl.DataFrame:
    """Every loaded release, newest as_of first (then most recently loaded first).

    `row_counts` is the JSON object of rows per table (a table the release
    does not publish is absent from it); `rows` is their total.
    """
    try:
        if not sa.inspect(engine).has_table(releases.name):
            return pl.DataFrame(schema=RELEASE_LIST_SCHEMA)
        with engine.connect() as conn:
            found = (
                conn.execute(
                    sa.select(releases).order_by(
                        releases.c.as_of.desc(), releases.c.loaded_at.desc()
                    )
                )
                .mappings()
                .all()
            )
    except sa.exc.OperationalError as exc:
        raise unavailable("Cannot reach the {db}", engine.url, exc) from exc
    records = []
    for row in found:
        counts = _as_json(row["row_counts"])
        loaded_at = row["loaded_at"]
        if loaded_at.tzinfo is None:  # SQLite drops the zone; we always store UTC
            loaded_at = loaded_at.replace(tzinfo=UTC)
        records.append(
            {
                "release_id": row["release_id"],
                "as_of": row["as_of"],
                "loaded_at": loaded_at,
                "synthetic": row["synthetic"],
                "sites": list(_as_json(row["sites"])),
                "rows": sum(counts.values()),
                "row_counts": json.dumps(counts, sort_keys=True),
                "checksum": row["checksum"],
                "produced_by": row["produced_by"],
                "notes": row["notes"],
                "contract_version": row["contract_version"],
            }
        )
    return pl.DataFrame(records, schema=RELEASE_LIST_SCHEMA, orient="row")


def _as_json(value):
    return json.loads(value) if isinstance(value, str) else value


def list_releases(engine: sa.Engine) -> list[Release]:
    """Every loaded release, newest `as_of` first (ties: most recently loaded first)."""
    return [
        Release(
            release_id=row["release_id"],
            as_of=row["as_of"],
            synthetic=bool(row["synthetic"]),
            produced_by=row["produced_by"],
            notes=row["notes"],
            sites=tuple(row["sites"]),
            checksum=row["checksum"],
        )
        for row in release_history(engine).iter_rows(named=True)
    ]


def get_release(engine: sa.Engine, release_id: str | None = None) -> Release:
    """The named release, or the newest one when `release_id` is None."""
    available = list_releases(engine)
    if not available:
        raise LookupError("No release is loaded yet. Run `python -m data_access demo` or `load`.")
    if release_id is None:
        return available[0]
    for release in available:
        if release.release_id == release_id:
            return release
    raise InvalidFilter("release", release_id, "no release with this id is loaded")


def sites(engine: sa.Engine, release_id: str) -> pl.DataFrame:
    """The release's sites: site_id, site_name, state, launched; ordered by name."""
    t = DATA_TABLES["sites"]
    query = (
        sa.select(t.c.site_id, t.c.site_name, t.c.state, t.c.launched)
        .where(t.c.release_id == release_id)
        .order_by(t.c.site_name)
    )
    return _read(engine, query)


def open_data_terms_of(
    engine: sa.Engine, release_id: str, site_ids: Sequence[str]
) -> dict[str, SiteTerms]:
    """Each site's open-data terms (licence, contact, privacy policy), defaults filled in.

    A database made before the table existed has none (its releases stated no terms):
    every site then publishes under the default licence.
    """
    given: dict[str, dict] = {}
    with _connect(engine) as conn:
        try:
            if sa.inspect(conn).has_table(open_data_terms.name):
                query = sa.select(open_data_terms).where(open_data_terms.c.release_id == release_id)
                given = {row["site_id"]: dict(row) for row in conn.execute(query).mappings()}
        except sa.exc.OperationalError as exc:
            raise unavailable("The {db} stopped answering", engine.url, exc) from exc
    return {
        site: site_terms(
            site,
            given.get(site, {}).get("licence"),
            given.get(site, {}).get("contact"),
            given.get(site, {}).get("privacy_policy_url"),
        )
        for site in site_ids
    }


def precincts(engine: sa.Engine, release_id: str, site_id: str | None = None) -> pl.DataFrame:
    """The release's precincts (of one site, or all): site_id, precinct_id, precinct_name."""
    t = DATA_TABLES["precincts"]
    query = sa.select(t.c.site_id, t.c.precinct_id, t.c.precinct_name).where(
        t.c.release_id == release_id
    )
    if site_id is not None:
        query = query.where(t.c.site_id == site_id)
    return _read(engine, query.order_by(t.c.site_id, t.c.precinct_name))


def published_tables(engine: sa.Engine, release_id: str, site_id: str | None) -> set[str]:
    """The optional tables that hold at least one row for this release (and site)."""
    # One statement of EXISTS tests, not a query per table: every view asks this, and
    # on a networked database ten round trips were half of a period change's time.
    tests = []
    for name, table in DATA_TABLES.items():
        rows = sa.select(sa.literal(1)).where(table.c.release_id == release_id)
        if site_id is not None:
            rows = rows.where(table.c.site_id == site_id)
        tests.append(sa.exists(rows).label(name))
    with _connect(engine) as conn:
        try:
            found = conn.execute(sa.select(*tests)).one()
        except sa.exc.OperationalError as exc:
            raise unavailable("The {db} stopped answering", engine.url, exc) from exc
    return {name for name, present in found._mapping.items() if present}


def resolve_scope(
    engine: sa.Engine,
    release: Release,
    site_id: str | None = None,
    precinct_ids: Iterable[str] = (),
    start_month: str | None = None,
    end_month: str | None = None,
) -> Scope:
    """A Scope whose every value has been checked against this release.

    Raises InvalidFilter naming the first bad parameter; callers that take
    values from a URL catch it, fall back to the default and say so.
    """
    known_sites = set(sites(engine, release.release_id)["site_id"].to_list())
    if site_id is not None and site_id not in known_sites:
        raise InvalidFilter("site", site_id, "not a site in this release")
    precinct_ids = tuple(dict.fromkeys(precinct_ids))
    if precinct_ids:
        if site_id is None:
            raise InvalidFilter("precinct", ",".join(precinct_ids), "choose a site first")
        known = set(precincts(engine, release.release_id, site_id)["precinct_id"].to_list())
        unknown = [p for p in precinct_ids if p not in known]
        if unknown:
            raise InvalidFilter("precinct", unknown[0], f"not a precinct of site {site_id}")
    as_of_month = f"{release.as_of.year:04d}-{release.as_of.month:02d}"
    for name, value in (("start", start_month), ("end", end_month)):
        if value is None:
            continue
        if not _MONTH_RE.match(value):
            raise InvalidFilter(name, value, "a month is written YYYY-MM, e.g. 2025-03")
        if value > as_of_month:
            raise InvalidFilter(name, value, f"after the data's end ({as_of_month})")
    if start_month and end_month and start_month > end_month:
        raise InvalidFilter("start", start_month, f"after the end month {end_month}")
    return Scope(release.release_id, site_id, precinct_ids, start_month, end_month)


def _check_by(table: str, by: Sequence[str]) -> None:
    allowed = DIMENSIONS[table]
    for column in by:
        if column not in allowed:
            raise ValueError(f"{table} cannot be grouped by {column!r}; allowed: {allowed}")


def _period_columns(t: sa.Table, grain: str | None) -> list[sa.ColumnElement]:
    if grain is None:
        return []
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")
    parts = {"year": ["period_year"], "quarter": ["period_year", "period_quarter"]}
    names = parts.get(grain, ["period_year", "period_month"])
    return [t.c[n] for n in names]


def _where_scope(query: sa.Select, t: sa.Table, scope: Scope) -> sa.Select:
    query = query.where(t.c.release_id == scope.release_id)
    if scope.site_id is not None:
        query = query.where(t.c.site_id == scope.site_id)
    if scope.precinct_ids and "precinct_id" in t.c:
        query = query.where(t.c.precinct_id.in_(scope.precinct_ids))
    if "month" in t.c:
        if scope.start_month:
            query = query.where(t.c.month >= scope.start_month)
        if scope.end_month:
            query = query.where(t.c.month <= scope.end_month)
    return query


def _label_period(frame: pl.DataFrame, grain: str | None) -> pl.DataFrame:
    """Replace the integer period parts with one sortable label column `period`."""
    if grain is None:
        return frame
    year = pl.col("period_year").cast(pl.String)
    if grain == "year":
        label = year
        parts = ["period_year"]
    elif grain == "quarter":
        label = year + "-Q" + pl.col("period_quarter").cast(pl.String)
        parts = ["period_year", "period_quarter"]
    else:
        label = year + "-" + pl.col("period_month").cast(pl.String).str.zfill(2)
        parts = ["period_year", "period_month"]
    return (
        frame.with_columns(label.alias("period")).drop(parts).select("period", pl.exclude("period"))
    )


def aggregate(
    engine: sa.Engine,
    table: str,
    scope: Scope,
    by: Sequence[str] = (),
    grain: str | None = None,
) -> pl.DataFrame:
    """Sum a table's measures over `scope`, grouped by `by` and by period `grain`.

    Returns the group columns (`period` first when a grain is asked for) and
    one column per measure, sorted by the group columns. Counts come back as
    Int64 and money as Float64 on both databases, and a scope with no rows
    gives an empty frame of the same types (see `_with_sql_types`).
    """
    if table not in DIMENSIONS:
        raise ValueError(f"unknown table {table!r}")
    _check_by(table, by)
    if grain is not None and table not in MONTHLY_TABLES:
        raise ValueError(f"{table} has no months to group by")
    t = DATA_TABLES[table]
    groups = _period_columns(t, grain) + [t.c[c] for c in by]
    sums = [
        sa.func.sum(t.c[m]).cast(sa.Float if m == "total_cost_usd" else sa.BigInteger).label(m)
        for m in MEASURES[table]
    ]
    query = _where_scope(sa.select(*groups, *sums), t, scope)
    if groups:
        query = query.group_by(*groups).order_by(*groups)
    frame = _read(engine, query)
    frame = frame.with_columns(
        [pl.col(m).cast(pl.Float64 if m == "total_cost_usd" else pl.Int64) for m in MEASURES[table]]
    )
    if not groups:
        # SQL returns one row of NULL sums over no rows; report an honest zero.
        frame = frame.fill_null(0)
    return _label_period(frame, grain)


def month_range(
    engine: sa.Engine, scope: Scope, table: str = "referrals"
) -> tuple[str, str] | None:
    """The first and last month with data in `table` within the scope, or None."""
    t = DATA_TABLES[table]
    query = _where_scope(sa.select(sa.func.min(t.c.month), sa.func.max(t.c.month)), t, scope)
    with _connect(engine) as conn:
        first, last = conn.execute(query).one()
    return None if first is None else (first, last)
