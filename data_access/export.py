"""The open-data bundle: every table the public pages show, as CSV files, a README and a ZIP.

`python -m data_access export --out DIR` writes it; the methods page offers the
same ZIP for one site. Every figure comes out of the choke point
(data_access.views): the published levels of the protected count cubes and the
tables of the registered views (see export_sources), so the bundle's numbers
are exactly the page's numbers, protected for the same audience. Files are
written through `safe_csv_bytes`, which neutralises cells a spreadsheet would
run as a formula.

Layout (public; a staff export prefixes every file with "STAFF-ONLY-"):

    DIR/README.md                 release, as_of, rules with k, files, definitions
    DIR/data-dictionary.csv       table, column, type, meaning
    DIR/codes.csv, metric-definitions.csv, sites.csv, precincts.csv, releases.csv
    DIR/count-<cube>-by-<level>.csv   one per published level of each cube (zeros as 0)
    DIR/view-<view>-<table>.csv       one per table of each view
    DIR/SHA256SUMS                    SHA-256 of every file above (`sha256sum -c`)
    DIR/<bundle name>.zip             all of the above in one folder

The directory appears whole or not at all: files are written into a hidden
folder beside DIR, which is renamed to DIR only once everything is written.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.csv_safety import safe_csv_bytes
from data_access.disclosure import policy_for_k
from data_access.export_datapackage import ResourceNote, datapackage_json
from data_access.export_dictionary import (
    FLAG_SUFFIX,
    MEASURES,
    RELIABILITY_SUFFIX,
    code_lists,
    describe,
    dictionary_rows,
)
from data_access.export_sources import (
    CUBES,
    GATHERING_VIEWS,
    SITE_COLUMN,
    CollectedTable,
    CubeExport,
    ExportFailed,
    collect_cubes,
    collect_release_views,
    collect_views,
    periods_of_site,
)
from data_access.export_text import STAFF_LABEL, FileNote, readme
from data_access.export_zeros import with_zeros
from data_access.licences import SiteTerms, site_terms
from data_access.metrics.registry import registry_frame
from data_access.periods import YEAR
from data_access.views.recidivism import recidivism_cube

STAFF_PREFIX = "STAFF-ONLY-"
PERIOD_SCOPES = ("all", "years")
NOT_AVAILABLE = "not available"
MANIFEST = "SHA256SUMS"
INPUT_CHECKSUM = "checksum"
COUNTS = frozenset({"count", "average count", "count difference"})

__all__ = [
    "CUBES",
    "PERIOD_SCOPES",
    "STAFF_LABEL",
    "Bundle",
    "CubeExport",
    "ExportFailed",
    "build_bundle",
    "bundle_name",
    "bundle_zip",
    "complete_flags",
    "manifest",
    "write_bundle",
    "zip_bytes",
]


@dataclass(frozen=True)
class BundleTable:
    """One table as written: its name in the dictionary, file name and frame."""

    name: str
    file_name: str
    frame: pl.DataFrame
    about: str
    collected: CollectedTable | None = None
    key: tuple[str, ...] = ()  # columns that name a row (none for the views' tables)


@dataclass
class Bundle:
    """A built bundle: files in order (README last), the tables, and what produced them."""

    name: str = ""
    release: q.Release | None = None
    audience: Audience = Audience.PUBLIC
    site_ids: tuple[str, ...] = ()
    k: int | None = None
    site_years: dict[str, list[int]] = field(default_factory=dict)  # years each cube covers
    tables: list[BundleTable] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def count_tables(self) -> list[BundleTable]:
        """The published levels of the count cubes (what the exact audit checks)."""
        return [t for t in self.tables if t.collected and t.collected.kind == "count level"]

    def table(self, name: str) -> BundleTable:
        return next(t for t in self.tables if t.name == name)


def bundle_name(release_id: str, site_id: str | None, audience: Audience) -> str:
    """The folder and ZIP name: lead-open-data-<release>[-<site>][-STAFF-ONLY]."""
    name = f"lead-open-data-{release_id}" + (f"-{site_id}" if site_id else "")
    return name + ("-STAFF-ONLY" if audience is Audience.STAFF else "")


def complete_flags(frame: pl.DataFrame, table: str = "") -> pl.DataFrame:
    """Every number column followed by its `<column>_flag` (and `_reliability`, if any).

    Views give some numbers a flag of their own and let others share one (an
    interval's bounds share the estimate's flag). In the bundle every number has
    its own, so "empty" always comes with a reason: an empty number without a
    reason of its own borrows the reason of its row's estimate, else of another
    number of its row ("not available" if none).
    Only text is added; no number changes. Numbers that name a row (a fiscal
    year, a follow-up length) are never withheld and get no flag.
    """
    flags = [c for c in frame.columns if c.endswith(FLAG_SUFFIX)]
    # A count's reason describes that count only ("fewer than k" is about the part, not
    # the total): a value without a reason of its own borrows first the reason of the
    # row's estimate (an interval's bounds share it), and a count's only as a last resort.
    schema = frame.schema

    def is_count(flag: str) -> bool:
        column = flag.removesuffix(FLAG_SUFFIX)
        return column in schema and describe(table, column, schema[column])[0].type in COUNTS

    flags = sorted(flags, key=is_count)
    row_reason = pl.coalesce(
        *[pl.when(pl.col(f).fill_null("") != "").then(pl.col(f)) for f in flags],
        pl.lit(NOT_AVAILABLE),
    )
    frame = frame.with_columns(pl.col(flags).fill_null(""))
    added = []
    for column, dtype in frame.schema.items():
        if describe(table, column, dtype)[0].type not in MEASURES:
            continue
        flag = f"{column}{FLAG_SUFFIX}"
        own = pl.col(flag) if flag in frame.columns else pl.lit("")
        # A view may leave a flag empty where a value is simply not computable (its
        # `note` says why); the bundle says "not available" rather than nothing.
        reason = pl.when(own != "").then(own).otherwise(row_reason)
        added.append(pl.when(pl.col(column).is_null()).then(reason).otherwise(own).alias(flag))
    frame = frame.with_columns(added)
    order: list[str] = []
    for column in frame.columns:
        if (
            column.endswith((FLAG_SUFFIX, RELIABILITY_SUFFIX))
            and column.removesuffix(FLAG_SUFFIX).removesuffix(RELIABILITY_SUFFIX) in frame.columns
        ):
            continue  # placed right after its value below
        order.append(column)
        order += [c for c in (f"{column}{FLAG_SUFFIX}", f"{column}{RELIABILITY_SUFFIX}")
                  if c in frame.columns]  # fmt: skip
    return frame.select(order)


def _k_of(tables: Sequence[CollectedTable]) -> int | None:
    """The one k every protected number table was protected with (None for staff)."""
    ks = {
        p.k
        for t in tables
        for p in t.protected
        if any(dtype.is_numeric() for dtype in p.frame.schema.values())
    }
    if len(ks) > 1:
        raise ExportFailed(f"tables were protected with different thresholds k: {sorted(ks)}")
    return next(iter(ks), None)


def _file(name: str, audience: Audience, suffix: str = ".csv") -> str:
    return (STAFF_PREFIX if audience is Audience.STAFF else "") + name + suffix


def iter_bundle(
    engine: sa.Engine,
    *,
    release_id: str | None = None,
    site_id: str | None = None,
    audience: Audience = Audience.PUBLIC,
    periods: str = "all",
    view_names: Sequence[str] | None = None,
    bundle: Bundle | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield the bundle's files (name, content) as each is ready; README.md comes last.

    `periods`: "all" builds each view for every quarter and year a visitor can
    choose; "years" for whole years only (smaller, faster). `bundle`, when
    given, is filled in as the files are produced.
    """
    if periods not in PERIOD_SCOPES:
        raise ValueError(f"periods={periods!r}: expected one of {', '.join(PERIOD_SCOPES)}")
    release = q.get_release(engine, release_id)
    if site_id is not None and site_id not in release.sites:
        raise q.InvalidFilter(
            "site", site_id, f"is not a site of release {release.release_id} "
            f"({', '.join(release.sites)})"
        )  # fmt: skip
    site_ids = (site_id,) if site_id else tuple(release.sites)
    bundle = bundle if bundle is not None else Bundle()
    bundle.name = bundle_name(release.release_id, site_id, audience)
    bundle.release, bundle.audience, bundle.site_ids = release, audience, site_ids

    reference = collect_release_views(engine, release, site_ids[0], audience)
    places, history = reference["places"], reference["release_history"]
    sites = places.table("sites").frame
    launched = dict(zip(sites["site_id"], sites["launched"], strict=True))
    terms = _terms_of(sites.filter(pl.col("site_id").is_in(list(site_ids))), audience)
    site_periods = {
        s: [p for p in periods_of_site(release, launched[s]) if periods == "all" or p.grain == YEAR]
        for s in site_ids
    }

    def emit(table: BundleTable) -> tuple[str, bytes]:
        bundle.tables.append(table)
        content = safe_csv_bytes(table.frame)
        bundle.files[table.file_name] = content
        return table.file_name, content

    # Count cubes cover every period (quarters too); a cube built by year needs each year.
    site_years = {
        s: sorted({p.year for p in periods_of_site(release, launched[s])}) for s in site_ids
    }
    bundle.site_years = site_years
    collected: list[CollectedTable] = []
    for table in collect_cubes(engine, release, site_years, audience):
        collected.append(table)
        yield emit(_bundle_table(table, audience))
    view_tables, notes = collect_views(engine, release, site_periods, audience, view_names)
    notes = [*GATHERING_VIEWS.values(), *notes]
    for table in view_tables:
        collected.append(table)
        yield emit(_bundle_table(table, audience))

    in_scope = pl.col("site_id").is_in(list(site_ids))
    # sites.csv as written, for the file and for datapackage.json's list of sites alike.
    site_rows = _with_rearrest_counted_as_of(engine, release, sites.filter(in_scope), audience)
    static = [
        (
            "sites",
            site_rows,
            "The sites: identifier, name, state, launch month, the licence, contact and "
            "privacy policy of their open data, and the date re-arrest is counted as of.",
            ("site_id",),
        ),
        (
            "precincts",
            places.table("precincts").frame.filter(in_scope),
            "The precincts (referral areas) of each site, with their names.",
            ("site_id", "precinct_id"),
        ),
        (
            "releases",
            _public_releases(history.table("releases").frame, audience),
            "Every release the dashboard holds, with its notes: the corrections log.",
            ("release_id",),
        ),
        (
            "metric-definitions",
            registry_frame(),
            "Every metric's definition (as in this README).",
            ("id",),
        ),
        (
            "codes",
            code_lists(),
            "Every code used in the tables, with its plain-language label.",
            ("column", "code"),
        ),
    ]
    for name, frame, about, key in static:
        yield emit(BundleTable(name, _file(name, audience), frame, about, key=key))

    bundle.k = _k_of(collected)
    if audience is Audience.PUBLIC and bundle.k is None and collected:
        raise ExportFailed("no exported table records its disclosure threshold k")
    itself = pl.DataFrame(schema={c: pl.String for c in ("table", "column", "type", "meaning")})
    dictionary = dictionary_rows({**{t.name: t.frame for t in bundle.tables},
                                  "data-dictionary": itself})  # fmt: skip
    yield emit(
        BundleTable(
            "data-dictionary",
            _file("data-dictionary", audience),
            dictionary,
            "Every column of every table: its type and meaning.",
            key=("table", "column"),
        )
    )
    policy = policy_for_k(bundle.k) if audience is Audience.PUBLIC and bundle.k else None
    labels = {
        r["site_id"]: f"{r['site_name']} ({r['site_id']})" for r in sites.iter_rows(named=True)
    }
    labelled_terms = [(labels[s], terms[s]) for s in sites.filter(in_scope)["site_id"]]
    name = _file("datapackage", audience, ".json")
    bundle.files[name] = datapackage_json(
        name=bundle.name,
        release=release,
        audience=audience,
        policy=policy,
        sites=site_rows,
        terms=labelled_terms,
        periods=[p for s in site_ids for p in periods_of_site(release, launched[s])],
        resources=[
            ResourceNote(
                t.name, t.file_name, t.about, bundle.files[t.file_name], dict(t.frame.schema), t.key
            )
            for t in bundle.tables
        ],
    )
    yield name, bundle.files[name]
    text = readme(
        release=release,
        site_names=[label for label, _ in labelled_terms],
        policy=policy,
        files=[FileNote(t.file_name, t.frame.height, t.about) for t in bundle.tables],
        terms=labelled_terms,
        notes=notes,
    )
    name = _file("README", audience, ".md")
    bundle.files[name] = text.encode("utf-8")
    yield name, bundle.files[name]
    # Last, over every file above: what a reader checks the files against.
    name = _file(MANIFEST, audience, "")
    bundle.files[name] = manifest(bundle.files)
    yield name, bundle.files[name]


