"""Count simulated people into the ten tables of data contract v1, as of a date.

Cutting at `as_of` is what a site's analyst does: people referred after it are
not there yet, screening decisions not yet made are `pending`, caseload and
services stop at the as_of month, and a follow-up window that has not closed
holds the events seen so far.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import polars as pl

from data_access.contract import TABLES_BY_NAME, Kind
from data_access.demo import calibration as cal
from data_access.demo.simulate import (
    AGE_CODES,
    ENROLLED,
    GENDER_CODES,
    OFFENSE_CODES,
    PATHWAY_CODES,
    POLICE_PATHWAYS,
    RACE_CODES,
    SERVICE_CODES,
    Simulation,
    active_counts,
    month_index,
    month_label,
)
from data_access.vocabulary import COST_CATEGORIES, GROUPS, SCREENING_OUTCOMES

OUTCOME_CODES = tuple(SCREENING_OUTCOMES)
PENDING = OUTCOME_CODES.index("pending")
GROUP_CODES = tuple(GROUPS)
CATEGORY_CODES = tuple(COST_CATEGORIES)
_POLARS_TYPE = {
    Kind.COUNT: pl.Int64,
    Kind.POSITIVE: pl.Int64,
    Kind.YEAR: pl.Int64,
    Kind.MONEY: pl.Float64,
}


def _frame(name: str, columns: dict[str, object]) -> pl.DataFrame:
    """A DataFrame with exactly the contract's columns, in the contract's order."""
    table = TABLES_BY_NAME[name]
    if set(columns) != set(table.column_names):
        raise AssertionError(f"{name}: built {sorted(columns)}, contract {table.column_names}")
    return pl.DataFrame(
        [
            pl.Series(c.name, columns[c.name], dtype=_POLARS_TYPE.get(c.kind, pl.String))
            for c in table.columns
        ]
    )


def _labels(codes: tuple[str, ...] | list[str], index: np.ndarray) -> pl.Series:
    return pl.Series(list(codes), dtype=pl.String).gather(np.asarray(index, dtype=np.int64))


def _decode(code: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
    """Undo a mixed-radix key: the inverse of ((a * n_b + b) * n_c + c) ..."""
    parts = []
    for size in reversed(sizes[1:]):
        code, part = np.divmod(code, size)
        parts.append(part)
    parts.append(code)
    return parts[::-1]


class _Cut:
    """Everything that depends only on the simulation and the as_of date."""

    def __init__(self, sim: Simulation, as_of: dt.date):
        self.sim = sim
        self.as_of = as_of
        self.month = as_of.year * 12 + as_of.month - 1
        if not sim.origin <= self.month <= sim.end:
            raise ValueError(
                f"as_of {as_of} is outside the simulated months "
                f"{month_label(sim.origin)} to {month_label(sim.end)}"
            )
        days = calendar.monthrange(as_of.year, as_of.month)[1]
        self.moment = self.month + as_of.day / days  # as_of as a moment in months
        self.last = self.month - sim.origin  # last month offset included
        self.site_ids = [s.site_id for s in sim.sites]
        self.site_included = np.array([month_index(s.launched) <= self.month for s in sim.sites])
        self.precinct_ids = [p.precinct_id for s in sim.sites for p in s.precincts]
        self.precinct_open = sim.precinct_start <= self.month
        self.month_labels = [month_label(sim.origin + k) for k in range(sim.n_months)]


def _sites(cut: _Cut) -> pl.DataFrame:
    sites = [s for s, keep in zip(cut.sim.sites, cut.site_included, strict=True) if keep]
    return _frame(
        "sites",
        {
            "site_id": [s.site_id for s in sites],
            "site_name": [s.name for s in sites],
            "state": [s.state for s in sites],
            "launched": [s.launched for s in sites],
        },
    )


def _precincts(cut: _Cut) -> pl.DataFrame:
    rows = [
        (s.site_id, p.precinct_id, p.name)
        for s in cut.sim.sites
        for p in s.precincts
        if month_index(p.start) <= cut.month
    ]
    return _frame(
        "precincts",
        {
            "site_id": [r[0] for r in rows],
            "precinct_id": [r[1] for r in rows],
            "precinct_name": [r[2] for r in rows],
        },
    )


def _site_and_precinct(cut: _Cut, precinct: np.ndarray) -> dict[str, pl.Series]:
    return {
        "site_id": _labels(cut.site_ids, cut.sim.precinct_site[precinct]),
        "precinct_id": _labels(cut.precinct_ids, precinct),
    }


def _referred(cut: _Cut, duplicated: np.ndarray | None) -> np.ndarray:
    """Indices of people referred by as_of (with any duplicated records twice)."""
    index = np.flatnonzero(cut.sim.people.time < cut.moment)
    if duplicated is not None and len(duplicated):
        index = np.sort(
            np.concatenate([index, duplicated[cut.sim.people.time[duplicated] < cut.moment]])
        )
    return index


def _referrals(cut: _Cut, referred: np.ndarray) -> pl.DataFrame:
    people, n_m = cut.sim.people, cut.sim.n_months
    sizes = (
        len(cut.precinct_ids),
        n_m,
        len(PATHWAY_CODES),
        len(OFFENSE_CODES),
        len(RACE_CODES),
        len(GENDER_CODES),
        len(AGE_CODES),
    )
    month = np.floor(people.time[referred]).astype(np.int64) - cut.sim.origin
    values = (
        people.precinct[referred],
        month,
        people.pathway[referred],
        people.offense[referred],
        people.race[referred],
        people.gender[referred],
        people.age[referred],
    )
    code = np.zeros(len(referred), dtype=np.int64)
    for value, size in zip(values, sizes, strict=True):
        code = code * size + value
    enrolled = (people.outcome[referred] == ENROLLED) & (people.decision[referred] <= cut.moment)
    keys, inverse, counts = np.unique(code, return_inverse=True, return_counts=True)
    enrolled_counts = np.bincount(inverse, weights=enrolled, minlength=len(keys))
    precinct, month, pathway, offense, race, gender, age = _decode(keys, sizes)
    return _frame(
        "referrals",
        {
            **_site_and_precinct(cut, precinct),
            "month": _labels(cut.month_labels, month),
            "pathway": _labels(PATHWAY_CODES, pathway),
            "offense": _labels(OFFENSE_CODES, offense),
            "race_ethnicity": _labels(RACE_CODES, race),
            "gender": _labels(GENDER_CODES, gender),
            "age_band": _labels(AGE_CODES, age),
            "referrals": counts,
            "enrolled": enrolled_counts.astype(np.int64),
        },
    )


def _screening(cut: _Cut, referred: np.ndarray) -> pl.DataFrame:
    """Every outcome, zeros included, for each precinct-month with referrals, so
    that the outcomes visibly add up to the month's referrals."""
    people, n_m = cut.sim.people, cut.sim.n_months
    month = np.floor(people.time[referred]).astype(np.int64) - cut.sim.origin
    state = np.where(people.decision[referred] > cut.moment, PENDING, people.outcome[referred])
    precinct_month, inverse = np.unique(
        people.precinct[referred].astype(np.int64) * n_m + month, return_inverse=True
    )
    n_out = len(OUTCOME_CODES)
    persons = np.bincount(inverse * n_out + state, minlength=len(precinct_month) * n_out)
    precinct, month = np.divmod(np.repeat(precinct_month, n_out), n_m)
    return _frame(
        "screening",
        {
            **_site_and_precinct(cut, precinct),
            "month": _labels(cut.month_labels, month),
            "outcome": _labels(OUTCOME_CODES, np.tile(np.arange(n_out), len(precinct_month))),
            "persons": persons,
        },
    )


