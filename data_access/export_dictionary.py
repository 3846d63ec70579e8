"""The data dictionary of the open-data bundle: every column's type and meaning.

A column is described by its name wherever it appears (a `quarter` is always a
quarter), unless a table gives it a more precise meaning. Companion columns
follow two patterns: `<column>_flag` says why a value is empty and
`<column>_reliability` says how far a shown value can be trusted.

The type `count` marks a number of people: in the public bundle such a value is
never from 1 to k-1, and tests/test_export.py scans every `count` column of
every file for that. A column no entry describes gets a conservative type
(`count` for whole numbers) and an empty meaning, and the export tests fail
until it is described here: people build on these files.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data_access.disclosure import COMBINED_RACE_CODE, COMBINED_RACE_LABEL
from data_access.licences import LICENCES
from data_access.views.recidivism import OPEN as OPEN_COHORTS
from data_access.vocabulary import VOCABULARY_OF_COLUMN

# The types used in data-dictionary.csv.
IDENTIFIER, CODE, TEXT, PERIOD, DATE = "identifier", "code", "text", "period", "date"
AVERAGE = "average count"
COUNT, DIFFERENCE, PROPORTION, RATIO, DOLLARS, NUMBER = (
    "count",
    "count difference",
    "proportion",
    "ratio",
    "dollars",
    "number",
)
REASON, NOTE, MONTHS, YES_NO = "reason", "note", "months", "true/false"
TYPES: dict[str, str] = {
    IDENTIFIER: "A stable identifier (letters, digits, '_' and '-').",
    CODE: "A code from a fixed list; codes.csv gives each code's label.",
    TEXT: "Words.",
    PERIOD: "A period: a quarter written YYYY-Qn (2025-Q4) or a year written YYYY.",
    DATE: "A date written YYYY-MM-DD.",
    COUNT: "A whole number of people. Empty when withheld (the _flag column says why).",
    AVERAGE: "An average number of people (may have decimals). Empty when withheld.",
    DIFFERENCE: "A difference between two published counts of people (may be negative).",
    PROPORTION: "A share written as a fraction: 0.25 means 25%.",
    RATIO: "A ratio of two rates or odds: 1 means no difference.",
    DOLLARS: "US dollars.",
    NUMBER: "A number that is not a count of people.",
    MONTHS: "A whole number of months that names the row (a follow-up length).",
    YES_NO: "true or false.",
    REASON: "Why the value beside it is empty; empty when the value is shown.",
    NOTE: "A caution about a shown value (for example 'unstable'); empty when none.",
}


# Types of values that may be withheld, so each gets a `<column>_flag` in the bundle.
MEASURES = frozenset({COUNT, AVERAGE, DIFFERENCE, PROPORTION, RATIO, DOLLARS, NUMBER, YES_NO})


@dataclass(frozen=True)
class ColumnEntry:
    type: str
    meaning: str
    # Words the column may hold instead of a value of its type (datapackage.json allows them).
    also: tuple[str, ...] = ()


def _e(kind: str, meaning: str, also: tuple[str, ...] = ()) -> ColumnEntry:
    if kind not in TYPES:
        raise ValueError(f"unknown column type {kind!r}")
    return ColumnEntry(kind, meaning, also)


_CODE_MEANINGS = {
    "pathway": "How the person came to LEAD (codes.csv); 'none' for eligible contacts "
    "who were not referred.",
    "offense": "The low-level offense behind the referral (codes.csv); 'none' for eligible "
    "contacts who were not referred.",
    "race_ethnicity": "Race or ethnicity (OMB 2024 categories, plus multiracial and unknown; "
    "codes.csv).",
    "outcome": "Result of eligibility screening (codes.csv). Also 'not_enrolled' (referred, "
    "not enrolled, at a site that publishes no screening table) and 'not_referred' (an "
    "eligible contact who was not referred).",
    "service": "The kind of service (codes.csv).",
    "group": "LEAD participants or the comparison group (codes.csv).",
    "category": "What the money paid for (codes.csv).",
    "gender": "Gender (codes.csv).",
    "age_band": "Age at referral (codes.csv).",
}

# Columns by name, wherever they appear.
COLUMNS: dict[str, ColumnEntry] = {
    # Selection and places
    "site_id": _e(IDENTIFIER, "The site the row belongs to (sites.csv)."),
    "selected_period": _e(
        PERIOD,
        "The period the dashboard was set to when it showed this row (its Period menu): "
        "a whole quarter or a whole year.",
    ),
    "precinct_id": _e(IDENTIFIER, "The police precinct or referral area (precincts.csv)."),
    "site_name": _e(TEXT, "The site's name as the public knows it."),
    "state": _e(CODE, "Two-letter US state code."),
    "launched": _e(PERIOD, "Month the site took its first referral, written YYYY-MM."),
    "rearrest_counted_as_of": _e(
        DATE,
        "The date the site's re-arrest figures are counted as of: the release's as_of, or "
        "an earlier date while they are held as published before (a cohort's follow-up "
        "window has closed when it ended by this date). Empty: no re-arrest figures.",
    ),
    "precinct_name": _e(TEXT, "The precinct's name as the public knows it."),
    "licence": _e(
        CODE,
        "The licence the site publishes its open data under (codes.csv gives its title; "
        "datapackage.json its web address).",
    ),
    "contact": _e(
        TEXT, "Whom to ask about the site's open data: an email or web address; empty if none."
    ),
    "privacy_policy_url": _e(
        TEXT, "Where the site's privacy policy can be read on the web; empty if none was given."
    ),
    # Time
    "quarter": _e(PERIOD, "Calendar quarter, written YYYY-Qn."),
    "year": _e(PERIOD, "Calendar year, written YYYY."),
    "cohort": _e(PERIOD, "Quarter of entry of a cohort, written YYYY-Qn."),
    "fiscal_year": _e(PERIOD, "Fiscal year, named by the calendar year it ends in (YYYY)."),
    "period": _e(PERIOD, "The period the figures are for."),
    "base_period": _e(PERIOD, "The period compared against."),
    # Breakdowns of the referral-flow cube
    "referred": _e(
        CODE,
        "'yes' for people referred to LEAD; 'no' for eligible contacts (police contacts "
        "or arrests for a LEAD-eligible offense) who were not referred.",
    ),
    "route": _e(
        CODE,
        "'police' (arrest diversion or social contact referral) or 'community' "
        "(community referral); eligible contacts who were not referred count as 'police'.",
    ),
    "enrolled": _e(
        CODE,
        "'yes' enrolled in LEAD, 'no' referred but not enrolled, 'none' not referred.",
    ),
    "screen": _e(
        CODE,
        "The screening funnel's stage: 'excluded' (any exclusion reason), 'eligible' "
        "(enrolled, declined or pending), 'none' (not referred, or a site that publishes "
        "no screening table).",
    ),
    **{name: _e(CODE, meaning) for name, meaning in _CODE_MEANINGS.items()},
    # Counts of people
    "persons": _e(COUNT, "People in this cell of the table."),
    "referrals": _e(COUNT, "People referred to LEAD."),
    "current": _e(COUNT, "The count in the period (column `period`)."),
    "base": _e(COUNT, "The count in the period compared against (column `base_period`)."),
    "numerator": _e(COUNT, "People counted in the estimate's numerator."),
    "denominator": _e(COUNT, "People in the estimate's denominator."),
    # Derived figures
    "comparison": _e(
        CODE, "Which comparison: 'previous' (the period before) or 'year_ago' (a year earlier)."
    ),
    "change": _e(DIFFERENCE, "`current` minus `base`."),
    "relative_change": _e(
        PROPORTION, "`change` divided by `base`: 0.12 means 12% more, -0.05 means 5% fewer."
    ),
    "metric_id": _e(CODE, "The metric's definition in metric-definitions.csv and the README."),
    "stage": _e(CODE, "The stage of the screening funnel (an outcome code or a group of them)."),
    "base_stage": _e(CODE, "The stage the share is taken of."),
    "estimate": _e(PROPORTION, "The metric's value (see its metric_id for the unit)."),
    "ci_low": _e(PROPORTION, "Lower end of the 95% interval of `estimate`."),
    "ci_high": _e(PROPORTION, "Upper end of the 95% interval of `estimate`."),
    # Recidivism
    "window_months": _e(MONTHS, "Follow-up window: re-arrest within this many months of entry."),
    "followup_months": _e(MONTHS, "Months since entry (a point of the cumulative curve)."),
    "first_cohort": _e(PERIOD, "The earliest entry cohort pooled in the figure."),
    "last_cohort": _e(PERIOD, "The latest entry cohort pooled in the figure (its window closed)."),
    "cohort12": _e(
        PERIOD,
        f"Entry quarter of cohorts whose 12-month window has closed; '{OPEN_COHORTS}' for the "
        "cohorts whose window is still open, counted together.",
        (OPEN_COHORTS,),
    ),
    "year12": _e(
        PERIOD,
        f"Entry year of cohorts whose 12-month window has closed; '{OPEN_COHORTS}' for the "
        "cohorts whose window is still open, counted together.",
        (OPEN_COHORTS,),
    ),
    "status": _e(
        CODE,
        "Fate in the life table: 'event_TT' first re-arrested in the three months ending TT "
        "months after entry; 'none_HH' not re-arrested by HH months, the furthest the cohort "
        "has been followed.",
    ),
    **{
        f"by_{w}": _e(
            CODE,
            f"Re-arrested within {w} months of entry: 'yes' or 'no'; 'na' for cohorts whose "
            f"{w}-month window has not closed yet.",
        )
        for w in (6, 12, 24, 36)
    },
    "reliability": _e(
        CODE,
        "How far the figure can be trusted: ok, unstable (fewer than 20 events), "
        "insufficient (too few people), not_computable, or reference (see docs/methods.md).",
    ),
    "note": _e(TEXT, "Why, in words, when the reliability is not 'ok'."),
    "stability": _e(TEXT, "A caution about this point of the curve (few events or few at risk)."),
    "entered": _e(COUNT, "People of the group followed from entry (the curve's starting number)."),
    "at_risk": _e(COUNT, "People still followed and not yet re-arrested at the interval's start."),
    "events": _e(COUNT, "People first re-arrested in the interval."),
    "censored": _e(COUNT, "People whose follow-up ended in the interval, not re-arrested."),
    "events_so_far": _e(COUNT, "People re-arrested from entry up to this point."),
    # Disparities
    "decision_point": _e(
        CODE,
        "The step: 'eligible_contact_to_referral' (eligible police contacts referred by "
        "police), 'referral_to_enrollment' (referrals that ended in enrollment), "
        "'reached_lead_in_precinct' (any pathway, by precinct).",
    ),
    "reference_group": _e(CODE, "The race group the ratio compares against (codes.csv)."),
    "excludes_one": _e(YES_NO, "Whether the 95% interval of the ratio leaves out 1."),
    "rate": _e(PROPORTION, "The group's rate at this step (events / people at the stage before)."),
    "reference_rate": _e(PROPORTION, "The reference group's rate at this step."),
    "unknown": _e(COUNT, "People of unknown race at the stage before the step."),
    "total": _e(COUNT, "Everyone at the stage before the step."),
    "population": _e(NUMBER, "Adult residents of the group (census-style estimate)."),
    "known_race_referrals": _e(COUNT, "People referred whose race is known."),
    "referral_share": _e(PROPORTION, "The group's share of referrals of known race."),
    "population_share": _e(PROPORTION, "The group's share of adult residents."),
    "ceiling": _e(RATIO, "The largest value the representation ratio can take (1 / share)."),
    "per_10000": _e(NUMBER, "Referrals per 10,000 adult residents of the group."),
    "per_10000_low": _e(NUMBER, "Lower end of the 95% interval of `per_10000`."),
    "per_10000_high": _e(NUMBER, "Upper end of the 95% interval of `per_10000`."),
    # Costs
    "scope": _e(
        CODE,
        "'marginal': jail, prosecution and defense only; 'fully_loaded': every legal-system "
        "cost, adding police time and courts.",
    ),
    "payer": _e(TEXT, "Who pays for this category, in words."),
    "baseline_year": _e(PERIOD, "The fiscal year before (the baseline of the saving)."),
    "followup_year": _e(PERIOD, "The fiscal year after (the follow-up of the saving)."),
    "saving": _e(
        DOLLARS,
        "Saving per person-year: the comparison group's change in cost minus LEAD's "
        "(difference in differences), baseline to follow-up.",
    ),
    "net_saving": _e(DOLLARS, "`saving` minus the program's own cost per person-year."),
    "lead_pre": _e(DOLLARS, "LEAD's cost per person-year in the baseline year."),
    "lead_post": _e(DOLLARS, "LEAD's cost per person-year in the follow-up year."),
    "comparison_pre": _e(DOLLARS, "The comparison group's cost per person-year, baseline year."),
    "comparison_post": _e(DOLLARS, "The comparison group's cost per person-year, follow-up year."),
    "program_per_person_year": _e(DOLLARS, "The program's own cost per participant-year."),
    "program_total_usd": _e(DOLLARS, "The program's own cost in the fiscal year."),
    "total_cost_usd": _e(DOLLARS, "Total cost of the group in the category and fiscal year."),
    # Caseload and services
    "participant_months": _e(
        COUNT,
        "Participant-months: each active participant counts once for every month active "
        "(three months active = 3).",
    ),
    **{
        service: _e(
            CODE,
            f"Whether the participant-months received {label.lower()}: 'yes' or 'no'.",
        )
        for service, label in VOCABULARY_OF_COLUMN["service"].items()
    },
    "average_active": _e(
        AVERAGE,
        "Average monthly active caseload: participant-months active divided by `months`.",
    ),
    # The release list
    "release_id": _e(IDENTIFIER, "The release's identifier."),
    "as_of": _e(DATE, "The date the release's data are complete through."),
    "loaded_at": _e(TEXT, "When the release was loaded into the dashboard (UTC)."),
    "synthetic": _e(CODE, "'yes' for synthetic demonstration data, 'no' for real data."),
    "sites": _e(TEXT, "The sites the release covers."),
    "rows_per_table": _e(TEXT, "Rows of each source table in the release (rows, not people)."),
    "produced_by": _e(TEXT, "The office that produced the release."),
    "notes": _e(TEXT, "What changed since the previous release; corrections are listed here."),
    "contract_version": _e(TEXT, "The data-contract version the release follows."),
    "checksum": _e(TEXT, "SHA-256 fingerprint of the release's files; it changes on correction."),
    # Codes and definitions
    "code": _e(CODE, "A code as written in the data files."),
    "label": _e(TEXT, "The code's plain-language label."),
    "id": _e(CODE, "The metric's identifier (the metric_id used in the tables)."),
    "name": _e(TEXT, "The metric's name."),
    "description": _e(TEXT, "What the metric says, in plain words."),
    "unit": _e(TEXT, "The unit of the metric's value."),
    "method": _e(TEXT, "How the metric is computed."),
    "interval": _e(TEXT, "How its 95% interval is computed, or why there is none."),
    "caveats": _e(TEXT, "What to keep in mind when reading it (separated by ' | ')."),
    "sources": _e(TEXT, "Where the method comes from (separated by ' | ')."),
}

# Where a column means something more precise in one table (table name, column).
TABLE_COLUMNS: dict[tuple[str, str], ColumnEntry] = {
    ("sites", "site_id"): _e(IDENTIFIER, "The site's identifier, used in every other table."),
    ("precincts", "precinct_id"): _e(
        IDENTIFIER, "The precinct's identifier within its site, used in the other tables."
    ),
    ("metric-definitions", "numerator"): _e(TEXT, "What the numerator counts."),
    ("metric-definitions", "denominator"): _e(TEXT, "What the denominator counts."),
    ("view-referrals-funnel", "numerator"): _e(COUNT, "People referred who reached this stage."),
    ("view-referrals-funnel", "denominator"): _e(
        COUNT, "Everyone referred in the period (the base of every share)."
    ),
    ("view-referrals-funnel", "estimate"): _e(
        PROPORTION, "Share of everyone referred who reached this stage."
    ),
    **{
        (table, "estimate"): entry
        for tables, entry in (
            (
                ("view-costs-by_category", "view-costs-totals", "view-costs-legal_trend"),
                _e(DOLLARS, "Cost per person-year of the group (total cost / people)."),
            ),
            (
                ("view-costs-program", "view-cost_headline-program"),
                _e(DOLLARS, "The program's own cost per participant-year."),
            ),
            (
                ("view-disparities-rri", "view-disparity_headline-headline"),
                _e(RATIO, "Relative rate index: the group's rate / the reference group's rate."),
            ),
            (
                ("view-disparities-population",),
                _e(RATIO, "Representation ratio: share of referrals / share of residents."),
            ),
            (
                ("view-recidivism-comparison", "view-recidivism_headline-comparison"),
                _e(
                    NUMBER,
                    "LEAD against the comparison group, as the metric_id says: a risk "
                    "difference (a fraction), a risk ratio or an odds ratio.",
                ),
            ),
            (
                ("view-recidivism-curve",),
                _e(PROPORTION, "Share re-arrested by this many months (cumulative)."),
            ),
        )
        for table in tables
    },
    ("view-disparities-rates", "base"): _e(COUNT, "People at the stage before the step."),
    ("view-disparities-rates", "events"): _e(COUNT, "People of the group who took the step."),
    ("view-disparities-population", "referrals"): _e(COUNT, "People of the group referred."),
    ("view-costs-persons", "persons"): _e(COUNT, "People in the group in the fiscal year."),
    ("view-services-caseload_trend", "months"): _e(
        MONTHS, "Months of the period in which the program was running (the divisor)."
    ),
    ("view-services-caseload_change", "current"): _e(
        AVERAGE, "Average monthly active caseload in the period (column `period`)."
    ),
    ("view-services-caseload_change", "base"): _e(
        AVERAGE, "Average monthly active caseload in the period compared against."
    ),
    ("view-services-caseload_change", "change"): _e(
        DIFFERENCE, "`current` minus `base` (a difference of two published averages)."
    ),
    ("codes", "column"): _e(TEXT, "The column whose codes are listed."),
    ("metric-definitions", "reliability"): _e(TEXT, "Which reliability rules apply to it."),
    ("data-dictionary", "table"): _e(TEXT, "The table (its file name without .csv)."),
    ("data-dictionary", "column"): _e(TEXT, "The column of that table."),
    ("data-dictionary", "type"): _e(TEXT, "What kind of value it holds (see the README)."),
    ("data-dictionary", "meaning"): _e(TEXT, "What the column means."),
}

FLAG_SUFFIX, RELIABILITY_SUFFIX = "_flag", "_reliability"


def describe(table: str, column: str, dtype: pl.DataType) -> tuple[ColumnEntry, bool]:
    """The column's entry and whether it is documented (False: a conservative guess)."""
    if (table, column) in TABLE_COLUMNS:
        return TABLE_COLUMNS[(table, column)], True
    if column.endswith(FLAG_SUFFIX):
        base = column.removesuffix(FLAG_SUFFIX)
        return ColumnEntry(REASON, f"Why `{base}` is empty in this row; empty when shown."), True
    if column.endswith(RELIABILITY_SUFFIX):
        base = column.removesuffix(RELIABILITY_SUFFIX)
        return ColumnEntry(NOTE, f"A caution about `{base}` in this row, if any."), True
    if column in COLUMNS:
        return COLUMNS[column], True
    if column.startswith("selected_") and column.removeprefix("selected_") in COLUMNS:
        inner = COLUMNS[column.removeprefix("selected_")]
        return ColumnEntry(inner.type, f"The selection this row answers: {inner.meaning}"), True
    if dtype.is_integer():
        return ColumnEntry(COUNT, ""), False
    if dtype.is_numeric():
        return ColumnEntry(NUMBER, ""), False
    return ColumnEntry(TEXT, ""), False


