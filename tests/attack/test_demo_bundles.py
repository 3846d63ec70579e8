"""The independent attacker on the public bundles of every demo release (issue 11).

Three quarterly releases and a correction, exported as `python -m data_access
export` does, on SQLite and on PostgreSQL; the attacker reads nothing but the
CSV files (tests/attack/public_bundles.py).

Before the publication ledger (measured on the two demo releases of the time):
the funnel gave away "excluded (any reason)" in 7 Seattle quarters, and
comparing releases gave away 101 exact counts of 1 to 10 people (23 closed
periods re-protected differently, 10 partial years, 68 pooled re-arrest
windows), besides corrected and pending-screening cells.

The first test is the promise and must pass: no count of 1 to k-1 can be worked
out (pinned), within a release or between releases, and nothing at all can be
pinned by comparing releases. The second, stricter one (no withheld value pinned at all,
whatever its size, and a bundle that satisfies every documented relation) does
not hold yet and is marked so; its reason says what remains.
"""

from __future__ import annotations

import pytest

from .public_bundles import DEFAULT_K, attack

WITHIN = "within-release"


def _summary(findings) -> str:
    by: dict[str, list] = {}
    for finding in findings:
        by.setdefault(finding.mechanism, []).append(finding)
    return "\n".join(
        f"{mechanism}: {len(found)}, e.g. " + "; ".join(str(f) for f in found[:3])
        for mechanism, found in by.items()
    )


@pytest.fixture(scope="module")
def report(demo_public_bundles):
    assert len(demo_public_bundles) >= 3
    return attack(demo_public_bundles)


def test_no_small_count_and_nothing_across_releases_can_be_worked_out(report):
    # Worked out = pinned to one value. A difference known only to lie within 1..k-1
    # (a few pending screenings resolved, "between 1 and 7") says what a "fewer than 11"
    # label says: the range disclosure docs/privacy.md accepts; the strict test below
    # still counts it.
    pinned = [f for f in report.findings if f.low == f.high]
    small = [f for f in pinned if f.small(DEFAULT_K)]
    across = [f for f in pinned if f.mechanism != WITHIN]
    assert small == [] and across == [], _summary(small + across)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 11, left over: the unknown-race share withholds a few eligible-contact "
    "totals of 11 or more that a reader can add up, and a few resolved pending screenings "
    "are known to number 1 to 10 between releases (see docs/privacy.md, residual risks)",
)
def test_no_withheld_value_can_be_pinned_and_every_relation_holds(report):
    assert report.findings == [] and report.problems == [], "\n".join(
        [_summary(report.findings), *report.problems[:20]]
    )
