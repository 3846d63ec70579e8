"""The page every visitor sees when the database cannot be reached.

It is public, so it must not carry the database's credentials or where the
database is; and it must tell the visitor the truth about what to do next.
"""

from __future__ import annotations

import shutil

from apptest_support import open_page, texts
from streamlit.testing.v1 import AppTest

# A closed port on this machine: the connection is refused at once.
UNREACHABLE = (
    "postgresql+psycopg://leaduser:Sup3rSecret@127.0.0.1:59999/leaddb"
    "?password=Other5ecret&sslmode=prefer"
)
NOT_FOR_THE_PUBLIC = ("leaduser", "Sup3rSecret", "Other5ecret", "127.0.0.1", "59999", "leaddb")


def everything_shown(at: AppTest) -> str:
    """Every element of the page and sidebar as its protobuf text: what the browser gets."""
    found: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return "\n".join(found)


def test_the_outage_page_shows_no_credential_and_no_location(app_env):
    app_env.setenv("DATABASE_URL", UNREACHABLE)
    at = open_page(site="albany")
    assert not at.exception
    assert "cannot reach its database" in texts(at)
    shown = everything_shown(at)
    assert "Details for the site administrator" in shown
    assert "Cannot reach the PostgreSQL database: the database server refused" in shown
    for piece in NOT_FOR_THE_PUBLIC:
        assert piece not in shown, piece


def test_the_outage_message_offers_a_retry_that_works(app_env, demo_sqlite_url, tmp_path):
    # The same URL throughout: a read-only SQLite file that does not exist yet (an
    # unmounted volume), then appears. Nothing reruns the page by itself, so the
    # message must not promise that; its button must bring the figures back.
    database = tmp_path / "later.sqlite"
    app_env.setenv("DATABASE_URL", f"sqlite:///file:{database}?mode=ro&uri=true")
    at = open_page(site="albany")
    assert not at.exception
    assert "cannot reach its database" in texts(at)
    assert "recover by itself" not in texts(at)
    assert [b.label for b in at.button] == ["Try again"]
    assert not at.metric

    shutil.copy(demo_sqlite_url.removeprefix("sqlite:///"), database)
    at.button[0].click().run()
    assert not at.exception
    assert "cannot reach its database" not in texts(at)
    assert at.metric  # the Overview's figures
