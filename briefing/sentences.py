"""Plain-language sentences written from the numbers, for briefings and headline cards.

Small pure functions over plain values, so the briefing page, the PDF and the
command line say the same thing in the same words. Each value comes with an
optional withheld reason (the flag disclosure control sets, e.g. "fewer than
k"). When a reason is given the value itself is never read: not printed, not
compared, not used to pick a verb. A withheld number therefore cannot reach the
text even if a caller passes it by mistake; tests/test_briefing_sentences.py
checks that the output is identical whatever the hidden value is.

A value of None with no reason is missing: "not published for this site".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Number = int | float

COUNT, PROPORTION, DOLLARS = "count", "proportion", "dollars"
UNITS = (COUNT, PROPORTION, DOLLARS)

# A relative change under 2% (counts, dollars) or a difference under half a
# percentage point (proportions) is reported as "about the same": at these sizes
# the direction is usually noise and a verb like "rose" would overstate it.
ABOUT_THE_SAME_RELATIVE = 0.02
ABOUT_THE_SAME_POINTS = 0.005

CAUTION = "Based on small numbers; interpret with caution."
PRIVACY = "withheld to protect privacy"
NOT_PUBLISHED = "not published for this site"
QUASI_EXPERIMENTAL = (
    "This is a quasi-experimental comparison, not a randomized trial: the groups were not "
    "assigned by chance, so the difference need not be caused by LEAD."
)
SEATTLE_ODDS = "58% lower odds in Seattle"

OK, UNSTABLE, INSUFFICIENT, NOT_COMPUTABLE = "ok", "unstable", "insufficient", "not_computable"
RELIABILITY_LEVELS = (OK, UNSTABLE, INSUFFICIENT, NOT_COMPUTABLE, "reference")


# ------------------------------------------------------------------ number formats


def format_count(value: Number) -> str:
    """ "1,234": whole people, with thousands separators."""
    return f"{round(value):,}"


def _trim(number: float, decimals: int) -> str:
    text = f"{number:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_percent(proportion: Number, decimals: int | None = None) -> str:
    """A proportion as a percentage: one decimal below 10% ("4.5%"), whole above ("31%"),
    or exactly `decimals` places when given ("14.8%")."""
    percent = proportion * 100
    if decimals is not None:
        return f"{percent:,.{decimals}f}%"
    if percent != 0 and abs(percent) < 10:
        return _trim(percent, 1) + "%"
    return f"{round(percent):,}%"


def percent_decimals(current: Number | None, previous: Number | None) -> int | None:
    """Decimals for two proportions shown side by side: one when their difference is a
    fraction of a point, so "rose 0.7 points to 14.8% from 14.1%" adds up; else the default.
    """
    if current is None or previous is None:
        return None
    return 1 if "." in format_points(current - previous) else None


def format_points(difference: Number) -> str:
    """A difference of proportions in percentage points, without sign: "4.5", "14"."""
    points = abs(difference) * 100
    return _trim(points, 1) if points < 10 else f"{round(points):,}"


def format_dollars(value: Number) -> str:
    """ "$2,100"; "$1.2 million" from a million up; a minus sign before the dollar sign."""
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount >= 1_000_000:
        return f"{sign}${_trim(amount / 1_000_000, 1)} million"
    return f"{sign}${round(amount):,}"


def format_ratio(value: Number) -> str:
    """A ratio to two decimals: "0.87"."""
    return f"{value:.2f}"


def format_value(value: Number, unit: str, decimals: int | None = None) -> str:
    """A value in its unit, as a reader sees it (decimals: for proportions only)."""
    _check_unit(unit)
    if unit == PROPORTION:
        return format_percent(value, decimals)
    if unit == DOLLARS:
        return format_dollars(value)
    return format_count(value)


def format_relative_change(relative: Number) -> str:
    """The size of a relative change as a whole percentage: 0.1204 -> "12%"."""
    return f"{round(abs(relative) * 100):,}%"


# ------------------------------------------------------------------ small helpers


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")


def _check_number(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number or None; got {type(value).__name__}")
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{name} must be a finite number or None; got {value!r}")


def _check_reliability(reliability: str) -> None:
    if reliability not in RELIABILITY_LEVELS:
        raise ValueError(
            f"reliability must be one of {', '.join(RELIABILITY_LEVELS)}; got {reliability!r}"
        )


def capitalize(text: str) -> str:
    """The first letter upper case, the rest untouched ("LEAD" stays "LEAD")."""
    return text[:1].upper() + text[1:]


def possessive(noun: str) -> str:
    """ "Black residents" -> "Black residents'", "the city" -> "the city's"."""
    return noun + ("'" if noun.endswith("s") else "'s")


def withheld_words(reason: str) -> str:
    """What a reader is told in place of a withheld value's reason."""
    reason = reason.strip()
    if reason.startswith("withheld"):
        return PRIVACY
    return f"{PRIVACY} ({reason})"


