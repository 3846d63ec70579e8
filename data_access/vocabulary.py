"""The code lists of data contract v1, with the plain-language label of every code.

One place for every vocabulary: validation checks codes against these, query
filters are checked against them before they reach SQL, and pages show the
labels. Order matters: it is the order in which tables and charts list codes.
"""

from __future__ import annotations

PATHWAYS: dict[str, str] = {
    "arrest_diversion": "Arrest diversion",
    "social_contact": "Social contact referral",
    "community_referral": "Community referral",
}

OFFENSES: dict[str, str] = {
    "drug_possession": "Drug possession",
    "drug_sales_subsistence": "Drug sales for subsistence",
    "sex_work": "Sex work",
    "theft_property": "Theft or property offense",
    "other_low_level": "Other low-level offense",
}

# OMB SPD 15 (2024 revision) minimum categories, plus "multiracial" and "unknown".
RACES: dict[str, str] = {
    "aian": "American Indian or Alaska Native",
    "asian": "Asian",
    "black": "Black or African American",
    "hispanic_latino": "Hispanic or Latino",
    "mena": "Middle Eastern or North African",
    "nhpi": "Native Hawaiian or Pacific Islander",
    "white": "White",
    "multiracial": "Multiracial",
    "unknown": "Race unknown",
}

GENDERS: dict[str, str] = {
    "female": "Female",
    "male": "Male",
    "nonbinary": "Nonbinary",
    "unknown": "Gender unknown",
}

AGE_BANDS: dict[str, str] = {
    "18-24": "18 to 24",
    "25-34": "25 to 34",
    "35-44": "35 to 44",
    "45-54": "45 to 54",
    "55+": "55 and over",
    "unknown": "Age unknown",
}

SCREENING_OUTCOMES: dict[str, str] = {
    "enrolled": "Enrolled",
    "excluded_violent_history": "Excluded: history of violent crime",
    "excluded_exploitation_of_minors": "Excluded: exploitation of minors",
    "excluded_dealing_above_subsistence": "Excluded: dealing beyond subsistence",
    "declined": "Declined to take part",
    "pending": "Screening pending",
}

SERVICES: dict[str, str] = {
    "housing": "Housing",
    "counseling": "Counseling",
    "mental_health": "Mental health services",
    "drug_treatment": "Drug treatment",
    "health_care": "Health care",
    "groceries": "Groceries",
    "clothing": "Clothing",
    "job_training": "Job training",
}

GROUPS: dict[str, str] = {
    "lead": "LEAD participants",
    "comparison": "Comparison group (system as usual)",
}

COST_CATEGORIES: dict[str, str] = {
    "program": "LEAD program (case management and services)",
    "jail": "Jail",
    "prosecution": "Prosecution",
    "defense": "Public defense",
    "court": "Courts",
    "police": "Police time",
    "ems": "Emergency medical services",
    "hospital": "Hospital and emergency department",
}

# Which vocabulary governs which column name, wherever that column appears.
VOCABULARY_OF_COLUMN: dict[str, dict[str, str]] = {
    "pathway": PATHWAYS,
    "offense": OFFENSES,
    "race_ethnicity": RACES,
    "gender": GENDERS,
    "age_band": AGE_BANDS,
    "outcome": SCREENING_OUTCOMES,
    "service": SERVICES,
    "group": GROUPS,
    "category": COST_CATEGORIES,
}


def label(column: str, code: str) -> str:
    """The plain-language label of a code, or the code itself when it has none."""
    return VOCABULARY_OF_COLUMN.get(column, {}).get(code, code)
