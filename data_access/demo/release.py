"""Write demonstration releases to disk in the exact form of data contract v1.

Three quarterly releases, as a real site publishes them: as of June,
September and December 2025. Each adds a quarter; the December one is also a
correction release: it corrects an error carried by the two before it (a batch
of referral records imported twice), and its notes say so, the way a
corrections log should. Publishing them in turn is what the cross-release
protection (data_access/disclosure/earlier.py) must hold up against.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from data_access.contract import MANIFEST_FIELDS, TABLES
from data_access.demo.simulate import Simulation, month_index
from data_access.demo.tabulate import tabulate

PRODUCED_BY = "LEAD dashboard demonstration-data generator (data_access.demo); synthetic data"
SYNTHETIC_WARNING = "Synthetic demonstration data: not real LEAD results."


@dataclass(frozen=True)
class DemoRelease:
    release_id: str
    as_of: dt.date


EARLIER = DemoRelease("demo-2025-06", dt.date(2025, 6, 30))
MIDDLE = DemoRelease("demo-2025-09", dt.date(2025, 9, 30))
CURRENT = DemoRelease("demo-2025-12", dt.date(2025, 12, 31))
RELEASES = (EARLIER, MIDDLE, CURRENT)  # oldest first
# The error carried by the earlier release: this precinct's referral records
# for this month were imported twice.
DUPLICATED_SITE, DUPLICATED_PRECINCT, DUPLICATED_MONTH = "seattle", "east", "2025-01"


def duplicated_batch(sim: Simulation) -> np.ndarray:
    """Indices of the people whose referral records the earlier release counts twice."""
    site = next(i for i, s in enumerate(sim.sites) if s.site_id == DUPLICATED_SITE)
    local = [p.precinct_id for p in sim.sites[site].precincts].index(DUPLICATED_PRECINCT)
    precinct = int(np.flatnonzero(sim.precinct_site == site)[local])
    people = sim.people
    return np.flatnonzero(
        (people.precinct == precinct) & (np.floor(people.time) == month_index(DUPLICATED_MONTH))
    )


def _site_names(sim: Simulation) -> str:
    names = [s.name for s in sim.sites]
    if len(names) > 3:
        return f"{', '.join(names[:3])} and {len(names) - 3} invented sites"
    return f"{', '.join(names[:-1])} and {names[-1]}"


def release_notes(sim: Simulation) -> dict[str, str]:
    """The `notes` of each demo release.

    Notes are published verbatim, so they name no count of people: a corrections
    log that said "fell by 9" would publish a small count the tables withhold.
    """
    earlier = (
        f"{SYNTHETIC_WARNING} First demonstration release: {_site_names(sim)}, monthly from "
        f"each site's launch through June 2025. Referrals of the last weeks before 30 June "
        f"whose screening was not finished are counted as pending."
    )
    middle = (
        f"{SYNTHETIC_WARNING} Adds July to September 2025; screening outcomes pending in "
        f"{EARLIER.release_id} are now final."
    )
    current = (
        f"{SYNTHETIC_WARNING} Adds October to December 2025; screening outcomes pending in "
        f"{MIDDLE.release_id} are now final. Correction to {EARLIER.release_id} and "
        f"{MIDDLE.release_id}: a batch of "
        f"Seattle East Precinct referral records for {DUPLICATED_MONTH} was imported twice "
        f"and is now counted once, so that month's East Precinct referrals, screening "
        f"outcomes and enrollments are lower than first published. "
        f"Caseload, services and outcomes came from the case-management system and were "
        f"not affected."
    )
    return {EARLIER.release_id: earlier, MIDDLE.release_id: middle, CURRENT.release_id: current}


def _moment(release: DemoRelease) -> float:
    # as_of is always a month's last day here, so it is the start of the next month.
    return release.as_of.year * 12 + release.as_of.month


def manifest(release: DemoRelease, sim: Simulation, notes: str) -> dict[str, object]:
    content = {
        "release_id": release.release_id,
        "as_of": release.as_of.isoformat(),
        "sites": [s.site_id for s in sim.sites if month_index(s.launched) < _moment(release)],
        "produced_by": PRODUCED_BY,
        "notes": notes,
        "synthetic": True,
    }
    # The demo states no open-data terms (open_data): its sites publish under the default
    # licence, with no contact or privacy-policy address, which the bundles then say.
    return {name: content[name] for name in MANIFEST_FIELDS if name in content}


def write_release(
    folder: Path, manifest_content: dict[str, object], tables: dict[str, pl.DataFrame]
) -> Path:
    """Write release.json and one CSV per table: UTF-8, LF, contract column order."""
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest_content, indent=2, ensure_ascii=False) + "\n"
    (folder / "release.json").write_text(text, encoding="utf-8", newline="\n")
    for table in TABLES:
        frame = tables[table.name].select(table.column_names)
        frame.write_csv(folder / table.file_name, float_precision=2, line_terminator="\n")
    return folder


def write_releases(directory: Path, sim: Simulation) -> list[Path]:
    """Every demo release, oldest first; all but the last carry the duplicated batch."""
    notes = release_notes(sim)
    paths = []
    for release in RELEASES:
        duplicated = duplicated_batch(sim) if release is not CURRENT else None
        paths.append(
            write_release(
                directory / release.release_id,
                manifest(release, sim, notes[release.release_id]),
                tabulate(sim, release.as_of, duplicated=duplicated),
            )
        )
    return paths
