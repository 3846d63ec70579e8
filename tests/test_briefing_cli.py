"""`python -m briefing`: one site or every site, plain messages and data_access.cli's exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from apptest_support import ROOT
from briefing_support import pdf_pages, pdf_text, require_pdf_tools

from briefing.__main__ import main
from briefing.assemble import assemble
from data_access.cli import EXIT_DATABASE, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from data_access.db import make_engine
from data_access.views import Selection

DEMO = "demo-2025-12"


@pytest.fixture
def demo_env(demo_sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_sqlite_url)
    monkeypatch.delenv("LEAD_PUBLIC_URL", raising=False)
    monkeypatch.delenv("LEAD_DISCLOSURE_K", raising=False)
    return demo_sqlite_url


def test_one_site_and_period(demo_env, tmp_path, capsys):
    require_pdf_tools()
    status = main(
        ["--site", "albany", "--period", "2025", "--out", str(tmp_path),
         "--base-url", "https://lead.example.org"]
    )  # fmt: skip
    assert status == EXIT_OK
    written = tmp_path / "briefing-albany-2025.pdf"
    assert [p.name for p in tmp_path.iterdir()] == [written.name]
    data = written.read_bytes()
    assert pdf_pages(data) <= 2
    text = pdf_text(data)
    # The same assembly the page uses, so the same figures and sentences.
    briefing = assemble(
        make_engine(demo_env), Selection(DEMO, "albany", "2025"), dashboard_url="https://x.org"
    ).briefing
    for item in briefing.headlines:
        assert item.value_text in text
        assert " ".join(item.sentence.split()) in text
    assert "https://lead.example.org/briefing?site=albany&period=2025" in text
    out = capsys.readouterr().out
    assert f"Wrote {written}" in out and "Albany, 2025" in out


def test_every_site_at_once_with_the_default_period(demo_env, tmp_path):
    require_pdf_tools()
    assert main(["--all", "--out", str(tmp_path / "new")]) == EXIT_OK
    # Default: the latest complete quarter of data through 31 December 2025.
    names = sorted(p.name for p in (tmp_path / "new").iterdir())
    assert names == [f"briefing-{s}-2025-Q4.pdf" for s in ("albany", "santa-fe", "seattle")]
    for name in names:
        data = (tmp_path / "new" / name).read_bytes()
        assert pdf_pages(data) <= 2
        assert "SYNTHETIC DEMONSTRATION DATA" in pdf_text(data)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--site", "nowhere"], "site 'nowhere' is not in release demo-2025-12"),
        (["--site", "seattle", "--period", "2025-03"], "is a month"),
        (["--site", "seattle", "--period", "2025-Q5"], "is not a quarter"),
        (["--site", "seattle", "--period", "2026-Q1"], "is not a complete quarter"),
        (["--site", "seattle", "--release", "nope"], "no release with this id"),
        (["--site", "seattle", "--base-url", "lead.example.org"], "must be an http(s) address"),
    ],
)
def test_mistakes_are_named_and_nothing_is_written(demo_env, tmp_path, capsys, arguments, message):
    assert main([*arguments, "--out", str(tmp_path)]) == EXIT_USAGE
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_no_release_and_no_database(sqlite_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["--site", "seattle", "--out", str(tmp_path)]) == EXIT_REFUSED
    assert "No release is loaded yet" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert main(["--site", "seattle", "--out", str(tmp_path)]) == EXIT_DATABASE
    assert "Cannot reach the PostgreSQL database" in capsys.readouterr().err


def test_the_documented_command_runs_as_a_module():
    # `python -m briefing --help` is what docs/briefing.md tells staff to type.
    done = subprocess.run(
        [sys.executable, "-m", "briefing", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "--all" in done.stdout and "briefing-<site>-<period>.pdf" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "briefing", "--out", "x"], cwd=ROOT, capture_output=True, text=True
    )
    assert missing.returncode == EXIT_USAGE and "--site" in missing.stderr
