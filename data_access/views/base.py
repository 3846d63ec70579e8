"""The choke point: the one way any page, download or PDF obtains figures.

A *view* is a named function that reads exact aggregates, computes metrics and
returns a `ViewResult` whose every table is a `Protected` (made only by
data_access.disclosure). `build(name, ...)` is the single entry point; pages
call it through ui/data.py's cache. Nothing else in the presentation layer
touches queries or metrics, and tests/test_views_choke_point.py checks it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps

import sqlalchemy as sa

from data_access import cube_store, ledger
from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import Protected, policy_from_environment
from data_access.vocabulary import RACES


@dataclass(frozen=True)
class Selection:
    """What a viewer asked for, already checked against the release (ui/context.py)."""

    release_id: str
    site_id: str
    period: str  # "2025-Q4" or "2025": a whole quarter or year
    precinct_ids: tuple[str, ...] = ()
    reference: str = "white"  # reference group for disparity ratios

    def __post_init__(self) -> None:
        if self.reference not in RACES or self.reference == "unknown":
            raise ValueError(f"reference group {self.reference!r} is not a race code")


@dataclass(frozen=True)
class ViewResult:
    """Everything one page (or part of one) shows, protected for its audience.

    `tables` hold every number about people. `facts` hold words only (labels,
    period phrases, which optional tables are missing): never a count.
    """

    name: str
    tables: Mapping[str, Protected]
    facts: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key, table in self.tables.items():
            if not isinstance(table, Protected):
                raise TypeError(
                    f"view {self.name!r}: table {key!r} did not pass disclosure control"
                )
        for key, value in self.facts.items():
            if not isinstance(value, str):
                raise TypeError(f"view {self.name!r}: fact {key!r} must be words, not {value!r}")

    def table(self, key: str) -> Protected:
        return self.tables[key]


ViewFunction = Callable[[sa.Engine, Selection, Audience], ViewResult]
_VIEWS: dict[str, ViewFunction] = {}


def view(name: str) -> Callable[[ViewFunction], ViewFunction]:
    """Register a view under `name`; `build(name, ...)` is then the way to call it."""

    def register(function: ViewFunction) -> ViewFunction:
        if name in _VIEWS:
            raise ValueError(f"view {name!r} is registered twice")
        _VIEWS[name] = function
        return function

    return register


def view_names() -> tuple[str, ...]:
    return tuple(sorted(_VIEWS))


def build(name: str, engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """The protected figures of view `name` for this selection and audience."""
    try:
        function = _VIEWS[name]
    except KeyError:
        raise KeyError(f"no view named {name!r}; known: {', '.join(view_names())}") from None
    result = function(engine, selection, audience)
    if result.name != name:
        raise ValueError(f"view {name!r} returned a result named {result.name!r}")
    return result


_MEMOS: list[OrderedDict] = []


def clear_memos() -> None:
    """Forget every memoized cube (tests; an administrator after fixing a release)."""
    for cache in _MEMOS:
        cache.clear()


def memoize(maxsize: int) -> Callable:
    """A bounded, thread-safe memo for expensive protected cubes, backed by the database.

    The decorated function takes (engine, release_id, checksum, ...). Keys use
    the engine's URL (password hidden), not the engine object, so two engines
    on one database share entries and two databases never do. A release is
    immutable once loaded except through `load --replace`, which changes its
    checksum; the checksum is part of every key.

    On a miss in memory the cube is read from the database's cube store
    (data_access/cube_store.py) and only computed when absent there, then
    saved, so the audit runs once per release rather than once per process.
    One thread computes a given cube while others asking for it wait: two
    visitors opening a cold site must not run its linear programs twice.
    """

    def decorate(function: Callable) -> Callable:
        cache: OrderedDict = OrderedDict()
        _MEMOS.append(cache)
        lock = threading.Lock()
        computing: dict[tuple, threading.Lock] = {}
        name = f"{function.__module__.removeprefix('data_access.views.')}.{function.__name__}"

        def remembered(key: tuple) -> tuple[bool, object]:
            with lock:
                if key in cache:
                    cache.move_to_end(key)
                    return True, cache[key]
            return False, None

        @wraps(function)
        def wrapper(engine: sa.Engine, release_id: str, *args):
            # k is part of the key: a cube protected with another threshold is another cube.
            k = policy_from_environment().k
            key = (engine.url.render_as_string(hide_password=True), k, release_id, *args)
            found, value = remembered(key)
            if found:
                return value
            with lock:
                key_lock = computing.setdefault(key, threading.Lock())
            try:
                with key_lock:
                    found, value = remembered(key)  # computed while this thread waited
                    if not found:
                        value = _stored_or_computed(function, name, engine, k, release_id, args)
                        _record_publication(engine, name, k, release_id, args, value)
                        with lock:
                            cache[key] = value
                            while len(cache) > maxsize:
                                cache.popitem(last=False)
            finally:  # also when the database is down: the next visitor tries afresh
                with lock:
                    computing.pop(key, None)
            return value

        wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
        wrapper.cube_name = name  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _stored_or_computed(
    function: Callable, name: str, engine: sa.Engine, k: int, release_id: str, args: tuple
) -> object:
    stored_key, arguments = cube_store.cube_key(name, k, (release_id, *args))
    value = cube_store.fetch(engine, stored_key)
    if value is None:
        started = time.perf_counter()
        value = function(engine, release_id, *args)
        cube_store.save(
            engine,
            stored_key,
            cube=name,
            release_id=release_id,
            arguments=arguments,
            value=value,
            seconds=time.perf_counter() - started,
        )
    return value


def _ledger_arguments(args: tuple) -> tuple:
    """A cube's arguments after (checksum, site): the part that names the cube, not the release."""
    return tuple(a for a in args[2:] if not isinstance(a, Audience))