def manifest(files: dict[str, bytes]) -> bytes:
    """`sha256sum` lines for the files: `sha256sum -c SHA256SUMS` checks a copy of the bundle."""
    return "".join(
        f"{hashlib.sha256(content).hexdigest()}  {name}\n" for name, content in files.items()
    ).encode("ascii")


def _with_rearrest_counted_as_of(
    engine: sa.Engine, release: q.Release, sites: pl.DataFrame, audience: Audience
) -> pl.DataFrame:
    """`sites` with the date each site's re-arrest figures are counted as of (or empty).

    Usually the release's as_of; an earlier one while the re-arrest figures are held as
    published before (views.recidivism): a reader needs it to know which entry cohorts'
    follow-up had closed, as the figures were counted.
    """
    counted = [
        recidivism_cube(engine, release.release_id, release.checksum, site, audience)
        for site in sites["site_id"]
    ]
    dates = [str(rc.as_of) if rc.cube is not None else "" for rc in counted]
    return sites.with_columns(pl.Series("rearrest_counted_as_of", dates, dtype=pl.String))


def _public_releases(frame: pl.DataFrame, audience: Audience) -> pl.DataFrame:
    """The releases table without the fingerprint of the confidential input files.

    That fingerprint (SHA-256 of the site's release files, which hold counts of 1 to
    k-1) would let anyone confirm a guess of those files; the public bundle carries the
    SHA-256 of its own, published files instead (MANIFEST).
    """
    if audience is Audience.PUBLIC and INPUT_CHECKSUM in frame.columns:
        return frame.drop(INPUT_CHECKSUM)
    return frame


