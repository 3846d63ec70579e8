"""Dump (and time) every site's protected public cubes, to prove a change keeps them identical.

A change to the disclosure code that is meant to be a pure speed-up (a faster LP
solver, less slicing) must not move a single withheld cell. This script builds
the cubes `python -m data_access precompute` builds for each site (referral
flow, recidivism, costs, caseload and services per year), writes for each cube
and each published level the protected frame (values and `_flag` columns) and
the audit log to a JSON file, and compares two such files cell by cell.

    export DATABASE_URL=sqlite:////tmp/lp/db.sqlite
    PYTHONPATH=. .venv/bin/python bench/audit_equivalence.py dump before.json \
        --sites seattle santa-fe albany synthetic-01 synthetic-02 synthetic-03 --repeat 3
    # ... change the code ...
    PYTHONPATH=. .venv/bin/python bench/audit_equivalence.py dump after.json --sites ...
    PYTHONPATH=. .venv/bin/python bench/audit_equivalence.py compare before.json after.json

`dump` computes every cube (LEAD_CUBE_STORE is forced off and the in-process memos
are cleared before each run, so nothing is read from a cache), `--repeat` times
and reports the median seconds per site, and checks that the repeats agree with
the first run (the audit is meant to be deterministic). It also counts the LP
solves (calls of `exact._Problem._solve`). `compare` exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

from data_access import queries as q
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.disclosure import exact
from data_access.disclosure.protected import Protected, ProtectedCounts
from data_access.precompute import _caseload_years
from data_access.views.base import clear_memos
from data_access.views.caseload_cube import caseload_services
from data_access.views.costs import site_costs
from data_access.views.recidivism import recidivism_cube
from data_access.views.referral_flow import referral_flow

DEFAULT_SITES = ("seattle", "santa-fe", "albany", "synthetic-01", "synthetic-02", "synthetic-03")


def _frame(frame: pl.DataFrame) -> dict[str, Any]:
    # Rows in the order built: a level's row order is part of what is published.
    return {"columns": frame.columns, "rows": json.loads(frame.write_json())}


def _plain(value: Any) -> Any:
    """A cube as JSON-ready data: every frame, flag and audit record kept."""
    if isinstance(value, ProtectedCounts):
        return {
            "type": "ProtectedCounts",
            "view": value.view,
            "dimensions": list(value.dimensions),
            "count": value.count,
            "k": value.k,
            "levels": {"|".join(lv): _plain(p) for lv, p in value.levels.items()},
            "finest_keys": _frame(value.finest_keys),
            "audit_log": [r.as_dict() for r in value.audit_log],
        }
    if isinstance(value, Protected):
        return {
            "type": "Protected",
            "view": value.view,
            "k": value.k,
            "rules": list(value.rules),
            "notes": list(value.notes),
            "frame": _frame(value.frame),
            "audit_log": [r.as_dict() for r in value.audit_log],
        }
    if isinstance(value, pl.DataFrame):
        return _frame(value)
    if dataclasses.is_dataclass(value):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, **fields}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, dt.date | Audience):
        return str(value)
    return value


def build_site(engine, release: q.Release, site_id: str) -> dict[str, Any]:
    """Every public cube of one site, as precompute.site_cubes builds them."""
    key = (release.release_id, release.checksum, site_id)
    cubes = {
        "referral_flow": referral_flow(engine, *key, Audience.PUBLIC),
        "recidivism_cube": recidivism_cube(engine, *key, Audience.PUBLIC),
        "site_costs": site_costs(engine, *key, Audience.PUBLIC),
    }
    for year in _caseload_years(engine, release, site_id):
        cubes[f"caseload_services/{year}"] = caseload_services(engine, *key, year, Audience.PUBLIC)
    return {name: _plain(cube) for name, cube in cubes.items()}


class _SolveCounter:
    """Counts LP solves by wrapping exact._Problem._solve (negligible next to a solve)."""

    def __init__(self) -> None:
        self.calls = 0
        original = exact._Problem._solve

        def counted(problem, *args, **kwargs):
            self.calls += 1
            return original(problem, *args, **kwargs)

        exact._Problem._solve = counted  # type: ignore[method-assign]


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def dump(args: argparse.Namespace) -> int:
    os.environ["LEAD_CUBE_STORE"] = "off"  # compute every cube (read at call time)
    engine = make_engine(args.database_url)
    release = q.get_release(engine, args.release)
    counter = _SolveCounter()
    out: dict[str, Any] = {"release": release.release_id, "checksum": release.checksum}
    sites: dict[str, Any] = {}
    timings: dict[str, Any] = {}
    for site_id in args.sites:
        seconds, cpus, solves, digests = [], [], [], []
        for run in range(args.repeat):
            clear_memos()
            counter.calls = 0
            started = time.perf_counter()
            cpu = time.process_time()
            data = build_site(engine, release, site_id)
            cpu = time.process_time() - cpu
            seconds.append(time.perf_counter() - started)
            cpus.append(cpu)
            solves.append(counter.calls)
            digests.append(_digest(data))
            if run == 0:
                sites[site_id] = data
            print(
                f"  {site_id} run {run + 1}: {seconds[-1]:.2f} s wall, {cpu:.2f} s cpu, "
                f"{counter.calls} LP solves",
                file=sys.stderr,
                flush=True,
            )
        if len(set(digests)) > 1:
            print(f"  {site_id}: repeated runs DIFFER", file=sys.stderr)
        timings[site_id] = {
            "seconds": seconds,
            "median_seconds": statistics.median(seconds),
            "cpu_seconds": cpus,
            "median_cpu_seconds": statistics.median(cpus),
            "lp_solves": solves,
            "deterministic": len(set(digests)) == 1,
        }
        print(
            f"{site_id}: median {statistics.median(seconds):.2f} s wall, "
            f"{statistics.median(cpus):.2f} s cpu of {args.repeat}, {solves[0]} LP solves",
            flush=True,
        )
    out["sites"] = sites
    out["timings"] = timings
    Path(args.output).write_text(json.dumps(out, sort_keys=True))
    return 0


def _flag_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c.endswith("_flag")]


def _count_cells(node: Any, tally: dict[str, int]) -> None:
    """Cells, flags and withheld cells of every protected level below node."""
    if isinstance(node, dict):
        if node.get("type") == "Protected":
            frame = node["frame"]
            tally["levels"] += 1
            tally["cells"] += len(frame["rows"]) * len(frame["columns"])
            for row in frame["rows"]:
                tally["withheld"] += sum(1 for c in _flag_columns(frame["columns"]) if row[c])
            tally["audit_records"] += len(node["audit_log"])
        for value in node.values():
            _count_cells(value, tally)
    elif isinstance(node, list):
        for value in node:
            _count_cells(value, tally)


def _differences(a: Any, b: Any, path: str, found: list[str], limit: int = 20) -> None:
    if len(found) >= limit:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                found.append(f"{path}/{key}: only in {'after' if key not in a else 'before'}")
            else:
                _differences(a[key], b[key], f"{path}/{key}", found, limit)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            found.append(f"{path}: {len(a)} items before, {len(b)} after")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _differences(x, y, f"{path}[{i}]", found, limit)
    elif a != b or type(a) is not type(b):
        found.append(f"{path}: {a!r} before, {b!r} after")


def compare(args: argparse.Namespace) -> int:
    before = json.loads(Path(args.before).read_text())
    after = json.loads(Path(args.after).read_text())
    status = 0
    if (before["release"], before["checksum"]) != (after["release"], after["checksum"]):
        print("the two dumps are of different releases")
        return 1
    for site_id in sorted(set(before["sites"]) | set(after["sites"])):
        if site_id not in before["sites"] or site_id not in after["sites"]:
            print(f"{site_id}: in one dump only")
            status = 1
            continue
        a, b = before["sites"][site_id], after["sites"][site_id]
        tally = {"levels": 0, "cells": 0, "withheld": 0, "audit_records": 0}
        _count_cells(a, tally)
        found: list[str] = []
        _differences(a, b, site_id, found)
        t_a, t_b = before["timings"][site_id], after["timings"][site_id]
        ratio = t_a["median_seconds"] / t_b["median_seconds"]
        cpu = ""
        if "median_cpu_seconds" in t_a and "median_cpu_seconds" in t_b:
            a_cpu, b_cpu = t_a["median_cpu_seconds"], t_b["median_cpu_seconds"]
            cpu = f", cpu {a_cpu:.2f} s -> {b_cpu:.2f} s ({a_cpu / b_cpu:.1f}x)"
        verdict = "IDENTICAL" if not found else "DIFFERENT"
        print(
            f"{site_id}: {verdict}: {len(a)} cubes, {tally['levels']} levels, "
            f"{tally['cells']} cells ({tally['withheld']} withheld), "
            f"{tally['audit_records']} audit records; median {t_a['median_seconds']:.2f} s -> "
            f"{t_b['median_seconds']:.2f} s ({ratio:.1f}x){cpu}, LP solves "
            f"{t_a['lp_solves'][0]} -> {t_b['lp_solves'][0]}"
        )
        for line in found:
            print(f"    {line}")
        status |= bool(found)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="build every site's public cubes and write them to a file")
    d.add_argument("output")
    d.add_argument("--sites", nargs="+", default=list(DEFAULT_SITES))
    d.add_argument("--release", default=None, help="release id (default: the newest)")
    d.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    d.add_argument("--repeat", type=int, default=1, help="runs per site (median is reported)")
    c = sub.add_parser("compare", help="compare two dumps; exit 1 on any difference")
    c.add_argument("before")
    c.add_argument("after")
    args = parser.parse_args(argv)
    return dump(args) if args.command == "dump" else compare(args)


if __name__ == "__main__":
    raise SystemExit(main())
