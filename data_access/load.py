"""Load a validated release into the database in one transaction, or change nothing.

A release is validated in full before the database is touched; any problem
raises ReleaseInvalid carrying the report. The register row and every table's
rows are then written inside a single transaction, so a database error half
way (a full disk, a dropped connection) rolls back to exactly the state before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from data_access import cube_store, ledger
from data_access.contract import CONTRACT_VERSION, TABLES
from data_access.db import DatabaseUnavailable, describe, init_db, redact, without_timeouts
from data_access.licences import OPEN_DATA_FIELD, TERM_KEYS
from data_access.queries import release_history as list_releases  # noqa: F401 (CLI, tests)
from data_access.release_files import release_checksum
from data_access.schema import COHORT_PARTS, DATA_TABLES, MONTH_PARTS, open_data_terms, releases
from data_access.validate import ValidationReport, validate_release

# Rows sent per executemany call: large enough to amortise round trips, small
# enough that a million-row table never sits in memory as Python dicts at once.
CHUNK_ROWS = 20_000


class ReleaseInvalid(ValueError):
    """The release has problems; `report` lists them. Nothing was loaded."""

    def __init__(self, report: ValidationReport):
        self.report = report
        noun = "problem" if report.problem_count == 1 else "problems"
        super().__init__(f"{report.path} has {report.problem_count:,} {noun}; nothing was loaded")


class ReleaseAlreadyLoaded(ValueError):
    """A release with this release_id is in the database and replacing was not asked for."""


class ReleaseOutOfOrder(ReleaseAlreadyLoaded):
    """A later release of one of its sites is already public (see data_access/ledger.py)."""


class LoadFailed(RuntimeError):
    """The database refused part of the load; the transaction was rolled back."""


@dataclass(frozen=True)
class LoadSummary:
    release_id: str
    as_of: date
    row_counts: dict[str, int]
    checksum: str
    replaced: bool  # True when an earlier load of the same release_id was replaced
    seconds: float  # wall time of validation plus load

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    def __str__(self) -> str:
        verb = "Replaced" if self.replaced else "Loaded"
        return (
            f"{verb} release {self.release_id} (as of {self.as_of.isoformat()}): "
            f"{self.total_rows:,} rows in {len(self.row_counts)} tables "
            f"in {self.seconds:.1f} s"
        )


def load_release(engine: sa.Engine, path: Path | str, *, replace: bool = False) -> LoadSummary:
    """Validate the release folder at `path` and load it; raise and change nothing on failure.

    Raises ReleaseInvalid (problems in the files), ReleaseAlreadyLoaded (same
    release_id present and `replace` is False), DatabaseUnavailable (cannot
    connect) or LoadFailed (the database refused the rows).
    """
    started = time.perf_counter()
    report = validate_release(path)
    if not report.ok:
        raise ReleaseInvalid(report)
    manifest = report.manifest
    release_id = manifest["release_id"]
    init_db(engine)  # creates any missing table; an existing one is left as it is
    _refuse_out_of_order(engine, release_id, date.fromisoformat(manifest["as_of"]), manifest)

    row_counts = {name: frame.height for name, frame in report.tables.items()}
    register_row = {
        "release_id": release_id,
        "as_of": date.fromisoformat(manifest["as_of"]),
        "loaded_at": datetime.now(UTC),
        "checksum": release_checksum(report.files),
        "row_counts": row_counts,
        "synthetic": manifest["synthetic"],
        "produced_by": manifest["produced_by"],
        "notes": manifest["notes"],
        "sites": list(manifest["sites"]),
        "contract_version": CONTRACT_VERSION,
    }
    try:
        # The dashboard's timeouts (LEAD_DB_TIMEOUT_SECONDS) are for visitors' reads.
        with engine.begin() as conn, without_timeouts(conn):
            present = conn.execute(
                sa.select(releases.c.release_id).where(releases.c.release_id == release_id)
            ).first()
            if present and not replace:
                raise ReleaseAlreadyLoaded(
                    f"Release {release_id} is already loaded; use --replace "
                    "(replace=True) to load this folder in its place"
                )
            if present:
                _delete_release(conn, release_id)
            conn.execute(releases.insert(), register_row)
            terms = _open_data_rows(release_id, manifest.get(OPEN_DATA_FIELD, {}))
            if terms:
                conn.execute(open_data_terms.insert(), terms)
            for table in TABLES:
                frame = report.tables.get(table.name)
                if frame is not None and frame.height:
                    _insert(conn, DATA_TABLES[table.name], database_rows(frame, release_id))
    except (ReleaseAlreadyLoaded, DatabaseUnavailable):
        raise
    except (sa.exc.SQLAlchemyError, engine.dialect.loaded_dbapi.Error) as exc:
        # A driver error can surface unwrapped from COPY; either way it was rolled back.
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise LoadFailed(
            f"Loading release {release_id} into the {describe(engine.url)} failed, "
            f"and nothing was changed: {redact(reason, engine.url)}"
        ) from exc
    return LoadSummary(
        release_id=release_id,
        as_of=register_row["as_of"],
        row_counts=row_counts,
        checksum=register_row["checksum"],
        replaced=bool(present),
        seconds=time.perf_counter() - started,
    )


def _refuse_out_of_order(engine: sa.Engine, release_id: str, as_of: date, manifest) -> None:
    """Releases are published in date order: refuse one older than a site's public release.

    Its figures could not be protected against the later release's (nor could
    a replaced release's against a later one that was protected against it).
    """
    sites = set(manifest["sites"])
    later = [
        e
        for e in ledger.entries(engine)
        if e["site_id"] in sites and e["as_of"] > as_of and e["release_id"] != release_id
    ]
    if later:
        newest = max(later, key=lambda e: e["as_of"])
        raise ReleaseOutOfOrder(
            f"Release {release_id} is as of {as_of}, but release {newest['release_id']} of "
            f"{newest['site_id']} (as of {newest['as_of']}) is already public. Releases are "
            "published in date order, so nothing was loaded; to correct an earlier release, "
            "publish the correction as a new release with a later as-of date."
        )


def database_rows(frame: pl.DataFrame, release_id: str) -> pl.DataFrame:
    """A table's rows as stored: release_id first, integer companions of month and cohort."""
    extra = [pl.lit(release_id).alias("release_id")]
    if "month" in frame.columns:
        month = pl.col("month")
        number = month.str.slice(5, 2).cast(pl.Int64)
        extra += [
            month.str.slice(0, 4).cast(pl.Int64).alias(MONTH_PARTS[0]),
            ((number - 1) // 3 + 1).alias(MONTH_PARTS[1]),
            number.alias(MONTH_PARTS[2]),
        ]
    if "cohort" in frame.columns:
        cohort = pl.col("cohort")
        extra += [
            cohort.str.slice(0, 4).cast(pl.Int64).alias(COHORT_PARTS[0]),
            cohort.str.slice(6, 1).cast(pl.Int64).alias(COHORT_PARTS[1]),
        ]
    return frame.with_columns(extra)


def _insert(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy_into(conn, table, frame)
        return
    for chunk in frame.iter_slices(CHUNK_ROWS):
        conn.execute(table.insert(), chunk.to_dicts())


def _copy_into(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    # PostgreSQL's COPY takes a million rows in seconds where executemany takes
    # most of a minute. It runs on the same connection, so inside the same
    # transaction: a failure still rolls back everything.
    columns = frame.columns
    quoted_columns = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    target = conn.dialect.identifier_preparer.format_table(table)
    statement = f"COPY {target} ({quoted_columns}) FROM STDIN WITH (FORMAT csv)"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for chunk in frame.iter_slices(CHUNK_ROWS * 5):
                copy.write(chunk.write_csv(include_header=False).encode())
    finally:
        cursor.close()


def _open_data_rows(release_id: str, given: dict[str, dict[str, str]]) -> list[dict]:
    """One row per site that release.json gives terms for (validated), as given."""
    return [
        {"release_id": release_id, "site_id": site, **{key: terms.get(key) for key in TERM_KEYS}}
        for site, terms in given.items()
    ]


def _delete_release(conn: sa.Connection, release_id: str) -> None:
    # Data rows first, so the delete does not lean on ON DELETE CASCADE being enforced.
    cube_store.forget_release(conn, release_id)
    for table in (*DATA_TABLES.values(), open_data_terms):
        conn.execute(table.delete().where(table.c.release_id == release_id))
    conn.execute(releases.delete().where(releases.c.release_id == release_id))
