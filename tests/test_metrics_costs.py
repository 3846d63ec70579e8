"""Costs per person-year, change, difference-in-differences saving and program cost."""

from __future__ import annotations

import polars as pl
import pytest

from data_access.metrics.costs import (
    cost_change,
    cost_per_person_year,
    did_saving,
    program_cost_per_participant,
    program_cost_per_participant_month,
)


def _costs(rows):
    return pl.DataFrame(
        [
            dict(fiscal_year=y, group=g, category=c, persons=p, total_cost_usd=t)
            for y, g, c, p, t in rows
        ],
        schema={
            "fiscal_year": pl.Int64,
            "group": pl.String,
            "category": pl.String,
            "persons": pl.Int64,
            "total_cost_usd": pl.Float64,
        },
    )


# Seattle's published pre->post change (Collins et al. 2019): LEAD −$2,100, comparison +$5,961
# per person-year. Here jail is 60% and police 40% of each group's cost.
SEATTLE_LIKE = _costs(
    [
        (2020, "lead", "jail", 100, 600_000.0),  # 10,000 per person-year in all
        (2020, "lead", "police", 100, 400_000.0),
        (2021, "lead", "jail", 120, 568_800.0),  # 7,900 per person-year in all
        (2021, "lead", "police", 120, 379_200.0),
        (2021, "lead", "program", 120, 766_080.0),  # 6,384 per participant
        (2020, "comparison", "jail", 80, 480_000.0),  # 10,000
        (2020, "comparison", "police", 80, 320_000.0),
        (2021, "comparison", "jail", 90, 861_894.0),  # 15,961
        (2021, "comparison", "police", 90, 574_596.0),
    ]
)


def test_did_saving_by_hand_with_its_range_and_net_of_program():
    """Fully loaded: LEAD 10,000 -> 7,900 (−2,100), comparison 10,000 -> 15,961 (+5,961).
    Saving = 5,961 − (−2,100) = 8,061 per person-year.
    Marginal (police left out): LEAD 6,000 -> 4,740 (−1,260); comparison 6,000 -> 9,576.6
    (+3,576.6); saving = 3,576.6 + 1,260 = 4,836.6.
    Net of the program (766,080/120 = 6,384 per LEAD person-year): 8,061 − 6,384 = 1,677
    fully loaded, 4,836.6 − 6,384 = −1,547.4 marginal."""
    out = did_saving(SEATTLE_LIKE)
    rows = {(r["metric_id"], r["scope"]): r for r in out.to_dicts()}
    full = rows[("costs.did_saving", "fully_loaded")]
    assert full["estimate"] == pytest.approx(8061.0)
    assert (full["lead_pre"], full["lead_post"]) == (pytest.approx(10000), pytest.approx(7900))
    assert (full["lead_persons_pre"], full["comparison_persons_post"]) == (100, 90)
    assert (full["baseline_years"], full["followup_years"]) == ("2020", "2021")
    assert rows[("costs.did_saving", "marginal")]["estimate"] == pytest.approx(4836.6)
    assert rows[("costs.net_saving", "fully_loaded")]["estimate"] == pytest.approx(1677.0)
    assert rows[("costs.net_saving", "marginal")]["estimate"] == pytest.approx(-1547.4)
    assert set(out["reliability"]) == {"ok"}


def test_did_saving_flags_small_or_missing_groups():
    small = SEATTLE_LIKE.with_columns(
        pl.when(pl.col("group") == "comparison")
        .then(20)
        .otherwise(pl.col("persons"))
        .alias("persons")
    )
    assert set(did_saving(small)["reliability"]) == {"insufficient"}
    lead_only = SEATTLE_LIKE.filter(pl.col("group") == "lead")
    out = did_saving(lead_only)
    assert set(out["reliability"]) == {"not_computable"}
    with pytest.raises(ValueError, match="overlap"):
        did_saving(SEATTLE_LIKE, baseline_years=[2020], followup_years=[2020, 2021])


def test_cost_per_person_year_and_all_categories():
    out = cost_per_person_year(SEATTLE_LIKE)
    row = out.filter(
        (pl.col("fiscal_year") == 2021)
        & (pl.col("group") == "lead")
        & (pl.col("category") == "all")
    ).row(0, named=True)
    # (568,800 + 379,200 + 766,080) / 120 = 14,284
    assert row["estimate"] == pytest.approx(14284.0)
    assert row["denominator"] == 120


def test_cost_change_from_the_previous_year():
    out = cost_change(SEATTLE_LIKE)
    row = out.filter(
        (pl.col("fiscal_year") == 2021)
        & (pl.col("group") == "comparison")
        & (pl.col("category") == "all")
    )
    absolute = row.filter(pl.col("metric_id") == "costs.change_vs_previous_year")["estimate"][0]
    relative = row.filter(pl.col("metric_id") == "costs.relative_change_vs_previous_year")[
        "estimate"
    ][0]
    assert absolute == pytest.approx(5961.0)
    assert relative == pytest.approx(0.5961)


def test_program_cost_per_participant_and_per_month_with_a_july_fiscal_year():
    """FY2021 with a July start runs July 2020 - June 2021. Caseload: 60 active in each of
    2020-07 and 2021-06 (both FY2021) and 999 in 2021-07 (FY2022, left out).
    766,080 / (60 + 60) = 6,384 per participant-month; the note says 2 of 12 months."""
    assert program_cost_per_participant(SEATTLE_LIKE)["estimate"].to_list() == [6384.0]
    caseload = pl.DataFrame(
        {"month": ["2020-07", "2021-06", "2021-07"], "active_participants": [60, 60, 999]}
    )
    out = program_cost_per_participant_month(SEATTLE_LIKE, caseload, fiscal_year_start_month=7).row(
        0, named=True
    )
    assert (out["fiscal_year"], out["denominator"]) == (2021, 120)
    assert out["estimate"] == pytest.approx(6384.0)
    assert out["note"] == "caseload covers 2 of 12 months"


def test_costs_with_withheld_values_or_no_rows():
    withheld = SEATTLE_LIKE.with_columns(pl.lit(None, pl.Float64).alias("total_cost_usd"))
    assert set(cost_per_person_year(withheld)["reliability"]) == {"not_computable"}
    assert set(did_saving(withheld)["reliability"]) == {"not_computable"}
    empty = SEATTLE_LIKE.clear()
    assert cost_per_person_year(empty).height == 0
    assert set(did_saving(empty)["reliability"]) == {"not_computable"}
    with pytest.raises(ValueError, match="negative amount"):
        cost_per_person_year(SEATTLE_LIKE.with_columns(pl.lit(-1.0).alias("total_cost_usd")))
