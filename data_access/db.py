"""Where the database is, and a connection to it that fails with a clear message.

`DATABASE_URL` selects the database and is read on every call (not at import),
so tests and long-running servers pick up a change without a restart. Without
it, an embedded SQLite file, `data/lead.sqlite` under the current folder, is
used and created on first use (see default_sqlite_path).

Messages name a database only through `describe` ("PostgreSQL database"),
because visitors read them; every wait on the database is bounded by
`LEAD_DB_TIMEOUT_SECONDS`, so an outage or a partition ends in
DatabaseUnavailable, never in a page that does not finish.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from data_access.schema import metadata

# Relative to the folder a command runs in, not to this file: installed as a package,
# this file lives in site-packages, where a database has no business (and may not be
# writable). From the repository's root (`make run`) it is the repository's data/.
DEFAULT_SQLITE_PATH = Path("data") / "lead.sqlite"


TIMEOUT_VARIABLE = "LEAD_DB_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 30
MAX_TIMEOUT_SECONDS = 3600
# libpq gives up on a connection attempt after this long (it rounds anything under 2 up).
CONNECT_TIMEOUT_SECONDS = 5
# The client's own deadline (data_access.pg_deadline) comes this much after the server's
# statement_timeout, so a slow statement ends with the server's clearer error.
DEADLINE_GRACE_SECONDS = 5

# What kind of database a URL names, in words anyone may read (see describe()).
_KINDS = {
    "postgresql": "PostgreSQL database",
    "sqlite": "SQLite file",
    "mysql": "MySQL database",
    "mssql": "SQL Server database",
    "oracle": "Oracle database",
}

# A driver's reason, reduced to words that carry no host, port, user, database name or
# path: the first fragment found (lower case) in the reason decides. Anything else is
# "see the server log", where the administrator reads the reason itself.
_REASONS = (
    ("statement timeout", "a query took longer than the time limit"),
    ("no answer from the database server", "the database server did not answer in time"),
    ("canceling statement", "a query took longer than the time limit"),
    ("timeout expired", "the connection attempt timed out"),
    ("timed out", "the connection timed out"),
    ("connection refused", "the database server refused the connection"),
    ("could not translate host name", "the database server's name could not be found"),
    ("name or service not known", "the database server's name could not be found"),
    ("no route to host", "the database server cannot be reached over the network"),
    ("network is unreachable", "the database server cannot be reached over the network"),
    ("authentication failed", "the database refused the dashboard's credentials"),
    ("no password supplied", "the database refused the dashboard's credentials"),
    ('role "', "the database refused the dashboard's credentials"),
    ("does not exist", "the database named in the settings does not exist"),
    ("too many connections", "the database server has too many connections"),
    ("the database system is starting up", "the database server is starting up"),
    ("the database system is shutting down", "the database server is shutting down"),
    ("server closed the connection", "the connection to the database was lost"),
    ("terminating connection", "the connection to the database was lost"),
    ("connection reset", "the connection to the database was lost"),
    ("consuming input failed", "the connection to the database was lost"),
    ("database is locked", "the database is busy (a load may be in progress)"),
    ("unable to open database file", "the database file cannot be opened"),
    ("readonly database", "the database file is read-only"),
    ("disk i/o error", "the database file cannot be read"),
)
_UNKNOWN_REASON = "see the server log for the reason"
# key=value pairs of a libpq connection string or URL query that hold a secret.
_USERINFO_PASSWORD = re.compile(r"://[^:/@]*:([^@]*)@")
_SECRET_PAIR = re.compile(r"(?i)\b(password|passwd|pwd|sslpassword|secret)\s*[=:]\s*('[^']*'|\S+)")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened.

    `str()` is fit for anyone to read: what kind of database and a reason in
    fixed words, never a credential, host, port, database name or path (a
    visitor sees it). `detail` is the driver's own reason with every password
    removed, for the administrator: the command line prints it and the server
    logs it.
    """

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.detail = detail

    def for_administrator(self) -> str:
        """The public message and the driver's reason, on one line."""
        return f"{self}. Reason: {self.detail}" if self.detail else str(self)


def default_sqlite_path() -> Path:
    """The embedded database without DATABASE_URL: data/lead.sqlite in the current folder.

    Absolute, so an engine keeps opening the file it was made for even if the
    process later changes folder.
    """
    return Path.cwd() / DEFAULT_SQLITE_PATH


