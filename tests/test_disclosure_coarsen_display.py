"""Coarsening (time floor, folding small race groups) and how withheld values are shown."""

from __future__ import annotations

import polars as pl
import pytest

from data_access.audience import Audience
from data_access.disclosure import (
    COMBINED_RACE_CODE,
    PolicyError,
    display_value,
    enforce_time_floor,
    fold_small_groups,
    for_display,
    protect_counts,
    publish_reference,
    with_time_levels,
)


def test_precinct_by_race_by_month_is_coarsened_to_quarters():
    frame = pl.DataFrame(
        {
            "precinct_id": ["p1"] * 4,
            "race_ethnicity": ["black"] * 4,
            "month": ["2024-01", "2024-02", "2024-03", "2024-04"],
            "referrals": [3, 4, 5, 12],
        }
    )
    keys = ["precinct_id", "race_ethnicity", "month"]
    result = enforce_time_floor(frame, keys=keys, counts=["referrals"])
    assert result.keys == ("precinct_id", "race_ethnicity", "quarter")
    # Q1 = 3 + 4 + 5 = 12, Q2 = 12
    assert result.frame.sort("quarter")["referrals"].to_list() == [12, 12]
    assert result.frame.sort("quarter")["quarter"].to_list() == ["2024-Q1", "2024-Q2"]
    assert "not month" in result.notes[0]
    with pytest.raises(PolicyError, match="not by month"):
        enforce_time_floor(frame, keys=keys, counts=["referrals"], refuse=True)
    # Without race, months are allowed.
    by_precinct = enforce_time_floor(frame, keys=["precinct_id", "month"], counts=["referrals"])
    assert by_precinct.frame.equals(frame)


def test_time_levels_for_declaring_month_quarter_year_margins():
    frame = with_time_levels(pl.DataFrame({"month": ["2023-12", "2024-01", "2024-04"]}))
    assert frame["quarter"].to_list() == ["2023-Q4", "2024-Q1", "2024-Q2"]
    assert frame["year"].to_list() == ["2023", "2024", "2024"]


def _by_precinct_and_race(values: dict[str, list[int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (p, race, n)
            for race, ns in values.items()
            for p, n in zip(["p1", "p2", "p3"], ns, strict=True)
        ],
        schema=["precinct_id", "race_ethnicity", "referrals"],
        orient="row",
    )


def test_small_race_groups_fold_into_a_stated_combined_group():
    frame = _by_precinct_and_race(
        {
            "black": [40, 35, 50],
            "white": [45, 30, 38],
            "aian": [2, 0, 3],  # total 5: under 11
            "nhpi": [4, 5, 3],  # total 12, but every non-zero cell is small
            "unknown": [1, 0, 2],  # never folded: a data-quality figure
        }
    )
    result = fold_small_groups(frame, keys=["precinct_id", "race_ethnicity"], counts=["referrals"])
    assert result.folded == ("aian", "nhpi")
    combined = result.frame.filter(pl.col("race_ethnicity") == COMBINED_RACE_CODE)
    # p1: 2 + 4 = 6, p2: 0 + 5 = 5, p3: 3 + 3 = 6
    assert combined["referrals"].to_list() == [6, 5, 6]
    assert "American Indian or Alaska Native, Native Hawaiian or Pacific Islander" in result.note
    assert set(result.frame["race_ethnicity"]) == {"black", "white", COMBINED_RACE_CODE, "unknown"}
    # Still small per precinct, so protection withholds those cells (not a wall of 2 x 3).
    protected = protect_counts(
        result.frame, view="folded", dimensions=["precinct_id", "race_ethnicity"], count="referrals"
    )
    flags = protected.finest.frame.filter(pl.col("race_ethnicity") == COMBINED_RACE_CODE)
    assert flags["referrals_flag"].to_list() == ["fewer than 11"] * 3


def test_a_single_small_group_folds_with_the_next_smallest_so_it_is_not_just_renamed():
    frame = _by_precinct_and_race(
        {"black": [40, 35, 50], "white": [45, 30, 38], "asian": [14, 12, 11], "aian": [2, 0, 3]}
    )
    result = fold_small_groups(frame, keys=["precinct_id", "race_ethnicity"], counts=["referrals"])
    # aian (5) is small; asian (37) is the smallest of the rest. p1: 2 + 14 = 16
    assert result.folded == ("aian", "asian")
    combined = result.frame.filter(pl.col("race_ethnicity") == COMBINED_RACE_CODE)
    assert combined["referrals"].to_list() == [16, 12, 14]


def test_nothing_folds_when_every_group_is_large_enough():
    frame = _by_precinct_and_race({"black": [40, 35, 50], "white": [45, 30, 38]})
    result = fold_small_groups(frame, keys=["precinct_id", "race_ethnicity"], counts=["referrals"])
    assert result.folded == () and result.note == "" and result.frame.equals(frame)


def test_withheld_values_display_as_their_reason_never_as_a_number():
    assert display_value(None, "fewer than 11") == "fewer than 11"
    assert display_value(None, "withheld to protect another cell") == "withheld"
    # Even if a number reached the helper with a reason beside it, the number is not shown.
    assert display_value(7, "fewer than 11") == "fewer than 11"
    assert display_value(1234, "") == "1,234"
    assert display_value(0, "") == "0"
    table = pl.DataFrame(
        {"row": ["A", "A", "B", "B"], "col": ["x", "y", "x", "y"], "n": [3, 20, 15, 30]}
    )
    protected = protect_counts(
        table, view="v", dimensions=["row", "col"], count="n", margins=[["row"]]
    )
    # Row A: 3 is small and the row total (23) is published, so 20 goes too.
    shown = for_display(protected.finest, ["n"])
    assert shown["n"].to_list() == ["fewer than 11", "withheld", "15", "30"]
    assert shown["n_flag"].to_list() == [
        "fewer than 11",
        "withheld to protect another cell",
        "",
        "",
    ]


def test_reference_frames_may_not_carry_numbers():
    sites = pl.DataFrame({"site_id": ["sea"], "site_name": ["Seattle"]})
    assert publish_reference(sites, view="sites", audience=Audience.PUBLIC).frame.equals(sites)
    with pytest.raises(TypeError, match="may not hold numbers"):
        publish_reference(sites.with_columns(n=3), view="sites", audience=Audience.PUBLIC)
