"""Recidivism: closed windows only, LEAD against comparison, cohort trend, life-table curve."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data_access.metrics.recidivism import (
    cumulative_rearrest_curve,
    lead_vs_comparison,
    recidivism_rates,
    recidivism_trend,
)


def _rows(*rows):
    cols = ("cohort", "group", "followup_months", "cohort_size", "rearrested", "new_felony_charge")
    return pl.DataFrame(
        [dict(zip(cols, r, strict=True)) for r in rows],
        schema={
            "cohort": pl.String,
            "group": pl.String,
            "followup_months": pl.Int64,
            "cohort_size": pl.Int64,
            "rearrested": pl.Int64,
            "new_felony_charge": pl.Int64,
        },
    )


def _one(frame: pl.DataFrame, **where) -> dict:
    for k, v in where.items():
        frame = frame.filter(pl.col(k) == v)
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def test_a_window_counts_only_once_it_has_closed_by_as_of():
    """2023-Q1 ends 2023-03-31; its 12-month window closes 2024-03-31. On as_of 2024-03-30 only
    2022-Q4 (closes 2023-12-31) counts: 30/100. On 2024-03-31 both count: (30 + 10)/(100 + 50)."""
    frame = _rows(
        ("2022-Q4", "lead", 12, 100, 30, 5),
        ("2023-Q1", "lead", 12, 50, 10, 2),
    )
    before = _one(recidivism_rates(frame, "2024-03-30", windows=(12,)))
    assert (before["numerator"], before["denominator"], before["cohorts"]) == (30, 100, 1)
    on_the_day = _one(recidivism_rates(frame, dt.date(2024, 3, 31), windows=(12,)))
    assert (on_the_day["numerator"], on_the_day["denominator"]) == (40, 150)
    assert on_the_day["estimate"] == pytest.approx(40 / 150)
    assert (on_the_day["first_cohort"], on_the_day["last_cohort"]) == ("2022-Q4", "2023-Q1")


def test_a_window_no_cohort_has_completed_is_a_row_saying_so():
    frame = _rows(("2024-Q1", "lead", 36, 100, 30, 5))
    row = _one(recidivism_rates(frame, "2025-01-01", windows=(36,)))
    assert row["reliability"] == "not_computable"
    assert "no cohort has completed" in row["note"]
    assert row["estimate"] is None


def test_new_felony_charge_is_the_other_outcome():
    frame = _rows(("2020-Q1", "lead", 6, 100, 30, 12))
    row = _one(recidivism_rates(frame, "2022-01-01", windows=(6,), outcome="new_felony_charge"))
    assert (row["numerator"], row["outcome"]) == (12, "new_felony_charge")
    with pytest.raises(ValueError, match="outcome must be one of"):
        recidivism_rates(frame, "2022-01-01", outcome="convicted")


def test_lead_vs_comparison_worked_example_near_the_published_odds_ratio():
    """LEAD 60 of 200 re-arrested, comparison 58 of 115 (c = 140, d = 57).
    Rates 0.30 and 0.50435; RD = −0.20435; RR = 0.30/0.50435 = 0.59483;
    OR = (60·57)/(58·140) = 3420/8120 = 0.42118, the Seattle "58% lower odds".
    """
    frame = _rows(
        ("2021-Q1", "lead", 24, 200, 60, 20),
        ("2021-Q1", "comparison", 24, 115, 58, 25),
    )
    out = lead_vs_comparison(frame, "2024-01-01", windows=(24,))
    by_metric = {(r["metric_id"], r["group"]): r for r in out.to_dicts()}
    assert by_metric[("recidivism.rate", "lead")]["estimate"] == pytest.approx(0.30)
    assert by_metric[("recidivism.rate", "comparison")]["estimate"] == pytest.approx(58 / 115)
    rd = by_metric[("recidivism.risk_difference", "lead_vs_comparison")]
    rr = by_metric[("recidivism.risk_ratio", "lead_vs_comparison")]
    odds = by_metric[("recidivism.odds_ratio", "lead_vs_comparison")]
    assert rd["estimate"] == pytest.approx(0.30 - 58 / 115)
    assert rr["estimate"] == pytest.approx(0.30 / (58 / 115))
    assert odds["estimate"] == pytest.approx(3420 / 8120)
    assert round(odds["estimate"], 2) == 0.42
    for row in (rd, rr, odds):
        # All four cells travel with every comparison, for disclosure control.
        assert (row["numerator"], row["denominator"]) == (60, 200)
        assert (row["reference_numerator"], row["reference_denominator"]) == (58, 115)
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
        assert row["reliability"] == "ok"
    assert rr["ci_high"] < 1 and odds["ci_high"] < 1 and rd["ci_high"] < 0


def test_zero_events_in_one_group_corrects_and_flags_and_in_both_is_not_computable():
    one_zero = _rows(
        ("2021-Q1", "lead", 6, 40, 0, 0),
        ("2021-Q1", "comparison", 6, 40, 8, 0),
    )
    out = lead_vs_comparison(one_zero, "2022-01-01", windows=(6,))
    rr = _one(out, metric_id="recidivism.risk_ratio")
    assert "0.5 added to every cell" in rr["note"]
    # RR = (0.5/41)/(8.5/41) = 0.0588
    assert rr["estimate"] == pytest.approx(0.5 / 8.5)
    none = lead_vs_comparison(
        _rows(("2021-Q1", "lead", 6, 40, 0, 0), ("2021-Q1", "comparison", 6, 40, 0, 0)),
        "2022-01-01",
        windows=(6,),
    )
    for metric in ("recidivism.risk_ratio", "recidivism.odds_ratio"):
        row = _one(none, metric_id=metric)
        assert row["reliability"] == "not_computable" and row["estimate"] is None
        assert "neither group" in row["note"]
    rd = _one(none, metric_id="recidivism.risk_difference")
    assert rd["estimate"] == 0.0


def test_missing_comparison_group_and_withheld_counts_do_not_raise():
    lead_only = _rows(("2021-Q1", "lead", 6, 100, 20, 0))
    out = lead_vs_comparison(lead_only, "2022-01-01", windows=(6,))
    rr = _one(out, metric_id="recidivism.risk_ratio")
    assert rr["reliability"] == "not_computable"
    withheld = _rows(("2021-Q1", "lead", 6, None, None, None))
    row = _one(recidivism_rates(withheld, "2022-01-01", windows=(6,)))
    assert row["reliability"] == "not_computable" and row["note"] == "input withheld or missing"


def test_small_groups_are_flagged():
    frame = _rows(
        ("2021-Q1", "lead", 6, 25, 5, 0),
        ("2021-Q1", "comparison", 6, 200, 100, 0),
    )
    out = lead_vs_comparison(frame, "2022-01-01", windows=(6,))
    assert _one(out, metric_id="recidivism.risk_ratio")["reliability"] == "insufficient"
    assert _one(out, metric_id="recidivism.rate", group="lead")["reliability"] == "insufficient"


def test_trend_gives_each_cohort_its_own_rate():
    frame = _rows(
        ("2021-Q1", "lead", 12, 100, 40, 0),
        ("2021-Q2", "lead", 12, 100, 30, 0),
        ("2023-Q4", "lead", 12, 100, 5, 0),
    )
    out = recidivism_trend(frame, "2024-06-30", window=12)
    assert out["cohort"].to_list() == ["2021-Q1", "2021-Q2", "2023-Q4"]
    assert out["estimate"].to_list()[:2] == pytest.approx([0.40, 0.30])
    assert out["reliability"].to_list()[2] == "not_computable"  # closes 2024-12-31


def test_cumulative_curve_censors_cohorts_still_in_follow_up():
    """Cohort 2022-Q1 (100 people): 20 by 6 months, 30 by 12, both closed by 2023-12-31.
    Cohort 2023-Q1 (50 people): 10 by 6 months (closed 2023-09-30); its 12 months close
    2024-03-31, after as_of, so its 40 still at risk are censored in (6, 12].
    (0,6]: N = 150, D = 30, C = 0 -> 1 − S = 0.2.
    (6,12]: N = 80 + 40 = 120, D = 10, C = 40, n' = 100, q = 0.1 -> 1 − 0.8·0.9 = 0.28.
    Band at 6 months (see test_metrics_stats): S in 0.72660-0.85564, so 0.14436-0.27340.
    """
    frame = _rows(
        ("2022-Q1", "lead", 6, 100, 20, 0),
        ("2022-Q1", "lead", 12, 100, 30, 0),
        ("2023-Q1", "lead", 6, 50, 10, 0),
        ("2023-Q1", "lead", 12, 50, 12, 0),  # not yet complete: must be ignored
    )
    out = cumulative_rearrest_curve(frame, "2023-12-31")
    assert out["followup_months"].to_list() == [6, 12]
    assert out["at_risk"].to_list() == [150, 120]
    assert out["events"].to_list() == [30, 10]
    assert out["censored"].to_list() == [0, 40]
    assert out["estimate"].to_list() == pytest.approx([0.2, 0.28])
    assert out["ci_low"][0] == pytest.approx(0.14436, abs=1e-5)
    assert out["ci_high"][0] == pytest.approx(0.27340, abs=1e-5)
    assert out["numerator"].to_list() == [30, 40]
    assert out["denominator"].to_list() == [150, 150]


def test_cumulative_curve_marks_small_risk_sets_and_empty_ones():
    frame = _rows(
        ("2022-Q1", "lead", 6, 15, 15, 0),
        ("2022-Q1", "lead", 12, 15, 15, 0),
    )
    out = cumulative_rearrest_curve(frame, "2024-01-01")
    assert out["reliability"].to_list() == ["unstable", "not_computable"]
    assert out["estimate"][0] == pytest.approx(1.0)


def test_empty_frame_gives_empty_results():
    empty = _rows()
    assert recidivism_rates(empty, "2024-01-01").height == 0
    assert cumulative_rearrest_curve(empty, "2024-01-01").height == 0
    out = lead_vs_comparison(empty, "2024-01-01", windows=(12,))
    assert set(out["reliability"]) == {"not_computable"}


def test_bad_inputs_are_named():
    frame = _rows(("2021-Q1", "lead", 6, 100, 20, 0)).with_columns(pl.lit("2021Q1").alias("cohort"))
    with pytest.raises(ValueError, match="cohort must be written YYYY-Qn"):
        recidivism_rates(frame, "2022-01-01")
    with pytest.raises(ValueError, match="lacks column"):
        recidivism_rates(frame.drop("cohort_size"), "2022-01-01")
    with pytest.raises(ValueError, match="as_of"):
        recidivism_rates(_rows(("2021-Q1", "lead", 6, 100, 20, 0)), "March 2022")
