"""Racial disparities: the OJJDP Relative Rate Index at each decision point, representation
against population, rates per resident, and the share of unknown race beside them all.

RRI_g = (a/A) / (b/B): a of A people of group g moved on at the decision point,
b of B people of the reference group did, where A and B are counted at the
stage that feeds the decision (reference section B.1). People of unknown race
are never a group of their own; their share of the base is carried in the
column `unknown_race_share` of every result.

Minimums ("insufficient"), as this dashboard applies OJJDP's rules: the group
and the reference group each have a base of at least 50 and at least 11
events, and the group is at least 1% of the base. Fewer than 20 events in
either group is "unstable". An absent reference group, or one with no events,
gives "not_computable" rows, never an exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from data_access.metrics.diversion import join_counts, police_referrals
from data_access.metrics.frames import (
    REFERENCE_COLUMNS,
    aggregate,
    as_columns,
    counts_as_int,
    finish,
    require_columns,
    strict_sum,
)
from data_access.metrics.recidivism import as_of_date, closed_window_rows, prepare
from data_access.metrics.registry import implements
from data_access.metrics.reliability import (
    INSUFFICIENT,
    MIN_POPULATION,
    NOT_COMPUTABLE,
    OJJDP_MIN_BASE,
    OJJDP_MIN_EVENTS,
    OJJDP_MIN_SHARE,
    REFERENCE,
    STABLE_EVENTS,
    UNSTABLE,
    classify,
    proportion_rules,
    withheld,
)
from data_access.metrics.stats import poisson_count, ratio_of_proportions, wilson
from data_access.vocabulary import RACES, SERVICES

RACE = "race_ethnicity"
UNKNOWN = "unknown"
DEFAULT_REFERENCE = "white"

DECISION_POINTS: dict[str, str] = {
    "eligible_contact_to_referral": "Eligible police contact to referral",
    "referral_to_enrollment": "Referral to enrollment",
    "active_to_service": "Active participation to each service",
    "participant_to_rearrest": "LEAD participation to re-arrest",
}


def _check_reference(reference: str, where: str) -> None:
    if reference not in RACES or reference == UNKNOWN:
        known = [r for r in RACES if r != UNKNOWN]
        raise ValueError(f"{where}: reference group must be one of {known}, got {reference!r}")


@implements("disparity.unknown_race_share")
def unknown_race_share(
    frame: pl.DataFrame,
    count: str,
    by: str | Sequence[str] | None = None,
    race: str = RACE,
) -> pl.DataFrame:
    """Share of the count whose race is unknown, by the given columns; Wilson interval.

    Shown beside every disparity result: a large unknown share limits what a
    comparison between groups can say.
    """
    where = "unknown_race_share"
    by = as_columns(by)
    require_columns(frame, [*by, race, count], where)
    frame = counts_as_int(frame, [count], where)
    unknown = pl.col(count).filter(pl.col(race) == UNKNOWN)
    summed = aggregate(
        frame,
        by,
        [
            pl.when(unknown.null_count() > 0).then(None).otherwise(unknown.sum()).alias("_u"),
            strict_sum(count).alias("_total"),
        ],
    )
    share = wilson(pl.col("_u"), pl.col("_total"))
    out = summed.with_columns(
        pl.col("_u").alias("numerator"),
        pl.col("_total").alias("denominator"),
        share.estimate.alias("estimate"),
        share.low.alias("ci_low"),
        share.high.alias("ci_high"),
    ).with_columns(classify(proportion_rules()[:3]))
    return finish(out, "disparity.unknown_race_share", by)


@implements("disparity.rri")
def relative_rate_index(
    frame: pl.DataFrame,
    events: str,
    base: str,
    by: str | Sequence[str] | None = None,
    reference: str = DEFAULT_REFERENCE,
    race: str = RACE,
    decision_point: str | None = None,
) -> pl.DataFrame:
    """RRI of every race group against the reference group, within each `by` group.

    `frame` has `by` + `race` + `events` (people who moved on) + `base` (people
    at the feeder stage). One row per group, including the reference group
    itself (reliability "reference", estimate 1). Columns `excludes_one` (the
    95% interval lies wholly above or below 1), `rate`, `reference_rate`,
    `base_share` (the group's share of the base) and `unknown_race_share`.
    """
    where = "relative_rate_index"
    _check_reference(reference, where)
    by = as_columns(by)
    require_columns(frame, [*by, race, events, base], where)
    frame = counts_as_int(frame, [events, base], where)
    # With no grouping columns, a constant key lets the same joins serve.
    keys = by or ["_k"]
    if not by:
        frame = frame.with_columns(pl.lit(0).alias("_k"))
    summed = aggregate(frame, [*keys, race], [strict_sum(events), strict_sum(base)])
    summed = summed.rename({events: "_a", base: "_A"}).filter(pl.col(race).is_not_null())

    unknown_base = pl.col("_A").filter(pl.col(race) == UNKNOWN)
    totals = aggregate(
        summed,
        keys,
        [
            strict_sum("_A").alias("_base_total"),
            pl.when(unknown_base.null_count() > 0)
            .then(None)
            .otherwise(unknown_base.sum())
            .alias("_unknown_base"),
        ],
    )
    ref = summed.filter(pl.col(race) == reference).select(
        *keys,
        pl.col("_a").alias("_b"),
        pl.col("_A").alias("_B"),
        pl.lit(True).alias("_ref_present"),
    )
    groups = (
        summed.filter(pl.col(race) != UNKNOWN)
        .join(ref, on=keys, how="left")
        .join(totals, on=keys, how="left")
    )
    a, A, b, B = pl.col("_a"), pl.col("_A"), pl.col("_b"), pl.col("_B")
    rri = ratio_of_proportions(a, A, b, B)
    is_ref = pl.col(race) == reference
    share = pl.when(pl.col("_base_total") > 0).then(A / pl.col("_base_total"))
    out = groups.with_columns(
        pl.lit(reference).alias("reference_group"),
        a.alias("numerator"),
        A.alias("denominator"),
        b.alias("reference_numerator"),
        B.alias("reference_denominator"),
        pl.when(is_ref).then(1.0).otherwise(rri.estimate).alias("estimate"),
        pl.when(~is_ref).then(rri.low).alias("ci_low"),
        pl.when(~is_ref).then(rri.high).alias("ci_high"),
        pl.when(A > 0).then(a / A).alias("rate"),
        pl.when(B > 0).then(b / B).alias("reference_rate"),
        share.alias("base_share"),
        pl.when(pl.col("_base_total") > 0)
        .then(pl.col("_unknown_base").fill_null(0) / pl.col("_base_total"))
        .alias("unknown_race_share"),
    )
    rules = [
        (is_ref, REFERENCE, "reference group: 1 by definition"),
        (
            pl.col("_ref_present").is_null(),
            NOT_COMPUTABLE,
            f"reference group '{reference}' is absent from this selection",
        ),
        (withheld("_a", "_A", "_b", "_B"), NOT_COMPUTABLE, "input withheld or missing"),
        (A == 0, NOT_COMPUTABLE, "no one of this group at the base stage"),
        (B == 0, NOT_COMPUTABLE, "no one of the reference group at the base stage"),
        ((a > A) | (b > B), NOT_COMPUTABLE, "more events than people: check the data"),
        (b == 0, NOT_COMPUTABLE, "the reference group had no events: no ratio"),
        (
            (A < OJJDP_MIN_BASE) | (B < OJJDP_MIN_BASE),
            INSUFFICIENT,
            f"a base under {OJJDP_MIN_BASE} (OJJDP minimum)",
        ),
        (
            share < OJJDP_MIN_SHARE,
            INSUFFICIENT,
            f"group under {OJJDP_MIN_SHARE:.0%} of the base (OJJDP minimum)",
        ),
        (
            (a < OJJDP_MIN_EVENTS) | (b < OJJDP_MIN_EVENTS),
            INSUFFICIENT,
            f"fewer than {OJJDP_MIN_EVENTS} events in a group (OJJDP minimum)",
        ),
        (
            (a < STABLE_EVENTS) | (b < STABLE_EVENTS),
            UNSTABLE,
            f"fewer than {STABLE_EVENTS} events in a group: interpret with caution",
        ),
    ]
    correction = pl.when(rri.corrected & ~is_ref).then(
        pl.lit("0.5 added to every cell because one was zero")
    )
    out = out.with_columns(classify(rules, [correction])).with_columns(
        pl.when(pl.col("reliability") == NOT_COMPUTABLE)
        .then(None)
        .otherwise((pl.col("ci_low") > 1.0) | (pl.col("ci_high") < 1.0))
        .alias("excludes_one")
    )
    order = {code: i for i, code in enumerate(RACES)}
    out = out.sort([*by, pl.col(race).replace_strict(order, default=len(order))], nulls_last=True)
    leading = [*by, race, "reference_group"]
    if decision_point is not None:
        out = out.with_columns(pl.lit(decision_point).alias("decision_point"))
        leading = ["decision_point", *leading]
    return finish(
        out,
        "disparity.rri",
        leading,
        [*REFERENCE_COLUMNS, "excludes_one", "rate", "reference_rate", "base_share",
         "unknown_race_share"],
    )  # fmt: skip


def referral_rri(
    eligible_contacts: pl.DataFrame,
    referrals: pl.DataFrame,
    by: str | Sequence[str] | None = None,
    reference: str = DEFAULT_REFERENCE,
) -> pl.DataFrame:
    """RRI at eligible contact -> referral (police pathways only, as in diversion_rate)."""
    where = "referral_rri"
    by = [*as_columns(by), RACE]
    require_columns(eligible_contacts, [*by, "eligible_contacts"], f"{where} (eligible_contacts)")
    require_columns(referrals, [*by, "referrals"], f"{where} (referrals)")
    contacts = aggregate(
        counts_as_int(eligible_contacts, ["eligible_contacts"], where),
        by,
        [strict_sum("eligible_contacts")],
    )
    refs = aggregate(
        counts_as_int(police_referrals(referrals), ["referrals"], where),
        by,
        [strict_sum("referrals")],
    )
    joined = join_counts(contacts, refs, by, "eligible_contacts", "referrals")
    return relative_rate_index(
        joined, "referrals", "eligible_contacts", by[:-1], reference,
        decision_point="eligible_contact_to_referral",
    )  # fmt: skip


def enrollment_rri(
    referrals: pl.DataFrame,
    by: str | Sequence[str] | None = None,
    reference: str = DEFAULT_REFERENCE,
) -> pl.DataFrame:
    """RRI at referral -> enrollment (referrals table: enrolled of referrals)."""
    return relative_rate_index(
        referrals, "enrolled", "referrals", by, reference, decision_point="referral_to_enrollment"
    )


def service_rri(
    services: pl.DataFrame,
    caseload: pl.DataFrame,
    by: str | Sequence[str] | None = None,
    reference: str = DEFAULT_REFERENCE,
) -> pl.DataFrame:
    """RRI at active participation -> each service (participant-months, as services.uptake)."""
    where = "service_rri"
    by = [*as_columns(by), RACE]
    require_columns(services, [*by, "service", "participants_served"], f"{where} (services)")
    require_columns(caseload, [*by, "active_participants"], f"{where} (caseload)")
    served = aggregate(
        counts_as_int(services, ["participants_served"], where),
        [*by, "service"],
        [strict_sum("participants_served")],
    ).with_columns(pl.lit(True).alias("_served_row"))
    active = aggregate(
        counts_as_int(caseload, ["active_participants"], where),
        by,
        [strict_sum("active_participants")],
    )
    grid = active.join(pl.DataFrame({"service": list(SERVICES)}), how="cross")
    grid = grid.join(served, on=[*by, "service"], how="left").with_columns(
        pl.when(pl.col("_served_row").is_null())
        .then(0)
        .otherwise(pl.col("participants_served"))
        .alias("participants_served")
    )
    return relative_rate_index(
        grid, "participants_served", "active_participants", [*by[:-1], "service"], reference,
        decision_point="active_to_service",
    )  # fmt: skip


def rearrest_rri(
    recidivism: pl.DataFrame,
    as_of: dt.date | str,
    window: int = 12,
    outcome: str = "rearrested",
    by: str | Sequence[str] | None = None,
    reference: str = DEFAULT_REFERENCE,
    group: str = "lead",
) -> pl.DataFrame:
    """RRI at LEAD participation -> re-arrest within `window` months, closed cohorts only."""
    where = "rearrest_rri"
    by = as_columns(by)
    frame = prepare(recidivism, [*by, RACE, "group"], outcome, where)
    closed = closed_window_rows(
        frame.filter(pl.col("group") == group), as_of_date(as_of), (window,)
    )
    return relative_rate_index(
        closed, outcome, "cohort_size", by, reference, decision_point="participant_to_rearrest"
    ).with_columns(pl.lit(window).alias("window_months"))


def disparity_by_decision_point(
    *,
    eligible_contacts: pl.DataFrame | None = None,
    referrals: pl.DataFrame | None = None,
    services: pl.DataFrame | None = None,
    caseload: pl.DataFrame | None = None,
    recidivism: pl.DataFrame | None = None,
    as_of: dt.date | str | None = None,
    window: int = 12,
    by: str | Sequence[str] | None = None,
    reference: str = DEFAULT_REFERENCE,
) -> pl.DataFrame:
    """The RRI at every decision point whose inputs are given, in one frame.

    Decision points without their inputs are left out (the optional contract
    tables may be absent from a release). Rows of the service decision point
    carry `service`; rows of re-arrest carry `window_months`.
    """
    parts = []
    if eligible_contacts is not None and referrals is not None:
        parts.append(referral_rri(eligible_contacts, referrals, by, reference))
    if referrals is not None:
        parts.append(enrollment_rri(referrals, by, reference))
    if services is not None and caseload is not None:
        parts.append(service_rri(services, caseload, by, reference))
    if recidivism is not None:
        if as_of is None:
            raise ValueError("disparity_by_decision_point: as_of is needed for re-arrest")
        parts.append(rearrest_rri(recidivism, as_of, window, by=by, reference=reference))
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="diagonal_relaxed")


def _known_race_counts(
    counts: pl.DataFrame, population: pl.DataFrame, count: str, by: list[str], where: str
) -> pl.DataFrame:
    require_columns(counts, [*by, RACE, count], f"{where} (counts)")
    require_columns(population, [*by, RACE, "population"], f"{where} (population)")
    c = aggregate(counts_as_int(counts, [count], where), [*by, RACE], [strict_sum(count)])
    p = aggregate(
        counts_as_int(population, ["population"], where), [*by, RACE], [strict_sum("population")]
    )
    joined = join_counts(c, p, [*by, RACE], count, "population")
    return joined


@implements("disparity.representation_ratio")
def representation_ratio(
    counts: pl.DataFrame,
    population: pl.DataFrame,
    count: str = "referrals",
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """(group's share of the count) / (group's share of the adult population); Poisson CI.

    Shares leave out people of unknown race on both sides; the unknown share
    of the count is carried in `unknown_race_share`. `ceiling` = 1/population
    share is the largest value the ratio can take.
    """
    where = "representation_ratio"
    by = as_columns(by)
    joined = _known_race_counts(counts, population, count, by, where)
    known = pl.col(RACE) != UNKNOWN
    keys = by or None

    def total(column: str) -> pl.Expr:
        values = pl.when(known).then(pl.col(column)).otherwise(0)
        has_null = (known & pl.col(column).is_null()).any()
        summed = values.sum()
        if keys:
            has_null, summed = has_null.over(keys), summed.over(keys)
        return pl.when(has_null).then(None).otherwise(summed)

    unknown = pl.when(~known).then(pl.col(count)).otherwise(0).sum()
    everyone = pl.col(count).sum()
    if keys:
        unknown, everyone = unknown.over(keys), everyone.over(keys)
    joined = joined.with_columns(
        total(count).alias("_X"),
        total("population").alias("population_total"),
        pl.when(everyone > 0).then(unknown / everyone).alias("unknown_race_share"),
    ).filter(known)
    x, X = pl.col(count), pl.col("_X")
    pop_share = pl.when(pl.col("population_total") > 0).then(
        pl.col("population") / pl.col("population_total")
    )
    scale = X.cast(pl.Float64) * pl.col("population_share")
    ci = poisson_count(x)
    out = joined.with_columns(pop_share.alias("population_share")).with_columns(
        x.alias("numerator"),
        X.alias("denominator"),
        pl.when(scale > 0).then(ci.estimate / scale).alias("estimate"),
        pl.when(scale > 0).then(ci.low / scale).alias("ci_low"),
        pl.when(scale > 0).then(ci.high / scale).alias("ci_high"),
        pl.when(pl.col("population_share") > 0)
        .then(1.0 / pl.col("population_share"))
        .alias("ceiling"),
    )
    rules = [
        (withheld(count, "_X", "population", "population_total"), NOT_COMPUTABLE,
         "input withheld or missing"),
        (X == 0, NOT_COMPUTABLE, "no one of known race counted"),
        (pl.col("population") == 0, NOT_COMPUTABLE, "no population recorded for this group"),
        (pl.col("population") < MIN_POPULATION, INSUFFICIENT,
         f"population under {MIN_POPULATION}"),
        (pl.col("population_share") < OJJDP_MIN_SHARE, INSUFFICIENT,
         f"group under {OJJDP_MIN_SHARE:.0%} of the population"),
        (x < STABLE_EVENTS, UNSTABLE,
         f"fewer than {STABLE_EVENTS} counted: interpret with caution"),
    ]  # fmt: skip
    out = out.with_columns(classify(rules))
    order = {code: i for i, code in enumerate(RACES)}
    out = out.sort([*by, pl.col(RACE).replace_strict(order, default=len(order))], nulls_last=True)
    return finish(
        out,
        "disparity.representation_ratio",
        [*by, RACE],
        ["population", "population_total", "population_share", "ceiling", "unknown_race_share"],
    )


@implements("disparity.population_rate")
def population_rate(
    counts: pl.DataFrame,
    population: pl.DataFrame,
    count: str = "referrals",
    by: str | Sequence[str] | None = None,
    per: int = 10_000,
) -> pl.DataFrame:
    """People counted per `per` adult residents of the same group; Byar's Poisson interval."""
    where = "population_rate"
    by = as_columns(by)
    joined = _known_race_counts(counts, population, count, by, where).filter(
        pl.col(RACE) != UNKNOWN
    )
    x, P = pl.col(count), pl.col("population")
    ci = poisson_count(x)
    scale = pl.when(P > 0).then(per / P.cast(pl.Float64))
    out = joined.with_columns(
        x.alias("numerator"),
        P.alias("denominator"),
        (ci.estimate * scale).alias("estimate"),
        (ci.low * scale).alias("ci_low"),
        (ci.high * scale).alias("ci_high"),
        pl.lit(per).alias("per"),
    ).with_columns(
        classify(
            [
                (withheld(count, "population"), NOT_COMPUTABLE, "input withheld or missing"),
                (P == 0, NOT_COMPUTABLE, "no population recorded for this group"),
                (P < MIN_POPULATION, INSUFFICIENT, f"population under {MIN_POPULATION}"),
                (
                    x < STABLE_EVENTS,
                    UNSTABLE,
                    f"fewer than {STABLE_EVENTS} counted: interpret with caution",
                ),
            ]
        )  # fmt: skip
    )
    order = {code: i for i, code in enumerate(RACES)}
    out = out.sort([*by, pl.col(RACE).replace_strict(order, default=len(order))], nulls_last=True)
    return finish(out, "disparity.population_rate", [*by, RACE], ["per"])