def _is_small_count(reason: str) -> bool:
    # "fewer than k" describes the count itself, so it can stand where the number would.
    return reason.strip().startswith("fewer than")


@dataclass(frozen=True)
class _Value:
    """A value and its withheld reason; `shown` is None whenever a reason is set."""

    shown: Number | None
    withheld: str | None

    @property
    def is_withheld(self) -> bool:
        return bool(self.withheld)

    @property
    def is_missing(self) -> bool:
        return not self.withheld and self.shown is None


def _value(name: str, value: Number | None, reason: str | None) -> _Value:
    if reason:
        # Deliberately not validated or kept: a withheld number must not be read at all.
        return _Value(None, str(reason))
    _check_number(name, value)
    return _Value(value, None)


# ------------------------------------------------------------------ change sentences


def change_sentence(
    label: str,
    current: Number | None,
    previous: Number | None = None,
    *,
    period_label: str,
    previous_label: str | None = None,
    year_ago: Number | None = None,
    year_ago_label: str = "a year earlier",
    current_withheld: str | None = None,
    previous_withheld: str | None = None,
    year_ago_withheld: str | None = None,
    unstable: bool = False,
    unit: str = COUNT,
    singular: bool = False,
) -> str:
    """One sentence on a headline figure and its change.

    label: what is counted, as it starts a sentence ("Referrals", "The enrollment rate").
    period_label / previous_label: phrases such as "the fourth quarter of 2025"; leave
    previous_label None when there is no previous period to compare with.
    year_ago_label: how the year-earlier value is introduced ("a year earlier").
    unit: "count", "proportion" (0.62 = 62%; changes in percentage points) or "dollars".
    singular: the label takes "was"/"is" instead of "were"/"are".

    For example, 214 referrals against 191 the quarter before and 180 a year
    earlier give "Referrals rose 12% to 214 compared with 191 in the third quarter
    of 2025 (up from 180 a year earlier)."
    """
    _check_unit(unit)
    if not label.strip():
        raise ValueError("change_sentence: label is empty")
    if not period_label.strip():
        raise ValueError("change_sentence: period_label is empty")
    now = _value("current", current, current_withheld)
    before = _value("previous", previous, previous_withheld)
    year = _value("year_ago", year_ago, year_ago_withheld)
    were, are = ("was", "is") if singular else ("were", "are")
    subject = capitalize(label.strip())

    if now.is_withheld:
        reason = now.withheld or ""
        if unit == COUNT and _is_small_count(reason):
            text = f"{subject} {were} {reason} in {period_label}; the number is {PRIVACY}."
        else:
            text = f"{subject} for {period_label} {are} {withheld_words(reason)}."
        return text
    if now.is_missing:
        return f"{subject} for {period_label} {are} {NOT_PUBLISHED}."

    value = now.shown
    assert value is not None  # for the type checker: not withheld and not missing
    shown = format_value(value, unit)
    year_clause = _year_clause(value, year, year_ago_label, unit)
    sentences: list[str]
    if previous_label is None:
        sentences = [f"{subject} {were} {shown} in {period_label}{year_clause}."]
    elif before.is_withheld:
        sentences = [
            f"{subject} {were} {shown} in {period_label}{year_clause}.",
            f"A comparison with {previous_label} is {PRIVACY}.",
        ]
    elif before.is_missing:
        sentences = [
            f"{subject} {were} {shown} in {period_label}{year_clause}; there is no published "
            f"figure for {previous_label} to compare with."
        ]
    else:
        assert before.shown is not None
        sentences = [
            _compared(subject, were, value, before.shown, previous_label, unit) + year_clause + "."
        ]
    if unstable:
        sentences.append(CAUTION)
    return " ".join(sentences)


