"""Percentages, rates, comparisons and costs built on counts, and reliability flags."""

from __future__ import annotations

import polars as pl
import pytest

from data_access.audience import Audience
from data_access.disclosure import DerivedKind, PolicyError, protect_comparison, protect_derived


def _rates(rows: list[tuple[str, int, int]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=["group", "rearrested", "cohort"], orient="row")
    return frame.with_columns(
        (pl.col("rearrested") / pl.col("cohort")).alias("pct"),
        (pl.col("rearrested") / pl.col("cohort") - 0.05).alias("ci_low"),
        (pl.col("rearrested") / pl.col("cohort") + 0.05).alias("ci_high"),
    )


def _proportions(frame: pl.DataFrame, **kwargs):
    return protect_derived(
        frame,
        view="re-arrest",
        keys=["group"],
        numerator="rearrested",
        denominator="cohort",
        estimates=["pct", "ci_low", "ci_high"],
        kind=DerivedKind.PROPORTION,
        **kwargs,
    )


def test_percentages_are_withheld_with_their_intervals_when_they_would_reveal_few_people():
    frame = _rates(
        [
            ("small numerator", 4, 80),  # 4 of 80: the 4 people
            ("small complement", 75, 80),  # 75 of 80: the 5 who were not
            ("all of them", 40, 40),  # 100%: fine, the rest is 0 people
            ("thin denominator", 12, 25),  # 25 people: too few for a rate
            ("fine", 30, 80),
        ]
    )
    result = _proportions(frame).frame
    by_group = {r["group"]: r for r in result.iter_rows(named=True)}
    for group, reason in [
        ("small numerator", "based on fewer than 11 people"),
        ("small complement", "fewer than 11 people in the group are outside it"),
        ("thin denominator", "denominator under 30"),
    ]:
        row = by_group[group]
        assert (row["pct"], row["ci_low"], row["ci_high"]) == (None, None, None), group
        assert row["pct_flag"] == reason
    assert by_group["fine"]["pct"] == pytest.approx(30 / 80)
    assert by_group["all of them"]["pct"] == pytest.approx(1.0)
    # Counts are not published unless asked for.
    assert "rearrested" not in result.columns and "cohort" not in result.columns


def test_a_percentage_built_on_a_count_withheld_elsewhere_is_withheld():
    frame = _rates([("a", 30, 80), ("b", 30, 80)]).with_columns(
        rearrested_flag=pl.Series(["withheld to protect another cell", ""])
    )
    result = _proportions(frame, withheld_flags=["rearrested_flag"])
    assert result.frame["pct"].to_list()[0] is None
    assert result.frame["pct_flag"].to_list() == ["based on a withheld count", ""]
    assert [r.reason for r in result.audit_log] == ["based on a withheld count"]


def test_counts_kept_beside_a_percentage_cannot_reveal_the_complement():
    # 75 re-arrested of 80: publishing both counts would say 5 were not.
    result = _proportions(_rates([("a", 75, 80), ("b", 30, 80)]), keep_counts=True).frame
    assert result["rearrested"].to_list() == [None, 30]
    assert result["cohort"].to_list() == [80, 80]


def test_numerators_from_11_to_19_are_flagged_unstable_but_shown():
    result = _proportions(_rates([("a", 11, 80), ("b", 19, 80), ("c", 20, 80)])).frame
    assert result["pct"].null_count() == 0
    assert result["pct_reliability"].to_list() == [
        "unstable: based on fewer than 20 events",
        "unstable: based on fewer than 20 events",
        "",
    ]


def test_rates_per_person_year_have_no_complement_rule_but_keep_the_others():
    frame = pl.DataFrame(
        {
            "site": ["a", "b", "c"],
            "bookings": [95, 7, 40],
            "person_years": [100, 100, 20],
        }
    ).with_columns(rate=pl.col("bookings") / pl.col("person_years"))
    result = protect_derived(
        frame,
        view="bookings",
        keys=["site"],
        numerator="bookings",
        denominator="person_years",
        estimates=["rate"],
        kind=DerivedKind.RATE,
    ).frame
    # a: 95 of 100 would fail a complement rule, but bookings are not a subset of people.
    assert result["rate"].to_list()[0] == pytest.approx(0.95)
    assert result["rate_flag"].to_list() == [
        "",
        "based on fewer than 11 people",
        "denominator under 30",
    ]


def test_a_per_person_cost_is_withheld_when_its_people_count_is_small_or_withheld():
    frame = pl.DataFrame(
        {
            "fiscal_year": ["2022", "2023", "2024", "2025"],
            "persons": [8, 120, 120, 25],
            "persons_flag": ["", "withheld to protect another cell", "", ""],
            "cost_per_person": [51000.0, 9000.0, 8700.0, 12000.0],
        }
    )
    result = protect_derived(
        frame,
        view="costs",
        keys=["fiscal_year"],
        denominator="persons",
        estimates=["cost_per_person"],
        kind=DerivedKind.PER_PERSON,
        withheld_flags=["persons_flag"],
    ).frame
    assert result["cost_per_person"].to_list() == [None, None, 8700.0, None]
    assert result["cost_per_person_flag"].to_list() == [
        "based on fewer than 11 people",
        "based on a withheld count",
        "",
        "denominator under 30",
    ]


def test_two_group_comparison_is_withheld_when_any_of_the_four_cells_is_small():
    frame = pl.DataFrame(
        {
            "cohort": ["2021", "2022", "2023", "2024"],
            # LEAD: re-arrested of cohort; comparison likewise
            "lead_events": [40, 5, 40, 40],
            "lead_n": [100, 100, 100, 100],
            "comp_events": [60, 60, 92, 60],
            "comp_n": [100, 100, 100, 28],
        }
    ).with_columns(
        rr=(pl.col("lead_events") / pl.col("lead_n")) / (pl.col("comp_events") / pl.col("comp_n"))
    )
    result = protect_comparison(
        frame,
        view="lead vs comparison",
        keys=["cohort"],
        groups=[("lead_events", "lead_n"), ("comp_events", "comp_n")],
        estimates=["rr"],
    )
    out = result.frame
    assert out["rr"].to_list()[0] == pytest.approx(0.4 / 0.6)
    assert out["rr"].to_list()[1:] == [None, None, None]
    assert out["rr_flag"].to_list() == [
        "",
        "based on fewer than 11 people",  # 5 LEAD participants re-arrested
        "fewer than 11 people in the group are outside it",  # 8 of 100 comparison not re-arrested
        "denominator under 30",
    ]
    assert [r.rule for r in result.audit_log] == ["derived", "derived", "reliability"]


def test_staff_see_derived_values_exactly():
    result = _proportions(_rates([("a", 4, 80)]), audience=Audience.STAFF)
    assert result.exact
    assert result.frame["pct"].to_list() == [pytest.approx(0.05)]
    assert result.frame["pct_flag"].to_list() == [""]


def test_missing_columns_are_named():
    with pytest.raises(PolicyError, match="no column 'cohort'"):
        _proportions(
            pl.DataFrame({"group": ["a"], "rearrested": [3], "pct": [0.1]}).with_columns(
                ci_low=0.0, ci_high=0.2
            )
        )
