"""The command line, run as a user runs it: a subprocess with DATABASE_URL set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from release_builder import minimal_release

PROJECT = Path(__file__).resolve().parent.parent


def run(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "data_access", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["init", "demo", "validate", "load", "precompute", "releases"])
def test_every_command_has_help(command, sqlite_url):
    result = run(command, "--help", database_url=sqlite_url)

    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: python -m data_access {command}")


def test_validate_lists_every_problem_then_a_count(tmp_path, sqlite_url):
    release = minimal_release()
    release.tables["referrals"][0]["race_ethnicity"] = "blak"
    release.tables["population"][1]["population"] = "-3"
    folder = release.write(tmp_path / "release")

    result = run("validate", str(folder), database_url=sqlite_url)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "referrals.csv line 2, column race_ethnicity: 'blak' is not a race_ethnicity code; "
        "did you mean 'black'? Expected one of aian, asian, black, hispanic_latino, mena, "
        "nhpi, white, multiracial, unknown",
        "population.csv line 3, column population: '-3' is negative; population is 0 or more",
        f"2 problems found in {folder}",
    ]
    assert "Traceback" not in result.stderr


def test_a_release_json_nested_100000_deep_is_one_plain_line_from_validate_and_load(
    tmp_path, sqlite_url
):
    from bad_inputs import CASES

    deep = next(c for c in CASES if c.name == "manifest-nested-100000-deep")
    folder = deep.write(tmp_path / "deep")
    expected = "release.json line 9: nests lists or objects more than 20 levels deep"

    for command in ("validate", "load"):
        result = run(command, str(folder), database_url=sqlite_url)
        assert result.returncode == 1, (command, result.stderr[-300:])
        assert "Traceback" not in result.stderr + result.stdout, command
        assert expected in result.stdout + result.stderr, command
    assert run("releases", database_url=sqlite_url).stdout.startswith("No release is loaded yet.")


def test_load_refuses_then_loads_then_refuses_a_repeat_then_replaces(tmp_path, database_url):
    bad = minimal_release()
    bad.tables["costs"][0]["total_cost_usd"] = "-1"
    good = minimal_release().write(tmp_path / "good")

    refused = run("load", str(bad.write(tmp_path / "bad")), database_url=database_url)
    assert refused.returncode == 1
    assert "costs.csv line 2, column total_cost_usd: '-1' is negative" in refused.stderr
    assert refused.stderr.rstrip().endswith("Nothing was loaded.")
    assert "No release is loaded yet" in run("releases", database_url=database_url).stdout

    loaded = run("load", str(good), database_url=database_url)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("Loaded release test-2024-12 (as of 2024-12-31): 33 rows")
    assert loaded.stdout.splitlines()[-1].startswith(
        "Next: python -m data_access precompute --release test-2024-12"
    )

    repeat = run("load", str(good), database_url=database_url)
    assert repeat.returncode == 1
    assert "test-2024-12 is already loaded; use --replace" in repeat.stderr

    replaced = run("load", str(good), "--replace", database_url=database_url)
    assert replaced.returncode == 0 and replaced.stdout.startswith("Replaced release")

    listing = run("releases", database_url=database_url).stdout.splitlines()
    assert listing[0].split() == [
        "release_id",
        "as_of",
        "loaded_at",
        "(UTC)",
        "synthetic",
        "rows",
        "sites",
    ]
    assert listing[1].split()[:2] == ["test-2024-12", "2024-12-31"]
    assert len(listing) == 2


def test_unreachable_database_is_one_plain_line_without_the_password():
    url = "postgresql+psycopg://analyst:s3cret-pw@127.0.0.1:1/lead"

    result = run("releases", database_url=url)

    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    # An administrator's terminal: the plain words, then the driver's reason with the
    # host and port it tried.
    assert lines[0].startswith(
        "Cannot reach the PostgreSQL database: the database server refused the connection. "
        'Reason: connection failed: connection to server at "127.0.0.1", port 1 failed'
    )
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_demo_if_empty_does_nothing_when_a_release_is_loaded(tmp_path, sqlite_url):
    assert (
        run(
            "load", str(minimal_release().write(tmp_path / "r")), database_url=sqlite_url
        ).returncode
        == 0
    )

    result = run("demo", "--if-empty", database_url=sqlite_url)

    assert result.returncode == 0
    assert "demo data not loaded" in result.stdout
    assert len(run("releases", database_url=sqlite_url).stdout.splitlines()) == 2


def test_precompute_audits_every_site_once_and_reuses_what_is_stored(tmp_path, sqlite_url):
    run("load", str(minimal_release().write(tmp_path / "r")), database_url=sqlite_url)

    first = run("precompute", "--jobs", "2", database_url=sqlite_url)
    again = run("precompute", "--site", "sfe", database_url=sqlite_url)

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "Protected cubes of release test-2024-12:"
    assert sorted(line.split(":")[0].strip() for line in lines[1:3]) == ["sea", "sfe"]
    assert "cubes of 2 site(s) ready" in lines[-1]
    assert again.returncode == 0 and "cubes of 1 site(s) ready" in again.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--site", "nowhere"], "release test-2024-12 has no site nowhere"),
        (["--release", "no-such-release"], "no-such-release"),
    ],
)
def test_precompute_names_an_unknown_site_or_release(tmp_path, sqlite_url, arguments, message):
    run("load", str(minimal_release().write(tmp_path / "r")), database_url=sqlite_url)

    result = run("precompute", *arguments, database_url=sqlite_url)

    assert result.returncode == 2
    assert "Nothing was computed" in result.stderr and message in result.stderr


def test_precompute_rejects_a_job_count_that_is_not_positive(sqlite_url):
    result = run("precompute", "--jobs", "0", database_url=sqlite_url)

    assert result.returncode == 2
    assert "0 is not a positive whole number" in result.stderr


def test_mistyped_command_is_a_usage_error(sqlite_url):
    result = run("lode", database_url=sqlite_url)

    assert result.returncode == 2
    assert "invalid choice: 'lode'" in result.stderr
