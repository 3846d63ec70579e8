"""Referral counts and trends, the screening funnel, diversion rate and service uptake."""

from __future__ import annotations

import polars as pl
import pytest

from data_access.metrics.diversion import diversion_rate
from data_access.metrics.referrals import referral_counts, referral_trend, roll_up
from data_access.metrics.screening import enrollment_rate, screening_funnel
from data_access.metrics.services import service_uptake


def _monthly(values: dict[str, int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"month": list(values), "referrals": list(values.values())},
        schema={"month": pl.String, "referrals": pl.Int64},
    )


def _value(out: pl.DataFrame, metric: str, period: str, column: str = "estimate"):
    row = out.filter((pl.col("metric_id") == metric) & (pl.col("month") == period))
    assert row.height == 1, row
    return row[column][0]


def test_counts_by_pathway_sum_the_rows():
    frame = pl.DataFrame(
        {
            "pathway": ["arrest_diversion", "arrest_diversion", "social_contact"],
            "referrals": [10, 5, 7],
        }
    )
    out = referral_counts(frame, by="pathway")
    assert out["pathway"].to_list() == ["arrest_diversion", "social_contact"]
    assert out["numerator"].to_list() == [15, 7]
    assert out["ci_low"].null_count() == 2  # counts carry no interval


def test_changes_against_previous_month_and_year_earlier():
    """Jan 2023 = 20, Feb 2023 = 30 (+10, +50%); Feb 2024 = 24 against Feb 2023 = 30:
    −6 and −20%. Jan 2024 = 0 -> Feb 2024 relative change vs previous is undefined."""
    frame = _monthly({"2023-01": 20, "2023-02": 30, "2024-01": 0, "2024-02": 24})
    out = referral_trend(frame, period="month")
    assert _value(out, "referrals.change_vs_previous", "2023-02") == 10
    assert _value(out, "referrals.relative_change_vs_previous", "2023-02") == pytest.approx(0.5)
    assert _value(out, "referrals.change_vs_year_earlier", "2024-02") == -6
    assert _value(out, "referrals.relative_change_vs_year_earlier", "2024-02") == pytest.approx(
        -0.2
    )
    undefined = out.filter(
        (pl.col("metric_id") == "referrals.relative_change_vs_previous")
        & (pl.col("month") == "2024-02")
    ).row(0, named=True)
    assert undefined["estimate"] is None and "had none" in undefined["note"]
    first = out.filter(
        (pl.col("metric_id") == "referrals.change_vs_previous") & (pl.col("month") == "2023-01")
    ).row(0, named=True)
    assert first["reliability"] == "not_computable"


def test_months_missing_inside_the_span_count_as_zero_and_withheld_stay_withheld():
    frame = _monthly({"2023-01": 12, "2023-03": 18, "2023-04": None, "2023-05": 21})
    out = referral_trend(frame, period="month")
    assert _value(out, "referrals.count", "2023-02") == 0
    # Rolling average of Jan..Mar = (12 + 0 + 18)/3 = 10.
    assert _value(out, "referrals.rolling_3_month_average", "2023-03") == pytest.approx(10.0)
    assert _value(out, "referrals.rolling_3_month_average", "2023-03", "numerator") == 30
    # April is withheld: its count, its changes and every average that spans it are not shown.
    for metric in (
        "referrals.count",
        "referrals.change_vs_previous",
        "referrals.rolling_3_month_average",
    ):
        assert _value(out, metric, "2023-04", "reliability") == "not_computable"
    assert _value(out, "referrals.change_vs_previous", "2023-05", "reliability") == (
        "not_computable"
    )
    assert _value(out, "referrals.rolling_3_month_average", "2023-02", "reliability") == (
        "not_computable"
    )


def test_quarterly_roll_up_and_quarter_over_quarter():
    frame = _monthly({"2023-01": 10, "2023-02": 10, "2023-03": 10, "2023-04": 45})
    out = referral_trend(frame, period="month", grain="quarter")
    counts = out.filter(pl.col("metric_id") == "referrals.count")
    assert counts["month"].to_list() == ["2023-Q1", "2023-Q2"]
    assert counts["estimate"].to_list() == [30.0, 45.0]
    assert "referrals.rolling_3_month_average" not in set(out["metric_id"])
    assert roll_up(frame, "year")["month"].unique().to_list() == ["2023"]
    quarters = pl.DataFrame({"period": ["2023-Q1", "2023-Q2"], "referrals": [3, 4]})
    same = referral_trend(quarters, grain="quarter").filter(
        pl.col("metric_id") == "referrals.count"
    )
    assert same["estimate"].to_list() == [3.0, 4.0]
    with pytest.raises(ValueError, match="only months roll up"):
        referral_trend(quarters, grain="month")
    with pytest.raises(ValueError, match="period labels"):
        referral_trend(_monthly({"2023-1": 3}), period="month")