def dictionary_rows(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """data-dictionary.csv: one row per column of each table (table, column, type, meaning)."""
    rows = []
    for table, frame in tables.items():
        for column, dtype in frame.schema.items():
            entry, _ = describe(table, column, dtype)
            rows.append(
                {"table": table, "column": column, "type": entry.type, "meaning": entry.meaning}
            )
    return pl.DataFrame(rows, schema={c: pl.String for c in ("table", "column", "type", "meaning")})


def undocumented(tables: dict[str, pl.DataFrame]) -> list[str]:
    """`table.column` of every column no entry describes."""
    return [
        f"{table}.{column}"
        for table, frame in tables.items()
        for column, dtype in frame.schema.items()
        if not describe(table, column, dtype)[1]
    ]


def count_columns(table: str, frame: pl.DataFrame) -> list[str]:
    """The columns of a table that hold counts of people."""
    return [c for c, t in frame.schema.items() if describe(table, c, t)[0].type == COUNT]


# Codes the bundle uses beyond the data contract's lists (see the referral-flow cube).
EXTRA_CODES: dict[str, dict[str, str]] = {
    "pathway": {"none": "Not referred (an eligible contact)"},
    "offense": {"none": "Not referred (an eligible contact)"},
    "outcome": {
        "not_enrolled": "Referred, not enrolled (site publishes no screening outcomes)",
        "not_referred": "Eligible contact, not referred",
    },
    "referred": {"yes": "Referred to LEAD", "no": "Eligible contact, not referred"},
    "route": {"police": "Police referral or eligible contact", "community": "Community referral"},
    "enrolled": {"yes": "Enrolled", "no": "Referred, not enrolled", "none": "Not referred"},
    "screen": {
        "excluded": "Screened out (any exclusion reason)",
        "eligible": "Eligible (enrolled, declined or pending)",
        "none": "Not referred, or no screening published",
    },
    "comparison": {"previous": "The period before", "year_ago": "The same period a year earlier"},
    "race_ethnicity": {COMBINED_RACE_CODE: COMBINED_RACE_LABEL},
    "decision_point": {
        "eligible_contact_to_referral": "Referred by police, of eligible police contacts",
        "referral_to_enrollment": "Enrolled, of people referred",
        "reached_lead_in_precinct": "Referred (any pathway), of eligible police contacts and "
        "community referrals",
    },
    "licence": {licence.id: licence.title for licence in LICENCES.values()},
    "scope": {
        "marginal": "Jail, prosecution and defense",
        "fully_loaded": "Every legal-system cost (adds police time and courts)",
    },
}


def code_lists() -> pl.DataFrame:
    """codes.csv: every code of every coded column, with its label."""
    lists = {c: dict(codes) for c, codes in VOCABULARY_OF_COLUMN.items()}
    for column, extra in EXTRA_CODES.items():
        lists.setdefault(column, {}).update(extra)
    rows = [
        {"column": column, "code": code, "label": text}
        for column, codes in lists.items()
        for code, text in codes.items()
    ]
    return pl.DataFrame(rows, schema={"column": pl.String, "code": pl.String, "label": pl.String})
