"""Simulate people, not tables: one record per referred or comparison person.

Every contract table is then a count over these records (data_access.demo.
tabulate), which is what keeps the tables consistent with one another:
enrollments cannot exceed referrals, screening outcomes add up to referrals,
caseload follows from enrollment dates and lengths of stay, and recidivism
counts are cumulative by construction.

Time is measured in months on one axis: month index = year * 12 + (month - 1),
and a moment inside a month is the index plus the fraction of the month gone.
The simulation always runs to SIMULATION_END; a release with an earlier as_of
is a cut of the same simulation, so an earlier and a later release agree on
everything the earlier one could already know.

Each site draws from its own random stream (spawned from the seed), so adding
invented sites for a benchmark leaves the three historical sites unchanged.
All draws are vectorised over people, so a million referrals take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_access.demo import calibration as cal
from data_access.demo.calibration import OutcomeCurve, Period, Site
from data_access.demo.extra_sites import extra_site_specs
from data_access.vocabulary import (
    AGE_BANDS,
    COST_CATEGORIES,
    GENDERS,
    GROUPS,
    OFFENSES,
    PATHWAYS,
    RACES,
    SERVICES,
)

PATHWAY_CODES = tuple(PATHWAYS)
OFFENSE_CODES = tuple(OFFENSES)
RACE_CODES = tuple(RACES)
GENDER_CODES = tuple(GENDERS)
AGE_CODES = tuple(AGE_BANDS)
SERVICE_CODES = tuple(SERVICES)
POLICE_PATHWAYS = (PATHWAY_CODES.index("arrest_diversion"), PATHWAY_CODES.index("social_contact"))
ENROLLED = cal.FINAL_OUTCOMES.index("enrolled")
DAYS_PER_MONTH = 365.25 / 12


def month_index(yyyy_mm: str) -> int:
    year, month = yyyy_mm.split("-")
    return int(year) * 12 + int(month) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass
class People:
    """Referred people, one element per person in every array."""

    precinct: np.ndarray  # global precinct index
    time: np.ndarray  # moment of referral, in months
    decision: np.ndarray  # moment the screening decision is made
    pathway: np.ndarray
    offense: np.ndarray
    race: np.ndarray
    gender: np.ndarray
    age: np.ndarray
    outcome: np.ndarray  # final screening outcome, index into FINAL_OUTCOMES
    stay: np.ndarray  # months active if enrolled
    rearrest: np.ndarray  # months from enrollment to first arrest (inf: none within 36)
    felony: np.ndarray  # months from enrollment to first felony charge


@dataclass
class Comparison:
    """Comparison-group people: eligible, not diverted, followed like participants."""

    site: np.ndarray
    time: np.ndarray  # moment of the eligible arrest that put them in the group
    race: np.ndarray
    rearrest: np.ndarray
    felony: np.ndarray


@dataclass
class Simulation:
    sites: tuple[Site, ...]
    precinct_site: np.ndarray  # global precinct index -> site index
    precinct_start: np.ndarray  # month index each precinct opened
    origin: int  # month index of the first simulated month
    end: int  # month index of the last simulated month
    people: People
    comparison: Comparison
    not_diverted: np.ndarray  # (precinct, race, month) eligible contacts not referred
    caseload: np.ndarray  # (precinct, race, month) active participants, full horizon
    served: np.ndarray  # (precinct, race, month, service) served, full horizon
    cost_noise: np.ndarray  # (site, year - origin year, group, category) multipliers

    @property
    def n_months(self) -> int:
        return self.end - self.origin + 1


def _cumulative(shares: dict[str, float], codes: tuple[str, ...]) -> np.ndarray:
    unknown = set(shares) - set(codes)
    if unknown:
        raise ValueError(f"unknown codes in calibration shares: {sorted(unknown)}")
    p = np.array([shares.get(c, 0.0) for c in codes], dtype=float)
    return np.cumsum(p / p.sum())


def _draw(rng: np.random.Generator, cdf_rows: np.ndarray, row: np.ndarray | None, n: int):
    """Categorical draws by inverse CDF; `row` picks each person's CDF row."""
    u = rng.random(n)
    cdf = cdf_rows if row is None else cdf_rows[row]
    if cdf.ndim == 1:
        return np.searchsorted(cdf, u, side="right").clip(max=len(cdf) - 1).astype(np.int8)
    return (u[:, None] >= cdf[:, :-1]).sum(axis=1).astype(np.int8)


def _period_of(periods: tuple[Period, ...], months: np.ndarray) -> np.ndarray:
    starts = np.array([month_index(p.start) for p in periods])
    return np.searchsorted(starts, months, side="right") - 1


def _period_table(periods: tuple[Period, ...], codes: tuple[str, ...]) -> np.ndarray:
    return np.stack([_cumulative(p.shares, codes) for p in periods])


def _event_times(rng: np.random.Generator, shares: tuple[float, ...], n: int) -> np.ndarray:
    """Months to a first event, so that the share with an event by each follow-up
    knot equals `shares` (cumulative incidence, linear between knots)."""
    knots = np.array((0.0, *cal.FOLLOWUP_KNOTS))
    cumulative = np.array((0.0, *shares))
    u = rng.random(n)
    times = np.interp(u, cumulative, knots)
    times[u >= cumulative[-1]] = np.inf
    return times


