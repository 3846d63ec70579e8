"""`python -m briefing`: write briefing PDFs for one site or every site (docs/briefing.md).

The PDFs are the ones the briefing page offers ("Download PDF"): the same
assembly from the same protected views, for the public audience always (there
is no staff option: a briefing is handed on). Expected failures end with a
plain message and the exit status data_access.cli uses: 0 success, 1 a
briefing could not be written (the others still are), 2 the command was
mistyped (an unknown site, period or release), 3 the database could not be used.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from briefing.assemble import assemble, briefing_url, pdf_file_name, public_base_url
from briefing.pdf import BriefingTooLong, ChartRenderingError, render_pdf
from data_access import __version__
from data_access import queries as q
from data_access.audience import Audience
from data_access.cli import EXIT_DATABASE, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from data_access.db import DatabaseUnavailable, database_url, make_engine
from data_access.periods import MONTH, Period, available_periods, parse_period
from data_access.views import Selection


class UsageError(ValueError):
    """A value on the command line that the release does not have; the message says which."""


PROG = "python -m briefing"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Write the LEAD briefing PDF (US letter, one or two pages) for a site and a "
            "quarter or year, or for every site at once, from the database named by "
            "DATABASE_URL. Figures are the public ones, after disclosure control, exactly "
            "as the dashboard's Briefing page shows them."
        ),
        epilog=(
            "Files are named briefing-<site>-<period>.pdf and replace earlier ones of the same "
            "name. Exit status: 0 success, 1 a briefing could not be written, 2 usage error, "
            "3 database error."
        ),
    )
    parser.add_argument("--version", action="version", version=f"lead-dashboard {__version__}")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--site", metavar="ID", help="one site, by its id (e.g. seattle)")
    which.add_argument("--all", action="store_true", help="every site of the release")
    parser.add_argument(
        "--period",
        metavar="CODE",
        help="a quarter (2025-Q4) or a year (2025); default: the latest complete quarter",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    parser.add_argument("--release", metavar="ID", help="the release (default: the latest)")
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the dashboard's public address for the link in each footer "
        "(default: LEAD_PUBLIC_URL, else http://localhost:8501)",
    )
    return parser


def _period(code: str | None, release: q.Release) -> Period:
    if code is None:
        # The latest complete quarter (the page's default too); a year back is enough to find it.
        return available_periods(release.as_of, f"{release.as_of.year - 1}-01")[0]
    try:
        period = parse_period(code)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if period.grain == MONTH:
        raise UsageError(
            f"period {code!r} is a month; a briefing covers a quarter (YYYY-Qn) or a year (YYYY)"
        )
    return period


def _sites(engine, release: q.Release, site: str | None) -> list[tuple[str, str]]:
    """(site_id, launched) of the chosen site or of every site, in the release's order."""
    table = q.sites(engine, release.release_id)
    launched = dict(zip(table["site_id"], table["launched"], strict=True))
    if site is None:
        return [(s, str(launched[s])) for s in release.sites if s in launched]
    if site not in launched:
        raise UsageError(
            f"site {site!r} is not in release {release.release_id}; its sites are "
            f"{', '.join(release.sites)}"
        )
    return [(site, str(launched[site]))]


def _write(path: Path, data: bytes) -> None:
    # Written beside the target, then renamed: a reader never sees half a PDF.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def run(args: argparse.Namespace) -> int:
    try:
        base_url = args.base_url or public_base_url()
    except ValueError as exc:  # LEAD_PUBLIC_URL is not an address
        raise UsageError(str(exc)) from None
    if not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must be an http(s) address; got {base_url!r}")
    engine = make_engine(database_url())
    release = q.get_release(engine, args.release)
    period = _period(args.period, release)
    sites = _sites(engine, release, args.site)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for site_id, launched in sites:
        complete = {p.code for p in available_periods(release.as_of, launched)}
        if period.code not in complete:
            message = (
                f"{site_id}: {period.code} is not a complete {period.grain} of this site's data "
                f"(release {release.release_id}, data through {release.as_of:%d %B %Y}, "
                f"launched {launched})"
            )
            if args.site:
                raise UsageError(message)
            print(f"Skipped {message}.", file=sys.stderr)
            failed += 1
            continue
        selection = Selection(release.release_id, site_id, period.code)
        started = time.perf_counter()
        try:
            briefing = assemble(engine, selection, Audience.PUBLIC, base_url).briefing
            data = render_pdf(briefing)
        except (BriefingTooLong, ChartRenderingError) as exc:
            print(f"No briefing for {site_id} {period.code}: {exc}", file=sys.stderr)
            failed += 1
            continue
        path = args.out / pdf_file_name(site_id, period.code)
        _write(path, data)
        print(
            f"Wrote {path} ({briefing.site_name}, {period.phrase}, release "
            f"{release.release_id}; {len(data) // 1024} KB in {time.perf_counter() - started:.1f} "
            f"s). Link: {briefing_url(base_url, selection)}"
        )
    return EXIT_REFUSED if failed else EXIT_OK


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """`prog` names the command in --help: `lead-briefing` when installed (lead_dashboard.cli)."""
    args = build_parser(prog).parse_args(argv)
    try:
        return run(args)
    except (UsageError, q.InvalidFilter) as exc:
        print(f"No briefing was written: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LookupError as exc:  # no release loaded at all
        print(f"No briefing was written: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except DatabaseUnavailable as exc:
        print(exc.for_administrator(), file=sys.stderr)
        return EXIT_DATABASE
    except OSError as exc:
        print(f"No briefing was written: cannot write to {args.out}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