def _bundle_table(table: CollectedTable, audience: Audience) -> BundleTable:
    frame, key = table.frame, ()
    if table.kind == "count level":
        about = f"Counts of people by {', '.join(table.level)} ({table.source})."
        frame = with_zeros(frame, table.level, table.count_column)
        key = (SITE_COLUMN, *table.level)  # one row per site and combination, zeros too
    else:
        about = f"The {table.source}."
    return BundleTable(
        table.name,
        _file(table.name, audience),
        complete_flags(frame, table.name),
        about,
        table,
        key,
    )


def _terms_of(sites: pl.DataFrame, audience: Audience) -> dict[str, SiteTerms]:
    """Each site's open-data terms, from sites.csv's columns; one licence for a public bundle.

    Every file of the bundle lists its sites' rows one under another, so a file has no
    single licence when the sites' licences differ: such a bundle is refused, and each
    site is exported on its own (`--site`), under its own licence.
    """
    terms = {
        r["site_id"]: site_terms(r["site_id"], r["licence"], r["contact"], r["privacy_policy_url"])
        for r in sites.iter_rows(named=True)
    }
    licences = {t.licence.id for t in terms.values()}
    if audience is Audience.PUBLIC and len(licences) > 1:
        stated = "; ".join(f"{site}: {t.licence.id}" for site, t in terms.items())
        options = ", ".join(f"--site {site}" for site in terms)
        raise ExportFailed(
            f"the sites publish their open data under different licences ({stated}), and "
            "every file of a bundle holds the rows of all its sites; export each site on its "
            f"own ({options}) so each bundle states its site's licence"
        )
    return terms