def _record_publication(
    engine: sa.Engine, name: str, k: int, release_id: str, args: tuple, value: object
) -> None:
    """A public cube is about to be served: it goes into the publication ledger."""
    if Audience.PUBLIC not in args:
        return  # staff figures are exact and never public
    checksum, site_id = args[0], args[1]
    ledger.record(
        engine,
        cube=name,
        release_id=release_id,
        checksum=checksum,
        as_of=q.get_release(engine, release_id).as_of,
        site_id=site_id,
        arguments=_ledger_arguments(args),
        k=k,
        value=value,
    )


def earlier_publications(
    cube: Callable, engine: sa.Engine, release_id: str, site_id: str, *extra: object
) -> list[ledger.Publication]:
    """What the public was shown of this cube of this site before `release_id`.

    Older releases of the site are published first (their cubes computed and
    recorded), oldest first, so protection always runs in date order whichever
    release a visitor opens first. `extra` are the cube's arguments after the
    site (a caseload cube's year), without the audience.
    """
    release = q.get_release(engine, release_id)
    for older in reversed(q.list_releases(engine)):  # oldest first
        if older.as_of < release.as_of and site_id in older.sites:
            cube(engine, older.release_id, older.checksum, site_id, *extra, Audience.PUBLIC)
    found = ledger.publications(
        engine, cube=cube.cube_name, site_id=site_id, arguments=tuple(extra)
    )
    # Under another threshold the reasons mean other ranges ("withheld to protect another
    # cell" is at least k): a release re-protected after k changes is protected against the
    # publications made under the same k only (docs/privacy.md, residual risks).
    k = policy_from_environment().k
    found = [p for p in found if p.k == k]
    return ledger.check_order(
        found, release_id, release.checksum, release.as_of, f"{cube.cube_name} of {site_id}"
    )


def words(mapping: Mapping[str, object]) -> dict[str, str]:
    """Facts as strings (None becomes "")."""
    return {k: "" if v is None else str(v) for k, v in mapping.items()}
