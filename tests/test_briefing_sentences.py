"""Sentences written from the numbers: each generator on rises, falls, no change, a zero
base, withheld and missing values and unstable estimates, and a proof that a withheld
number never reaches the text (the output is the same whatever the hidden value is)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefing import sentences as s
from data_access.periods import parse_period, period_phrase, period_span

Q4 = "the fourth quarter of 2025"
Q3 = "the third quarter of 2025"
SMALL = "fewer than 11"
PERIODS = {"period_label": Q4, "previous_label": Q3}


def numbers_in(text: str) -> set[str]:
    """Every number written in the text, as written ("1,234", "12", "0.87")."""
    return set(re.findall(r"\d[\d,]*(?:\.\d+)?", text))


# ------------------------------------------------------------------ change_sentence


def test_rise_gives_percent_new_value_previous_value_and_year_ago():
    # (214 - 191) / 191 = 0.1204 -> "12%"; 214 > 180 a year earlier -> "up from 180".
    text = s.change_sentence("Referrals", 214, 191, year_ago=180, **PERIODS)
    assert text == (
        "Referrals rose 12% to 214 compared with 191 in the third quarter of 2025 "
        "(up from 180 a year earlier)."
    )


def test_fall_gives_percent_and_down_from_year_ago():
    # (176 - 191) / 191 = -0.0785 -> "fell 8%"; 176 < 200 -> "down from 200".
    text = s.change_sentence("Referrals", 176, 191, year_ago=200, **PERIODS)
    assert text == (
        "Referrals fell 8% to 176 compared with 191 in the third quarter of 2025 "
        "(down from 200 a year earlier)."
    )


def test_no_change_says_unchanged_and_same_as_a_year_earlier():
    text = s.change_sentence("Referrals", 191, 191, year_ago=191, **PERIODS)
    assert text == (
        "Referrals were unchanged at 191 compared with the third quarter of 2025 "
        "(the same as a year earlier)."
    )


def test_tiny_change_is_about_the_same_and_two_percent_is_a_rise():
    # 194 / 191 - 1 = 1.57% < 2% threshold; 195 / 191 - 1 = 2.09% -> "rose 2%".
    assert "were about the same at 194 compared with 191" in s.change_sentence(
        "Referrals", 194, 191, **PERIODS
    )
    assert "rose 2% to 195" in s.change_sentence("Referrals", 195, 191, **PERIODS)
    assert s.ABOUT_THE_SAME_RELATIVE == 0.02


def test_previous_zero_gives_no_percentage():
    text = s.change_sentence("Referrals", 14, 0, **PERIODS)
    assert text == "Referrals rose from 0 in the third quarter of 2025 to 14."
    assert "%" not in text


def test_thousands_separators():
    # (12,480 - 10,400) / 10,400 = 0.2 -> "20%".
    text = s.change_sentence("Police contacts", 12480, 10400, **PERIODS)
    assert text.startswith("Police contacts rose 20% to 12,480 compared with 10,400")


def test_withheld_current_says_fewer_than_11_and_never_the_number():
    text = s.change_sentence("Referrals", 7, 191, year_ago=180, current_withheld=SMALL, **PERIODS)
    assert text == (
        "Referrals were fewer than 11 in the fourth quarter of 2025; the number is withheld "
        "to protect privacy."
    )
    assert "7" not in numbers_in(text)


def test_withheld_current_with_another_reason_says_withheld():
    text = s.change_sentence(
        "Referrals", 57, 191, current_withheld="withheld to protect another cell", **PERIODS
    )
    assert text == "Referrals for the fourth quarter of 2025 are withheld to protect privacy."
    assert "57" not in text


def test_withheld_previous_keeps_the_current_value_and_withholds_the_comparison():
    # The hidden previous value is 7: no percentage or "from 7" may appear.
    text = s.change_sentence("Referrals", 214, 7, year_ago=180, previous_withheld=SMALL, **PERIODS)
    assert text == (
        "Referrals were 214 in the fourth quarter of 2025 (up from 180 a year earlier). "
        "A comparison with the third quarter of 2025 is withheld to protect privacy."
    )
    assert "7" not in numbers_in(text)
    assert "%" not in text


def test_withheld_year_ago_is_said_and_not_shown():
    text = s.change_sentence("Referrals", 214, 191, year_ago=7, year_ago_withheld=SMALL, **PERIODS)
    assert text.endswith("(the figure a year earlier is withheld to protect privacy).")
    assert "7" not in numbers_in(text)


def test_missing_current_is_not_published():
    text = s.change_sentence("Referrals", None, 191, **PERIODS)
    assert text == "Referrals for the fourth quarter of 2025 are not published for this site."


def test_missing_previous_gives_the_level_and_says_there_is_nothing_to_compare():
    text = s.change_sentence("Referrals", 214, None, **PERIODS)
    assert text == (
        "Referrals were 214 in the fourth quarter of 2025; there is no published figure for "
        "the third quarter of 2025 to compare with."
    )


def test_unstable_adds_the_caution():
    # (24 - 19) / 19 = 0.263 -> "26%".
    text = s.change_sentence("Referrals", 24, 19, unstable=True, **PERIODS)
    assert text == (
        "Referrals rose 26% to 24 compared with 19 in the third quarter of 2025. "
        "Based on small numbers; interpret with caution."
    )


def test_proportions_change_in_percentage_points():
    # 0.62 - 0.58 = 0.04 -> "4 percentage points".
    text = s.change_sentence(
        "The enrollment rate", 0.62, 0.58, unit="proportion", singular=True, **PERIODS
    )
    assert text == (
        "The enrollment rate rose 4 percentage points to 62% compared with 58% in the third "
        "quarter of 2025."
    )


def test_proportion_fraction_of_a_point_shows_one_decimal_so_the_numbers_add_up():
    # 0.148 - 0.141 = 0.007 -> "0.7 percentage points", values to one decimal.
    text = s.change_sentence("The diversion rate", 0.148, 0.141, unit="proportion", **PERIODS)
    assert "fell" not in text
    assert "rose 0.7 percentage points to 14.8% compared with 14.1%" in text


def test_proportion_fall_and_about_the_same():
    fall = s.change_sentence("The rate", 0.50, 0.58, unit="proportion", **PERIODS)
    assert "fell 8 percentage points to 50% compared with 58%" in fall
    # 0.003 points < half a point -> about the same.
    same = s.change_sentence("The rate", 0.583, 0.580, unit="proportion", **PERIODS)
    assert "about the same at 58.3% compared with 58.0%" in same


def test_proportion_withheld_for_a_derived_reason_names_the_reason():
    text = s.change_sentence(
        "The enrollment rate",
        0.07,
        0.58,
        unit="proportion",
        singular=True,
        current_withheld="based on fewer than 11 people",
        **PERIODS,
    )
    assert text == (
        "The enrollment rate for the fourth quarter of 2025 is withheld to protect privacy "
        "(based on fewer than 11 people)."
    )


def test_dollars_rise_and_fall():
    # (612 - 650) / 650 = -0.0585 -> "fell 6%".
    text = s.change_sentence(
        "Program cost per participant-month", 612, 650, unit="dollars", singular=True, **PERIODS
    )
    assert text.startswith("Program cost per participant-month fell 6% to $612 compared with $650")


def test_level_sentence_without_a_previous_period():
    assert (
        s.level_sentence("Active caseload", 312, period_label=Q4, singular=True)
        == "Active caseload was 312 in the fourth quarter of 2025."
    )
    assert (
        s.level_sentence("Active caseload", 7, period_label=Q4, withheld=SMALL, singular=True)
        == "Active caseload was fewer than 11 in the fourth quarter of 2025; the number is "
        "withheld to protect privacy."
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"current": float("nan")}, "finite"),
        ({"current": True}, "number or None"),
        ({"current": "214"}, "number or None"),
        ({"unit": "euros"}, "unit must be one of"),
        ({"label": " "}, "label is empty"),
    ],
)
def test_bad_inputs_are_named(kwargs, message):
    arguments = {"label": "Referrals", "current": 214, "previous": 191, **PERIODS, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        s.change_sentence(**arguments)


# A withheld value must not influence the text at all: render with two different hidden
# values and require identical sentences.
shown_counts = st.integers(min_value=11, max_value=100_000)
hidden_counts = st.integers(min_value=1, max_value=10)


@settings(max_examples=120, deadline=None)
@given(
    current=shown_counts,
    previous=shown_counts,
    year_ago=shown_counts,
    hidden_a=hidden_counts,
    hidden_b=hidden_counts,
    slot=st.sampled_from(["current", "previous", "year_ago"]),
    unit=st.sampled_from(["count", "dollars"]),
)
def test_output_never_depends_on_a_withheld_value(
    current, previous, year_ago, hidden_a, hidden_b, slot, unit
):
    def render(hidden: int) -> str:
        values = {"current": current, "previous": previous, "year_ago": year_ago, slot: hidden}
        return s.change_sentence(
            "Referrals",
            values["current"],
            values["previous"],
            year_ago=values["year_ago"],
            unit=unit,
            **{f"{slot}_withheld": SMALL},
            **PERIODS,
        )

    assert render(hidden_a) == render(hidden_b)


@settings(max_examples=80, deadline=None)
@given(rate=st.floats(0.0, 1.0), ratio=st.floats(0.01, 20.0), saving=st.floats(-1e5, 1e5))
def test_withheld_paragraphs_ignore_every_number(rate, ratio, saving):
    recidivism = s.recidivism_sentence(
        window_months=12,
        lead_rate=rate,
        comparison_rate=rate,
        risk_ratio=ratio,
        odds_ratio=ratio,
        withheld=SMALL,
    )
    assert recidivism == (
        "Re-arrest within 12 months of entry, LEAD against the comparison group, is withheld "
        "to protect privacy (fewer than 11)."
    )
    disparity = s.disparity_sentence(
        group_label="Asian residents",
        reference_label="white residents",
        decision="eligible contacts were referred",
        rri=ratio,
        ci_low=ratio / 2,
        ci_high=ratio * 2,
        withheld=SMALL,
    )
    assert numbers_in(disparity) == {"11"}
    cost = s.cost_sentence(
        saving_marginal=saving, saving_fully_loaded=saving, period_label="2025", withheld=SMALL
    )
    assert cost == "Cost figures for 2025 are withheld to protect privacy (fewer than 11)."


# ------------------------------------------------------------------ recidivism

RECIDIVISM = {
    "window_months": 12,
    "lead_rate": 0.31,
    "comparison_rate": 0.45,
    "lead_people": 412,
    "comparison_people": 388,
    "risk_difference": -0.14,
    "rd_low": -0.212,
    "rd_high": -0.073,
    "risk_ratio": 0.69,
    "rr_low": 0.57,
    "rr_high": 0.83,
    "odds_ratio": 0.55,
    "or_low": 0.41,
    "or_high": 0.74,
}


def test_recidivism_fall_with_interval_excluding_no_difference():
    text = s.recidivism_sentence(**RECIDIVISM)
    assert text.startswith(
        "Within 12 months of entry, 31% of LEAD participants (of 412) were arrested again, "
        "against 45% of the comparison group (of 388)."
    )
    # RD interval -0.212 to -0.073 -> "7 to 21 points fewer" (both ends whole: one is >= 10).
    assert "14 percentage points fewer (95% interval 7 to 21 points fewer)" in text
    assert "0.69 times the comparison group's rate (95% interval 0.57 to 0.83)" in text
    assert "excludes no difference" in text and "unlikely to be chance alone" in text
    assert "quasi-experimental comparison, not a randomized trial" in text
    # OR 0.55 -> 1 - 0.55 = 45% lower odds, beside the published 58%.
    assert (
        "for comparison with the published evaluation (58% lower odds in Seattle), LEAD "
        "participants had 45% lower odds of re-arrest (odds ratio 0.55, 95% interval 0.41 "
        "to 0.74)" in text
    )


def test_recidivism_rise_is_said_as_more_and_higher_odds():
    text = s.recidivism_sentence(
        window_months=6,
        lead_rate=0.40,
        comparison_rate=0.30,
        risk_difference=0.10,
        rd_low=0.03,
        rd_high=0.17,
        risk_ratio=1.33,
        rr_low=1.08,
        rr_high=1.64,
        odds_ratio=1.56,
    )
    assert "10 percentage points more (95% interval 3 to 17 points more)" in text
    assert "56% higher odds of re-arrest" in text
    assert "unlikely to be chance alone" in text


def test_recidivism_interval_including_no_difference():
    text = s.recidivism_sentence(
        window_months=12,
        lead_rate=0.40,
        comparison_rate=0.43,
        risk_difference=-0.03,
        rd_low=-0.10,
        rd_high=0.04,
        risk_ratio=0.93,
        rr_low=0.78,
        rr_high=1.10,
    )
    assert "(95% interval from 10 points fewer to 4 points more)" in text
    assert "cannot rule out that both groups were re-arrested at the same rate" in text
    assert "unlikely to be chance" not in text


def test_recidivism_no_difference_at_all():
    text = s.recidivism_sentence(
        window_months=12,
        lead_rate=0.40,
        comparison_rate=0.40,
        risk_difference=0.0,
        rd_low=-0.06,
        rd_high=0.06,
        risk_ratio=1.0,
        odds_ratio=1.0,
    )
    assert "That is no difference in percentage points" in text
    assert "the same odds of re-arrest" in text
    assert "cannot rule out" in text


def test_recidivism_insufficient_missing_and_unstable():
    insufficient = s.recidivism_sentence(
        window_months=24, lead_rate=0.5, comparison_rate=0.6, reliability="insufficient"
    )
    assert insufficient == (
        "Too few people have completed 24 months of follow-up to compare re-arrest between "
        "LEAD and the comparison group."
    )
    assert "50%" not in insufficient
    missing = s.recidivism_sentence(window_months=12, lead_rate=None, comparison_rate=None)
    assert missing == "Re-arrest within 12 months of entry is not published for this site."
    unstable = s.recidivism_sentence(**{**RECIDIVISM, "reliability": "unstable"})
    assert unstable.endswith("Based on small numbers; interpret with caution.")
    with pytest.raises(ValueError, match="reliability must be one of"):
        s.recidivism_sentence(**{**RECIDIVISM, "reliability": "shaky"})


# ------------------------------------------------------------------ disparities

REFERRAL = {
    "group_label": "Black residents",
    "reference_label": "white residents",
    "decision": "eligible contacts were referred",
}


def test_disparity_unlikely_to_be_chance():
    text = s.disparity_sentence(**REFERRAL, rri=0.87, ci_low=0.78, ci_high=0.97)
    assert text == (
        "Black residents' eligible contacts were referred at 0.87 times the rate of white "
        "residents (95% interval 0.78 to 0.97), a difference unlikely to be chance alone."
    )


def test_disparity_above_parity_and_within_parity():
    above = s.disparity_sentence(**REFERRAL, rri=1.42, ci_low=1.10, ci_high=1.83)
    assert "at 1.42 times the rate" in above and "unlikely to be chance alone" in above
    within = s.disparity_sentence(**REFERRAL, rri=0.94, ci_low=0.78, ci_high=1.12)
    assert within.endswith("which cannot be told apart from parity.")
    parity = s.disparity_sentence(**REFERRAL, rri=1.0, ci_low=0.85, ci_high=1.18)
    assert "at 1.00 times the rate" in parity and "cannot be told apart from parity" in parity


def test_disparity_too_few_withheld_missing_unstable():
    too_few = s.disparity_sentence(**REFERRAL, rri=3.1, reliability="insufficient")
    assert too_few == (
        "There were too few people to judge whether Black residents' eligible contacts were "
        "referred at a different rate from white residents."
    )
    withheld = s.disparity_sentence(**REFERRAL, rri=7.0, ci_low=7.0, ci_high=7.0, withheld=SMALL)
    assert "7" not in numbers_in(withheld)
    assert "withheld to protect privacy" in withheld
    missing = s.disparity_sentence(**REFERRAL, rri=None)
    assert missing.endswith("is not published for this site.")
    unstable = s.disparity_sentence(
        **REFERRAL, rri=0.8, ci_low=0.6, ci_high=1.1, reliability="unstable"
    )
    assert unstable.endswith("Based on small numbers; interpret with caution.")


def test_largest_disparity_is_farthest_from_parity_on_the_ratio_scale():
    def rr(group, rri, reliability="ok", withheld=None):
        return s.RateRatio(group, "white residents", "contacts were referred", rri, 0.1, 9.0,
                           reliability, withheld)  # fmt: skip

    # |ln 0.5| = 0.693 > |ln 1.8| = 0.588: half as often is the larger disparity.
    candidates = [
        rr("Latino residents", 1.8),
        rr("Black residents", 0.5),
        rr("Asian residents", 4.0, reliability="insufficient"),
        rr("Native residents", 9.0, withheld=SMALL),
    ]
    assert math.log(1 / 0.5) > math.log(1.8)
    assert s.largest_disparity(candidates).group_label == "Black residents"
    only_unusable = [candidates[2], candidates[3]]
    assert s.largest_disparity(only_unusable).group_label == "Asian residents"
    assert s.largest_disparity([]) is None
    assert s.rate_ratio_sentence(None) == (
        "No disparity figure is published for this site and period."
    )
    assert s.rate_ratio_sentence(candidates[1]).startswith(
        "Black residents' contacts were referred at 0.50 times"
    )


# ------------------------------------------------------------------ costs


def test_cost_saving_range_with_program_cost_and_net():
    text = s.cost_sentence(
        saving_marginal=1200,
        saving_fully_loaded=8061,
        period_label="2025",
        program_cost=6400,
        net_marginal=1200 - 6400,
        net_fully_loaded=8061 - 6400,
    )
    assert text.startswith(
        "Compared with the comparison group, LEAD saved an estimated $1,200 to $8,061 per "
        "participant-year in criminal-justice costs in 2025. The program itself cost $6,400 "
        "per participant-year. After that cost, the net result ranges from a cost of $5,200 "
        "to a saving of $1,661 per participant-year."
    )
    assert "marginal estimate" in text and "fully loaded" in text


def test_cost_rise_and_range_spanning_zero():
    # Negative savings: LEAD's costs grew more; shown as positive dollars, smaller first.
    rise = s.cost_sentence(saving_marginal=-300, saving_fully_loaded=-1200, period_label="2025")
    assert rise.startswith(
        "LEAD participants' criminal-justice costs grew by an estimated $300 to $1,200 more "
        "per person-year than the comparison group's in 2025."
    )
    spans = s.cost_sentence(saving_marginal=-1200, saving_fully_loaded=3000, period_label="2025")
    assert "from a cost of $1,200 to a saving of $3,000" in spans
    assert "cannot be told apart from no saving" in spans


def test_cost_equal_ends_millions_and_no_change():
    same = s.cost_sentence(saving_marginal=2100, saving_fully_loaded=2100, period_label="2025")
    assert "saved an estimated $2,100 per participant-year" in same
    big = s.cost_sentence(
        saving_marginal=1_250_000, saving_fully_loaded=2_000_000, period_label="2025"
    )
    assert "$1.2 million to $2 million" in big
    zero = s.cost_sentence(saving_marginal=0, saving_fully_loaded=0, period_label="2025")
    assert "saved an estimated $0 per participant-year" in zero


def test_cost_insufficient_missing_unstable():
    assert s.cost_sentence(
        saving_marginal=5, saving_fully_loaded=9, period_label="2025", reliability="insufficient"
    ) == ("Too few people were counted in 2025 for a dependable cost comparison.")
    assert s.cost_sentence(saving_marginal=None, saving_fully_loaded=None, period_label="2025") == (
        "Cost figures for 2025 are not published for this site."
    )
    unstable = s.cost_sentence(
        saving_marginal=100, saving_fully_loaded=900, period_label="2025", reliability="unstable"
    )
    assert unstable.endswith("Based on small numbers; interpret with caution.")


# ------------------------------------------------------------------ formats and periods


def test_number_formats():
    assert s.format_count(1234567) == "1,234,567"
    assert s.format_percent(0.045) == "4.5%"
    assert s.format_percent(0.05) == "5%"
    assert s.format_percent(0.314) == "31%"
    assert s.format_percent(0.148, decimals=1) == "14.8%"
    assert s.format_dollars(2100) == "$2,100"
    assert s.format_dollars(-5961.4) == "-$5,961"
    assert s.format_dollars(4_100_000) == "$4.1 million"
    assert s.format_ratio(0.8666) == "0.87"


def test_period_words():
    assert period_phrase("2025-Q4") == "the fourth quarter of 2025"
    assert period_span("2025-Q4") == "October to December 2025"
    assert period_phrase("2025") == "2025"
    assert period_span("2025") == "January to December 2025"
    assert period_phrase("2025-03") == "March 2025"
    q1 = parse_period("2025-Q1")
    assert q1.previous().code == "2024-Q4"
    assert q1.year_earlier().code == "2024-Q1"
    assert parse_period("2025-01").previous().code == "2024-12"
    assert parse_period("2025").previous().phrase == "2024"
    assert q1.short == "Q1 2025"
    with pytest.raises(ValueError, match="'2025-Q5' is not a quarter"):
        parse_period("2025-Q5")
