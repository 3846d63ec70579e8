"""The installed commands: `lead-dashboard` and `lead-briefing` (pyproject.toml, project.scripts).

`lead-dashboard COMMAND` runs the data commands of `python -m data_access`
under the installed name, plus `serve`, which starts the dashboard
(lead_dashboard.serve). `lead-briefing` is `python -m briefing`. Both work
from any folder; without DATABASE_URL the database is data/lead.sqlite under
the current folder.
"""

from __future__ import annotations

from data_access import cli as data_cli
from lead_dashboard import serve


def main(argv: list[str] | None = None) -> int:
    parser = data_cli.build_parser(
        "lead-dashboard",
        f"Start the LEAD dashboard's web server (serve). {data_cli.DESCRIPTION}",
        more_commands=serve.add_command,
    )
    return data_cli.run(parser.parse_args(argv))


def briefing(argv: list[str] | None = None) -> int:
    # Imported here: the briefing's PDF libraries are not needed by `lead-dashboard`.
    from briefing.__main__ import main as briefing_main

    return briefing_main(argv, prog="lead-briefing")
