"""Invented sites for scale tests: as many as asked, each plausible, none real.

A national-scale benchmark needs 50+ sites and a million referral rows; these
sites supply them. Their parameters are drawn at random around the Seattle
calibration, so their data look like LEAD data without claiming to be any
real place (site ids are `synthetic-01`, `synthetic-02`, ...).
"""

from __future__ import annotations

import numpy as np

from data_access.demo.calibration import (
    SEATTLE,
    SEATTLE_AGE,
    SEATTLE_FELONY,
    SEATTLE_GENDER,
    SEATTLE_REARREST,
    Costs,
    Period,
    Precinct,
    Site,
)

_STATES = ("AZ", "CA", "CO", "GA", "IL", "MD", "MI", "MN", "NC", "OR", "PA", "TX", "UT", "VA")
# A broad national mix used as the centre of each invented site's shares.
_REFERRAL_RACE_CENTRE = {
    "aian": 0.02,
    "asian": 0.03,
    "black": 0.38,
    "hispanic_latino": 0.17,
    "mena": 0.006,
    "nhpi": 0.004,
    "white": 0.35,
    "multiracial": 0.03,
    "unknown": 0.01,
}
_POPULATION_RACE_CENTRE = {
    "aian": 0.008,
    "asian": 0.07,
    "black": 0.14,
    "hispanic_latino": 0.18,
    "mena": 0.01,
    "nhpi": 0.003,
    "white": 0.55,
    "multiracial": 0.04,
}


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _dirichlet_around(rng: np.random.Generator, centre: dict[str, float], concentration: float):
    keys = list(centre)
    shares = rng.dirichlet([centre[k] * concentration for k in keys])
    return {k: float(s) for k, s in zip(keys, shares, strict=True)}


def extra_site_specs(count: int, rng: np.random.Generator) -> tuple[Site, ...]:
    """`count` invented sites, launched 2013-2022, each with 4-10 precincts."""
    sites = []
    for number in range(1, count + 1):
        launch = 2013 * 12 + int(rng.integers(0, 10 * 12))
        n_precincts = int(rng.integers(4, 11))
        precincts = []
        for p in range(1, n_precincts + 1):
            start = launch if p == 1 else launch + int(rng.integers(0, 48))
            start = min(start, 2025 * 12)
            precincts.append(
                Precinct(
                    precinct_id=f"p{p:02d}",
                    name=f"Precinct {p}",
                    start=_month(start),
                    referrals_per_year=float(rng.uniform(300, 1000)),
                    adult_population=int(rng.integers(20_000, 160_000)),
                    population_shares=_dirichlet_around(rng, _POPULATION_RACE_CENTRE, 60.0),
                )
            )
        scale = float(rng.uniform(0.7, 1.3))
        rri_black = float(rng.uniform(0.75, 1.25))
        sites.append(
            Site(
                site_id=f"synthetic-{number:02d}",
                name=f"Synthetic Site {number:02d}",
                state=str(rng.choice(_STATES)),
                launched=_month(launch),
                precincts=tuple(precincts),
                pathway_periods=(
                    Period(
                        _month(launch),
                        {
                            "arrest_diversion": 0.5,
                            "social_contact": 0.35,
                            "community_referral": 0.15,
                        },
                    ),
                ),
                # The widened post-2018 Seattle offense mix.
                offense_periods=(Period(_month(launch), SEATTLE.offense_periods[1].shares),),
                volume_periods=(Period(_month(launch), {"factor": 1.0}),),
                race_shares=_dirichlet_around(rng, _REFERRAL_RACE_CENTRE, 80.0),
                gender_shares=SEATTLE_GENDER,
                age_shares=SEATTLE_AGE,
                diversion_rate_white=float(rng.uniform(0.2, 0.4)),
                diversion_rri={"black": rri_black, "hispanic_latino": float(rng.uniform(0.8, 1.2))},
                rearrest=SEATTLE_REARREST,
                felony=SEATTLE_FELONY,
                costs=Costs(
                    program_per_participant_month={launch // 12: float(rng.uniform(550, 900))},
                    program_growth=0.02,
                    legal_baseline={"lead": 11_000.0 * scale, "comparison": 10_500.0 * scale},
                    legal_change={"lead": -2_000.0 * scale, "comparison": 5_000.0 * scale},
                    health_baseline={"lead": 3_400.0 * scale, "comparison": 3_300.0 * scale},
                    health_change={"lead": -600.0 * scale, "comparison": 300.0 * scale},
                ),
                population_growth=float(rng.uniform(-0.005, 0.02)),
            )
        )
    return tuple(sites)