def _compared(
    subject: str, were: str, now: Number, before: Number, previous_label: str, unit: str
) -> str:
    decimals = percent_decimals(now, before) if unit == PROPORTION else None
    shown, base = format_value(now, unit, decimals), format_value(before, unit, decimals)
    against = f"compared with {base} in {previous_label}"
    if now == before:
        return f"{subject} {were} unchanged at {shown} compared with {previous_label}"
    verb = "rose" if now > before else "fell"
    if unit == PROPORTION:
        difference = now - before
        if abs(difference) < ABOUT_THE_SAME_POINTS:
            return f"{subject} {were} about the same at {shown} {against}"
        points = format_points(difference)
        unit_word = "percentage point" if points == "1" else "percentage points"
        return f"{subject} {verb} {points} {unit_word} to {shown} {against}"
    if before == 0:
        # No percentage can be taken from a zero base.
        return f"{subject} {verb} from {base} in {previous_label} to {shown}"
    relative = (now - before) / abs(before)
    if abs(relative) < ABOUT_THE_SAME_RELATIVE:
        return (
            f"{subject} {were} about the same at {shown} compared with {base} in {previous_label}"
        )
    return (
        f"{subject} {verb} {format_relative_change(relative)} to {shown} compared with {base} "
        f"in {previous_label}"
    )


def _year_clause(now: Number, year: _Value, year_ago_label: str, unit: str) -> str:
    if year.is_withheld:
        return f" (the figure {year_ago_label} is {PRIVACY})"
    if year.is_missing:
        return ""
    assert year.shown is not None
    base = format_value(year.shown, unit)
    if now == year.shown:
        return f" (the same as {year_ago_label})"
    if base == format_value(now, unit):
        return f" (about the same as {year_ago_label})"
    direction = "up" if now > year.shown else "down"
    return f" ({direction} from {base} {year_ago_label})"


def level_sentence(
    label: str,
    value: Number | None,
    *,
    period_label: str,
    withheld: str | None = None,
    unstable: bool = False,
    unit: str = COUNT,
    singular: bool = False,
) -> str:
    """One figure without a comparison: "Active caseload was 312 in the fourth quarter of 2025."."""
    return change_sentence(
        label,
        value,
        period_label=period_label,
        current_withheld=withheld,
        unstable=unstable,
        unit=unit,
        singular=singular,
    )


# ------------------------------------------------------------------ recidivism


def _points_range(low: Number, high: Number) -> str:
    low, high = min(low, high), max(low, high)
    # Both ends at the same precision: "7 to 20", not "7.3 to 20".
    whole = max(abs(low), abs(high)) >= 0.1

    def points(value: Number) -> str:
        return f"{round(abs(value) * 100):,}" if whole else format_points(value)

    if high <= 0:
        return f"{points(high)} to {points(low)} points fewer"
    if low >= 0:
        return f"{points(low)} to {points(high)} points more"
    return f"from {points(low)} points fewer to {points(high)} points more"


def _interval_excludes(low: Number | None, high: Number | None, null: float) -> bool | None:
    if low is None or high is None:
        return None
    return high < null or low > null


