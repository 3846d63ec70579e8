"""The command line: `python -m data_access init|demo|validate|load|precompute|releases|export`.

Installed as a package, the same commands are `lead-dashboard COMMAND`
(lead_dashboard.cli), which adds `serve`.

Expected failures (an invalid release, a release already loaded, a database
that cannot be reached) end with a plain message and a non-zero exit status,
never a traceback. Exit status: 0 success, 1 the release was refused,
2 the command was mistyped, 3 the database could not be used.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from data_access import __version__
from data_access.db import DatabaseUnavailable, database_url, describe, init_db, make_engine
from data_access.load import (
    LoadFailed,
    ReleaseAlreadyLoaded,
    ReleaseInvalid,
    list_releases,
    load_release,
)
from data_access.validate import validate_release

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_DATABASE = 0, 1, 2, 3


PROG = "python -m data_access"


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    return run(build_parser(prog).parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Carry out the parsed command line `args`, turning expected failures into exit codes."""
    try:
        return args.command(args)
    except ReleaseInvalid as exc:
        _print_problems(exc.report.lines(), sys.stderr)
        print("Nothing was loaded.", file=sys.stderr)
        return EXIT_REFUSED
    except ReleaseAlreadyLoaded as exc:
        print(exc, file=sys.stderr)
        return EXIT_REFUSED
    except DatabaseUnavailable as exc:
        # An administrator's terminal: the driver's reason too (passwords removed).
        print(exc.for_administrator(), file=sys.stderr)
        return EXIT_DATABASE
    except LoadFailed as exc:
        print(exc, file=sys.stderr)
        return EXIT_DATABASE
    except KeyboardInterrupt:
        print("Interrupted; a load in progress was rolled back.", file=sys.stderr)
        return 130


DESCRIPTION = (
    "Manage the LEAD dashboard's data: check release folders against the data contract "
    "(docs/data-contract.md) and load them into the database named by DATABASE_URL "
    "(default: the SQLite file data/lead.sqlite under the current folder)."
)


