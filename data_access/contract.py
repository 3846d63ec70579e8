"""Data contract v1: which tables a release holds, their columns and their keys.

This module is the single machine-readable statement of docs/data-contract.md.
Validation, the database schema, the CSV templates and the open-data
dictionary are all derived from it, so a column is declared exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CONTRACT_VERSION = "1"


class Kind(StrEnum):
    """What a column holds; decides how it is parsed, checked and stored."""

    ID = "id"  # a short identifier: letters, digits, "_" and "-"
    TEXT = "text"  # a free label shown to people (always rendered as text)
    STATE = "state"  # a two-letter US state or territory code
    CODE = "code"  # a code from data_access.vocabulary
    MONTH = "month"  # YYYY-MM
    COHORT = "cohort"  # YYYY-Qn, the quarter of entry
    YEAR = "year"  # YYYY
    COUNT = "count"  # a whole number of people, 0 or more
    POSITIVE = "positive"  # a whole number, 1 or more (follow-up months)
    MONEY = "money"  # US dollars, 0 or more, cents allowed


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    one_row_per: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, kind: Kind, description: str) -> Column:
    return Column(name, kind, description)


SITE_ID = _c("site_id", Kind.ID, "The site's identifier, as declared in sites.csv.")
PRECINCT_ID = _c("precinct_id", Kind.ID, "The precinct's identifier, as declared in precincts.csv.")
MONTH = _c("month", Kind.MONTH, "Calendar month, written YYYY-MM.")
RACE = _c(
    "race_ethnicity",
    Kind.CODE,
    "Race or ethnicity (OMB 2024 categories, plus multiracial and unknown).",
)

TABLES: tuple[Table, ...] = (
    Table(
        "sites",
        True,
        "site",
        (
            SITE_ID,
            _c("site_name", Kind.TEXT, "The site's name as the public knows it."),
            _c("state", Kind.STATE, "Two-letter state code."),
            _c("launched", Kind.MONTH, "Month the site took its first referral (YYYY-MM)."),
        ),
        ("site_id",),
        "The LEAD sites this release covers.",
    ),
    Table(
        "precincts",
        True,
        "precinct",
        (
            SITE_ID,
            PRECINCT_ID,
            _c("precinct_name", Kind.TEXT, "The precinct's name as the public knows it."),
        ),
        ("site_id", "precinct_id"),
        "Police precincts or referral areas of each site.",
    ),
    Table(
        "referrals",
        True,
        "site, precinct, month, pathway, offense, race, gender and age band",
        (
            SITE_ID,
            PRECINCT_ID,
            MONTH,
            _c("pathway", Kind.CODE, "How the person came to LEAD."),
            _c("offense", Kind.CODE, "The low-level offense behind the referral."),
            RACE,
            _c("gender", Kind.CODE, "Gender."),
            _c("age_band", Kind.CODE, "Age at referral."),
            _c("referrals", Kind.COUNT, "People referred to LEAD."),
            _c("enrolled", Kind.COUNT, "Of those referred, people who enrolled."),
        ),
        (
            "site_id",
            "precinct_id",
            "month",
            "pathway",
            "offense",
            "race_ethnicity",
            "gender",
            "age_band",
        ),
        "Referrals to LEAD and enrollments among them.",
    ),
    Table(
        "screening",
        False,
        "site, precinct, month and screening outcome",
        (
            SITE_ID,
            PRECINCT_ID,
            MONTH,
            _c("outcome", Kind.CODE, "Result of eligibility screening."),
            _c("persons", Kind.COUNT, "People referred that month with this outcome."),
        ),
        ("site_id", "precinct_id", "month", "outcome"),
        "Eligibility screening of the month's referrals, by outcome.",
    ),
    Table(
        "eligible_contacts",
        False,
        "site, precinct, month and race",
        (
            SITE_ID,
            PRECINCT_ID,
            MONTH,
            RACE,
            _c(
                "eligible_contacts",
                Kind.COUNT,
                "Police contacts or arrests for LEAD-eligible offenses, diverted or not.",
            ),
        ),
        ("site_id", "precinct_id", "month", "race_ethnicity"),
        "The denominator for diversion rates: every contact LEAD could have diverted.",
    ),
    Table(
        "caseload",
        False,
        "site, precinct, month and race",
        (
            SITE_ID,
            PRECINCT_ID,
            MONTH,
            RACE,
            _c("active_participants", Kind.COUNT, "Participants active during the month."),
        ),
        ("site_id", "precinct_id", "month", "race_ethnicity"),
        "Active LEAD participants each month.",
    ),
    Table(
        "services",
        False,
        "site, precinct, month, race and service",
        (
            SITE_ID,
            PRECINCT_ID,
            MONTH,
            RACE,
            _c("service", Kind.CODE, "The kind of service."),
            _c(
                "participants_served",
                Kind.COUNT,
                "Active participants who received this service during the month.",
            ),
        ),
        ("site_id", "precinct_id", "month", "race_ethnicity", "service"),
        "Service uptake among active participants.",
    ),
    Table(
        "recidivism",
        False,
        "site, cohort, group, race and follow-up length",
        (
            SITE_ID,
            _c("cohort", Kind.COHORT, "Quarter of entry, written YYYY-Qn."),
            _c("group", Kind.CODE, "LEAD participants or the comparison group."),
            RACE,
            _c("followup_months", Kind.POSITIVE, "Months since entry."),
            _c("cohort_size", Kind.COUNT, "People who entered in the cohort quarter."),
            _c(
                "rearrested",
                Kind.COUNT,
                "People with at least one arrest within followup_months of entry.",
            ),
            _c(
                "new_felony_charge",
                Kind.COUNT,
                "People with at least one new felony charge within followup_months of entry.",
            ),
        ),
        ("site_id", "cohort", "group", "race_ethnicity", "followup_months"),
        "Cumulative re-arrest and new felony charges of entry cohorts.",
    ),
    Table(
        "costs",
        False,
        "site, fiscal year, group and cost category",
        (
            SITE_ID,
            _c("fiscal_year", Kind.YEAR, "Fiscal year, written YYYY."),
            _c("group", Kind.CODE, "LEAD participants or the comparison group."),
            _c("category", Kind.CODE, "What the money paid for."),
            _c("persons", Kind.COUNT, "People in the group during the fiscal year."),
            _c("total_cost_usd", Kind.MONEY, "Total cost in US dollars."),
        ),
        ("site_id", "fiscal_year", "group", "category"),
        "Public costs of LEAD participants and of the comparison group.",
    ),
    Table(
        "population",
        False,
        "site, precinct, race and year",
        (
            SITE_ID,
            PRECINCT_ID,
            RACE,
            _c("year", Kind.YEAR, "Calendar year, written YYYY."),
            _c("population", Kind.COUNT, "Adult residents."),
        ),
        ("site_id", "precinct_id", "race_ethnicity", "year"),
        "Resident adult population, for representation against population.",
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
REQUIRED_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES if t.required)
OPTIONAL_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES if not t.required)

# release.json: field name -> (required, description)
MANIFEST_FIELDS: dict[str, tuple[bool, str]] = {
    "release_id": (True, "A slug naming this release: lowercase letters, digits and '-'."),
    "as_of": (True, "The date the data are complete through, YYYY-MM-DD."),
    "sites": (True, "The site_id of every site in the release, as a list."),
    "produced_by": (True, "Who produced the release (an office, not a person's name)."),
    "notes": (True, "What changed since the last release; corrections go here."),
    "synthetic": (True, "true for demonstration data, false for real data."),
    "open_data": (
        False,
        "Optional, per site: the open data's licence (default CC-BY-4.0), a contact and the "
        "web address of the privacy policy (see data_access/licences.py).",
    ),
}
