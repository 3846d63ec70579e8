"""The publication ledger: every protected cube the public has been shown, kept for good.

A reader who downloads each release holds the union of everything ever
published; that union, not one release, is what disclosure control must keep
safe. The ledger records it: when a public cube is first served, computed or
read from the cube store (views.base.memoize), its published cells, flags and
reasons go into `publication_ledger` with the release, its checksum and as-of
date, the site and the threshold k. The protection of a later release of the
same site reads the earlier entries (`publications`) and is audited against
them (disclosure/earlier.py).

Unlike the cube store, which new code or a replaced release empties, the ledger
only grows: what was shown stays shown. The same cube published twice with the
same cells is one entry (the digest of its bytes is part of the key).

Publications go forward in time: a release older than one already published
for a site cannot be published after it (its protection would have to reach
into the later release's periods); `check_order` says so in plain words.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.disclosure.storage import StorageError, from_bytes, to_bytes
from data_access.schema import publication_ledger

log = logging.getLogger(__name__)

_ready_urls: set[str] = set()
_lock = threading.Lock()


class PublicationOrderError(ValueError):
    """A release would be published after a later one of the same site."""


@dataclass(frozen=True)
class Publication:
    """One ledger entry: what the public was shown of one cube of one release."""

    release_id: str
    checksum: str
    as_of: dt.date
    k: int
    value: Any  # the public cube as it was served (a storable container)


def content_digest(value: Any) -> str:
    """A sha256 of what a cube shows: the same cells and words give the same digest.

    Not of its stored bytes, which can differ for equal frames (Arrow chunking).
    """
    digest = hashlib.sha256()

    def walk(node: Any) -> None:
        if isinstance(node, pl.DataFrame):
            digest.update(node.write_csv().encode())
        elif dataclasses.is_dataclass(node) and not isinstance(node, type):
            digest.update(type(node).__name__.encode())
            for item in dataclasses.fields(node):
                if item.name != "_seal":
                    digest.update(item.name.encode())
                    walk(getattr(node, item.name))
        elif isinstance(node, Mapping):
            for key in node:
                digest.update(repr(key).encode())
                walk(node[key])
        elif isinstance(node, (tuple, list)):
            for item in node:
                walk(item)
        else:
            digest.update(repr(node).encode())

    walk(value)
    return digest.hexdigest()


def arguments_text(arguments: tuple[Any, ...]) -> str:
    return json.dumps(list(arguments), default=str, separators=(",", ":"))


def _ready(engine: sa.Engine) -> bool:
    url = engine.url.render_as_string(hide_password=True)
    with _lock:
        if url in _ready_urls:
            return True
    publication_ledger.create(engine, checkfirst=True)
    with _lock:
        _ready_urls.add(url)
    return True


def record(
    engine: sa.Engine,
    *,
    cube: str,
    release_id: str,
    checksum: str,
    as_of: dt.date,
    site_id: str,
    arguments: tuple[Any, ...],
    k: int,
    value: Any,
) -> None:
    """Add one publication unless the same cells are recorded already.

    A database the server may not write to (a read-only role) cannot record what
    it serves: that is logged, and the publication must then be recorded by
    `python -m data_access precompute`, run with write access, before it is shown.
    """
    payload = to_bytes(value)
    digest = content_digest(value)
    args = arguments_text(arguments)
    row = {
        "release_id": release_id,
        "checksum": checksum,
        "as_of": as_of,
        "site_id": site_id,
        "cube": cube,
        "arguments": args,
        "k": k,
        "digest": digest,
        "published_at": dt.datetime.now(dt.UTC),
        "payload": payload,
    }
    t = publication_ledger.c
    try:
        _ready(engine)
        with engine.begin() as conn:
            present = conn.execute(
                sa.select(t.entry).where(
                    t.cube == cube, t.site_id == site_id, t.arguments == args,
                    t.release_id == release_id, t.digest == digest,
                )
            ).first()  # fmt: skip
            if present is None:
                conn.execute(publication_ledger.insert().values(**row))
    except sa.exc.IntegrityError:
        return  # another process recorded the same publication at the same moment
    except sa.exc.SQLAlchemyError as exc:
        log.warning(
            "Could not record the publication of %s for %s in %s (%s); run precompute "
            "with write access so later releases are protected against it.",
            cube,
            site_id,
            release_id,
            str(getattr(exc, "orig", exc)).splitlines()[0],
        )


def publications(
    engine: sa.Engine, *, cube: str, site_id: str, arguments: tuple[Any, ...]
) -> list[Publication]:
    """Every recorded publication of this cube for this site, oldest entry first."""
    _ready(engine)
    t = publication_ledger.c
    query = (
        sa.select(t.release_id, t.checksum, t.as_of, t.k, t.payload)
        .where(t.cube == cube, t.site_id == site_id, t.arguments == arguments_text(arguments))
        .order_by(t.entry)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    found = []
    for row in rows:
        try:
            value = from_bytes(bytes(row.payload))
        except (StorageError, TypeError, ValueError) as exc:
            # Never silently forget what was published: an unreadable entry is an error.
            raise StorageError(
                f"publication ledger entry for {cube} {site_id} {row.release_id} cannot be "
                f"read ({exc}); restore it from a backup before publishing again"
            ) from None
        as_of = row.as_of if isinstance(row.as_of, dt.date) else dt.date.fromisoformat(row.as_of)
        found.append(Publication(row.release_id, row.checksum, as_of, int(row.k), value))
    return found


def check_order(
    earlier: list[Publication], release_id: str, checksum: str, as_of: dt.date, what: str
) -> list[Publication]:
    """The publications a new one of `release_id` is protected against; refuse out of order.

    A release is protected against every publication up to its as-of date,
    including its own earlier ones (under older code, or another threshold k).
    Publishing it again after a later release is safe only when it was published
    before with the same rows: its pattern is then carried forward, so the new
    publication shows nothing the earlier one did not, and the later release was
    protected against that one. A release never published (or replaced since)
    cannot be published after a later release of the same site.
    """
    later = [p for p in earlier if p.as_of > as_of]
    republished = any(p.release_id == release_id and p.checksum == checksum for p in earlier)
    if later and not republished:
        newest = max(later, key=lambda p: p.as_of)
        raise PublicationOrderError(
            f"{what}: release {release_id} (as of {as_of}) cannot be published after release "
            f"{newest.release_id} (as of {newest.as_of}), which is already public. Publish "
            "releases in date order; to correct an earlier release, publish the correction "
            "as a new release."
        )
    return [p for p in earlier if p.as_of <= as_of]


def entries(engine: sa.Engine, release_id: str | None = None) -> list[dict[str, Any]]:
    """What the ledger holds (no payloads), for the CLI and tests."""
    _ready(engine)
    t = publication_ledger.c
    query = sa.select(
        t.entry, t.release_id, t.checksum, t.as_of, t.site_id, t.cube, t.arguments, t.k,
        t.digest, t.published_at,
    ).order_by(t.entry)  # fmt: skip
    if release_id is not None:
        query = query.where(t.release_id == release_id)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
