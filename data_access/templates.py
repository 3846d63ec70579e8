"""The CSV templates under docs/templates: a header from the contract and example rows.

The examples together form a small valid release (tests validate it), so an
analyst can copy the folder, replace the rows and check the result with
`python -m data_access validate`. Regenerate after a contract change with
`python -m data_access.templates docs/templates`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from data_access.contract import MANIFEST_FIELDS, TABLES

EXAMPLE_MANIFEST = {
    "release_id": "example-2025-06",
    "as_of": "2025-06-30",
    "sites": ["seattle", "santa-fe"],
    "produced_by": "LEAD data office (example)",
    "notes": "Example rows from docs/templates; replace every row with your site's figures.",
    "synthetic": True,
    # Optional: leave a site out (or the whole field) for CC-BY-4.0 and no contact stated.
    "open_data": {
        "seattle": {
            "licence": "CC-BY-4.0",
            "contact": "opendata@lead.example.org",
            "privacy_policy_url": "https://lead.example.org/privacy",
        }
    },
}

# Example rows written as "column=value" pairs, so each value stays next to its
# column name and a contract change that renames a column fails loudly here.
_EXAMPLES: dict[str, list[str]] = {
    "sites": [
        "site_id=seattle site_name=Seattle state=WA launched=2011-10",
        "site_id=santa-fe site_name=Santa_Fe state=NM launched=2014-06",
    ],
    "precincts": [
        "site_id=seattle precinct_id=north precinct_name=North",
        "site_id=seattle precinct_id=west precinct_name=West",
        "site_id=santa-fe precinct_id=central precinct_name=Central",
    ],
    "referrals": [
        "site_id=seattle precinct_id=north month=2025-01 pathway=arrest_diversion "
        "offense=drug_possession race_ethnicity=black gender=male age_band=25-34 "
        "referrals=4 enrolled=3",
        "site_id=seattle precinct_id=north month=2025-01 pathway=social_contact "
        "offense=sex_work race_ethnicity=white gender=female age_band=18-24 "
        "referrals=2 enrolled=1",
        "site_id=santa-fe precinct_id=central month=2025-01 pathway=community_referral "
        "offense=theft_property race_ethnicity=hispanic_latino gender=male age_band=35-44 "
        "referrals=3 enrolled=2",
    ],
    # Seattle North, 2025-01: 4 + 2 = 6 referrals, 3 + 1 = 4 enrolled.
    "screening": [
        "site_id=seattle precinct_id=north month=2025-01 outcome=enrolled persons=4",
        "site_id=seattle precinct_id=north month=2025-01 outcome=declined persons=1",
        "site_id=seattle precinct_id=north month=2025-01 outcome=excluded_violent_history "
        "persons=1",
        "site_id=santa-fe precinct_id=central month=2025-01 outcome=enrolled persons=2",
        "site_id=santa-fe precinct_id=central month=2025-01 outcome=pending persons=1",
    ],
    "eligible_contacts": [
        "site_id=seattle precinct_id=north month=2025-01 race_ethnicity=black eligible_contacts=41",
        "site_id=seattle precinct_id=north month=2025-01 race_ethnicity=white eligible_contacts=37",
        "site_id=santa-fe precinct_id=central month=2025-01 race_ethnicity=hispanic_latino "
        "eligible_contacts=22",
    ],
    "caseload": [
        "site_id=seattle precinct_id=north month=2025-01 race_ethnicity=black "
        "active_participants=58",
        "site_id=seattle precinct_id=north month=2025-01 race_ethnicity=white "
        "active_participants=29",
        "site_id=santa-fe precinct_id=central month=2025-01 race_ethnicity=hispanic_latino "
        "active_participants=17",
    ],
    "services": [
        "site_id=seattle precinct_id=north month=2025-01 race_ethnicity=black service=housing "
        "participants_served=21",
        "site_id=seattle precinct_id=north month=2025-01 race_ethnicity=black "
        "service=drug_treatment participants_served=14",
        "site_id=santa-fe precinct_id=central month=2025-01 race_ethnicity=hispanic_latino "
        "service=job_training participants_served=5",
    ],
    "recidivism": [
        "site_id=seattle cohort=2024-Q1 group=lead race_ethnicity=black followup_months=6 "
        "cohort_size=35 rearrested=9 new_felony_charge=2",
        "site_id=seattle cohort=2024-Q1 group=lead race_ethnicity=black followup_months=12 "
        "cohort_size=35 rearrested=13 new_felony_charge=4",
        "site_id=seattle cohort=2024-Q1 group=comparison race_ethnicity=black "
        "followup_months=6 cohort_size=31 rearrested=14 new_felony_charge=6",
    ],
    "costs": [
        "site_id=seattle fiscal_year=2025 group=lead category=program persons=203 "
        "total_cost_usd=1827000.00",
        "site_id=seattle fiscal_year=2025 group=lead category=jail persons=203 "
        "total_cost_usd=412500.50",
        "site_id=seattle fiscal_year=2025 group=comparison category=jail persons=187 "
        "total_cost_usd=986300.00",
    ],
    "population": [
        "site_id=seattle precinct_id=north race_ethnicity=black year=2024 population=9800",
        "site_id=seattle precinct_id=north race_ethnicity=white year=2024 population=71200",
        "site_id=santa-fe precinct_id=central race_ethnicity=hispanic_latino year=2024 "
        "population=38400",
    ],
}


def example_rows(table_name: str) -> list[dict[str, str]]:
    """The example rows of a table, as column -> value ('_' in a value stands for a space)."""
    rows = []
    for line in _EXAMPLES[table_name]:
        pairs = dict(pair.split("=", 1) for pair in line.split())
        # Only the *_name columns hold spaces; codes keep their underscores.
        rows.append(
            {k: v.replace("_", " ") if k.endswith("_name") else v for k, v in pairs.items()}
        )
    return rows


def template_text(table_name: str) -> str:
    table = next(t for t in TABLES if t.name == table_name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in example_rows(table_name):
        if set(row) != set(table.column_names):
            raise ValueError(f"example row of {table_name} does not match the contract: {row}")
        writer.writerow([row[c] for c in table.column_names])
    return buffer.getvalue()


def manifest_text() -> str:
    if set(EXAMPLE_MANIFEST) != set(MANIFEST_FIELDS):
        raise ValueError("EXAMPLE_MANIFEST does not match contract.MANIFEST_FIELDS")
    return json.dumps(EXAMPLE_MANIFEST, indent=2) + "\n"


def write_templates(directory: Path | str) -> list[Path]:
    """Write release.json and one <table>.csv per contract table into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "release.json"]
    written[0].write_text(manifest_text(), encoding="utf-8")
    for table in TABLES:
        path = directory / table.file_name
        path.write_text(template_text(table.name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_templates(sys.argv[1] if len(sys.argv) > 1 else "docs/templates"):
        print(path)