def _grid_rows(grid: np.ndarray, cut: _Cut) -> tuple[np.ndarray, ...]:
    """Non-zero cells of a (precinct, race, month, ...) grid up to the as_of month."""
    return np.nonzero(grid[:, :, : cut.last + 1])


def _eligible_contacts(cut: _Cut) -> pl.DataFrame:
    # Police records, not the referral log: never affected by duplicated imports.
    people, sim = cut.sim.people, cut.sim
    police = np.flatnonzero((people.time < cut.moment) & np.isin(people.pathway, POLICE_PATHWAYS))
    shape = (len(cut.precinct_ids), len(RACE_CODES), sim.n_months)
    month = np.floor(people.time[police]).astype(np.int64) - sim.origin
    flat = (people.precinct[police].astype(np.int64) * shape[1] + people.race[police]) * shape[2]
    referred_grid = np.bincount(flat + month, minlength=np.prod(shape)).reshape(shape)
    contacts = referred_grid + sim.not_diverted
    precinct, race, month = _grid_rows(contacts, cut)
    return _frame(
        "eligible_contacts",
        {
            **_site_and_precinct(cut, precinct),
            "month": _labels(cut.month_labels, month),
            "race_ethnicity": _labels(RACE_CODES, race),
            "eligible_contacts": contacts[precinct, race, month],
        },
    )


