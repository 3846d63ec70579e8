"""Write release folders for tests: a small valid release, then whatever a test changes.

`minimal_release()` is a consistent two-site release using every table; a test
edits its rows or manifest and calls `write()`. Row i of a table is written on
line i + 2 of its CSV (line 1 is the header), which tests use to name lines.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_access.contract import TABLES_BY_NAME


def line_of(row_index: int) -> int:
    """The CSV line on which row `row_index` (0-based) of a table is written."""
    return row_index + 2


@dataclass
class Release:
    manifest: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)

    def copy(self) -> Release:
        return copy.deepcopy(self)

    def write(
        self,
        folder: Path,
        *,
        parquet: Iterable[str] = (),
        bom: bool = False,
        crlf: bool = False,
    ) -> Path:
        """Write release.json and one file per table into `folder` (created if needed)."""
        folder.mkdir(parents=True, exist_ok=True)
        newline = "\r\n" if crlf else "\n"
        prefix = "\ufeff" if bom else ""
        manifest = json.dumps(self.manifest, indent=2).replace("\n", newline)
        (folder / "release.json").write_bytes((prefix + manifest + newline).encode())
        parquet = set(parquet)
        for name, rows in self.tables.items():
            header = list(TABLES_BY_NAME[name].column_names)
            if name in parquet:
                frame = pl.DataFrame(
                    {c: [str(r[c]) for r in rows] for c in header},
                    schema={c: pl.String for c in header},
                )
                frame.write_parquet(folder / f"{name}.parquet")
            else:
                text = csv_text(header, [[r[c] for c in header] for r in rows], newline)
                (folder / f"{name}.csv").write_bytes((prefix + text).encode())
        return folder


def csv_text(header: list[str], rows: list[list], newline: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _rows(columns: str, *lines: str) -> list[dict]:
    names = columns.split(",")
    return [dict(zip(names, line.split(","), strict=True)) for line in lines]


def minimal_release(release_id: str = "test-2024-12", as_of: str = "2024-12-31") -> Release:
    """A valid release: Seattle (sea: north, west) and Santa Fe (sfe: central)."""
    tables = {
        "sites": _rows(
            "site_id,site_name,state,launched",
            "sea,Seattle,WA,2011-10",
            "sfe,Santa Fe,NM,2014-03",
        ),
        "precincts": _rows(
            "site_id,precinct_id,precinct_name",
            "sea,north,North",
            "sea,west,West",
            "sfe,central,Central",
        ),
        "referrals": _rows(
            "site_id,precinct_id,month,pathway,offense,race_ethnicity,gender,age_band,referrals,enrolled",
            "sea,north,2024-01,arrest_diversion,drug_possession,black,male,25-34,3,2",
            "sea,north,2024-01,social_contact,sex_work,white,female,18-24,2,1",
            "sea,west,2024-02,community_referral,theft_property,hispanic_latino,nonbinary,35-44,1,1",
            "sfe,central,2024-01,arrest_diversion,drug_sales_subsistence,white,male,45-54,4,3",
        ),
        # Each site/precinct/month's outcomes add up to its referrals (5, 1, 4) and
        # its 'enrolled' outcome equals the enrolled among them (3, 1, 3).
        "screening": _rows(
            "site_id,precinct_id,month,outcome,persons",
            "sea,north,2024-01,enrolled,3",
            "sea,north,2024-01,declined,1",
            "sea,north,2024-01,excluded_violent_history,1",
            "sea,west,2024-02,enrolled,1",
            "sfe,central,2024-01,enrolled,3",
            "sfe,central,2024-01,pending,1",
        ),
        "eligible_contacts": _rows(
            "site_id,precinct_id,month,race_ethnicity,eligible_contacts",
            "sea,north,2024-01,black,40",
            "sea,north,2024-01,white,25",
            "sfe,central,2024-01,white,30",
        ),
        "caseload": _rows(
            "site_id,precinct_id,month,race_ethnicity,active_participants",
            "sea,north,2024-01,black,12",
            "sea,north,2024-01,white,9",
            "sfe,central,2024-01,white,7",
        ),
        "services": _rows(
            "site_id,precinct_id,month,race_ethnicity,service,participants_served",
            "sea,north,2024-01,black,housing,5",
            "sea,north,2024-01,white,counseling,9",
            "sfe,central,2024-01,white,drug_treatment,7",
        ),
        "recidivism": _rows(
            "site_id,cohort,group,race_ethnicity,followup_months,cohort_size,rearrested,new_felony_charge",
            "sea,2023-Q1,lead,black,6,20,4,1",
            "sea,2023-Q1,lead,black,12,20,7,2",
            "sea,2023-Q1,comparison,black,6,18,6,2",
            "sea,2023-Q1,comparison,black,12,18,9,3",
        ),
        "costs": _rows(
            "site_id,fiscal_year,group,category,persons,total_cost_usd",
            "sea,2024,lead,program,20,150000.50",
            "sea,2024,comparison,jail,18,98000",
        ),
        "population": _rows(
            "site_id,precinct_id,race_ethnicity,year,population",
            "sea,north,black,2023,5200",
            "sea,north,white,2023,30100",
            "sfe,central,white,2023,41000",
        ),
    }
    manifest = {
        "release_id": release_id,
        "as_of": as_of,
        "sites": ["sea", "sfe"],
        "produced_by": "Test data office",
        "notes": "Written by tests/release_builder.py",
        "synthetic": True,
    }
    return Release(manifest, tables)
