"""SQLAlchemy Core tables: one per contract table, plus the `releases` register.

Every data table carries `release_id`, so every release stays in the database
and readers can ask for any of them. Month and cohort columns get integer
companions (`period_year`, `period_quarter`, ...) filled at load time, so
grouping by quarter or year needs no dialect-specific date functions and the
same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

from data_access.contract import TABLES, Kind

metadata = sa.MetaData()

_TYPE_OF_KIND = {
    Kind.ID: lambda: sa.String(64),
    Kind.TEXT: lambda: sa.Text(),
    Kind.STATE: lambda: sa.String(2),
    Kind.CODE: lambda: sa.String(48),
    Kind.MONTH: lambda: sa.String(7),
    Kind.COHORT: lambda: sa.String(7),
    Kind.YEAR: lambda: sa.Integer(),
    Kind.COUNT: lambda: sa.Integer(),
    Kind.POSITIVE: lambda: sa.Integer(),
    Kind.MONEY: lambda: sa.Numeric(16, 2),
}

# Integer companions derived from a month or cohort column at load time.
MONTH_PARTS = ("period_year", "period_quarter", "period_month")
COHORT_PARTS = ("cohort_year", "cohort_quarter")

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("release_id", sa.String(64), primary_key=True),
    sa.Column("as_of", sa.Date(), nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("row_counts", sa.JSON(), nullable=False),
    sa.Column("synthetic", sa.Boolean(), nullable=False),
    sa.Column("produced_by", sa.Text(), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("sites", sa.JSON(), nullable=False),
    sa.Column("contract_version", sa.String(8), nullable=False),
)


def _data_table(spec) -> sa.Table:
    columns = [
        sa.Column(
            "release_id",
            sa.String(64),
            sa.ForeignKey("releases.release_id", ondelete="CASCADE"),
            nullable=False,
        )
    ]
    for col in spec.columns:
        columns.append(sa.Column(col.name, _TYPE_OF_KIND[col.kind](), nullable=False))
        if col.kind is Kind.MONTH and col.name == "month":
            columns += [sa.Column(p, sa.Integer(), nullable=False) for p in MONTH_PARTS]
        if col.kind is Kind.COHORT:
            columns += [sa.Column(p, sa.Integer(), nullable=False) for p in COHORT_PARTS]
    return sa.Table(
        spec.name,
        metadata,
        *columns,
        sa.PrimaryKeyConstraint("release_id", *spec.key, name=f"pk_{spec.name}"),
    )


DATA_TABLES: dict[str, sa.Table] = {spec.name: _data_table(spec) for spec in TABLES}


# Each site's open-data terms as its release.json gave them (`open_data`, all optional; see
# data_access/licences.py). A site with no row here publishes under the default licence.
# A table of its own, not columns of `releases` or `sites`: `init` creates it in a database
# made before it existed, and nothing else there changes.
open_data_terms = sa.Table(
    "open_data_terms",
    metadata,
    sa.Column(
        "release_id",
        sa.String(64),
        sa.ForeignKey("releases.release_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("licence", sa.String(32), nullable=True),
    sa.Column("contact", sa.Text(), nullable=True),
    sa.Column("privacy_policy_url", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("release_id", "site_id", name="pk_open_data_terms"),
)


# Protected cubes computed from a release, kept so the disclosure audit (seconds
# to minutes of linear programs per site) runs once per release, not once per
# server process. Derived data only: deleting every row loses nothing but time.
# See data_access/cube_store.py.
protected_cubes = sa.Table(
    "protected_cubes",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),  # sha256 of everything below but bytes
    sa.Column(
        "release_id",
        sa.String(64),
        sa.ForeignKey("releases.release_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("cube", sa.String(64), nullable=False),
    sa.Column("arguments", sa.Text(), nullable=False),  # JSON, for people reading the table
    sa.Column("code_version", sa.String(64), nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("compute_seconds", sa.Float(), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
)


# What the public has been shown: every published cell of every protected cube, per
# release, kept for good. It is what a reader who downloaded each release knows, so
# each new release is protected against it (data_access/ledger.py). Unlike the cube
# store it is never emptied by new code or a replaced release, and it names no
# release by foreign key: a publication outlives the rows it was made from.
publication_ledger = sa.Table(
    "publication_ledger",
    metadata,
    sa.Column("entry", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("release_id", sa.String(64), nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("as_of", sa.Date(), nullable=False),
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("cube", sa.String(64), nullable=False),
    sa.Column("arguments", sa.Text(), nullable=False),  # JSON: the cube's other arguments
    sa.Column("k", sa.Integer(), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # sha256 of the cells shown
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),  # the cube, disclosure.storage
    sa.UniqueConstraint("cube", "site_id", "arguments", "release_id", "digest", name="uq_ledger"),
    sa.Index("ix_ledger_cube_site", "cube", "site_id"),
)
