"""Withholding values derived from counts: percentages, rates, ratios, intervals, costs.

A derived value can reveal a small count as surely as the count itself: 3 of
40 is 7.5%, and "100% of the 14" says all 14. So an estimate (with its interval)
is withheld when:
- a count it is built from is withheld anywhere (primary or complementary);
- its numerator is from 1 to k-1 (percentages, rates) or its group of people is;
- for a percentage, the people outside it (denominator - numerator) are 1 to k-1;
- its denominator is under `min_denominator` people (reliability, NCHS n >= 30).
A two-group comparison (e.g. LEAD vs comparison risk ratio) is withheld when
any of its four cells (events and non-events in each group) is 1 to k-1, or
either group is under `min_denominator`. Published estimates whose numerator is
k to unstable_below-1 carry an "unstable" note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import polars as pl

from data_access.audience import Audience
from data_access.disclosure.policy import (
    DERIVED,
    RELIABILITY,
    Policy,
    PolicyError,
    policy_from_environment,
)
from data_access.disclosure.protected import AuditRecord, Protected, _make_protected


class DerivedKind(StrEnum):
    PROPORTION = "proportion"  # numerator is a subset of the denominator's people
    RATE = "rate"  # events per person (or person-year); events may exceed people
    PER_PERSON = "per_person"  # money or days per person: only the people count matters


def _small(expr: pl.Expr, policy: Policy) -> pl.Expr:
    return (expr > 0) & (expr < policy.k)


def _require(frame: pl.DataFrame, columns: Sequence[str], view: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PolicyError(
            f"view {view!r}: the frame has no column {', '.join(map(repr, missing))}."
        )


def _any_flagged(columns: Sequence[str]) -> pl.Expr:
    if not columns:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(c).fill_null("") != "" for c in columns])


def _finish(
    frame: pl.DataFrame,
    *,
    view: str,
    keys: Sequence[str],
    estimates: Sequence[str],
    reason: pl.Expr,
    unstable: pl.Expr,
    extra: Sequence[str],
    policy: Policy,
    audience: Audience,
) -> Protected:
    flag = f"{estimates[0]}_flag"
    reliability = f"{estimates[0]}_reliability"
    if audience is Audience.STAFF:
        reason = pl.lit("")
    out = frame.with_columns(
        reason.alias(flag),
        pl.when(unstable)
        .then(pl.lit(policy.unstable_note))
        .otherwise(pl.lit(""))
        .alias(reliability),
    )
    out = out.with_columns(
        pl.when(pl.col(flag) != "").then(None).otherwise(pl.col(e)).alias(e) for e in estimates
    ).with_columns(
        pl.when(pl.col(flag) != "")
        .then(pl.lit(""))
        .otherwise(pl.col(reliability))
        .alias(reliability)
    )
    out = out.select([*keys, *extra, *estimates, flag, reliability])
    records = [
        AuditRecord(
            view,
            ", ".join(estimates),
            tuple((k, row[k]) for k in keys),
            RELIABILITY if row[flag] == policy.small_denominator_reason else DERIVED,
            row[flag],
        )
        for row in out.filter(pl.col(flag) != "").iter_rows(named=True)
    ]
    rules = (RELIABILITY,) if audience is Audience.STAFF else (DERIVED, RELIABILITY)
    return _make_protected(view, out, audience=audience, k=policy.k, rules=rules, audit_log=records)


def protect_derived(
    frame: pl.DataFrame,
    *,
    view: str,
    keys: Sequence[str],
    denominator: str,
    estimates: Sequence[str],
    kind: DerivedKind,
    numerator: str | None = None,
    withheld_flags: Sequence[str] = (),
    keep_counts: bool = False,
    count_flags: Mapping[str, str] | None = None,
    policy: Policy | None = None,
    audience: Audience = Audience.PUBLIC,
) -> Protected:
    """Withhold estimates (e.g. rate, ci_low, ci_high) that would reveal a small count.

    frame: one row per published estimate: `keys`, the true `numerator` and
        `denominator` counts, and the estimate columns.
    withheld_flags: flag columns (from `protect_counts`, joined by the caller)
        saying a count behind this row is withheld elsewhere; any reason there
        withholds the estimates.
    keep_counts: publish the numerator and denominator beside the estimate,
        themselves protected (a small count is withheld, and so is the numerator
        when the people outside it are 1 to k-1, since n - x would reveal them).
    count_flags: with keep_counts, each count column's own flag column. A count
        is then hidden only for its own flag (or its own smallness), not for
        another count's: a published current figure stays published when the
        period it is compared with is withheld.

    The result holds the keys, the estimates (null where withheld),
    `<first estimate>_flag` with the reason and `<first estimate>_reliability`.
    """
    # Read at call time, so LEAD_DISCLOSURE_K applies to every cube and view.
    policy = policy or policy_from_environment()
    if not estimates:
        raise PolicyError(f"view {view!r}: name at least one estimate column.")
    if kind is not DerivedKind.PER_PERSON and numerator is None:
        raise PolicyError(f"view {view!r}: a {kind.value} needs its numerator column.")
    counts = [c for c in (numerator, denominator) if c is not None]
    _require(frame, [*keys, *counts, *estimates, *withheld_flags], view)
    den = pl.col(denominator)
    num = pl.col(numerator) if numerator is not None else pl.lit(0)

    small_count = _small(den, policy)
    if numerator is not None:
        small_count = small_count | _small(num, policy)
    reason = (
        pl.when(_any_flagged(withheld_flags))
        .then(pl.lit(policy.derived_withheld_reason))
        .when(small_count)
        .then(pl.lit(policy.derived_small_reason))
    )
    if kind is DerivedKind.PROPORTION:
        reason = reason.when(_small(den - num, policy)).then(
            pl.lit(policy.derived_complement_reason)
        )
    reason = (
        reason.when(den.fill_null(0) < policy.min_denominator)
        .then(pl.lit(policy.small_denominator_reason))
        .otherwise(pl.lit(""))
    )
    unstable = (
        (num >= policy.k) & (num < policy.unstable_below)
        if numerator is not None
        else pl.lit(False)
    )

    extra: list[str] = []
    work = frame
    if keep_counts:
        # Each count's own flag travels with it, so a reader sees why it is withheld.
        extra = [*counts, *(f for c, f in (count_flags or {}).items() if c in counts)]
        if audience is Audience.PUBLIC:
            own = count_flags or {}
            num_flags = [own[numerator]] if numerator in own else withheld_flags
            den_flags = [own[denominator]] if denominator in own else withheld_flags
            hide_num = _any_flagged(num_flags) | _small(num, policy)
            if kind is DerivedKind.PROPORTION:
                hide_num = hide_num | _small(den - num, policy)
            hide_den = _any_flagged(den_flags) | _small(den, policy)
            updates = [pl.when(hide_den).then(None).otherwise(den).alias(denominator)]
            if numerator is not None:
                updates.append(pl.when(hide_num).then(None).otherwise(num).alias(numerator))
            # the reason is computed from the true counts before they are hidden
            work = frame.with_columns(reason.alias("_reason"), unstable.alias("_unstable"))
            work = work.with_columns(updates)
            reason, unstable = pl.col("_reason"), pl.col("_unstable")
    return _finish(
        work,
        view=view,
        keys=keys,
        estimates=estimates,
        reason=reason,
        unstable=unstable,
        extra=extra,
        policy=policy,
        audience=audience,
    )


def protect_comparison(
    frame: pl.DataFrame,
    *,
    view: str,
    keys: Sequence[str],
    groups: Sequence[tuple[str, str]],
    estimates: Sequence[str],
    withheld_flags: Sequence[str] = (),
    policy: Policy | None = None,
    audience: Audience = Audience.PUBLIC,
) -> Protected:
    """Withhold a comparison of groups (risk ratio, difference, RRI, odds ratio, with CI).

    groups: (events column, group size column) for each group compared, e.g.
        [("lead_rearrested", "lead_cohort"), ("comp_rearrested", "comp_cohort")].
    Withheld when, in any group, the events or the non-events are 1 to k-1, a
    count behind it is withheld elsewhere, or the group is under min_denominator.
    """
    # Read at call time, so LEAD_DISCLOSURE_K applies to every cube and view.
    policy = policy or policy_from_environment()
    if len(groups) < 2:
        raise PolicyError(f"view {view!r}: a comparison needs at least two groups.")
    if not estimates:
        raise PolicyError(f"view {view!r}: name at least one estimate column.")
    _require(frame, [*keys, *(c for g in groups for c in g), *estimates, *withheld_flags], view)
    small_events = pl.any_horizontal([_small(pl.col(e), policy) for e, _ in groups])
    small_rest = pl.any_horizontal([_small(pl.col(n) - pl.col(e), policy) for e, n in groups])
    small_group = pl.any_horizontal([_small(pl.col(n), policy) for _, n in groups])
    thin = pl.any_horizontal([pl.col(n).fill_null(0) < policy.min_denominator for _, n in groups])
    reason = (
        pl.when(_any_flagged(withheld_flags))
        .then(pl.lit(policy.derived_withheld_reason))
        .when(small_events | small_group)
        .then(pl.lit(policy.derived_small_reason))
        .when(small_rest)
        .then(pl.lit(policy.derived_complement_reason))
        .when(thin)
        .then(pl.lit(policy.small_denominator_reason))
        .otherwise(pl.lit(""))
    )
    unstable = pl.any_horizontal(
        [(pl.col(e) >= policy.k) & (pl.col(e) < policy.unstable_below) for e, _ in groups]
    )
    return _finish(
        frame,
        view=view,
        keys=keys,
        estimates=estimates,
        reason=reason,
        unstable=unstable,
        extra=(),
        policy=policy,
        audience=audience,
    )
