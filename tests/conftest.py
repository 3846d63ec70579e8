"""Shared fixtures: a real database of each kind, fresh for every test.

`database_url` is parametrized over SQLite (a temporary file: in-memory SQLite
is one database per thread) and PostgreSQL (a schema of its own per test, so
tests never see each other's rows). PostgreSQL tests run for real whenever the
server answers; on a developer machine without it they are skipped with the
reason, and with LEAD_REQUIRE_POSTGRES=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get(
    "LEAD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_problem() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "absent"
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is not reachable: {problem}"
    if os.environ.get("LEAD_REQUIRE_POSTGRES") == "1":
        pytest.fail(message + " (LEAD_REQUIRE_POSTGRES=1, so this is an error)")
    pytest.skip(message)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'lead.sqlite'}"


@contextlib.contextmanager
def _fresh_postgres_schema():
    """A PostgreSQL URL whose search_path is a brand-new schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_available) -> str:
    with _fresh_postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """Each test that takes this runs twice: once on SQLite, once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def demo_release_dirs(tmp_path_factory) -> list[Path]:
    """The synthetic demo releases, written once per test run (oldest first)."""
    from data_access.demo import write_demo_releases

    return write_demo_releases(tmp_path_factory.mktemp("demo-releases"))


def _load_demo(url: str, folders: list[Path]) -> None:
    """Load the demo releases and publish them, as `make run` does.

    Publishing (precompute) records every public cube of every release in the
    publication ledger, oldest release first, before any test reads them: a
    cube is protected against what was published before it, so the ledger of
    this shared database must not depend on which test happens to run first.
    """
    from data_access.db import make_engine
    from data_access.load import load_release
    from data_access.precompute import precompute_release

    engine = make_engine(url)
    for folder in folders:
        load_release(engine, folder)
    precompute_release(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def demo_sqlite_url(tmp_path_factory, demo_release_dirs) -> str:
    """A SQLite file holding both demo releases, loaded once per run. Read-only."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo-db') / 'demo.sqlite'}"
    _load_demo(url, demo_release_dirs)
    return url


@pytest.fixture(scope="session")
def demo_postgres_url(postgres_available, demo_release_dirs) -> str:
    """A PostgreSQL schema holding both demo releases, loaded once per run. Read-only."""
    with _fresh_postgres_schema() as url:
        _load_demo(url, demo_release_dirs)
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def demo_database_url(request) -> str:
    """The demo database of each kind in turn; shared, so tests must not write to it."""
    return request.getfixturevalue(f"demo_{request.param}_url")


@pytest.fixture
def app_env(demo_sqlite_url, monkeypatch):
    """Environment for AppTest runs on the demo database, public audience, caches cleared.

    Streamlit's caches are process-global: without clearing them a test would
    see another test's database or audience.
    """
    import streamlit as st

    from data_access.views.base import clear_memos

    monkeypatch.setenv("DATABASE_URL", demo_sqlite_url)
    for variable in (
        "LEAD_AUDIENCE",
        "LEAD_ALLOW_UNAUTHENTICATED_STAFF",
        "LEAD_DISCLOSURE_K",
        "LEAD_STAFF_EMAILS",
        "LEAD_PUBLISHER_EMAILS",
    ):
        monkeypatch.delenv(variable, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    clear_memos()
    yield monkeypatch
    st.cache_data.clear()
    st.cache_resource.clear()
    clear_memos()


@pytest.fixture(scope="session")
def installed_package(tmp_path_factory):
    """The wheel built from this checkout, installed in a venv of its own (packaging_support)."""
    from packaging_support import build_and_install

    return build_and_install(tmp_path_factory.mktemp("installed"))
