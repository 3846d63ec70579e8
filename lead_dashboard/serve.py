"""`lead-dashboard serve`: Streamlit's server on the dashboard, with the dashboard's settings.

The app is dashboard.py with app_pages/ and .streamlit/config.toml beside it: in
app/ next to this file when installed (pyproject.toml copies them there), at
the repository's root in a checkout. Streamlit reads the config.toml beside
the script it runs, so the dashboard's settings (theme, no developer menu,
no uploads, no usage statistics) hold whatever folder the server starts in.
That folder still matters: its .streamlit/secrets.toml holds staff sign-in
(docs/staff-mode.md), and without DATABASE_URL its data/lead.sqlite is the
database. Any Streamlit setting can be overridden by its STREAMLIT_*
environment variable (e.g. STREAMLIT_SERVER_BASE_URL_PATH behind a proxy).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from data_access.audience import (
    AUDIENCE_VARIABLE,
    Audience,
    AudienceConfigurationError,
    audience_from_environment,
)
from data_access.cli import EXIT_OK, EXIT_USAGE
from data_access.db import default_sqlite_path

APP_SCRIPT = "dashboard.py"
PACKAGE = Path(__file__).resolve().parent
# Where the app is: the installed copy first, so a checkout's root is used only in a checkout.
APP_FOLDERS = (PACKAGE / "app", PACKAGE.parent)
DEFAULT_PORT = 8501


class AppMissing(RuntimeError):
    """Neither an installed nor a checked-out dashboard.py was found."""


def add_command(commands: argparse._SubParsersAction) -> None:
    """Add `serve` to the data commands' parser (data_access.cli.build_parser)."""
    serve = commands.add_parser(
        "serve",
        help="start the dashboard's web server",
        description=(
            "Start the dashboard's web server (Streamlit) with the dashboard's settings, on "
            "the database named by DATABASE_URL (default: data/lead.sqlite under the current "
            "folder). Load and precompute a release first. Stop it with Ctrl+C."
        ),
        epilog=(
            "The current folder's .streamlit/secrets.toml holds staff sign-in "
            "(docs/staff-mode.md). STREAMLIT_* environment variables override any other "
            "Streamlit setting."
        ),
    )
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--address",
        metavar="HOST",
        help="the address to listen on, e.g. 127.0.0.1 behind a proxy (default: every one)",
    )
    serve.add_argument(
        "--audience",
        choices=[a.value for a in Audience],
        help=f"public or staff (sets {AUDIENCE_VARIABLE}; default: {AUDIENCE_VARIABLE}, "
        "else public). Staff requires sign-in: see docs/staff-mode.md",
    )
    serve.set_defaults(command=run_serve)


def app_script() -> Path:
    """The dashboard.py to serve: the installed copy, else the checkout's."""
    for folder in APP_FOLDERS:
        script = folder / APP_SCRIPT
        if script.is_file():
            return script
    raise AppMissing(
        f"{APP_SCRIPT} is in none of {', '.join(str(f) for f in APP_FOLDERS)}: reinstall the "
        "lead-dashboard package"
    )


def streamlit_arguments(script: Path, port: int, address: str | None) -> list[str]:
    """`streamlit run`'s arguments: a headless server (it opens no browser) on `port`."""
    arguments = ["run", str(script), "--server.port", str(port), "--server.headless", "true"]
    if address:
        arguments += ["--server.address", address]
    return arguments


def run_serve(args: argparse.Namespace) -> int:
    if args.audience:
        os.environ[AUDIENCE_VARIABLE] = args.audience
    try:
        audience = audience_from_environment()
        script = app_script()
    except (AudienceConfigurationError, AppMissing) as exc:
        print(f"The dashboard was not started: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _say_which_database()
    print(f"Serving the {audience.value} dashboard ({script.parent}).", flush=True)
    # Streamlit's own command line, in this process: signals reach the server directly.
    from streamlit.web import cli as streamlit_cli

    # prog_name as `python -m streamlit` sets it; it ends with SystemExit when the server stops.
    streamlit_cli.main(streamlit_arguments(script, args.port, args.address), prog_name="streamlit")
    return EXIT_OK


def _say_which_database() -> None:
    if os.environ.get("DATABASE_URL", "").strip():
        print("Database: the one named by DATABASE_URL.", flush=True)
        return
    path = default_sqlite_path()
    print("Database: data/lead.sqlite under the current folder.", flush=True)
    if not path.is_file():
        # The likely slip with a default relative to the folder: serving from another one.
        print(
            "There is no data/lead.sqlite here yet: run `lead-dashboard init` and `demo` (or "
            "`load` and `precompute`) in this folder first, or set DATABASE_URL.",
            file=sys.stderr,
            flush=True,
        )


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (a whole number 1-65535)")
    return int(text)
