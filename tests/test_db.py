"""How a database is named in messages, and how long any wait on it may last.

Messages about the database reach the public (the outage message every page
shows), so `describe` must never repeat a credential or where the database
is, whichever way the URL spells them. The timeouts are tried for real: a
PostgreSQL statement that sleeps past the limit, an SQLite file locked by a
writer.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from data_access import db
from data_access import queries as q
from data_access.db import DatabaseUnavailable, describe, make_engine, redact

# Each URL hides SECRET somewhere else; none may reach a message.
SECRET = "Zq9-s3cret!"
ENCODED = "Zq9-s3cret%21"  # the same password percent-encoded
PLACES = ("leaduser", "db.internal.example", "6543", "leaddb")
SECRET_URLS = {
    "userinfo": f"postgresql+psycopg://leaduser:{ENCODED}@db.internal.example:6543/leaddb",
    "query password": f"postgresql+psycopg://leaduser@db.internal.example:6543/leaddb?password={ENCODED}",
    "both": f"postgresql+psycopg://leaduser:other@db.internal.example:6543/leaddb?password={SECRET}",
    "percent-encoded userinfo": "postgresql+psycopg://leaduser:Zq9%2Ds3cret%21@db.internal.example:6543/leaddb",
    "dsn in options": (
        "postgresql+psycopg://leaduser@db.internal.example:6543/leaddb"
        f"?options=-c%20password%3D{ENCODED}"
    ),
    "dsn pairs in query": (
        f"postgresql+psycopg:///leaddb?host=db.internal.example&port=6543&user=leaduser&password={ENCODED}"
    ),
    "sqlite path": f"sqlite:////srv/leaduser/{SECRET}/db.internal.example-6543/leaddb.sqlite",
    "sqlite uri": f"sqlite:///file:/srv/leaduser/{SECRET}/leaddb.sqlite?mode=ro&uri=true",
    "unparseable": f"postgresql+psycopg://leaduser:{SECRET}@db.internal.example:notaport/leaddb",
}


@pytest.mark.parametrize("url", SECRET_URLS.values(), ids=SECRET_URLS.keys())
def test_describe_names_the_kind_of_database_and_nothing_else(url):
    words = describe(url)
    for piece in (SECRET, ENCODED, *PLACES, "srv"):
        assert piece not in words, (piece, words)
    assert words in (
        "PostgreSQL database",
        "SQLite file",
        "database (DATABASE_URL cannot be read)",
    )


def test_describe_tells_the_kinds_apart():
    assert describe("postgresql+psycopg://u@h/d") == "PostgreSQL database"
    assert describe(sa.engine.make_url("postgresql://u:p@h/d")) == "PostgreSQL database"
    assert describe("sqlite:////tmp/x.sqlite") == "SQLite file"
    assert describe("sqlite://") == "in-memory SQLite database"


PASSWORD_URLS = {k: v for k, v in SECRET_URLS.items() if not k.startswith("sqlite")}


@pytest.mark.parametrize("url", PASSWORD_URLS.values(), ids=PASSWORD_URLS.keys())
def test_redact_removes_the_password_from_a_drivers_message(url):
    # A driver may echo its connection string; the administrator's copy keeps the
    # host and port (they help) but no password, in any spelling.
    message = (
        f"could not connect with {url}: password={SECRET} rejected "
        f"(tried {SECRET}, {ENCODED}, password: '{SECRET}')"
    )
    cleaned = redact(message, url)
    assert SECRET not in cleaned and ENCODED not in cleaned, cleaned
    assert "could not connect" in cleaned


def _unreachable(url: str) -> DatabaseUnavailable:
    with pytest.raises(DatabaseUnavailable) as caught:
        q.list_releases(make_engine(url))
    return caught.value


def test_an_unreachable_database_is_described_without_credentials_or_place():
    # A closed port on this machine: refused at once. User, password, port and
    # database name all sit in the URL; the message that visitors see has none.
    url = "postgresql+psycopg://leaduser:Sup3rSecret@127.0.0.1:59999/leaddb?password=Other5ecret"
    error = _unreachable(url)
    public = str(error)
    assert public == (
        "Cannot reach the PostgreSQL database: the database server refused the connection"
    )
    for piece in ("leaduser", "Sup3rSecret", "Other5ecret", "127.0.0.1", "59999", "leaddb"):
        assert piece not in public
    # The administrator's copy has the driver's reason, still without a password.
    assert "59999" in error.detail
    assert "Sup3rSecret" not in error.for_administrator()
    assert "Other5ecret" not in error.for_administrator()


def test_a_missing_database_says_so_in_plain_words(postgres_available):
    error = _unreachable("postgresql+psycopg://postgres@127.0.0.1:5432/lead_no_such_db")
    assert str(error).endswith("the database named in the settings does not exist")
    assert "lead_no_such_db" not in str(error)
    assert "lead_no_such_db" in error.detail


def test_a_malformed_url_is_refused_without_repeating_it():
    error = _unreachable(SECRET_URLS["unparseable"])
    assert str(error).startswith("DATABASE_URL is not a valid database URL")
    assert SECRET not in error.for_administrator()


# --------------------------------------------------------------------------- timeouts


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5", "3601", "30s"])
def test_a_bad_timeout_setting_names_the_variable(monkeypatch, value):
    monkeypatch.setenv(db.TIMEOUT_VARIABLE, value)
    with pytest.raises(DatabaseUnavailable, match="LEAD_DB_TIMEOUT_SECONDS is .*whole number"):
        make_engine("sqlite://")


def test_a_postgres_statement_past_the_limit_ends_with_a_plain_message(postgres_url, monkeypatch):
    monkeypatch.setenv(db.TIMEOUT_VARIABLE, "1")
    engine = make_engine(postgres_url)
    started = time.perf_counter()
    with pytest.raises(DatabaseUnavailable) as caught:
        # Through the same door the views use, so the page would get this message.
        q._read(engine, sa.select(sa.func.pg_sleep(10)))
    waited = time.perf_counter() - started
    assert waited < 5, waited
    assert str(caught.value) == (
        "The PostgreSQL database stopped answering: a query took longer than the time limit"
    )
    # The URL's own options (here the test schema's search_path) are kept.
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "1s"
        assert conn.execute(sa.text("SHOW search_path")).scalar().startswith("t_")
    engine.dispose()


def test_postgres_connections_carry_socket_timeouts(postgres_url, monkeypatch):
    # A partition while waiting or sending is noticed by the kernel, not never.
    monkeypatch.setenv(db.TIMEOUT_VARIABLE, "12")
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        params = conn.connection.dbapi_connection.info.get_parameters()
    engine.dispose()
    assert params["tcp_user_timeout"] == "12000"
    assert params["keepalives"] == "1"
    assert (params["keepalives_idle"], params["keepalives_interval"]) == ("4", "2")
    assert params["keepalives_count"] == "3"


class SilentRelay:
    """A TCP relay to PostgreSQL that can fall silent: connections stay open, nothing passes.

    What a proxy whose server is partitioned away does (issue 17): every TCP
    probe is answered by the relay's kernel, so only the client's own deadline
    can end the wait.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.flowing = threading.Event()
        self.flowing.set()
        self.sockets: list[socket.socket] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self.flowing.wait()
                sink.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self.flowing.set()
        for each in [self.server, *self.sockets]:
            each.close()


