"""Where the database is, and a connection to it that fails with a clear message.

`DATABASE_URL` selects the database and is read on every call (not at import),
so tests and long-running servers pick up a change without a restart. Without
it, an embedded SQLite file under `data/` is used and created on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from data_access.schema import metadata

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "lead.sqlite"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message says which and why."""


def database_url() -> str:
    """The configured database URL: `DATABASE_URL`, else the embedded SQLite file."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def describe(url: str) -> str:
    """The URL with any password hidden, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL is itself worth showing, minus nothing secret
        return "<unparseable DATABASE_URL>"


def make_engine(url: str | None = None) -> sa.Engine:
    """An engine for `url` (default: `database_url()`), creating SQLite's folder."""
    url = url or database_url()
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseUnavailable(f"DATABASE_URL is not a valid database URL: {exc}") from exc
    is_uri = parsed.query.get("uri") == "true" or str(parsed.database or "").startswith("file:")
    if (
        parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not is_uri  # a "file:" URI (e.g. read-only) names an existing file: make nothing
    ):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        # Fail fast when the server is down instead of hanging a page.
        connect_args["connect_timeout"] = 5
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except Exception as exc:
        raise DatabaseUnavailable(f"Cannot use database {describe(url)}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless asked, and without a busy timeout a reader
    # that meets a load in progress fails at once instead of waiting for it.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def check_connection(engine: sa.Engine) -> None:
    """Raise DatabaseUnavailable with a plain message when `engine` cannot connect."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"Cannot reach the database at {describe(str(engine.url))}: {reason}"
        ) from exc


def init_db(engine: sa.Engine) -> None:
    """Create every table that does not exist yet; existing data are untouched."""
    check_connection(engine)
    metadata.create_all(engine)
