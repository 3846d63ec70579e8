"""Carry the memoized protected cubes from one benchmark process to another.

A cold Compare page at national scale computes every site's disclosure-control
cubes (minutes of linear programs per site). The benchmark measures that once;
the other processes (AppTest on PostgreSQL, the browser's servers) start with
the cubes restored from a pickle instead, which is what precomputing the cubes
at load time or at server start would give a real server.

The memos are the OrderedDicts behind data_access.views.base.memoize; each is
found through its wrapper's closure and named "<module>.<function>". Keys begin
with the database URL (password hidden); `restore` rewrites it to the target
database, which holds the same release (same files, same checksum).
The dump is kept under the data folder, named by the release checksum and a hash
of data_access's source, so a change to the disclosure code recomputes it.
"""

from __future__ import annotations

import hashlib
import importlib
import pickle
from collections import OrderedDict
from pathlib import Path

CUBE_MODULES = (
    "data_access.views.referral_flow",
    "data_access.views.caseload_cube",
    "data_access.views.recidivism",
    "data_access.views.costs",
)


def memo_caches() -> dict[str, OrderedDict]:
    """Every memo of the cube modules, by "<module>.<function>"."""
    found: dict[str, OrderedDict] = {}
    for module_name in CUBE_MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if not callable(value) or not hasattr(value, "cache_clear"):
                continue
            if getattr(value, "__module__", None) != module_name:
                continue
            for cell in value.__closure__ or ():
                if isinstance(cell.cell_contents, OrderedDict):
                    found[f"{module_name}.{name}"] = cell.cell_contents
    return found


def code_fingerprint(project_root: Path) -> str:
    """A hash of data_access's source: cubes computed by other code are not reused."""
    digest = hashlib.sha256()
    for path in sorted((project_root / "data_access").rglob("*.py")):
        digest.update(path.relative_to(project_root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _key_prefix(wrapper, cache: OrderedDict, engine) -> int:
    """How many leading key parts the memo adds before the call's own arguments.

    Found by a probe call whose function is swapped for a stub, so this follows
    whatever the memo puts in its keys (the URL, the disclosure threshold, ...).
    """
    probe = object()
    with _function_swapped(wrapper, lambda engine, *args: None):
        wrapper(engine, probe)
    key = next(k for k in cache if k and k[-1] is probe)
    del cache[key]
    return len(key) - 1


class _function_swapped:
    """Within the block, the memo wrapper calls `stub` instead of the function it wraps."""

    def __init__(self, wrapper, stub) -> None:
        self.cell = next(
            c
            for c in wrapper.__closure__
            if callable(c.cell_contents) and c.cell_contents is wrapper.__wrapped__
        )
        self.stub = stub

    def __enter__(self):
        self.original = self.cell.cell_contents
        self.cell.cell_contents = self.stub

    def __exit__(self, *exc):
        self.cell.cell_contents = self.original


def _wrappers() -> dict[str, tuple]:
    found = {}
    for module_name in CUBE_MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if callable(value) and hasattr(value, "cache_clear") and hasattr(value, "__wrapped__"):
                found[f"{module_name}.{name}"] = value
    return found


def dump(path: Path, database_url: str) -> int:
    """Write every memoized cube to `path` as (call arguments, cube); returns the count."""
    from data_access.db import make_engine

    engine = make_engine(database_url)
    caches = memo_caches()
    saved = {}
    for name, wrapper in _wrappers().items():
        cache = caches[name]
        items = list(cache.items())
        prefix = _key_prefix(wrapper, cache, engine)
        saved[name] = [(key[prefix:], value) for key, value in items]
    path.write_bytes(pickle.dumps({"version": 2, "cubes": saved}, protocol=pickle.HIGHEST_PROTOCOL))
    engine.dispose()
    return sum(len(items) for items in saved.values())


def restore(path: Path, database_url: str) -> int:
    """Put the cubes of `path` into this process's memos, keyed for `database_url`.

    Each cube goes in through its memo wrapper (with the wrapped function swapped
    for one returning the saved cube), so the keys are whatever this code makes.
    """
    from data_access.db import make_engine

    engine = make_engine(database_url)
    saved = pickle.loads(path.read_bytes())
    if isinstance(saved, dict) and saved.get("version") == 2:
        cubes = saved["cubes"]
    else:  # the first format: whole keys, the URL first
        cubes = {name: [(key[1:], value) for key, value in items] for name, items in saved.items()}
    wrappers = _wrappers()
    count = 0
    for name, items in cubes.items():
        wrapper = wrappers.get(name)
        if wrapper is None:
            continue
        for args, value in items:
            with _function_swapped(wrapper, lambda engine, *a, value=value: value):
                wrapper(engine, *args)
            count += 1
    engine.dispose()
    return count
