"""Disparities: RRI at each decision point, OJJDP minimums, representation, unknown race."""

from __future__ import annotations

import polars as pl
import pytest

from data_access.metrics.disparities import (
    disparity_by_decision_point,
    enrollment_rri,
    population_rate,
    referral_rri,
    relative_rate_index,
    representation_ratio,
    service_rri,
    unknown_race_share,
)


def _race_frame(
    rows: dict[str, tuple[int | None, int | None]], events="enrolled", base="referrals"
):
    return pl.DataFrame(
        {
            "race_ethnicity": list(rows),
            events: [v[0] for v in rows.values()],
            base: [v[1] for v in rows.values()],
        },
        schema={"race_ethnicity": pl.String, events: pl.Int64, base: pl.Int64},
    )


def _row(frame: pl.DataFrame, race: str, **more) -> dict:
    frame = frame.filter(pl.col("race_ethnicity") == race)
    for k, v in more.items():
        frame = frame.filter(pl.col(k) == v)
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def test_rri_reference_example_with_interval_and_flag():
    """Reference B.1: Black 60 of 200 enrolled, white 30 of 200 -> RRI = 0.30/0.15 = 2.00,
    SE = sqrt(1/60 − 1/200 + 1/30 − 1/200) = 0.2, CI = 2·exp(∓0.392) = 1.35 to 2.96: excludes 1."""
    out = enrollment_rri(_race_frame({"white": (30, 200), "black": (60, 200)}))
    black = _row(out, "black")
    assert (round(black["estimate"], 2), round(black["ci_low"], 2), round(black["ci_high"], 2)) == (
        2.00,
        1.35,
        2.96,
    )
    assert black["excludes_one"] is True and black["reliability"] == "ok"
    assert (black["numerator"], black["denominator"]) == (60, 200)
    assert (black["reference_numerator"], black["reference_denominator"]) == (30, 200)
    assert (black["rate"], black["reference_rate"]) == (0.30, 0.15)
    assert black["decision_point"] == "referral_to_enrollment"
    white = _row(out, "white")
    assert (white["estimate"], white["reliability"], white["ci_low"]) == (1.0, "reference", None)


def test_a_chosen_reference_group_is_used():
    out = enrollment_rri(_race_frame({"white": (30, 200), "black": (60, 200)}), reference="black")
    assert _row(out, "white")["estimate"] == pytest.approx(0.5)
    assert _row(out, "black")["reliability"] == "reference"
    with pytest.raises(ValueError, match="reference group must be one of"):
        enrollment_rri(_race_frame({"white": (30, 200)}), reference="unknown")


def test_absent_reference_group_gives_not_computable_rows_not_an_exception():
    out = enrollment_rri(_race_frame({"black": (60, 200), "asian": (20, 100)}))
    assert out.height == 2
    assert set(out["reliability"]) == {"not_computable"}
    assert out["note"].str.contains("reference group 'white' is absent").all()
    assert out["estimate"].null_count() == 2


def test_ojjdp_minimums_decide_insufficient():
    """Base 200 + 200 + 40 + 2000 (unknown) + 10 = 2450. Asian: base 40 < 50 -> insufficient.
    AIAN: 10 of 2450 = 0.4% of the base < 1% -> insufficient. NHPI: 8 events < 11 -> insufficient.
    Hispanic: 15 events (11..19) -> unstable."""
    frame = _race_frame(
        {
            "white": (30, 200),
            "black": (60, 200),
            "asian": (20, 40),
            "aian": (5, 10),
            "nhpi": (8, 200),
            "hispanic_latino": (15, 200),
            "unknown": (100, 1600),
        }
    )
    out = enrollment_rri(frame)
    assert _row(out, "asian")["reliability"] == "insufficient"
    assert "base under 50" in _row(out, "asian")["note"]
    assert _row(out, "aian")["reliability"] == "insufficient"
    assert _row(out, "nhpi")["reliability"] == "insufficient"
    assert "fewer than 11 events" in _row(out, "nhpi")["note"]
    assert _row(out, "hispanic_latino")["reliability"] == "unstable"
    assert "unknown" not in out["race_ethnicity"].to_list()
    # Unknown race: 1600 of 200+200+40+10+200+200+1600 = 2450 -> 0.653, beside every row.
    assert out["unknown_race_share"].to_list() == pytest.approx([1600 / 2450] * out.height)


def test_group_share_of_base_below_one_percent_is_insufficient():
    frame = _race_frame({"white": (300, 3000), "black": (300, 3000), "aian": (20, 50)})
    # AIAN base 50 of 6050 = 0.83% < 1%.
    row = _row(enrollment_rri(frame), "aian")
    assert row["reliability"] == "insufficient" and "under 1% of the base" in row["note"]


def test_zero_events_in_the_reference_group_or_withheld_counts():
    out = enrollment_rri(_race_frame({"white": (0, 200), "black": (60, 200)}))
    assert _row(out, "black")["reliability"] == "not_computable"
    assert "reference group had no events" in _row(out, "black")["note"]
    withheld = enrollment_rri(_race_frame({"white": (None, None), "black": (None, None)}))
    black = _row(withheld, "black")
    assert (black["reliability"], black["estimate"]) == ("not_computable", None)


def test_rri_within_groups_of_another_column():
    frame = pl.DataFrame(
        {
            "precinct_id": ["west", "west", "east", "east"],
            "race_ethnicity": ["white", "black", "white", "black"],
            "enrolled": [30, 60, 50, 50],
            "referrals": [200, 200, 100, 100],
        }
    )
    out = enrollment_rri(frame, by="precinct_id")
    assert _row(out, "black", precinct_id="west")["estimate"] == pytest.approx(2.0)
    assert _row(out, "black", precinct_id="east")["estimate"] == pytest.approx(1.0)


