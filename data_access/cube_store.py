"""The database keeps each protected cube once computed, for every server process.

A site's protected cubes cost seconds to minutes of linear programs (the
disclosure audit), and at national scale a cold Compare page computed 53 sites'
worth: over ten minutes for the first visitor after every server start. The
cubes depend only on the release (its checksum), the site and the other
arguments, the threshold k and this code, so `views.base.memoize` asks this
store before computing and saves what it computed; `python -m data_access
precompute` fills it right after a load, so no visitor ever waits for an audit.

The key covers everything a cube depends on: the cube's name, its arguments
(release, checksum, site, audience, ...), k, and `code_version()`, a hash of
the data_access source, so a deployment of new disclosure code never serves a
cube the old code made. Rows of a release go when it is replaced.

The store is an optimisation and never a reason to fail: a database the server
may only read (a read-only role, a "mode=ro" SQLite file), a row that does not
decode, or a failed write cost the computation, not the page; each is logged
once. Set LEAD_CUBE_STORE=off to bypass it (benchmarks of the cold path).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from data_access.db import describe, redact
from data_access.disclosure.storage import StorageError, from_bytes, to_bytes
from data_access.schema import protected_cubes

log = logging.getLogger(__name__)

SWITCH = "LEAD_CUBE_STORE"
PACKAGE = Path(__file__).resolve().parent

_ready_urls: set[str] = set()  # databases where the table exists (or was just created)
_warned: set[tuple[str, str]] = set()
_lock = threading.Lock()


@cache
def code_version() -> str:
    """A hash of every data_access source file: new code, new cubes."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def enabled() -> bool:
    """False when LEAD_CUBE_STORE says off (read at call time, like every setting)."""
    value = os.environ.get(SWITCH, "on").strip().lower()
    if value in ("", "on", "1", "true", "yes"):
        return True
    if value in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"{SWITCH}={value!r} is not understood; use on or off")


def cube_key(cube: str, k: int | None, arguments: tuple[Any, ...]) -> tuple[str, str]:
    """The row key (a sha256) and the arguments as JSON, for one cube."""
    described = json.dumps([cube, k, list(arguments)], default=str, separators=(",", ":"))
    digest = hashlib.sha256(f"{code_version()}|{described}".encode()).hexdigest()
    return digest, described


def fetch(engine: sa.Engine, key: str) -> Any | None:
    """The stored cube under `key`, or None (absent, unreadable, or store unusable)."""
    if not _ready(engine):
        return None
    try:
        with engine.connect() as conn:
            payload = conn.execute(
                sa.select(protected_cubes.c.payload).where(protected_cubes.c.key == key)
            ).scalar_one_or_none()
    except sa.exc.SQLAlchemyError as exc:
        _warn_once(engine, "read", exc)
        return None
    if payload is None:
        return None
    try:
        return from_bytes(bytes(payload))
    except (StorageError, TypeError, ValueError) as exc:
        # A row this code cannot read is recomputed and overwritten by save().
        _warn_once(engine, "decode", exc)
        return None


def save(
    engine: sa.Engine,
    key: str,
    *,
    cube: str,
    release_id: str,
    arguments: str,
    value: Any,
    seconds: float,
) -> bool:
    """Keep `value` under `key`; False (and one log line) when it cannot be kept."""
    if not _ready(engine):
        return False
    try:
        payload = to_bytes(value)
    except TypeError as exc:  # a cube type nobody registered: a bug, but not the visitor's
        _warn_once(engine, "encode", exc)
        return False
    row = {
        "key": key,
        "release_id": release_id,
        "cube": cube,
        "arguments": arguments,
        "code_version": code_version(),
        "computed_at": dt.datetime.now(dt.UTC),
        "compute_seconds": seconds,
        "payload": payload,
    }
    try:
        with engine.begin() as conn:
            # Delete-then-insert replaces an unreadable row. Two processes saving the
            # same cube at once: the second insert fails on the key and is ignored,
            # since both computed the same bytes from the same inputs.
            conn.execute(protected_cubes.delete().where(protected_cubes.c.key == key))
            conn.execute(protected_cubes.insert().values(**row))
    except sa.exc.IntegrityError:
        return True
    except sa.exc.SQLAlchemyError as exc:
        _warn_once(engine, "write", exc)
        return False
    return True


def forget_release(conn: sa.Connection, release_id: str) -> None:
    """Drop a release's cubes (inside the load that replaces it)."""
    if sa.inspect(conn).has_table(protected_cubes.name):
        conn.execute(protected_cubes.delete().where(protected_cubes.c.release_id == release_id))


def stored_cubes(engine: sa.Engine, release_id: str) -> list[dict[str, Any]]:
    """What the store holds for a release (no payloads): for the CLI and tests."""
    if not _ready(engine):
        return []
    columns = [c for c in protected_cubes.c if c.name != "payload"]
    query = (
        sa.select(*columns, sa.func.length(protected_cubes.c.payload).label("bytes"))
        .where(protected_cubes.c.release_id == release_id)
        .order_by(protected_cubes.c.cube, protected_cubes.c.arguments)
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _ready(engine: sa.Engine) -> bool:
    """Whether the store can be used on this database, creating its table if need be.

    Databases made before the store existed lack the table; one made by `init`
    has it. A database we may not write to keeps whatever an administrator's
    precompute put there, readable."""
    if not enabled():
        return False
    url = engine.url.render_as_string(hide_password=True)
    with _lock:
        if url in _ready_urls:
            return True
    try:
        protected_cubes.create(engine, checkfirst=True)
    except sa.exc.SQLAlchemyError as exc:
        # Not remembered: after an outage, or once an administrator has run
        # `init`, the next cube tries again (one cheap statement next to its audit).
        _warn_once(engine, "create the table", exc)
        return False
    with _lock:
        _ready_urls.add(url)
    return True


def _warn_once(engine: sa.Engine, action: str, exc: BaseException) -> None:
    url = engine.url.render_as_string(hide_password=True)
    with _lock:
        if (url, action) in _warned:
            return
        _warned.add((url, action))
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else repr(exc)
    log.warning(
        "Protected-cube store on the %s: could not %s (%s); cubes are computed in memory instead.",
        describe(engine.url),
        action,
        redact(reason, engine.url),
    )