def recidivism_sentence(
    *,
    window_months: int,
    lead_rate: Number | None,
    comparison_rate: Number | None,
    lead_people: int | None = None,
    comparison_people: int | None = None,
    risk_difference: Number | None = None,
    rd_low: Number | None = None,
    rd_high: Number | None = None,
    risk_ratio: Number | None = None,
    rr_low: Number | None = None,
    rr_high: Number | None = None,
    odds_ratio: Number | None = None,
    or_low: Number | None = None,
    or_high: Number | None = None,
    withheld: str | None = None,
    reliability: str = OK,
    outcome: str = "arrested again",
) -> str:
    """A paragraph on re-arrest, LEAD against the comparison group, with intervals in words.

    Rates are proportions (0.31 = 31%); the risk difference is LEAD minus comparison.
    withheld: the reason when the comparison is withheld (every number is then ignored).
    reliability: "ok", "unstable", "insufficient" or "not_computable", as the metrics set it.
    """
    _check_reliability(reliability)
    if window_months <= 0:
        raise ValueError(
            f"recidivism_sentence: window_months must be positive; got {window_months}"
        )
    what = f"Re-arrest within {window_months} months of entry"
    if withheld:
        return f"{what}, LEAD against the comparison group, is {withheld_words(withheld)}."
    if reliability == INSUFFICIENT:
        return (
            f"Too few people have completed {window_months} months of follow-up to compare "
            f"re-arrest between LEAD and the comparison group."
        )
    numbers = {
        "lead_rate": lead_rate,
        "comparison_rate": comparison_rate,
        "risk_difference": risk_difference,
        "rd_low": rd_low,
        "rd_high": rd_high,
        "risk_ratio": risk_ratio,
        "rr_low": rr_low,
        "rr_high": rr_high,
        "odds_ratio": odds_ratio,
        "or_low": or_low,
        "or_high": or_high,
    }
    for name, number in numbers.items():
        _check_number(name, number)
    if reliability == NOT_COMPUTABLE or lead_rate is None or comparison_rate is None:
        return f"{what} is {NOT_PUBLISHED}."

    lead_of = f" (of {format_count(lead_people)})" if lead_people is not None else ""
    comparison_of = (
        f" (of {format_count(comparison_people)})" if comparison_people is not None else ""
    )
    sentences = [
        f"Within {window_months} months of entry, {format_percent(lead_rate)} of LEAD "
        f"participants{lead_of} were {outcome}, against {format_percent(comparison_rate)} of "
        f"the comparison group{comparison_of}."
    ]
    parts: list[str] = []
    if risk_difference is not None:
        size = format_points(risk_difference)
        if risk_difference == 0:
            difference = "no difference in percentage points"
        else:
            direction = "fewer" if risk_difference < 0 else "more"
            difference = f"{size} percentage points {direction}"
        if rd_low is not None and rd_high is not None:
            difference += f" (95% interval {_points_range(rd_low, rd_high)})"
        parts.append(difference)
    if risk_ratio is not None:
        ratio = f"{format_ratio(risk_ratio)} times the comparison group's rate"
        if rr_low is not None and rr_high is not None:
            ratio += f" (95% interval {format_ratio(rr_low)} to {format_ratio(rr_high)})"
        parts.append(ratio)
    if parts:
        sentences.append("That is " + ", or ".join(parts) + ".")

    excludes = _interval_excludes(rd_low, rd_high, 0.0)
    if excludes is None:
        excludes = _interval_excludes(rr_low, rr_high, 1.0)
    if excludes is True:
        sentences.append(
            "The interval excludes no difference, so a difference this large is unlikely to be "
            "chance alone."
        )
    elif excludes is False:
        sentences.append(
            "The interval includes no difference, so the data cannot rule out that both groups "
            "were re-arrested at the same rate."
        )
    sentences.append(QUASI_EXPERIMENTAL)
    if odds_ratio is not None:
        if odds_ratio == 1:
            odds = "the same odds of re-arrest"
        else:
            change = format_relative_change(odds_ratio - 1)
            odds = f"{change} {'lower' if odds_ratio < 1 else 'higher'} odds of re-arrest"
        detail = f"odds ratio {format_ratio(odds_ratio)}"
        if or_low is not None and or_high is not None:
            detail += f", 95% interval {format_ratio(or_low)} to {format_ratio(or_high)}"
        sentences.append(
            f"In odds, for comparison with the published evaluation ({SEATTLE_ODDS}), LEAD "
            f"participants had {odds} ({detail})."
        )
    if reliability == UNSTABLE:
        sentences.append(CAUTION)
    return " ".join(sentences)


# ------------------------------------------------------------------ disparities


@dataclass(frozen=True)
class RateRatio:
    """One Relative Rate Index result, as the disparity sentence needs it."""

    group_label: str  # "Black residents"
    reference_label: str  # "white residents"
    decision: str  # "eligible contacts were referred"
    rri: Number | None
    ci_low: Number | None = None
    ci_high: Number | None = None
    reliability: str = OK
    withheld: str | None = None


def largest_disparity(candidates: Sequence[RateRatio]) -> RateRatio | None:
    """The result farthest from parity (on the ratio scale: 0.5 is as far as 2).

    Only shown, usable results compete (reliability ok or unstable). When none is
    usable the first candidate comes back, so its sentence can say why; None when
    there are no candidates at all.
    """
    usable = [
        c
        for c in candidates
        if not c.withheld and c.rri is not None and c.rri > 0 and c.reliability in (OK, UNSTABLE)
    ]
    if not usable:
        return candidates[0] if candidates else None
    # Stable results first on ties, then the order given: the choice never depends on chance.
    return max(
        enumerate(usable),
        key=lambda item: (abs(math.log(item[1].rri)), item[1].reliability == OK, -item[0]),
    )[1]


def disparity_sentence(
    *,
    group_label: str,
    reference_label: str,
    decision: str,
    rri: Number | None,
    ci_low: Number | None = None,
    ci_high: Number | None = None,
    reliability: str = OK,
    withheld: str | None = None,
) -> str:
    """A sentence on one Relative Rate Index and whether it can be told apart from parity.

    decision: the step in the passive voice, to follow the group's possessive
    ("eligible contacts were referred").
    """
    _check_reliability(reliability)
    step = f"{possessive(group_label)} {decision}"
    if withheld:
        return (
            f"The comparison of {group_label} with {reference_label} is {withheld_words(withheld)}."
        )
    if reliability == INSUFFICIENT:
        return (
            f"There were too few people to judge whether {step} at a different rate from "
            f"{reference_label}."
        )
    for name, number in (("rri", rri), ("ci_low", ci_low), ("ci_high", ci_high)):
        _check_number(name, number)
    if reliability == NOT_COMPUTABLE or rri is None:
        return f"A comparison of {group_label} with {reference_label} is {NOT_PUBLISHED}."
    text = f"{capitalize(step)} at {format_ratio(rri)} times the rate of {reference_label}"
    if ci_low is not None and ci_high is not None:
        text += f" (95% interval {format_ratio(ci_low)} to {format_ratio(ci_high)})"
        if _interval_excludes(ci_low, ci_high, 1.0):
            text += ", a difference unlikely to be chance alone."
        else:
            text += ", which cannot be told apart from parity."
    else:
        text += "; without an interval it cannot be told whether this differs from parity."
    if reliability == UNSTABLE:
        text += " " + CAUTION
    return text