def test_referral_rri_uses_police_pathways_only():
    """White 100 police referrals of 1000 contacts (0.10), Black 90 of 300 (0.30) -> RRI 3.0.
    The 500 community referrals of Black people are not diversions of a police contact."""
    contacts = pl.DataFrame(
        {"race_ethnicity": ["white", "black"], "eligible_contacts": [1000, 300]}
    )
    referrals = pl.DataFrame(
        {
            "race_ethnicity": ["white", "black", "black", "black"],
            "pathway": [
                "arrest_diversion",
                "arrest_diversion",
                "social_contact",
                "community_referral",
            ],
            "referrals": [100, 60, 30, 500],
        }
    )
    row = _row(referral_rri(contacts, referrals), "black")
    assert (row["numerator"], row["denominator"], row["estimate"]) == (90, 300, pytest.approx(3.0))


def test_service_rri_gives_every_service_and_decision_points_combine():
    caseload = pl.DataFrame(
        {"race_ethnicity": ["white", "black"], "active_participants": [200, 400]}
    )
    services = pl.DataFrame(
        {
            "race_ethnicity": ["white", "black"],
            "service": ["housing", "housing"],
            "participants_served": [50, 200],
        }
    )
    out = service_rri(services, caseload)
    assert out.filter(pl.col("race_ethnicity") == "black").height == 8
    housing = _row(out, "black", service="housing")
    assert housing["estimate"] == pytest.approx((200 / 400) / (50 / 200))  # 0.5/0.25 = 2
    clothing = _row(out, "black", service="clothing")
    assert clothing["reliability"] == "not_computable"  # no one served: no reference events
    recid = pl.DataFrame(
        {
            "cohort": ["2021-Q1"] * 2,
            "group": ["lead"] * 2,
            "race_ethnicity": ["white", "black"],
            "followup_months": [12, 12],
            "cohort_size": [100, 100],
            "rearrested": [40, 40],
            "new_felony_charge": [0, 0],
        }
    )
    referrals = pl.DataFrame(
        {"race_ethnicity": ["white", "black"], "referrals": [200, 200], "enrolled": [30, 60]}
    )
    combined = disparity_by_decision_point(
        referrals=referrals,
        services=services,
        caseload=caseload,
        recidivism=recid,
        as_of="2023-01-01",
    )
    assert set(combined["decision_point"]) == {
        "referral_to_enrollment",
        "active_to_service",
        "participant_to_rearrest",
    }
    rearrest = _row(combined, "black", decision_point="participant_to_rearrest")
    assert rearrest["estimate"] == pytest.approx(1.0) and rearrest["window_months"] == 12


def test_unknown_race_share():
    frame = _race_frame({"white": (30, 150), "black": (60, 230), "unknown": (5, 20)})
    row = unknown_race_share(frame, "referrals").row(0, named=True)
    assert (row["numerator"], row["denominator"]) == (20, 400)
    assert row["estimate"] == pytest.approx(0.05)
    assert row["ci_low"] < 0.05 < row["ci_high"]
    empty = unknown_race_share(frame.clear(), "referrals").row(0, named=True)
    assert empty["reliability"] == "not_computable"


def test_representation_ratio_by_hand():
    """Referrals of known race: white 200, black 200, asian 40 -> X = 440 (20 unknown left out).
    Population 60,000 / 20,000 / 15,000 of 95,000.
    Black: (200/440)/(20000/95000) = 0.454545/0.210526 = 2.1591; ceiling 95000/20000 = 4.75.
    Interval: Byar on 200 -> (173.26, 229.62), each / (440·0.210526) = 92.63 -> 1.870 to 2.480."""
    counts = _race_frame(
        {"white": (0, 200), "black": (0, 200), "asian": (0, 40), "unknown": (0, 20)}
    )
    population = pl.DataFrame(
        {"race_ethnicity": ["white", "black", "asian"], "population": [60000, 20000, 15000]}
    )
    black = _row(representation_ratio(counts, population), "black")
    assert black["estimate"] == pytest.approx((200 / 440) / (20000 / 95000))
    assert black["ceiling"] == pytest.approx(4.75)
    assert (round(black["ci_low"], 3), round(black["ci_high"], 3)) == (1.870, 2.480)
    assert black["unknown_race_share"] == pytest.approx(20 / 460)
    rate = _row(population_rate(counts, population), "black")
    assert rate["estimate"] == pytest.approx(200 / 20000 * 10_000)  # 100 per 10,000


def test_representation_of_a_group_with_no_population_is_not_computable():
    counts = _race_frame({"white": (0, 200), "mena": (0, 30)})
    population = pl.DataFrame({"race_ethnicity": ["white"], "population": [60000]})
    mena = _row(representation_ratio(counts, population), "mena")
    assert mena["reliability"] == "not_computable" and mena["estimate"] is None


def test_empty_frames_do_not_raise():
    empty = _race_frame({})
    assert relative_rate_index(empty, "enrolled", "referrals").height == 0
    contacts = pl.DataFrame(schema={"race_ethnicity": pl.String, "eligible_contacts": pl.Int64})
    referrals = pl.DataFrame(schema={"race_ethnicity": pl.String, "referrals": pl.Int64})
    assert referral_rri(contacts, referrals).height == 0
