"""Every number the demonstration data are built from, with where it comes from.

Two kinds of number live here, and the difference matters:

* PUBLISHED targets, copied from ../shared/reference/lead-facts-and-methods.md
  (sections A.3, A.4, A.5, A.7 and E). The generator is tuned to reproduce
  them and tests/test_demo.py checks that it does.
* ASSUMPTIONS, needed to simulate a full monthly history but not published
  anywhere we could check (precinct volumes after 2016, length of stay,
  unit-cost baselines, service uptake, the size of racial disparities in
  diversion). They are plausible, not facts, and docs/demo-data.md lists them.

The data built from these numbers are synthetic and must never be read as
real LEAD results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

# --------------------------------------------------------------------------
# Published targets (PUBLISHED): the tests check the generated data against these.
# --------------------------------------------------------------------------

# Collins, Lonczak & Clifasefi (2017), Evaluation and Program Planning 64:49-56:
# odds of arrest 60% lower in the 6 months after entry, 58% lower long term;
# odds of a felony charge 39% lower long term.
PUBLISHED_ARREST_OR_6_MONTHS = 0.40
PUBLISHED_ARREST_OR_LONG_TERM = 0.42
PUBLISHED_FELONY_OR_LONG_TERM = 0.61
# CrimeSolutions rated-program page (Seattle LEAD evaluation sample).
PUBLISHED_SEATTLE_SHARE_BLACK = 0.55
PUBLISHED_SEATTLE_SHARE_WHITE = 0.27
PUBLISHED_SEATTLE_SHARE_FEMALE = 0.39
PUBLISHED_SEATTLE_MEAN_AGE = 41.0
# Seattle Times, July 2016: about 450 referrals since launch (Oct 2011).
PUBLISHED_SEATTLE_REFERRALS_TO_JUNE_2016 = 450
# Collins et al. (2019), J. Experimental Criminology: pre->post change in
# legal-system cost per person-year.
PUBLISHED_SEATTLE_LEGAL_COST_CHANGE = MappingProxyType({"lead": -2100.0, "comparison": 5961.0})
# Collins et al. (2015) cost report: program cost per person-month, $899 on
# average including start-up, $532 toward the end of the evaluation.
PUBLISHED_SEATTLE_PROGRAM_COST_AVERAGE = 899.0
PUBLISHED_SEATTLE_PROGRAM_COST_STEADY = 532.0
# NM Sentencing Commission (2018): 177 people diverted May 2014 - Oct 2018;
# $7,541 per client-year (program + criminal justice); $1,558 (17%) less than
# system-as-usual, so system-as-usual is about $9,099 [derived].
PUBLISHED_SANTA_FE_DIVERTED_MAY_2014_OCT_2018 = 177
PUBLISHED_SANTA_FE_COST_PER_CLIENT_YEAR = 7541.0
PUBLISHED_SANTA_FE_SAVINGS_PER_CLIENT_YEAR = 1558.0

# The evaluation's sample was 203 LEAD and 115 comparison people (A.3.1); the
# demo keeps that proportion between the two groups in every cohort.
COMPARISON_PER_LEAD_PARTICIPANT = 115 / 203

# --------------------------------------------------------------------------
# Recidivism: cumulative share with an event by months since entry.
# --------------------------------------------------------------------------

FOLLOWUP_KNOTS = (6, 12, 18, 24, 36)
MAX_FOLLOWUP_MONTHS = 36


def lead_share(comparison_share: float, odds_ratio: float) -> float:
    """The LEAD-group share implied by a comparison share and an odds ratio.

    p1 = OR * p0 / (1 - p0 + OR * p0), the conversion in reference A.7.
    """
    return odds_ratio * comparison_share / (1 - comparison_share + odds_ratio * comparison_share)


@dataclass(frozen=True)
class OutcomeCurve:
    """Cumulative share with at least one event at each follow-up knot.

    `comparison` is an ASSUMPTION (the reports give odds ratios, not group
    rates; BJS-style re-arrest rates for high-frequency misdemeanants support
    0.4-0.7 over 6-24 months). `odds_ratio` is the PUBLISHED effect at each
    knot; the LEAD curve follows from the two.
    """

    comparison: tuple[float, ...]
    odds_ratio: tuple[float, ...]

    @property
    def lead(self) -> tuple[float, ...]:
        return tuple(
            lead_share(p, o) for p, o in zip(self.comparison, self.odds_ratio, strict=True)
        )


SEATTLE_REARREST = OutcomeCurve(
    comparison=(0.30, 0.44, 0.52, 0.58, 0.66),
    odds_ratio=(0.40, 0.41, 0.415, 0.42, 0.43),
)
SEATTLE_FELONY = OutcomeCurve(
    comparison=(0.10, 0.17, 0.22, 0.26, 0.32),
    odds_ratio=(0.61, 0.61, 0.61, 0.61, 0.61),
)
# Santa Fe (NMSC 2018): a significant drop in arrests in the 6 months after
# referral that was not sustained beyond 6 months. The odds ratios after 6
# months are an ASSUMPTION expressing "not sustained".
SANTA_FE_REARREST = OutcomeCurve(
    comparison=(0.32, 0.46, 0.54, 0.60, 0.67),
    odds_ratio=(0.45, 0.75, 0.85, 0.90, 0.92),
)
SANTA_FE_FELONY = OutcomeCurve(
    comparison=(0.09, 0.15, 0.20, 0.24, 0.30),
    odds_ratio=(0.80, 0.85, 0.90, 0.90, 0.90),
)

# --------------------------------------------------------------------------
# Screening, services, length of stay (ASSUMPTIONS unless noted).
# --------------------------------------------------------------------------

# Final screening outcome by offense, in the order of FINAL_OUTCOMES. The
# exclusion reasons follow the Seattle and Santa Fe protocols (reference A.2):
# dealing above subsistence mostly among sales referrals, exploitation of
# minors mostly among sex-work referrals. The shares are ASSUMPTIONS.
FINAL_OUTCOMES = (
    "enrolled",
    "excluded_violent_history",
    "excluded_exploitation_of_minors",
    "excluded_dealing_above_subsistence",
    "declined",
)
OUTCOME_SHARES_BY_OFFENSE = MappingProxyType(
    {
        "drug_possession": (0.800, 0.070, 0.003, 0.012, 0.115),
        "drug_sales_subsistence": (0.700, 0.070, 0.003, 0.120, 0.107),
        "sex_work": (0.760, 0.050, 0.040, 0.010, 0.140),
        "theft_property": (0.780, 0.100, 0.002, 0.003, 0.115),
        "other_low_level": (0.780, 0.090, 0.002, 0.003, 0.125),
    }
)
# Days from referral to a screening decision: intake is due within 7-30 days
# (reference A.1). Exponential with this mean, capped at the longest window.
SCREENING_MEAN_DAYS = 10.0
SCREENING_MAX_DAYS = 45.0

# Months a participant stays active: LEAD has no fixed completion (A.6), so
# stays are long and varied. Gamma(shape, scale): mean 1.3 * 16 = 20.8 months.
STAY_SHAPE = 1.3
STAY_SCALE_MONTHS = 16.0

# Monthly probability that an active participant receives each service.
SERVICE_UPTAKE = MappingProxyType(
    {
        "housing": 0.34,
        "counseling": 0.45,
        "mental_health": 0.30,
        "drug_treatment": 0.27,
        "health_care": 0.38,
        "groceries": 0.50,
        "clothing": 0.24,
        "job_training": 0.08,
    }
)

# Age bands and the age used for each when computing a mean age (the midpoint;
# 60 for 55+, as participants are rarely far older).
AGE_BAND_MIDPOINTS = MappingProxyType(
    {"18-24": 21.0, "25-34": 29.5, "35-44": 39.5, "45-54": 49.5, "55+": 60.0}
)

# Legal-system cost categories (Seattle costed jail, prosecution and defense;
# Santa Fe added police time, reference E.1) and how a person-year's legal
# cost splits among them; health categories likewise (Santa Fe tracked EMS
# and emergency department use). The splits are ASSUMPTIONS.
LEGAL_COST_SPLIT = MappingProxyType(
    {"jail": 0.45, "prosecution": 0.15, "defense": 0.12, "court": 0.13, "police": 0.15}
)
HEALTH_COST_SPLIT = MappingProxyType({"ems": 0.18, "hospital": 0.82})
COST_NOISE_SD = 0.015  # multiplicative noise on every cost cell


# --------------------------------------------------------------------------
# Sites.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Precinct:
    precinct_id: str
    name: str
    start: str  # YYYY-MM: first month LEAD took referrals here
    referrals_per_year: float  # at full operation (ASSUMPTION except as noted)
    adult_population: int  # about 2020 (ASSUMPTION: plausible, not census figures)
    population_shares: dict[str, float]  # by race; normalised when used


@dataclass(frozen=True)
class Period:
    """A distribution in force from `start` (YYYY-MM) until the next period."""

    start: str
    shares: dict[str, float]


@dataclass(frozen=True)
class Costs:
    """Per-site cost model; see docs/demo-data.md for how it reaches its targets."""

    # Program cost per participant-month by fiscal year; after the last year
    # listed it grows by `program_growth` a year.
    program_per_participant_month: dict[int, float]
    program_growth: float
    # Legal-system cost per person-year in the launch fiscal year (before most
    # people entered) and its change, reached `ramp_years` fiscal years later.
    legal_baseline: dict[str, float]
    legal_change: dict[str, float]
    health_baseline: dict[str, float]
    health_change: dict[str, float]
    ramp_years: int = 3


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    state: str
    launched: str  # YYYY-MM
    precincts: tuple[Precinct, ...]
    pathway_periods: tuple[Period, ...]
    offense_periods: tuple[Period, ...]
    volume_periods: tuple[Period, ...]  # shares = {"factor": x}: dips and step changes
    race_shares: dict[str, float]  # of referrals
    gender_shares: dict[str, float]
    age_shares: dict[str, float]
    # Diversion: share of eligible police contacts of white people that become
    # referrals, and each group's rate relative to white (the true RRI).
    diversion_rate_white: float
    diversion_rri: dict[str, float]
    rearrest: OutcomeCurve
    felony: OutcomeCurve
    costs: Costs
    population_growth: float  # per year, relative to 2020
    notes: tuple[str, ...] = field(default=())


# PUBLISHED (CrimeSolutions, Seattle evaluation sample): 39% female, mean age
# 41, 55% Black, 27% white; the split of the remaining 18% is an ASSUMPTION
# ("American Indian/Alaska Native and other groups").
SEATTLE_RACE = {
    "aian": 0.040,
    "asian": 0.020,
    "black": 0.550,
    "hispanic_latino": 0.050,
    "mena": 0.005,
    "nhpi": 0.010,
    "white": 0.270,
    "multiracial": 0.040,
    "unknown": 0.015,
}
SEATTLE_GENDER = {"female": 0.39, "male": 0.595, "nonbinary": 0.01, "unknown": 0.005}
# Skewed around 41: band midpoints give a mean of about 41.4 (see AGE_BAND_MIDPOINTS).
SEATTLE_AGE = {
    "18-24": 0.07,
    "25-34": 0.23,
    "35-44": 0.28,
    "45-54": 0.26,
    "55+": 0.14,
    "unknown": 0.02,
}

_SEATTLE_POPULATION = {
    "north": {
        "white": 0.66,
        "asian": 0.15,
        "black": 0.04,
        "hispanic_latino": 0.07,
        "multiracial": 0.065,
        "aian": 0.005,
        "nhpi": 0.002,
        "mena": 0.008,
    },
    "east": {
        "white": 0.62,
        "asian": 0.13,
        "black": 0.10,
        "hispanic_latino": 0.07,
        "multiracial": 0.065,
        "aian": 0.006,
        "nhpi": 0.002,
        "mena": 0.007,
    },
    "south": {
        "white": 0.30,
        "asian": 0.30,
        "black": 0.22,
        "hispanic_latino": 0.09,
        "multiracial": 0.06,
        "aian": 0.008,
        "nhpi": 0.008,
        "mena": 0.006,
    },
    "west": {
        "white": 0.60,
        "asian": 0.20,
        "black": 0.07,
        "hispanic_latino": 0.06,
        "multiracial": 0.05,
        "aian": 0.008,
        "nhpi": 0.003,
        "mena": 0.009,
    },
    "southwest": {
        "white": 0.62,
        "asian": 0.12,
        "black": 0.08,
        "hispanic_latino": 0.10,
        "multiracial": 0.06,
        "aian": 0.008,
        "nhpi": 0.006,
        "mena": 0.006,
    },
}

SEATTLE = Site(
    site_id="seattle",
    name="Seattle",
    state="WA",
    launched="2011-10",
    # PUBLISHED rollout (reference A.4): West Precinct (Belltown) at launch,
    # the whole East Precinct from July 2016, North Seattle 2018-19, later
    # Rainier Valley/SODO (South) and Southwest/Delridge. Volumes: about 90
    # referrals a year before the East expansion (PUBLISHED, derived); later
    # volumes are ASSUMPTIONS.
    precincts=(
        Precinct("north", "North Precinct", "2018-10", 100, 255_000, _SEATTLE_POPULATION["north"]),
        Precinct("east", "East Precinct", "2016-07", 120, 110_000, _SEATTLE_POPULATION["east"]),
        Precinct("south", "South Precinct", "2019-07", 80, 95_000, _SEATTLE_POPULATION["south"]),
        Precinct("west", "West Precinct", "2011-10", 115, 115_000, _SEATTLE_POPULATION["west"]),
        Precinct(
            "southwest",
            "Southwest Precinct",
            "2019-07",
            45,
            65_000,
            _SEATTLE_POPULATION["southwest"],
        ),
    ),
    # Arrest diversion and social contact from the start; community referrals
    # are the third door listed by 2025 (reference A.1, A.4). Shares ASSUMED.
    pathway_periods=(
        Period("2011-10", {"arrest_diversion": 0.62, "social_contact": 0.38}),
        Period(
            "2020-01",
            {"arrest_diversion": 0.45, "social_contact": 0.35, "community_referral": 0.20},
        ),
    ),
    # Drug and prostitution offenses at first; widened in 2018 to other
    # low-level offenses such as trespass, theft and property destruction (A.2).
    offense_periods=(
        Period(
            "2011-10",
            {"drug_possession": 0.55, "drug_sales_subsistence": 0.27, "sex_work": 0.18},
        ),
        Period(
            "2018-07",
            {
                "drug_possession": 0.42,
                "drug_sales_subsistence": 0.15,
                "sex_work": 0.10,
                "theft_property": 0.20,
                "other_low_level": 0.13,
            },
        ),
    ),
    # SPD referrals slowed "to a trickle" in 2014 (Seattle Weekly, A.4); the
    # spring-2020 dip is an ASSUMPTION.
    volume_periods=(
        Period("2011-10", {"factor": 1.0}),
        Period("2014-01", {"factor": 0.45}),
        Period("2015-01", {"factor": 1.0}),
        Period("2020-04", {"factor": 0.6}),
        Period("2020-07", {"factor": 1.0}),
    ),
    race_shares=SEATTLE_RACE,
    gender_shares=SEATTLE_GENDER,
    age_shares=SEATTLE_AGE,
    # ASSUMPTION, invented so the disparity pages have something to find:
    # Black people are referred at 0.83 times the white rate per eligible contact.
    diversion_rate_white=0.30,
    diversion_rri={"black": 0.83, "hispanic_latino": 0.90, "aian": 1.05},
    rearrest=SEATTLE_REARREST,
    felony=SEATTLE_FELONY,
    costs=Costs(
        # Start-up years are expensive per participant-month because the
        # pilot budget (about $950,000 a year, A.1) was spread over a small
        # caseload; by 2014 it reaches the published steady state of $532.
        program_per_participant_month={2011: 3000.0, 2012: 1600.0, 2013: 1000.0, 2014: 532.0},
        program_growth=0.02,
        # Baselines ASSUMED; the changes are the PUBLISHED pre->post deltas.
        legal_baseline={"lead": 11_400.0, "comparison": 10_900.0},
        legal_change=dict(PUBLISHED_SEATTLE_LEGAL_COST_CHANGE),
        health_baseline={"lead": 3_600.0, "comparison": 3_500.0},
        health_change={"lead": -700.0, "comparison": 300.0},
    ),
    population_growth=0.015,
)

SANTA_FE = Site(
    site_id="santa-fe",
    name="Santa Fe",
    state="NM",
    launched="2014-05",
    # About 40 referrals a year (PUBLISHED: 177 May 2014 - Oct 2018). The
    # split into three areas and the area names are illustrative ASSUMPTIONS.
    precincts=(
        Precinct(
            "central",
            "Central",
            "2014-05",
            20,
            22_000,
            {
                "hispanic_latino": 0.47,
                "white": 0.46,
                "aian": 0.025,
                "black": 0.01,
                "asian": 0.015,
                "multiracial": 0.015,
                "nhpi": 0.001,
                "mena": 0.004,
            },
        ),
        Precinct(
            "southside",
            "Southside",
            "2014-05",
            14,
            33_000,
            {
                "hispanic_latino": 0.65,
                "white": 0.28,
                "aian": 0.03,
                "black": 0.01,
                "asian": 0.012,
                "multiracial": 0.014,
                "nhpi": 0.001,
                "mena": 0.003,
            },
        ),
        Precinct(
            "northwest",
            "Northwest",
            "2014-05",
            7,
            18_000,
            {
                "hispanic_latino": 0.38,
                "white": 0.56,
                "aian": 0.02,
                "black": 0.008,
                "asian": 0.015,
                "multiracial": 0.014,
                "nhpi": 0.001,
                "mena": 0.002,
            },
        ),
    ),
    # Officer arrest diversion and social contact; no self-referral (A.1).
    pathway_periods=(Period("2014-05", {"arrest_diversion": 0.60, "social_contact": 0.40}),),
    # Opiate-related low-level drug offenses dominate (A.5). Shares ASSUMED.
    offense_periods=(
        Period(
            "2014-05",
            {
                "drug_possession": 0.70,
                "drug_sales_subsistence": 0.20,
                "sex_work": 0.03,
                "theft_property": 0.05,
                "other_low_level": 0.02,
            },
        ),
    ),
    volume_periods=(
        Period("2014-05", {"factor": 1.0}),
        Period("2020-04", {"factor": 0.6}),
        Period("2020-07", {"factor": 1.0}),
    ),
    race_shares={
        "aian": 0.060,
        "asian": 0.005,
        "black": 0.020,
        "hispanic_latino": 0.580,
        "mena": 0.0025,
        "nhpi": 0.0025,
        "white": 0.295,
        "multiracial": 0.020,
        "unknown": 0.015,
    },
    gender_shares={"female": 0.35, "male": 0.64, "nonbinary": 0.005, "unknown": 0.005},
    age_shares=SEATTLE_AGE,
    # ASSUMPTION: Hispanic people diverted somewhat less often than white people.
    diversion_rate_white=0.28,
    diversion_rri={"hispanic_latino": 0.88, "aian": 0.95},
    rearrest=SANTA_FE_REARREST,
    felony=SANTA_FE_FELONY,
    costs=Costs(
        # 2015 service-cost analysis: about $500 per client-month (A.5).
        program_per_participant_month={2014: 500.0},
        program_growth=0.02,
        # Tuned so program + legal + health is about $7,541 per client-year for
        # LEAD and about $9,099 (= 7,541 + 1,558) for system-as-usual (A.5).
        legal_baseline={"lead": 3_000.0, "comparison": 6_600.0},
        legal_change={"lead": -700.0, "comparison": 900.0},
        health_baseline={"lead": 1_100.0, "comparison": 1_500.0},
        health_change={"lead": -200.0, "comparison": 100.0},
    ),
    population_growth=0.005,
)

ALBANY = Site(
    site_id="albany",
    name="Albany",
    state="NY",
    launched="2016-04",
    # Volumes ASSUMED ("modest"); area names illustrative.
    precincts=(
        Precinct(
            "center",
            "Center",
            "2016-04",
            14,
            30_000,
            {
                "white": 0.50,
                "black": 0.30,
                "hispanic_latino": 0.09,
                "asian": 0.07,
                "multiracial": 0.03,
                "aian": 0.003,
                "nhpi": 0.001,
                "mena": 0.006,
            },
        ),
        Precinct(
            "south",
            "South",
            "2016-04",
            12,
            26_000,
            {
                "white": 0.33,
                "black": 0.44,
                "hispanic_latino": 0.12,
                "asian": 0.06,
                "multiracial": 0.04,
                "aian": 0.004,
                "nhpi": 0.001,
                "mena": 0.005,
            },
        ),
        Precinct(
            "north",
            "North",
            "2016-04",
            8,
            26_000,
            {
                "white": 0.65,
                "black": 0.17,
                "hispanic_latino": 0.07,
                "asian": 0.07,
                "multiracial": 0.03,
                "aian": 0.003,
                "nhpi": 0.001,
                "mena": 0.006,
            },
        ),
    ),
    # PUBLISHED (A.5): pre-arrest diversion only until a 2022 BJA award added
    # social contact referrals. Shares and the volume step are ASSUMPTIONS.
    pathway_periods=(
        Period("2016-04", {"arrest_diversion": 1.0}),
        Period("2022-01", {"arrest_diversion": 0.58, "social_contact": 0.42}),
    ),
    offense_periods=(
        Period(
            "2016-04",
            {
                "drug_possession": 0.50,
                "drug_sales_subsistence": 0.20,
                "sex_work": 0.10,
                "theft_property": 0.12,
                "other_low_level": 0.08,
            },
        ),
    ),
    volume_periods=(
        Period("2016-04", {"factor": 1.0}),
        Period("2020-04", {"factor": 0.6}),
        Period("2020-07", {"factor": 1.0}),
        Period("2022-01", {"factor": 1.8}),
    ),
    race_shares={
        "aian": 0.005,
        "asian": 0.015,
        "black": 0.550,
        "hispanic_latino": 0.090,
        "mena": 0.003,
        "nhpi": 0.002,
        "white": 0.300,
        "multiracial": 0.030,
        "unknown": 0.005,
    },
    gender_shares={"female": 0.30, "male": 0.69, "nonbinary": 0.005, "unknown": 0.005},
    age_shares=SEATTLE_AGE,
    # ASSUMPTION: Albany's goals include reducing racial disparities (A.5); the
    # demo gives it a Black referral rate slightly above the white rate.
    diversion_rate_white=0.25,
    diversion_rri={"black": 1.12, "hispanic_latino": 1.0},
    # No Albany outcome evaluation was retrieved: Seattle's curves are reused.
    rearrest=SEATTLE_REARREST,
    felony=SEATTLE_FELONY,
    costs=Costs(
        program_per_participant_month={2016: 900.0, 2017: 700.0, 2018: 620.0},
        program_growth=0.02,
        legal_baseline={"lead": 9_500.0, "comparison": 9_200.0},
        legal_change={"lead": -1_700.0, "comparison": 4_500.0},
        health_baseline={"lead": 3_000.0, "comparison": 3_000.0},
        health_change={"lead": -500.0, "comparison": 250.0},
    ),
    population_growth=0.0,
)

HISTORICAL_SITES: tuple[Site, ...] = (SEATTLE, SANTA_FE, ALBANY)

# Months over which a newly opened precinct ramps up to full volume.
RAMP_UP_MONTHS = 4
# The simulation always runs to this month, whatever the release's as_of, so
# that an earlier release is exactly a cut of a later one.
SIMULATION_END = "2025-12"