def test_a_proxy_that_falls_silent_ends_in_a_plain_message_not_a_hang(postgres_url, monkeypatch):
    monkeypatch.setenv(db.TIMEOUT_VARIABLE, "1")
    target = sa.engine.make_url(postgres_url)
    relay = SilentRelay((target.host, target.port or 5432))
    try:
        engine = make_engine(target.set(host="127.0.0.1", port=relay.port).render_as_string(False))
        assert q.list_releases(engine) == []  # a pooled connection, through the relay
        relay.flowing.clear()
        started = time.perf_counter()
        with pytest.raises(DatabaseUnavailable) as caught:
            q.list_releases(engine)
        waited = time.perf_counter() - started
        # The deadline (1 + 5 s grace) on the pooled connection, then one connection
        # attempt (libpq's at least 2 s); before, this waited for ever.
        assert waited < 15, waited
        assert str(caught.value).startswith("Cannot reach the PostgreSQL database: ")
        relay.flowing.set()
        assert q.list_releases(engine) == []  # the dead connection left the pool
        engine.dispose()
    finally:
        relay.close()


def test_a_load_is_not_cut_by_the_statement_timeout(postgres_url, monkeypatch, tmp_path):
    from release_builder import minimal_release

    from data_access.load import load_release

    monkeypatch.setenv(db.TIMEOUT_VARIABLE, "1")
    engine = make_engine(postgres_url)
    assert load_release(engine, minimal_release().write(tmp_path / "r")).total_rows > 0
    # The exemption was for the load's transaction only.
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "1s"
    engine.dispose()


def test_sqlite_waits_for_a_lock_only_as_long_as_the_limit(sqlite_url, monkeypatch, tmp_path):
    from release_builder import minimal_release

    from data_access.load import load_release

    engine = make_engine(sqlite_url)
    load_release(engine, minimal_release().write(tmp_path / "r"))
    engine.dispose()
    monkeypatch.setenv(db.TIMEOUT_VARIABLE, "1")
    engine = make_engine(sqlite_url)
    # A writer holding the file's exclusive lock, as a stuck load would.
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.perf_counter()
        with pytest.raises(DatabaseUnavailable) as caught:
            q.list_releases(engine)
        waited = time.perf_counter() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert 0.9 < waited < 4, waited
    assert str(caught.value) == (
        "Cannot reach the SQLite file: the database is busy (a load may be in progress)"
    )
    assert q.list_releases(engine)  # and once the lock is gone, it answers
    engine.dispose()