def test_trend_by_race_and_empty_frames():
    frame = pl.DataFrame(
        {
            "period": ["2023", "2024", "2023", "2024"],
            "race_ethnicity": ["black", "black", "white", "white"],
            "referrals": [40, 50, 20, 10],
        }
    )
    out = referral_trend(frame, by="race_ethnicity")
    white = out.filter(
        (pl.col("race_ethnicity") == "white")
        & (pl.col("metric_id") == "referrals.relative_change_vs_previous")
        & (pl.col("period") == "2024")
    )
    assert white["estimate"][0] == pytest.approx(-0.5)
    assert referral_trend(frame.clear(), by="race_ethnicity").height == 0
    assert referral_counts(frame.clear(), by="race_ethnicity").height == 0


def test_screening_funnel_arithmetic():
    """Outcomes: enrolled 40, declined 10, pending 5, violent history 15, exploitation 0,
    dealing 10. Referred = 80; excluded = 25; eligible = 80 − 25 = 55 = 40 + 10 + 5.
    Shares: eligible 55/80, excluded 25/80, enrolled 40/55, declined 10/55, pending 5/55."""
    frame = pl.DataFrame(
        {
            "outcome": [
                "enrolled",
                "declined",
                "pending",
                "excluded_violent_history",
                "excluded_dealing_above_subsistence",
            ],
            "persons": [40, 10, 5, 15, 10],
        }
    )
    out = screening_funnel(frame)
    rows = {r["stage"]: r for r in out.to_dicts()}
    assert (rows["referred"]["numerator"], rows["referred"]["estimate"]) == (80, 1.0)
    assert (rows["eligible"]["numerator"], rows["eligible"]["denominator"]) == (55, 80)
    assert (rows["excluded"]["numerator"], rows["excluded"]["denominator"]) == (25, 80)
    assert rows["excluded_exploitation_of_minors"]["numerator"] == 0
    assert rows["enrolled"]["estimate"] == pytest.approx(40 / 55)
    assert rows["pending"]["base_stage"] == "eligible"
    assert rows["enrolled"]["ci_low"] < 40 / 55 < rows["enrolled"]["ci_high"]
    with pytest.raises(ValueError, match="outside the vocabulary"):
        screening_funnel(pl.DataFrame({"outcome": ["lost"], "persons": [1]}))


def test_screening_funnel_with_withheld_or_no_rows():
    frame = pl.DataFrame(
        {"outcome": ["enrolled", "declined"], "persons": [40, None]},
        schema={"outcome": pl.String, "persons": pl.Int64},
    )
    out = screening_funnel(frame)
    assert set(out["reliability"]) == {"not_computable"}
    empty = screening_funnel(frame.clear())
    assert set(empty["reliability"]) == {"not_computable"}  # nobody referred


def test_enrollment_rate():
    frame = pl.DataFrame({"referrals": [100, 50], "enrolled": [60, 15]})
    row = enrollment_rate(frame).row(0, named=True)
    assert (row["numerator"], row["denominator"], row["estimate"]) == (75, 150, 0.5)


def test_diversion_rate_by_precinct_leaves_out_community_referrals():
    contacts = pl.DataFrame(
        {"precinct_id": ["east", "west", "north"], "eligible_contacts": [200, 100, 0]}
    )
    referrals = pl.DataFrame(
        {
            "precinct_id": ["east", "east", "west", "south"],
            "pathway": [
                "arrest_diversion",
                "community_referral",
                "social_contact",
                "arrest_diversion",
            ],
            "referrals": [50, 30, 120, 5],
        }
    )
    out = diversion_rate(contacts, referrals, by="precinct_id")
    rows = {r["precinct_id"]: r for r in out.to_dicts()}
    assert rows["east"]["estimate"] == pytest.approx(50 / 200)
    assert rows["west"]["reliability"] == "not_computable"  # 120 referrals of 100 contacts
    assert rows["north"]["reliability"] == "not_computable"  # no contacts
    assert rows["south"]["note"] == "no one in the denominator"  # referrals, no contacts recorded


def test_service_uptake_pools_participant_months():
    """Two months: 40 of 100 and 20 of 60 active got housing -> (40 + 20)/(100 + 60) = 0.375
    of participant-months. Every service gets a row; those with no row count zero."""
    caseload = pl.DataFrame({"month": ["2024-01", "2024-02"], "active_participants": [100, 60]})
    services = pl.DataFrame(
        {
            "month": ["2024-01", "2024-02"],
            "service": ["housing", "housing"],
            "participants_served": [40, 20],
        }
    )
    out = service_uptake(services, caseload)
    assert out.height == 8
    housing = out.filter(pl.col("service") == "housing").row(0, named=True)
    assert (housing["numerator"], housing["denominator"]) == (60, 160)
    assert housing["estimate"] == pytest.approx(0.375)
    clothing = out.filter(pl.col("service") == "clothing").row(0, named=True)
    assert (clothing["estimate"], clothing["ci_low"]) == (0.0, 0.0)
    by_month = service_uptake(services, caseload, by="month")
    assert by_month.height == 16
    with pytest.raises(ValueError, match="unknown service codes"):
        service_uptake(services.with_columns(pl.lit("yoga").alias("service")), caseload)