def _caseload_grid(cut: _Cut) -> np.ndarray:
    people, sim = cut.sim.people, cut.sim
    enrolled = np.flatnonzero((people.outcome == ENROLLED) & (people.decision <= cut.moment))
    first = np.floor(people.decision[enrolled]).astype(np.int64) - sim.origin
    end = np.floor(people.decision[enrolled] + people.stay[enrolled]).astype(np.int64)
    last = np.minimum(end - sim.origin, cut.last)
    shape = (len(cut.precinct_ids), len(RACE_CODES), sim.n_months)
    return active_counts(people.precinct[enrolled], people.race[enrolled], first, last, shape)


def _caseload(cut: _Cut, caseload: np.ndarray) -> pl.DataFrame:
    precinct, race, month = _grid_rows(caseload, cut)
    return _frame(
        "caseload",
        {
            **_site_and_precinct(cut, precinct),
            "month": _labels(cut.month_labels, month),
            "race_ethnicity": _labels(RACE_CODES, race),
            "active_participants": caseload[precinct, race, month],
        },
    )


def _services(cut: _Cut, caseload: np.ndarray) -> pl.DataFrame:
    # The draws were made on the full-horizon caseload; a mid-month as_of can
    # only lower the month's caseload, so clip to keep served <= active.
    served = np.minimum(cut.sim.served, caseload[..., None])
    precinct, race, month, service = np.nonzero(served[:, :, : cut.last + 1, :])
    return _frame(
        "services",
        {
            **_site_and_precinct(cut, precinct),
            "month": _labels(cut.month_labels, month),
            "race_ethnicity": _labels(RACE_CODES, race),
            "service": _labels(SERVICE_CODES, service),
            "participants_served": served[precinct, race, month, service],
        },
    )