def rate_ratio_sentence(result: RateRatio | None) -> str:
    """The disparity sentence for a RateRatio (e.g. the one largest_disparity picked)."""
    if result is None:
        return "No disparity figure is published for this site and period."
    return disparity_sentence(
        group_label=result.group_label,
        reference_label=result.reference_label,
        decision=result.decision,
        rri=result.rri,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        reliability=result.reliability,
        withheld=result.withheld,
    )


# ------------------------------------------------------------------ costs


def cost_sentence(
    *,
    saving_marginal: Number | None,
    saving_fully_loaded: Number | None,
    period_label: str,
    program_cost: Number | None = None,
    net_marginal: Number | None = None,
    net_fully_loaded: Number | None = None,
    withheld: str | None = None,
    reliability: str = OK,
) -> str:
    """A paragraph on the criminal-justice saving per person-year, given as a range.

    saving_marginal / saving_fully_loaded: the difference-in-differences saving
    counting only costs that shrink with caseloads, and counting every category;
    positive means LEAD's costs grew less (or fell more) than the comparison
    group's. program_cost: LEAD's own cost per participant-year; net_*: the
    savings after it.
    """
    _check_reliability(reliability)
    if withheld:
        return f"Cost figures for {period_label} are {withheld_words(withheld)}."
    if reliability == INSUFFICIENT:
        return f"Too few people were counted in {period_label} for a dependable cost comparison."
    numbers = {
        "saving_marginal": saving_marginal,
        "saving_fully_loaded": saving_fully_loaded,
        "program_cost": program_cost,
        "net_marginal": net_marginal,
        "net_fully_loaded": net_fully_loaded,
    }
    for name, number in numbers.items():
        _check_number(name, number)
    if reliability == NOT_COMPUTABLE or saving_marginal is None or saving_fully_loaded is None:
        return f"Cost figures for {period_label} are {NOT_PUBLISHED}."
    low, high = sorted((saving_marginal, saving_fully_loaded))
    sentences = [_saving_words(low, high, period_label)]
    if program_cost is not None:
        sentences.append(
            f"The program itself cost {format_dollars(program_cost)} per participant-year."
        )
    if net_marginal is not None and net_fully_loaded is not None:
        net_l, net_h = sorted((net_marginal, net_fully_loaded))
        if net_l >= 0:
            net = f"the net saving is {_dollar_range(net_l, net_h)}"
        elif net_h <= 0:
            net = f"the net cost is {_dollar_range(-net_h, -net_l)}"
        else:
            net = (
                f"the net result ranges from a cost of {format_dollars(-net_l)} to a saving of "
                f"{format_dollars(net_h)}"
            )
        sentences.append(f"After that cost, {net} per participant-year.")
    sentences.append(
        "The range runs between a marginal estimate, which counts only costs that shrink when "
        "caseloads do, and a fully loaded one, which counts every category; both assume the two "
        "groups' costs would have moved in parallel without LEAD."
    )
    if reliability == UNSTABLE:
        sentences.append(CAUTION)
    return " ".join(sentences)


def _dollar_range(low: Number, high: Number) -> str:
    if format_dollars(low) == format_dollars(high):
        return format_dollars(low)
    return f"{format_dollars(low)} to {format_dollars(high)}"


def _saving_words(low: Number, high: Number, period_label: str) -> str:
    if low >= 0:
        return (
            f"Compared with the comparison group, LEAD saved an estimated "
            f"{_dollar_range(low, high)} per participant-year in criminal-justice costs in "
            f"{period_label}."
        )
    if high <= 0:
        return (
            f"LEAD participants' criminal-justice costs grew by an estimated "
            f"{_dollar_range(-high, -low)} more per person-year than the comparison group's in "
            f"{period_label}."
        )
    return (
        f"The estimated criminal-justice saving per participant-year in {period_label} ranges "
        f"from a cost of {format_dollars(-low)} to a saving of {format_dollars(high)}, so it "
        f"cannot be told apart from no saving."
    )
