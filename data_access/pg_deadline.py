"""A client-side deadline on every wait for PostgreSQL (psycopg 3).

statement_timeout, tcp_user_timeout and keepalives (data_access.db) all rely
on something answering: the server, or the peer's kernel. A proxy or relay in
front of the server that keeps the connection open but forwards nothing
answers every TCP probe, so none of them fires, and a page would wait for
ever (issue 17: a session blank for over 90 s). Here the client itself gives
up: psycopg runs every statement as waits on the socket, each of which takes a
timeout, and this connection gives each one the deadline.

A wait that times out leaves the connection in an unknown state, so it is
closed; SQLAlchemy sees a closed connection, drops it from the pool, and the
next page run connects afresh.
"""

from __future__ import annotations

import psycopg
import sqlalchemy as sa
from psycopg import errors

# Words the public message is built from (data_access.db reads them back).
NO_ANSWER = "no answer from the database server within"


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose waits on the server end after `deadline` seconds."""

    deadline: float | None = None

    def wait(self, gen, interval=0.1, timeout=None):  # psycopg's own signature
        limit = timeout if timeout is not None else self.deadline
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except errors._WaitTimeout as exc:  # psycopg's own timeout signal for wait()
            if timeout is not None:
                raise  # a caller of psycopg's asked for that timeout and handles it
            self.pgconn.finish()
            raise psycopg.OperationalError(f"{NO_ANSWER} {limit:g} s") from exc


def bound_waits(engine: sa.Engine, seconds: float) -> None:
    """Open `engine`'s psycopg connections as DeadlineConnections waiting at most `seconds`."""

    @sa.event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        connection = DeadlineConnection.connect(*cargs, **cparams)
        connection.deadline = seconds
        return connection


def lift_deadline(dbapi_connection) -> float | None:
    """Wait for ever on this connection (until `restore_deadline`); the old deadline."""
    previous = getattr(dbapi_connection, "deadline", None)
    if isinstance(dbapi_connection, DeadlineConnection):
        dbapi_connection.deadline = None
    return previous


def restore_deadline(dbapi_connection, previous: float | None) -> None:
    if isinstance(dbapi_connection, DeadlineConnection):
        dbapi_connection.deadline = previous