def _diversion_rates(site: Site) -> np.ndarray:
    rates = np.array(
        [site.diversion_rate_white * site.diversion_rri.get(r, 1.0) for r in RACE_CODES]
    )
    if not ((rates > 0) & (rates < 1)).all():
        raise ValueError(f"{site.site_id}: diversion rates must lie between 0 and 1")
    return rates


def _expected_referrals(site: Site, origin: int, n_months: int) -> np.ndarray:
    """Expected referrals per (precinct, month) of one site."""
    months = origin + np.arange(n_months)
    factor = np.array([p.shares["factor"] for p in site.volume_periods])
    period = _period_of(site.volume_periods, months)
    volume = np.where(period >= 0, factor[period.clip(min=0)], 0.0)
    rows = []
    for precinct in site.precincts:
        since_open = months - month_index(precinct.start)
        ramp = np.clip((since_open + 1) / (cal.RAMP_UP_MONTHS + 1), 0.0, 1.0)
        rows.append(precinct.referrals_per_year / 12 * ramp * volume)
    return np.stack(rows)


def active_counts(
    precinct: np.ndarray,
    race: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    shape: tuple[int, int, int],
) -> np.ndarray:
    """Count people active in each (precinct, race, month) from their first and
    last active month (offsets from the origin, inclusive), with a difference
    array so the cost is one pass over people plus one cumulative sum."""
    n_p, n_r, n_m = shape
    keep = first <= last
    base = (precinct[keep].astype(np.int64) * n_r + race[keep]) * (n_m + 1)
    size = n_p * n_r * (n_m + 1)
    diff = np.bincount(base + first[keep], minlength=size) - np.bincount(
        base + last[keep] + 1, minlength=size
    )
    return np.cumsum(diff.reshape(n_p, n_r, n_m + 1), axis=2)[:, :, :n_m]


def _simulate_site(site: Site, first_precinct: int, origin: int, n_months: int, rng):
    n_races = len(RACE_CODES)
    expected = _expected_referrals(site, origin, n_months)
    counts = rng.poisson(expected)
    local_precinct, month_offset = np.nonzero(counts)
    repeat = counts[local_precinct, month_offset]
    local_precinct = np.repeat(local_precinct, repeat)
    month = origin + np.repeat(month_offset, repeat)
    n = len(month)

    time = month + rng.random(n)
    pathway = _draw(
        rng,
        _period_table(site.pathway_periods, PATHWAY_CODES),
        _period_of(site.pathway_periods, month),
        n,
    )
    offense = _draw(
        rng,
        _period_table(site.offense_periods, OFFENSE_CODES),
        _period_of(site.offense_periods, month),
        n,
    )
    race = _draw(rng, _cumulative(site.race_shares, RACE_CODES), None, n)
    gender = _draw(rng, _cumulative(site.gender_shares, GENDER_CODES), None, n)
    age = _draw(rng, _cumulative(site.age_shares, AGE_CODES), None, n)
    outcome_cdf = np.stack([np.cumsum(cal.OUTCOME_SHARES_BY_OFFENSE[o]) for o in OFFENSE_CODES])
    outcome = _draw(rng, outcome_cdf / outcome_cdf[:, -1:], offense, n)
    delay_days = np.minimum(rng.exponential(cal.SCREENING_MEAN_DAYS, n), cal.SCREENING_MAX_DAYS)
    decision = time + delay_days / DAYS_PER_MONTH
    stay = rng.gamma(cal.STAY_SHAPE, cal.STAY_SCALE_MONTHS, n)
    rearrest = _event_times(rng, site.rearrest.lead, n)
    felony = _event_times(rng, site.felony.lead, n)
    people = People(
        precinct=(first_precinct + local_precinct).astype(np.int32),
        time=time,
        decision=decision,
        pathway=pathway,
        offense=offense,
        race=race,
        gender=gender,
        age=age,
        outcome=outcome,
        stay=stay,
        rearrest=rearrest,
        felony=felony,
    )

    # Eligible police contacts that were not diverted: if contacts of group g
    # are Poisson and each is referred with probability r_g, referrals and
    # non-referrals are independent Poissons, so the latter can be drawn on
    # their own with mean (expected police referrals) * (1 - r_g) / r_g.
    months = origin + np.arange(n_months)
    pathway_cdf = _period_table(site.pathway_periods, PATHWAY_CODES)
    pathway_p = np.diff(np.concatenate([np.zeros((len(pathway_cdf), 1)), pathway_cdf], axis=1))
    police_share = pathway_p[:, list(POLICE_PATHWAYS)].sum(axis=1)
    period = _period_of(site.pathway_periods, months)
    police_by_month = np.where(period >= 0, police_share[period.clip(min=0)], 0.0)
    race_p = np.diff(np.concatenate([[0.0], _cumulative(site.race_shares, RACE_CODES)]))
    rates = _diversion_rates(site)
    odds_not_referred = race_p * (1 - rates) / rates
    mean_not_diverted = (expected * police_by_month)[:, None, :] * odds_not_referred[None, :, None]
    not_diverted = rng.poisson(mean_not_diverted)

    # Comparison group: about 115 for every 203 participants (the Seattle
    # evaluation's proportion), drawn from the people not diverted, so their
    # race mix is that of non-diverted eligible contacts.
    offense_cdf = _period_table(site.offense_periods, OFFENSE_CODES)
    offense_p = np.diff(np.concatenate([np.zeros((len(offense_cdf), 1)), offense_cdf], axis=1))
    enrol_by_offense = np.array([cal.OUTCOME_SHARES_BY_OFFENSE[o][ENROLLED] for o in OFFENSE_CODES])
    enrol_p = offense_p @ enrol_by_offense
    o_period = _period_of(site.offense_periods, months)
    enrol_by_month = np.where(o_period >= 0, enrol_p[o_period.clip(min=0)], 0.0)
    mean_comparison = expected.sum(axis=0) * enrol_by_month * cal.COMPARISON_PER_LEAD_PARTICIPANT
    comparison_counts = rng.poisson(mean_comparison)
    c_month = origin + np.repeat(np.arange(n_months), comparison_counts)
    m = len(c_month)
    comparison_race_cdf = np.cumsum(odds_not_referred / odds_not_referred.sum())
    comparison = Comparison(
        site=np.zeros(m, dtype=np.int32),
        time=c_month + rng.random(m),
        race=_draw(rng, comparison_race_cdf, None, m),
        rearrest=_event_times(rng, site.rearrest.comparison, m),
        felony=_event_times(rng, site.felony.comparison, m),
    )

    # Caseload and services over the whole horizon. Services are drawn here,
    # not per release, so every release shows the same history.
    enrolled = outcome == ENROLLED
    first = np.floor(decision[enrolled]).astype(np.int64) - origin
    last = np.minimum(
        np.floor(decision[enrolled] + stay[enrolled]).astype(np.int64) - origin, n_months - 1
    )
    caseload = active_counts(
        local_precinct[enrolled],
        race[enrolled],
        first,
        last,
        (len(site.precincts), n_races, n_months),
    )
    uptake = np.array([cal.SERVICE_UPTAKE[s] for s in SERVICE_CODES])
    served = rng.binomial(caseload[..., None], uptake)

    years = months[-1] // 12 - months[0] // 12 + 1
    cost_noise = np.exp(
        rng.normal(0.0, cal.COST_NOISE_SD, (years, len(GROUPS), len(COST_CATEGORIES)))
    )
    return people, comparison, not_diverted, caseload, served, cost_noise


