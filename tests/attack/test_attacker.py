"""The attacker itself, on tiny hand-made bundles whose leaks are known.

Each bundle is what `python -m data_access export` writes, cut down to the files
the attacker reads (README.md, releases.csv, sites.csv and count tables).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from .public_bundles import attack, main

HEADER = ("release_id", "as_of", "notes")


def _bundle(folder: Path, release_id: str, as_of: str, tables: dict, notes: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(f"# LEAD open data: release {release_id}\n")
    for name, rows in {
        "releases": [dict(zip(HEADER, (release_id, as_of, notes), strict=True))],
        "sites": [{"site_id": "s", "site_name": "Springfield"}],
        **tables,
    }.items():
        with (folder / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _referred(rows):
    """count-referral_flow-by-referred-quarter rows from (referred, quarter, persons, flag)."""
    return [
        {"site_id": "s", "referred": r, "quarter": q, "persons": p, "persons_flag": f}
        for r, q, p, f in rows
    ]


def _yearly(rows):
    return [
        {"site_id": "s", "referred": r, "year": y, "persons": p, "persons_flag": f}
        for r, y, p, f in rows
    ]


SMALL = "fewer than 11"
OTHER = "withheld to protect another cell"


def test_a_withheld_quarter_recovered_from_its_year_is_found(tmp_path):
    folder = _bundle(tmp_path / "a", "r1", "2024-12-31", {
        "count-referral_flow-by-referred-quarter": _referred([
            ("yes", "2024-Q1", "40", ""), ("yes", "2024-Q2", "", SMALL),
            ("yes", "2024-Q3", "30", ""), ("yes", "2024-Q4", "25", ""),
        ]),
        "count-referral_flow-by-referred-year": _yearly([("yes", "2024", "102", "")]),
    })  # fmt: skip
    report = attack([folder])
    assert [(f.mechanism, f.low, f.high) for f in report.findings] == [("within-release", 7, 7)]
    assert "2024-Q2" in report.findings[0].what


def test_complementary_suppression_that_holds_finds_nothing(tmp_path):
    folder = _bundle(tmp_path / "a", "r1", "2024-12-31", {
        "count-referral_flow-by-referred-quarter": _referred([
            ("yes", "2024-Q1", "40", ""), ("yes", "2024-Q2", "", SMALL),
            ("yes", "2024-Q3", "", OTHER), ("yes", "2024-Q4", "25", ""),
        ]),
        "count-referral_flow-by-referred-year": _yearly([("yes", "2024", "102", "")]),
    })  # fmt: skip
    report = attack([folder])
    assert report.findings == [] and report.problems == []
    assert main([str(folder)]) == 0


def test_a_partial_year_minus_its_earlier_part_is_found(tmp_path):
    # Published by year only: January-June 2025 is 20, the whole year 29, so the second
    # half-year is 9 people.
    early = _bundle(tmp_path / "a", "r1", "2025-06-30", {
        "count-referral_flow-by-referred-year": _yearly([("yes", "2025", "20", "")]),
    })  # fmt: skip
    late = _bundle(tmp_path / "b", "r2", "2025-12-31", {
        "count-referral_flow-by-referred-year": _yearly([("yes", "2025", "29", "")]),
    })  # fmt: skip
    report = attack([late, early])
    assert [(f.mechanism, f.low, f.high) for f in report.findings] == [("partial year", 9, 9)]
    assert main([str(early), str(late)]) == 1


def test_a_closed_quarter_withheld_differently_in_two_releases_is_found(tmp_path):
    # Q1 + Q2 = 50 in both releases. The first withholds Q2 and Q1 (both large), the
    # second publishes Q1: together they give Q2.
    early = _bundle(tmp_path / "a", "r1", "2025-06-30", {
        "count-referral_flow-by-referred-quarter": _referred([
            ("yes", "2025-Q1", "", OTHER), ("yes", "2025-Q2", "", OTHER),
        ]),
        "count-referral_flow-by-referred-year": _yearly([("yes", "2025", "50", "")]),
    })  # fmt: skip
    late = _bundle(tmp_path / "b", "r2", "2025-09-30", {
        "count-referral_flow-by-referred-quarter": _referred([
            ("yes", "2025-Q1", "36", ""), ("yes", "2025-Q2", "", OTHER),
            ("yes", "2025-Q3", "", OTHER),
        ]),
    })  # fmt: skip
    report = attack([early, late])
    found = {(f.mechanism, f.low) for f in report.findings}
    assert ("closed period re-protected differently", 14) in found


def test_a_correction_named_in_the_log_is_not_taken_as_unchanged(tmp_path):
    early = _bundle(tmp_path / "a", "r1", "2025-06-30", {
        "count-referral_flow-by-referred-quarter": _referred([
            ("yes", "2025-Q1", "", OTHER), ("yes", "2025-Q2", "", OTHER),
        ]),
        "count-referral_flow-by-referred-year": _yearly([("yes", "2025", "50", "")]),
    })  # fmt: skip
    late = _bundle(tmp_path / "b", "r2", "2025-09-30", {
        "count-referral_flow-by-referred-quarter": _referred([
            ("yes", "2025-Q1", "36", ""), ("yes", "2025-Q2", "", OTHER),
            ("yes", "2025-Q3", "", OTHER),
        ]),
    }, notes="Correction: Springfield referrals of 2025-02 were counted twice.")  # fmt: skip
    report = attack([early, late])
    assert not any("re-protected" in f.mechanism for f in report.findings)


def test_a_reason_the_bundle_itself_refutes_is_a_problem(tmp_path):
    folder = _bundle(tmp_path / "a", "r1", "2024-12-31", {
        "count-referral_flow-by-referred-year": _yearly([("yes", "2024", "102", "")]),
        "view-referrals-funnel": [{
            "site_id": "s", "selected_period": "2024", "metric_id": "screening.referred",
            "stage": "referred", "base_stage": "referred", "numerator": "",
            "numerator_flag": SMALL, "denominator": "", "denominator_flag": SMALL,
        }],
    })  # fmt: skip
    report = attack([folder])
    assert any("says 'fewer than 11'" in p and "102" in p for p in report.problems)


@pytest.mark.parametrize("reason", ["secret", "withheld"])
def test_an_undocumented_reason_is_a_problem(tmp_path, reason):
    folder = _bundle(tmp_path / "a", "r1", "2024-12-31", {
        "count-referral_flow-by-referred-year": _yearly([("yes", "2024", "", reason)]),
    })  # fmt: skip
    assert any(reason in p for p in attack([folder]).problems)
