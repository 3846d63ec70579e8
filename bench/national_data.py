"""The national-scale release for the benchmark, loaded into SQLite and PostgreSQL.

The release is the demo generator's current release with `extra_sites` invented
sites added (data_access.demo: Seattle, Santa Fe and Albany plus `synthetic-01`,
...), written to disk and loaded through the real validator and loader, exactly as
an administrator would load a real national release.

SQLite: a file kept under the data folder, so a second run of the benchmark
skips the load (minutes on a busy two-core machine); a marker file records the
sites and the release checksum it holds. PostgreSQL: a schema of its own named
`bench_<pid>`, reached through `search_path` in the URL (as tests/conftest.py
does) and dropped when the benchmark ends, even on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "LEAD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class NationalRelease:
    folder: Path  # the release folder on disk (current demo release, national scale)
    release_id: str
    sites: int
    referral_rows: int
    total_rows: int
    generate_seconds: float  # 0 when reused from an earlier run


@dataclass(frozen=True)
class LoadedDatabase:
    kind: str  # "sqlite" or "postgres"
    url: str
    load_seconds: float  # 0 when reused from an earlier run


def write_national_release(data_dir: Path, extra_sites: int) -> NationalRelease:
    """Write (or reuse) the current demo release with `extra_sites` invented sites."""
    from data_access.demo import CURRENT, write_demo_releases
    from data_access.release_files import MANIFEST_FILE

    target = data_dir / f"releases-{extra_sites}"
    folder = target / CURRENT.release_id
    started = time.perf_counter()
    seconds = 0.0
    if not (folder / MANIFEST_FILE).exists():
        shutil.rmtree(target, ignore_errors=True)
        write_demo_releases(target, extra_sites=extra_sites)
        seconds = time.perf_counter() - started
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    referral_rows = _csv_rows(folder / "referrals.csv")
    total_rows = sum(_csv_rows(path) for path in folder.glob("*.csv"))
    return NationalRelease(
        folder=folder,
        release_id=manifest["release_id"],
        sites=len(manifest["sites"]),
        referral_rows=referral_rows,
        total_rows=total_rows,
        generate_seconds=seconds,
    )


def _csv_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)  # minus the header


def load_sqlite(data_dir: Path, release: NationalRelease) -> LoadedDatabase:
    """A SQLite file holding `release`; reused when an earlier run loaded the same files."""
    from data_access.db import make_engine
    from data_access.load import load_release
    from data_access.release_files import release_checksum

    path = data_dir / f"national-{release.sites}.sqlite"
    marker = path.with_suffix(".loaded.json")
    checksum = release_checksum(sorted(release.folder.glob("*")))
    url = f"sqlite:///{path}"
    if path.exists() and marker.exists() and json.loads(marker.read_text()) == checksum:
        return LoadedDatabase("sqlite", url, 0.0)
    path.unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        load_release(engine, release.folder)
    finally:
        engine.dispose()
    marker.write_text(json.dumps(checksum))
    return LoadedDatabase("sqlite", url, time.perf_counter() - started)


def postgres_problem() -> str | None:
    """None when the PostgreSQL server answers, else why not (first line)."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "absent"
        return str(exc).splitlines()[0]


@contextlib.contextmanager
def loaded_postgres(release: NationalRelease) -> Iterator[LoadedDatabase]:
    """`release` loaded into a fresh schema `bench_<pid>`; the schema is dropped on exit."""
    from data_access.db import make_engine
    from data_access.load import load_release

    schema = f"bench_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        started = time.perf_counter()
        engine = make_engine(url)
        try:
            load_release(engine, release.folder)
            with engine.begin() as conn:
                # Fresh statistics, as autovacuum would have gathered on a server that
                # has held the release for a while.
                conn.execute(sa.text("ANALYZE"))
        finally:
            engine.dispose()
        yield LoadedDatabase("postgres", url, time.perf_counter() - started)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@dataclass(frozen=True)
class Precomputed:
    seconds: float  # wall time of `python -m data_access precompute`
    cubes: int  # cubes stored for the release afterwards
    computed_seconds: float  # sum of the stored cubes' own compute times (CPU-bound audits)
    output: str  # what the command printed (one line per site)


def precompute(url: str, release_id: str, jobs: int) -> Precomputed:
    """Run the real `python -m data_access precompute` on `url`, as an administrator would.

    Cubes already stored (a reused SQLite file) are found, not recomputed: then
    `seconds` is small and `computed_seconds` still tells what they cost once.
    """
    from data_access import cube_store
    from data_access.db import make_engine

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "data_access", "precompute", "--release", release_id,
         "--jobs", str(jobs)],
        cwd=PROJECT_ROOT, env={**os.environ, "DATABASE_URL": url},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    engine = make_engine(url)
    try:
        stored = cube_store.stored_cubes(engine, release_id)
    finally:
        engine.dispose()
    return Precomputed(seconds, len(stored), sum(r["compute_seconds"] for r in stored), done.stdout)


def copy_stored_cubes(source_url: str, target_url: str, release_id: str) -> int:
    """Copy a release's stored cubes between databases holding the same release.

    The keys hash the release checksum, k and the code, never the database, so
    the rows are valid in any database holding that release: this saves the
    benchmark a second national precompute (minutes) for PostgreSQL.
    """
    from data_access import cube_store
    from data_access.db import init_db, make_engine
    from data_access.schema import protected_cubes

    source, target = make_engine(source_url), make_engine(target_url)
    try:
        init_db(target)
        with source.connect() as read:
            rows = [
                dict(r._mapping)
                for r in read.execute(
                    sa.select(protected_cubes).where(protected_cubes.c.release_id == release_id)
                )
            ]
        with target.begin() as write:
            cube_store.forget_release(write, release_id)
            if rows:
                write.execute(protected_cubes.insert(), rows)
        return len(rows)
    finally:
        source.dispose()
        target.dispose()