def _concat(parts, cls):
    return cls(
        **{f: np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__}
    )


def _check_curve(curve: OutcomeCurve) -> None:
    """Refuse a curve whose cumulative shares fall as follow-up grows."""
    for name, shares in (("comparison", curve.comparison), ("lead", curve.lead)):
        if any(b < a for a, b in zip(shares, shares[1:], strict=False)):
            raise ValueError(f"{name} cumulative shares must not decrease: {shares}")


def simulate(seed: int, extra_sites: int = 0) -> Simulation:
    """Simulate the three historical sites plus `extra_sites` invented ones."""
    if extra_sites < 0:
        raise ValueError(f"extra_sites must be 0 or more, got {extra_sites}")
    streams = np.random.SeedSequence(seed).spawn(len(cal.HISTORICAL_SITES) + extra_sites + 1)
    extra = extra_site_specs(extra_sites, np.random.default_rng(streams[0]))
    sites = (*cal.HISTORICAL_SITES, *extra)
    origin = min(month_index(s.launched) for s in sites)
    end = month_index(cal.SIMULATION_END)
    n_months = end - origin + 1

    people, comparisons, not_diverted, caseload, served, noise = [], [], [], [], [], []
    precinct_site, precinct_start = [], []
    for index, site in enumerate(sites):
        _check_curve(site.rearrest)
        _check_curve(site.felony)
        for precinct in site.precincts:
            if month_index(precinct.start) < month_index(site.launched):
                raise ValueError(f"{site.site_id}/{precinct.precinct_id} opens before launch")
        rng = np.random.default_rng(streams[index + 1])
        p, c, nd, cl, sv, cn = _simulate_site(site, len(precinct_site), origin, n_months, rng)
        c.site[:] = index
        people.append(p)
        comparisons.append(c)
        not_diverted.append(nd)
        caseload.append(cl)
        served.append(sv)
        noise.append(cn)
        precinct_site += [index] * len(site.precincts)
        precinct_start += [month_index(pr.start) for pr in site.precincts]
    return Simulation(
        sites=sites,
        precinct_site=np.array(precinct_site, dtype=np.int32),
        precinct_start=np.array(precinct_start),
        origin=origin,
        end=end,
        people=_concat(people, People),
        comparison=_concat(comparisons, Comparison),
        not_diverted=np.concatenate(not_diverted),
        caseload=np.concatenate(caseload),
        served=np.concatenate(served),
        cost_noise=np.stack(noise),
    )