def _recidivism(cut: _Cut) -> pl.DataFrame:
    sim, people, comp = cut.sim, cut.sim.people, cut.sim.comparison
    lead = np.flatnonzero((people.outcome == ENROLLED) & (people.decision <= cut.moment))
    other = np.flatnonzero(comp.time <= cut.moment)
    entry = np.concatenate([people.decision[lead], comp.time[other]])
    group = np.concatenate([np.zeros(len(lead), np.int64), np.ones(len(other), np.int64)])
    site = np.concatenate([sim.precinct_site[people.precinct[lead]], comp.site[other]])
    race = np.concatenate([people.race[lead], comp.race[other]])
    rearrest = np.concatenate([people.rearrest[lead], comp.rearrest[other]])
    felony = np.concatenate([people.felony[lead], comp.felony[other]])

    first_quarter = sim.origin // 3
    quarter = np.floor(entry).astype(np.int64) // 3 - first_quarter
    n_q = sim.end // 3 - first_quarter + 1
    sizes = (len(sim.sites), n_q, 2, len(RACE_CODES))
    code = ((site.astype(np.int64) * n_q + quarter) * 2 + group) * len(RACE_CODES) + race
    keys, inverse, cohort_size = np.unique(code, return_inverse=True, return_counts=True)
    k_site, k_quarter, k_group, k_race = _decode(keys, sizes)

    # Events seen by follow-up m: within m months of entry, and not after as_of.
    elapsed = cut.moment - entry
    followup = np.arange(1, cal.MAX_FOLLOWUP_MONTHS + 1)
    rearrested = np.stack(
        [np.bincount(inverse, rearrest <= np.minimum(m, elapsed), len(keys)) for m in followup],
        axis=1,
    )
    charged = np.stack(
        [np.bincount(inverse, felony <= np.minimum(m, elapsed), len(keys)) for m in followup],
        axis=1,
    )
    # Rows for follow-up lengths whose window has opened for the cohort: at
    # most the months from the cohort quarter's start to as_of.
    quarter_start = (k_quarter + first_quarter) * 3
    opened = np.clip(np.floor(cut.moment - quarter_start), 1, cal.MAX_FOLLOWUP_MONTHS)
    row, col = np.nonzero(followup[None, :] <= opened[:, None])
    quarter_abs = k_quarter[row] + first_quarter
    cohort_labels = [f"{q // 4}-Q{q % 4 + 1}" for q in range(first_quarter, first_quarter + n_q)]
    return _frame(
        "recidivism",
        {
            "site_id": _labels(cut.site_ids, k_site[row]),
            "cohort": _labels(cohort_labels, quarter_abs - first_quarter),
            "group": _labels(GROUP_CODES, k_group[row]),
            "race_ethnicity": _labels(RACE_CODES, k_race[row]),
            "followup_months": followup[col],
            "cohort_size": cohort_size[row],
            "rearrested": rearrested[row, col].astype(np.int64),
            "new_felony_charge": charged[row, col].astype(np.int64),
        },
    )


def _people_by_year(site, first, last, n_sites, first_year, n_years) -> np.ndarray:
    """People per (site, year) whose active months [first, last] touch the year."""
    keep = first <= last
    y0, y1 = first[keep] // 12 - first_year, last[keep] // 12 - first_year
    base = site[keep].astype(np.int64) * (n_years + 1)
    size = n_sites * (n_years + 1)
    diff = np.bincount(base + y0, minlength=size) - np.bincount(base + y1 + 1, minlength=size)
    return np.cumsum(diff.reshape(n_sites, n_years + 1), axis=1)[:, :n_years]


def _program_rate(costs: cal.Costs, year: int) -> float:
    listed = sorted(costs.program_per_participant_month)
    if year <= listed[-1]:
        return costs.program_per_participant_month[
            max([y for y in listed if y <= year], default=listed[0])
        ]
    return costs.program_per_participant_month[listed[-1]] * (1 + costs.program_growth) ** (
        year - listed[-1]
    )