def database_url() -> str:
    """The configured database URL: `DATABASE_URL`, else the embedded SQLite file."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or f"sqlite:///{default_sqlite_path()}"


def describe(url: object) -> str:
    """What kind of database `url` names, fit for the public: "PostgreSQL database".

    The one way any message, log line or page names a database. It shows the
    backend only: no user, password (whether written before the "@", as
    ?password=, percent-encoded or inside a libpq option), host, port,
    database name or file path.
    """
    try:
        parsed = make_url(str(url)) if not isinstance(url, sa.URL) else url
        backend = parsed.get_backend_name()
    except Exception:  # a malformed URL: nothing of it is repeated
        return "database (DATABASE_URL cannot be read)"
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        return "in-memory SQLite database"
    return _KINDS.get(backend, "database")


def redact(text: str, url: object) -> str:
    """`text` (a driver's message) with every password of `url` and any password=... removed.

    For the administrator's copy of a reason: host and port stay, secrets go.
    """
    text_url = str(url) if not isinstance(url, sa.URL) else url.render_as_string(False)
    values: list[object] = []
    try:
        parsed = make_url(text_url)
        values.append(parsed.password)
        for key, value in parsed.query.items():
            for item in value if isinstance(value, tuple) else (value,):
                if key.lower() in ("password", "passwd", "pwd", "sslpassword"):
                    values.append(item)
                # A libpq option string inside a value: options=-c password=...
                values += [m.group(2).strip("'") for m in _SECRET_PAIR.finditer(unquote(item))]
    except Exception:  # unparseable: find a userinfo password by its shape
        found = _USERINFO_PASSWORD.search(text_url)
        values.append(found.group(1) if found else None)
    secrets = {text_url}
    for value in values:
        if value:
            value = str(value)
            secrets |= {value, quote(value, safe=""), quote_plus(value), unquote(value)}
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}=***", text)


def _reason_words(reason: str) -> str:
    lowered = reason.lower()
    for fragment, words in _REASONS:
        if fragment in lowered:
            return words
    return _UNKNOWN_REASON


def unavailable(what: str, url: object, exc: BaseException) -> DatabaseUnavailable:
    """The DatabaseUnavailable for a driver error `exc` on the database at `url`.

    `what` is the message's start, with {db} where the database's kind goes:
    "Cannot reach the {db}", "The {db} stopped answering".
    """
    original = getattr(exc, "orig", None) or exc
    reason = " ".join(str(original).split()) or type(original).__name__
    return DatabaseUnavailable(
        f"{what.format(db=describe(url))}: {_reason_words(reason)}", redact(reason, url)
    )


def timeout_seconds(environ: Mapping[str, str] | None = None) -> int:
    """`LEAD_DB_TIMEOUT_SECONDS`: how long any one database statement or wait may take."""
    env = os.environ if environ is None else environ
    raw = env.get(TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TIMEOUT_SECONDS:
        raise DatabaseUnavailable(
            f"{TIMEOUT_VARIABLE} is {raw[:40]!r}; it must be a whole number of seconds from 1 "
            f"to {MAX_TIMEOUT_SECONDS} (unset means {DEFAULT_TIMEOUT_SECONDS})"
        )
    return int(raw)


def _postgres_timeouts(parsed: sa.URL, seconds: int) -> dict:
    """libpq settings that bound every wait on PostgreSQL by about `seconds`.

    statement_timeout: the server ends a statement that runs longer (a lock, an
    overloaded server). tcp_user_timeout: the kernel drops the connection when
    what was sent stays unacknowledged (a partition while sending). Keepalives:
    an idle wait for an answer notices a vanished server within 5/6 of it.
    None of these can see a proxy that keeps the connection open but forwards
    nothing: data_access.pg_deadline bounds each wait on the client for that.
    """
    # connect_args replace the URL's own options=, so those are kept, after ours:
    # a setting the administrator wrote in the URL wins.
    given = parsed.query.get("options") or ()
    given = [given] if isinstance(given, str) else list(given)
    options = " ".join([f"-c statement_timeout={seconds * 1000}", *given])
    ours = {
        "connect_timeout": min(CONNECT_TIMEOUT_SECONDS, seconds),
        "options": options,
        "tcp_user_timeout": seconds * 1000,
        "keepalives": 1,
        "keepalives_idle": max(1, seconds // 3),
        "keepalives_interval": max(1, seconds // 6),
        "keepalives_count": 3,
    }
    # Any of these the URL sets itself is the administrator's choice and stays.
    return {k: v for k, v in ours.items() if k == "options" or k not in parsed.query}


def make_engine(url: str | None = None) -> sa.Engine:
    """An engine for `url` (default: `database_url()`), creating SQLite's folder.

    Every statement and wait is bounded by LEAD_DB_TIMEOUT_SECONDS, so an outage
    or a partition ends in DatabaseUnavailable rather than a page that never
    finishes.
    """
    url = url or database_url()
    seconds = timeout_seconds()
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseUnavailable(
            "DATABASE_URL is not a valid database URL; it looks like "
            "postgresql+psycopg://user@host:5432/name or sqlite:///path/to/file.sqlite",
            redact(str(exc), url),
        ) from exc
    is_uri = parsed.query.get("uri") == "true" or str(parsed.database or "").startswith("file:")
    if (
        parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not is_uri  # a "file:" URI (e.g. read-only) names an existing file: make nothing
    ):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = _postgres_timeouts(parsed, seconds)
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except Exception as exc:
        raise unavailable("Cannot use the {db}", url, exc) from exc
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=seconds * 1000))
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        from data_access import pg_deadline

        pg_deadline.bound_waits(engine, seconds + DEADLINE_GRACE_SECONDS)
    return engine


@contextmanager
def without_timeouts(conn: sa.Connection) -> Iterator[None]:
    """Lift the statement timeout and wait deadline for `conn`'s current transaction.

    For an administrator's load: a national COPY may rightly take longer than
    a visitor should wait. The socket timeouts stay (a vanished server is
    still noticed).
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    from data_access import pg_deadline

    conn.execute(sa.text("SET LOCAL statement_timeout = 0"))  # this transaction only
    raw = conn.connection.dbapi_connection
    previous = pg_deadline.lift_deadline(raw)
    try:
        yield
    finally:
        pg_deadline.restore_deadline(raw, previous)


def _sqlite_pragmas(dbapi_connection, _record, *, busy_ms: int) -> None:
    # SQLite ignores foreign keys unless asked, and without a busy timeout a reader
    # that meets a load in progress fails at once instead of waiting for it; with
    # one, it waits at most the configured timeout for the lock, then says so.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.close()


def check_connection(engine: sa.Engine) -> None:
    """Raise DatabaseUnavailable with a plain message when `engine` cannot connect."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        raise unavailable("Cannot reach the {db}", engine.url, exc) from exc


def init_db(engine: sa.Engine) -> None:
    """Create every table that does not exist yet; existing data are untouched."""
    check_connection(engine)
    metadata.create_all(engine)
