"""Shared fixtures: a real database of each kind, fresh for every test.

`database_url` is parametrized over SQLite (a temporary file: in-memory SQLite
is one database per thread) and PostgreSQL (a schema of its own per test, so
tests never see each other's rows). PostgreSQL tests run for real whenever the
server answers; on a developer machine without it they are skipped with the
reason, and with LEAD_REQUIRE_POSTGRES=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import os
import uuid

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


@pytest.fixture
def postgres_url(postgres_available) -> str:
    """A PostgreSQL URL whose search_path is a brand-new schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """Each test that takes this runs twice: once on SQLite, once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")
