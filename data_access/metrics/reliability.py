"""Reliability flags: how far a published estimate can be trusted, and why.

Reliability is about statistical stability and is separate from disclosure
control (data_access.disclosure decides what may be shown at all). The rules
follow the reference's section D.4 (items 6 and 7) and OJJDP's RRI minimums
(section B.1); docs/methods.md states them in plain language.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

OK = "ok"
UNSTABLE = "unstable"
INSUFFICIENT = "insufficient"
NOT_COMPUTABLE = "not_computable"
REFERENCE = "reference"

RELIABILITY_LEVELS: dict[str, str] = {
    OK: "Meets every minimum; read with its 95% interval.",
    UNSTABLE: "Based on fewer than 20 events (or fewer than 20 people still at risk): "
    "interpret with caution.",
    INSUFFICIENT: "Too few people for a dependable estimate: fewer than 30 in a denominator, "
    "or OJJDP's minimums for a Relative Rate Index not met.",
    NOT_COMPUTABLE: "Cannot be computed: a zero or missing denominator, withheld input, "
    "an absent reference group or inconsistent counts. The note says which.",
    REFERENCE: "The reference group of a comparison: its ratio is 1 by definition.",
}

# NCHS: no proportion from fewer than 30 people; flag rates from fewer than 20 events.
MIN_DENOMINATOR = 30
STABLE_EVENTS = 20
# OJJDP RRI minimums (reference B.1): base stage >= 50, group >= 1% of the base,
# and at least 11 events in both the group and the reference group.
OJJDP_MIN_BASE = 50
OJJDP_MIN_EVENTS = 11
OJJDP_MIN_SHARE = 0.01
# Population-based rates need a population denominator of at least 100 (PRISM-R).
MIN_POPULATION = 100

Rule = tuple[pl.Expr, str, str]


def classify(rules: Sequence[Rule], extra_notes: Sequence[pl.Expr] = ()) -> list[pl.Expr]:
    """Expressions for `reliability` and `note`: the first rule that holds decides.

    Rules are (condition, level, message) in priority order; a row no rule
    catches is "ok". Extra notes (e.g. a continuity correction was applied)
    are appended to the note whatever the level.
    """
    level: pl.Expr = pl.lit(OK)
    message: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, lvl, msg in reversed(rules):
        level = pl.when(condition.fill_null(False)).then(pl.lit(lvl)).otherwise(level)
        message = pl.when(condition.fill_null(False)).then(pl.lit(msg)).otherwise(message)
    note = pl.concat_str([message, *extra_notes], separator="; ", ignore_nulls=True)
    return [
        level.alias("reliability"),
        pl.when(note == "").then(None).otherwise(note).alias("note"),
    ]


def withheld(*columns: str) -> pl.Expr:
    """True where any of the named inputs is null (withheld upstream or missing)."""
    return pl.any_horizontal(pl.col(c).is_null() for c in columns)


def proportion_rules(numerator: str = "numerator", denominator: str = "denominator") -> list[Rule]:
    """Rules for a share x/n: computable, n >= 30, x >= 20 for stability."""
    x, n = pl.col(numerator), pl.col(denominator)
    return [
        (withheld(numerator, denominator), NOT_COMPUTABLE, "input withheld or missing"),
        (n == 0, NOT_COMPUTABLE, "no one in the denominator"),
        (x > n, NOT_COMPUTABLE, "more events than people in the denominator: check the data"),
        (n < MIN_DENOMINATOR, INSUFFICIENT, f"fewer than {MIN_DENOMINATOR} in the denominator"),
        (x < STABLE_EVENTS, UNSTABLE, f"fewer than {STABLE_EVENTS} events: interpret with caution"),
    ]


def two_group_rules(
    numerator: str = "numerator",
    denominator: str = "denominator",
    reference_numerator: str = "reference_numerator",
    reference_denominator: str = "reference_denominator",
) -> list[Rule]:
    """Rules for a comparison of two shares: both computable, both n >= 30, events >= 20."""
    a, n1 = pl.col(numerator), pl.col(denominator)
    b, n0 = pl.col(reference_numerator), pl.col(reference_denominator)
    cells = (numerator, denominator, reference_numerator, reference_denominator)
    return [
        (withheld(*cells), NOT_COMPUTABLE, "input withheld or missing"),
        ((n1 == 0) | (n0 == 0), NOT_COMPUTABLE, "a group has no one in its denominator"),
        ((a > n1) | (b > n0), NOT_COMPUTABLE, "more events than people: check the data"),
        (
            (n1 < MIN_DENOMINATOR) | (n0 < MIN_DENOMINATOR),
            INSUFFICIENT,
            f"a group has fewer than {MIN_DENOMINATOR} people",
        ),
        (
            (a < STABLE_EVENTS) | (b < STABLE_EVENTS),
            UNSTABLE,
            f"a group has fewer than {STABLE_EVENTS} events: interpret with caution",
        ),
    ]