def build_bundle(engine: sa.Engine, **options) -> Bundle:
    """The whole bundle in memory (options as for `iter_bundle`)."""
    bundle = Bundle()
    for _ in iter_bundle(engine, bundle=bundle, **options):
        pass
    return bundle


def zip_bytes(name: str, files: dict[str, bytes], as_of) -> bytes:
    """The files in one folder `name/` of a ZIP; dated as_of, so the same bundle zips the same."""
    stamp = (as_of.year, as_of.month, as_of.day, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file_name, content in files.items():
            info = zipfile.ZipInfo(f"{name}/{file_name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def bundle_zip(engine: sa.Engine, **options) -> bytes:
    """The bundle as one ZIP (what the methods page's download button serves)."""
    bundle = build_bundle(engine, **options)
    return zip_bytes(bundle.name, bundle.files, bundle.release.as_of)


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def write_bundle(
    engine: sa.Engine,
    out: Path,
    *,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
    **options,
) -> Bundle:
    """Write the bundle into directory `out`, all or nothing.

    `out` must not exist or be empty, unless `replace`: then a previous export
    there is swapped for the new one only once the new one is complete.
    Files are written one by one into a hidden folder beside `out` as they are
    built; any failure removes that folder and leaves `out` as it was.
    """
    out = Path(out)
    if out.exists() and not _is_empty_dir(out) and not replace:
        raise FileExistsError(
            f"{out} already exists and is not empty; choose a new folder or pass --replace"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        os.chmod(staging, 0o755)
        bundle = Bundle()
        for file_name, content in iter_bundle(engine, bundle=bundle, **options):
            (staging / file_name).write_bytes(content)
            if progress:
                progress(file_name)
        zipped = zip_bytes(bundle.name, bundle.files, bundle.release.as_of)
        (staging / f"{bundle.name}.zip").write_bytes(zipped)
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return bundle


def _swap_in(staging: Path, out: Path) -> None:
    """Rename the finished folder to `out`, keeping any previous export until it is in place."""
    if not out.exists():
        os.rename(staging, out)
        return
    if _is_empty_dir(out):
        out.rmdir()
        os.rename(staging, out)
        return
    previous = out.parent / f".{out.name}.previous-{secrets.token_hex(4)}"
    os.rename(out, previous)
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(previous, out)
        raise
    shutil.rmtree(previous, ignore_errors=True)