def build_parser(
    prog: str = PROG,
    description: str = DESCRIPTION,
    more_commands: Callable[[argparse._SubParsersAction], None] | None = None,
) -> argparse.ArgumentParser:
    """The parser of the data commands; `more_commands(commands)` may add others (serve)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog="Exit status: 0 success, 1 release refused, 2 usage error, 3 database error.",
    )
    parser.add_argument("--version", action="version", version=f"lead-dashboard {__version__}")
    # What the messages call this program, so they name the command the user typed.
    parser.set_defaults(prog=prog)
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init",
        help="create the database tables (existing data are kept)",
        description="Create every table that does not exist yet. Existing data are untouched.",
    )
    init.set_defaults(command=run_init)

    demo = commands.add_parser(
        "demo",
        help="write the synthetic demonstration releases and load them",
        description=(
            "Write the synthetic demonstration releases (fixed seed, same every time) and "
            "load each one through the same validation and loader as real data."
        ),
    )
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing when any release is already loaded (used by `make run`)",
    )
    demo.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="keep the release folders in DIR (default: a temporary folder, removed after)",
    )
    demo.add_argument(
        "--replace", action="store_true", help="replace demo releases that are already loaded"
    )
    demo.set_defaults(command=run_demo)

    validate = commands.add_parser(
        "validate",
        help="check a release folder and list every problem (the database is not used)",
        description=(
            "Check a release folder against the data contract and list every problem, "
            "each with its file, line, column and value. The database is not touched."
        ),
    )
    validate.add_argument("path", type=Path, metavar="PATH", help="the release folder")
    validate.set_defaults(command=run_validate)

    load = commands.add_parser(
        "load",
        help="validate a release folder, then load it in one transaction",
        description=(
            "Validate a release folder, then load it in one transaction. A release with any "
            "problem is refused and the database is left exactly as it was."
        ),
    )
    load.add_argument("path", type=Path, metavar="PATH", help="the release folder")
    load.add_argument(
        "--replace",
        action="store_true",
        help="replace a release with the same release_id instead of refusing it",
    )
    load.set_defaults(command=run_load)

    precompute = commands.add_parser(
        "precompute",
        help="compute a release's protected cubes now, so no visitor waits for them",
        description=(
            "Run the disclosure audit of every site of a release (default: the newest) and "
            "keep the protected cubes in the database, so pages open without computing "
            "them, after any server restart. Run it after `load`, with the dashboard's "
            "LEAD_DISCLOSURE_K. Cubes already stored are reused."
        ),
    )
    precompute.add_argument("--release", metavar="ID", help="the release (default: the latest)")
    precompute.add_argument(
        "--site", action="append", default=[], metavar="ID", help="only this site (repeatable)"
    )
    precompute.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        metavar="N",
        help="sites computed at once, one process each (default 1)",
    )
    precompute.set_defaults(command=run_precompute)

    listing = commands.add_parser(
        "releases",
        help="list the loaded releases, newest as_of first",
        description="List the loaded releases, newest as_of first.",
    )
    listing.set_defaults(command=run_releases)

    export = commands.add_parser(
        "export",
        help="write the open-data bundle (CSV files, README, data dictionary, ZIP)",
        description=(
            "Write the open-data bundle of a release: one CSV per table the public pages "
            "show, after disclosure control, a README, a data dictionary and a ZIP of them "
            "all (see docs/open-data.md). The folder appears complete or not at all."
        ),
    )
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="the new folder")
    export.add_argument(
        "--audience",
        choices=("public", "staff"),
        default="public",
        help="public (default): protected figures; staff: exact counts, not for publication",
    )
    export.add_argument("--release", metavar="ID", help="the release (default: the latest)")
    export.add_argument("--site", metavar="ID", help="one site only (default: every site)")
    export.add_argument(
        "--periods",
        choices=("all", "years"),
        default="all",
        help="build the views for every quarter and year (default) or for whole years only",
    )
    export.add_argument("--replace", action="store_true", help="replace an earlier export in DIR")
    export.set_defaults(command=run_export)
    if more_commands is not None:
        more_commands(commands)
    return parser


def _ready_engine():
    engine = make_engine(database_url())
    init_db(engine)
    return engine


def run_init(_args) -> int:
    _ready_engine()
    where = (
        "named by DATABASE_URL"
        if os.environ.get("DATABASE_URL", "").strip()
        else "data/lead.sqlite under the current folder"
    )
    print(f"Database ready: the {describe(database_url())} {where}")
    return EXIT_OK


def run_demo(args) -> int:
    engine = _ready_engine()
    if args.if_empty:
        loaded = list_releases(engine)
        if loaded.height:
            print(
                f"The database already holds {loaded.height} release(s); "
                "demo data not loaded (--if-empty)."
            )
            return EXIT_OK
    # Imported here so the other commands work while the generator is absent or broken.
    from data_access.demo import write_demo_releases

    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        _load_demo(engine, write_demo_releases(args.out), args.replace)
        print(f"Demo release folders kept in {args.out}")
    else:
        with tempfile.TemporaryDirectory(prefix="lead-demo-") as folder:
            _load_demo(engine, write_demo_releases(Path(folder)), args.replace)
    # The newest release is what the dashboard opens on: its first visitors wait for nothing.
    return _precompute(engine, None, [], jobs=1)


def _load_demo(engine, folders: list[Path], replace: bool) -> None:
    for folder in folders:
        print(load_release(engine, folder, replace=replace))


def run_validate(args) -> int:
    report = validate_release(args.path)
    if not report.ok:
        _print_problems(report.lines(), sys.stdout)
        return EXIT_REFUSED
    rows = sum(frame.height for frame in report.tables.values())
    print(
        f"{args.path}: release {report.manifest['release_id']} "
        f"(as of {report.manifest['as_of']}) is valid: "
        f"{rows:,} rows in {len(report.tables)} tables "
        f"({', '.join(sorted(report.tables))})"
    )
    return EXIT_OK


def run_load(args) -> int:
    engine = _ready_engine()
    summary = load_release(engine, args.path, replace=args.replace)
    print(summary)
    # Said where the administrator is looking: otherwise the first visitor of each
    # site waits for its disclosure audit (see README, "Command line").
    print(
        f"Next: {args.prog} precompute --release {summary.release_id}, "
        "so no visitor waits for the disclosure audit."
    )
    return EXIT_OK


def run_precompute(args) -> int:
    engine = _ready_engine()
    return _precompute(engine, args.release, args.site, args.jobs)


def _precompute(engine, release_id: str | None, sites: list[str], jobs: int) -> int:
    # Imported here so the other commands work while the views are being changed.
    from data_access.precompute import precompute_release
    from data_access.queries import InvalidFilter, get_release

    started = time.perf_counter()
    try:
        release = get_release(engine, release_id)
        print(f"Protected cubes of release {release.release_id}:", flush=True)
        results = precompute_release(
            engine, release.release_id, sites, jobs=jobs, report=lambda r: print(r, flush=True)
        )
    except (LookupError, InvalidFilter) as exc:
        print(f"Nothing was computed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{sum(r.cubes for r in results)} cubes of {len(results)} site(s) ready "
        f"in {time.perf_counter() - started:.1f} s."
    )
    return EXIT_OK


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def run_releases(args) -> int:
    engine = _ready_engine()
    loaded = list_releases(engine)
    if not loaded.height:
        print(f"No release is loaded yet. Load one with `{args.prog} load PATH`,")
        print(f"or the demonstration data with `{args.prog} demo`.")
        return EXIT_OK
    header = ("release_id", "as_of", "loaded_at (UTC)", "synthetic", "rows", "sites")
    table = [
        (
            row["release_id"],
            row["as_of"].isoformat(),
            row["loaded_at"].strftime("%Y-%m-%d %H:%M"),
            "yes" if row["synthetic"] else "no",
            f"{row['rows']:,}",
            ", ".join(row["sites"]),
        )
        for row in loaded.iter_rows(named=True)
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        print(
            "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        )
    return EXIT_OK


def run_export(args) -> int:
    # Imported here so the other commands work while the views are being changed.
    from data_access.audience import Audience
    from data_access.export import ExportFailed, write_bundle
    from data_access.queries import InvalidFilter

    engine = _ready_engine()
    audience = Audience(args.audience)
    try:
        bundle = write_bundle(
            engine,
            args.out,
            replace=args.replace,
            release_id=args.release,
            site_id=args.site,
            audience=audience,
            periods=args.periods,
        )
    except (InvalidFilter, LookupError) as exc:
        print(f"Nothing was exported: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FileExistsError, ExportFailed) as exc:
        print(f"Nothing was exported: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    label = " (STAFF ONLY: exact counts, not for publication)" if bundle.audience == "staff" else ""
    print(
        f"Exported release {bundle.release.release_id} (as of {bundle.release.as_of}){label}: "
        f"{len(bundle.files)} files and {bundle.name}.zip in {args.out}"
    )
    return EXIT_OK


def _print_problems(lines: list[str], stream) -> None:
    for line in lines:
        print(line, file=stream)