def _costs(cut: _Cut, caseload: np.ndarray) -> pl.DataFrame:
    sim, people, comp = cut.sim, cut.sim.people, cut.sim.comparison
    n_sites = len(sim.sites)
    first_year = sim.origin // 12
    n_years = sim.end // 12 - first_year + 1

    enrolled = np.flatnonzero((people.outcome == ENROLLED) & (people.decision <= cut.moment))
    start = np.floor(people.decision[enrolled]).astype(np.int64)
    stop = np.minimum(np.floor(people.decision[enrolled] + people.stay[enrolled]), cut.month)
    lead_people = _people_by_year(
        sim.precinct_site[people.precinct[enrolled]],
        start,
        stop.astype(np.int64),
        n_sites,
        first_year,
        n_years,
    )
    # Comparison people count in each year of their 36-month follow-up.
    joined = np.flatnonzero(comp.time <= cut.moment)
    c_start = np.floor(comp.time[joined]).astype(np.int64)
    c_stop = np.minimum(c_start + cal.MAX_FOLLOWUP_MONTHS - 1, cut.month)
    comparison_people = _people_by_year(
        comp.site[joined], c_start, c_stop, n_sites, first_year, n_years
    )
    # Participant-months per (site, year), from the caseload grid.
    by_precinct_month = caseload[:, :, : cut.last + 1].sum(axis=1)
    months = sim.origin + np.arange(cut.last + 1)
    participant_months = np.zeros((n_sites, n_years))
    np.add.at(
        participant_months,
        (sim.precinct_site[:, None], (months // 12 - first_year)[None, :]),
        by_precinct_month,
    )

    rows: dict[str, list] = {
        k: [] for k in ("site_id", "fiscal_year", "group", "category", "persons", "total_cost_usd")
    }
    for s, site in enumerate(sim.sites):
        if not cut.site_included[s]:
            continue
        launch_year = month_index(site.launched) // 12
        c = site.costs
        for year in range(launch_year, cut.as_of.year + 1):
            y = year - first_year
            # The as_of year is partial: legal and health costs so far.
            fraction = 1.0 if year < cut.as_of.year else (cut.moment - year * 12) / 12
            ramp = min(year - launch_year, c.ramp_years) / c.ramp_years
            for g, group in enumerate(GROUP_CODES):
                persons = int((lead_people if group == "lead" else comparison_people)[s, y])
                legal = c.legal_baseline[group] + c.legal_change[group] * ramp
                health = c.health_baseline[group] + c.health_change[group] * ramp
                for k, category in enumerate(CATEGORY_CODES):
                    if category == "program":
                        amount = (
                            _program_rate(c, year) * participant_months[s, y]
                            if group == "lead"
                            else 0.0
                        )
                    elif category in cal.LEGAL_COST_SPLIT:
                        amount = legal * cal.LEGAL_COST_SPLIT[category] * persons * fraction
                    else:
                        amount = health * cal.HEALTH_COST_SPLIT[category] * persons * fraction
                    rows["site_id"].append(site.site_id)
                    rows["fiscal_year"].append(year)
                    rows["group"].append(group)
                    rows["category"].append(category)
                    rows["persons"].append(persons)
                    rows["total_cost_usd"].append(round(amount * sim.cost_noise[s, y, g, k], 2))
    return _frame("costs", rows)


def _population(cut: _Cut) -> pl.DataFrame:
    rows: dict[str, list] = {
        k: [] for k in ("site_id", "precinct_id", "race_ethnicity", "year", "population")
    }
    for s, site in enumerate(cut.sim.sites):
        if not cut.site_included[s]:
            continue
        for precinct in site.precincts:
            if month_index(precinct.start) > cut.month:
                continue
            total = sum(precinct.population_shares.values())
            for race in RACE_CODES:
                share = precinct.population_shares.get(race, 0.0) / total
                if share <= 0:
                    continue
                for year in range(month_index(site.launched) // 12, cut.as_of.year + 1):
                    growth = (1 + site.population_growth) ** (year - 2020)
                    rows["site_id"].append(site.site_id)
                    rows["precinct_id"].append(precinct.precinct_id)
                    rows["race_ethnicity"].append(race)
                    rows["year"].append(year)
                    rows["population"].append(round(precinct.adult_population * share * growth))
    return _frame("population", rows)


def tabulate(
    sim: Simulation, as_of: dt.date, duplicated: np.ndarray | None = None
) -> dict[str, pl.DataFrame]:
    """All ten contract tables as of `as_of`.

    `duplicated` lists people whose referral records were (by mistake) counted
    twice in referrals and screening: how the earlier demo release carries an
    error that the later one corrects.
    """
    cut = _Cut(sim, as_of)
    referred = _referred(cut, duplicated)
    caseload = _caseload_grid(cut)
    tables = {
        "sites": _sites(cut),
        "precincts": _precincts(cut),
        "referrals": _referrals(cut, referred),
        "screening": _screening(cut, referred),
        "eligible_contacts": _eligible_contacts(cut),
        "caseload": _caseload(cut, caseload),
        "services": _services(cut, caseload),
        "recidivism": _recidivism(cut),
        "costs": _costs(cut, caseload),
        "population": _population(cut),
    }
    return {name: tables[name] for name in TABLES_BY_NAME}
