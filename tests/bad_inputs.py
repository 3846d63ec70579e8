"""Every class of bad input the contract rejects, as a change to the minimal release.

Each case writes a real release folder with one mistake and states where the
mistake must be reported: file, line (None where no line applies, e.g. a
missing file), column, and words the message must contain. test_validate runs
them through `validate_release`, test_load through `load_release` on SQLite and
PostgreSQL, checking the database is left exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from release_builder import Release, line_of, minimal_release


@dataclass(frozen=True)
class BadInput:
    name: str
    file: str
    line: int | None
    column: str | None
    says: str
    edit: Callable[[Release], None] | None = None
    raw: Callable[[Path], None] | None = None  # edits the written files
    parquet: tuple[str, ...] = ()

    def write(self, folder: Path) -> Path:
        release = minimal_release()
        if self.edit:
            self.edit(release)
        release.write(folder, parquet=self.parquet)
        if self.raw:
            self.raw(folder)
        return folder

    def found_in(self, problems) -> bool:
        return any(
            p.file == self.file
            and p.line == self.line
            and p.column == self.column
            and self.says in p.message
            for p in problems
        )


def _set(table: str, row: int, column: str, value: str) -> Callable[[Release], None]:
    def edit(release: Release) -> None:
        release.tables[table][row][column] = value

    return edit


def _manifest(**changes) -> Callable[[Release], None]:
    def edit(release: Release) -> None:
        for key, value in changes.items():
            if value is _DELETE:
                del release.manifest[key]
            else:
                release.manifest[key] = value

    return edit


_DELETE = object()


def _rewrite_lines(file: str, change: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def raw(folder: Path) -> None:
        path = folder / file
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(change(lines)) + "\n", encoding="utf-8")

    return raw


def _replace_header(file: str, old: str, new: str) -> Callable[[Path], None]:
    return _rewrite_lines(file, lambda lines: [lines[0].replace(old, new), *lines[1:]])


def _drop_column(file: str, column: str) -> Callable[[Path], None]:
    def change(lines: list[str]) -> list[str]:
        index = lines[0].split(",").index(column)
        return [",".join(v for i, v in enumerate(line.split(",")) if i != index) for line in lines]

    return _rewrite_lines(file, change)


def _bytes(file: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    def raw(folder: Path) -> None:
        path = folder / file
        path.write_bytes(path.read_bytes().replace(old, new, 1))

    return raw


def _nested_notes(depth: int) -> Callable[[Path], None]:
    """release.json's notes (line 9) replaced by lists nested `depth` deep."""

    def raw(folder: Path) -> None:
        path = folder / "release.json"
        lines = path.read_text().split("\n")
        assert lines[8].lstrip().startswith('"notes"')
        lines[8] = '  "notes": ' + "[" * depth + "]" * depth + ","
        path.write_text("\n".join(lines))

    return raw


def _delete(file: str) -> Callable[[Path], None]:
    return lambda folder: (folder / file).unlink()


def _append_copy(table: str, row: int) -> Callable[[Release], None]:
    return lambda release: release.tables[table].append(dict(release.tables[table][row]))


def _both(*edits: Callable[[Release], None]) -> Callable[[Release], None]:
    def edit(release: Release) -> None:
        for each in edits:
            each(release)

    return edit


def _write_parquet_copy(table: str) -> Callable[[Path], None]:
    def raw(folder: Path) -> None:
        minimal_release().write(folder / "_copy", parquet=[table])
        (folder / "_copy" / f"{table}.parquet").rename(folder / f"{table}.parquet")

    return raw


# Line numbers in the minimal release: row i of a table is on line i + 2; in
# release.json (indented JSON) release_id is on line 2, as_of 3, sites 4 to 7,
# produced_by 8, notes 9, synthetic 10.
CASES: list[BadInput] = [
    # --- release.json ---------------------------------------------------------------------
    BadInput(
        "manifest-missing",
        "release.json",
        None,
        None,
        "is missing",
        raw=_delete("release.json"),
    ),
    BadInput(
        "manifest-bad-json",
        "release.json",
        3,
        None,
        "not valid JSON",
        raw=lambda folder: (folder / "release.json").write_text(
            '{\n  "release_id": "test-2024-12",\n  "as_of" "2024-12-31"\n}\n'
        ),
    ),
    BadInput(
        # Python's JSON parser ended this in a RecursionError traceback (issue 17).
        "manifest-nested-100000-deep",
        "release.json",
        9,
        None,
        "nests lists or objects more than 20 levels deep",
        raw=_nested_notes(100_000),
    ),
    BadInput(
        "manifest-nested-21-deep",
        "release.json",
        9,
        None,
        "nests lists or objects more than 20 levels deep",
        raw=_nested_notes(20),  # inside the top-level object: 21 levels
    ),
    BadInput(
        "manifest-nested-20-deep",  # within the limit: judged as a value like any other
        "release.json",
        9,
        "notes",
        "notes must be text in quotes, not a list",
        raw=_nested_notes(19),
    ),
    BadInput(
        "manifest-not-object",
        "release.json",
        1,
        None,
        "one JSON object",
        raw=lambda folder: (folder / "release.json").write_text(json.dumps(["test"])),
    ),
    BadInput(
        "manifest-missing-field",
        "release.json",
        None,
        "as_of",
        "'as_of' is missing",
        edit=_manifest(as_of=_DELETE),
    ),
    BadInput(
        "manifest-unknown-field",
        "release.json",
        10,
        "synthetc",
        "did you mean 'synthetic'?",
        edit=_both(_manifest(synthetic=_DELETE), _manifest(synthetc=True)),
    ),
    BadInput(
        "manifest-wrong-type",
        "release.json",
        10,
        "synthetic",
        "true or false",
        edit=_manifest(synthetic="yes"),
    ),
    BadInput(
        "release-id-not-slug",
        "release.json",
        2,
        "release_id",
        "not a slug",
        edit=_manifest(release_id="Test 2024"),
    ),
    BadInput(
        "as-of-not-date",
        "release.json",
        3,
        "as_of",
        "not a date written YYYY-MM-DD",
        edit=_manifest(as_of="2024-13-01"),
    ),
    BadInput(
        "manifest-sites-not-list",
        "release.json",
        4,
        "sites",
        "non-empty list",
        edit=_manifest(sites="sea"),
    ),
    # open_data (optional) is written last: "open_data" on line 11, the site on 12, its
    # first term on 13.
    BadInput(
        "open-data-not-object",
        "release.json",
        11,
        "open_data",
        "must be an object naming sites",
        edit=_manifest(open_data="CC-BY-4.0"),
    ),
    BadInput(
        "open-data-site-unknown",
        "release.json",
        12,
        "open_data.atlantis",
        "not one of the release's sites (sea, sfe)",
        edit=_manifest(open_data={"atlantis": {"licence": "CC0-1.0"}}),
    ),
    BadInput(
        "open-data-term-misspelled",
        "release.json",
        13,
        "open_data.sea.license",
        "did you mean 'licence'?",
        edit=_manifest(open_data={"sea": {"license": "CC0-1.0"}}),
    ),
    BadInput(
        "open-data-licence-unknown",
        "release.json",
        13,
        "open_data.sea.licence",
        "did you mean 'CC-BY-4.0'?",
        edit=_manifest(open_data={"sea": {"licence": "CC BY 4.0"}}),
    ),
    BadInput(
        "open-data-licence-not-text",
        "release.json",
        13,
        "open_data.sea.licence",
        "licence must be text in quotes",
        edit=_manifest(open_data={"sea": {"licence": 4}}),
    ),
    BadInput(
        "open-data-contact-not-an-address",
        "release.json",
        14,
        "open_data.sea.contact",
        "neither an email address nor a web address",
        edit=_manifest(open_data={"sea": {"licence": "CC0-1.0", "contact": "call Dana"}}),
    ),
    BadInput(
        "open-data-privacy-policy-not-https",
        "release.json",
        13,
        "open_data.sfe.privacy_policy_url",
        "starting https://",
        edit=_manifest(open_data={"sfe": {"privacy_policy_url": "http://sfe.example/privacy"}}),
    ),
    # --- files and headers ----------------------------------------------------------------
    BadInput(
        "required-file-missing",
        "precincts.csv",
        None,
        None,
        "is missing",
        raw=_delete("precincts.csv"),
    ),
    BadInput(
        "unknown-file",
        "screenings.csv",
        None,
        None,
        "did you mean screening.csv?",
        raw=lambda folder: (folder / "screening.csv").rename(folder / "screenings.csv"),
    ),
    BadInput(
        "csv-and-parquet",
        "referrals.parquet",
        None,
        None,
        "referrals.csv is present too",
        raw=_write_parquet_copy("referrals"),
    ),
    BadInput(
        "empty-file-no-header",
        "referrals.csv",
        1,
        None,
        "has no header row",
        raw=lambda folder: (folder / "referrals.csv").write_bytes(b""),
    ),
    BadInput(
        "header-row-missing",
        "caseload.csv",
        1,
        None,
        "does not look like a header row",
        raw=_rewrite_lines("caseload.csv", lambda lines: lines[1:]),
    ),
    BadInput(
        "required-column-missing",
        "referrals.csv",
        1,
        "enrolled",
        "the column 'enrolled' is missing",
        raw=_drop_column("referrals.csv", "enrolled"),
    ),
    BadInput(
        "unknown-column-typo",
        "caseload.csv",
        1,
        "race_ethnicty",
        "did you mean 'race_ethnicity'?",
        raw=_replace_header("caseload.csv", "race_ethnicity", "race_ethnicty"),
    ),
    BadInput(
        "column-named-twice",
        "costs.csv",
        1,
        "persons",
        "names column 'persons' twice",
        raw=_rewrite_lines(
            "costs.csv",
            lambda lines: [lines[0] + ",persons", *(line + ",1" for line in lines[1:])],
        ),
    ),
    BadInput(
        "ragged-row",
        "referrals.csv",
        3,
        None,
        "has 11 values but the header (line 1) names 10 columns",
        raw=_rewrite_lines(
            "referrals.csv", lambda lines: [*lines[:2], lines[2] + ",9", *lines[3:]]
        ),
    ),
    BadInput(
        "invalid-utf-8",
        "precincts.csv",
        3,
        None,
        "is not valid UTF-8",
        raw=_bytes("precincts.csv", b"West", b"W\xe9st"),
    ),
    BadInput(
        "field-too-large-for-csv",
        "precincts.csv",
        2,
        None,
        "cannot be read as CSV",
        raw=_bytes("precincts.csv", b"North", b"N" * 140_000),
    ),
    # --- values ---------------------------------------------------------------------------
    BadInput(
        "race-code",
        "referrals.csv",
        line_of(0),
        "race_ethnicity",
        "'blak' is not a race_ethnicity code; did you mean 'black'? Expected one of aian,",
        edit=_set("referrals", 0, "race_ethnicity", "blak"),
    ),
    BadInput(
        "pathway-code",
        "referrals.csv",
        line_of(1),
        "pathway",
        "not a pathway code",
        edit=_set("referrals", 1, "pathway", "walk_in"),
    ),
    BadInput(
        "offense-code",
        "referrals.csv",
        line_of(2),
        "offense",
        "not a offense code",
        edit=_set("referrals", 2, "offense", "burglary"),
    ),
    BadInput(
        "gender-code",
        "referrals.csv",
        line_of(3),
        "gender",
        "did you mean 'female'?",
        edit=_set("referrals", 3, "gender", "Female"),
    ),
    BadInput(
        "age-band-code",
        "referrals.csv",
        line_of(0),
        "age_band",
        "not a age_band code",
        edit=_set("referrals", 0, "age_band", "25-35"),
    ),
    BadInput(
        "outcome-code",
        "screening.csv",
        line_of(1),
        "outcome",
        "not a outcome code",
        edit=_set("screening", 1, "outcome", "refused"),
    ),
    BadInput(
        "service-code",
        "services.csv",
        line_of(0),
        "service",
        "not a service code",
        edit=_set("services", 0, "service", "shelter"),
    ),
    BadInput(
        "group-code",
        "costs.csv",
        line_of(1),
        "group",
        "not a group code",
        edit=_set("costs", 1, "group", "control"),
    ),
    BadInput(
        "category-code",
        "costs.csv",
        line_of(0),
        "category",
        "not a category code",
        edit=_set("costs", 0, "category", "parking"),
    ),
    BadInput(
        "state-code",
        "sites.csv",
        line_of(0),
        "state",
        "not a two-letter US state code",
        edit=_set("sites", 0, "state", "Washington"),
    ),
    BadInput(
        "identifier",
        "precincts.csv",
        line_of(1),
        "precinct_id",
        "not an identifier",
        edit=_set("precincts", 1, "precinct_id", "west side"),
    ),
    BadInput(
        "empty-name",
        "precincts.csv",
        line_of(0),
        "precinct_name",
        "the value is empty",
        edit=_set("precincts", 0, "precinct_name", ""),
    ),
    BadInput(
        "count-negative",
        "population.csv",
        line_of(0),
        "population",
        "'-5' is negative",
        edit=_set("population", 0, "population", "-5"),
    ),
    BadInput(
        "count-not-whole",
        "eligible_contacts.csv",
        line_of(0),
        "eligible_contacts",
        "'2.5' is not a whole number",
        edit=_set("eligible_contacts", 0, "eligible_contacts", "2.5"),
    ),
    BadInput(
        "count-not-number",
        "caseload.csv",
        line_of(0),
        "active_participants",
        "'twelve' is not a number",
        edit=_set("caseload", 0, "active_participants", "twelve"),
    ),
    BadInput(
        "followup-zero",
        "recidivism.csv",
        line_of(0),
        "followup_months",
        "followup_months is 1 or more",
        edit=_set("recidivism", 0, "followup_months", "0"),
    ),
    BadInput(
        "cost-negative",
        "costs.csv",
        line_of(1),
        "total_cost_usd",
        "'-10' is negative; costs are 0 or more",
        edit=_set("costs", 1, "total_cost_usd", "-10"),
    ),
    BadInput(
        "cost-formatted",
        "costs.csv",
        line_of(0),
        "total_cost_usd",
        "without '$' or ','",
        edit=_set("costs", 0, "total_cost_usd", "$1,200"),
    ),
    # --- dates ----------------------------------------------------------------------------
    BadInput(
        "month-malformed",
        "eligible_contacts.csv",
        line_of(0),
        "month",
        "'2024-1' is not a month written YYYY-MM",
        edit=_set("eligible_contacts", 0, "month", "2024-1"),
    ),
    BadInput(
        "month-after-as-of",
        "eligible_contacts.csv",
        line_of(0),
        "month",
        "'2025-03' is a month after the release's as_of date (2024-12-31",
        edit=_set("eligible_contacts", 0, "month", "2025-03"),
    ),
    BadInput(
        "month-before-launch",
        "eligible_contacts.csv",
        line_of(2),
        "month",
        "'2014-01' is before site 'sfe' launched (2014-03, sites.csv line 3)",
        edit=_set("eligible_contacts", 2, "month", "2014-01"),
    ),
    BadInput(
        "launch-after-as-of",
        "sites.csv",
        line_of(1),
        "launched",
        "after the release's as_of date",
        edit=_set("sites", 1, "launched", "2025-02"),
    ),
    BadInput(
        "cohort-malformed",
        "recidivism.csv",
        line_of(2),
        "cohort",
        "not a quarter written YYYY-Qn",
        edit=_set("recidivism", 2, "cohort", "2023Q1"),
    ),
    BadInput(
        "cohort-after-as-of",
        "recidivism.csv",
        line_of(0),
        "cohort",
        "'2025-Q1' is a quarter after the release's as_of date",
        edit=_set("recidivism", 0, "cohort", "2025-Q1"),
    ),
    BadInput(
        "cohort-before-launch",
        "recidivism.csv",
        line_of(0),
        "cohort",
        "'2011-Q3' is before site 'sea' launched (2011-10",
        edit=_set("recidivism", 0, "cohort", "2011-Q3"),
    ),
    BadInput(
        "year-after-as-of",
        "population.csv",
        line_of(0),
        "year",
        "'2026' is a year after",
        edit=_set("population", 0, "year", "2026"),
    ),
    BadInput(
        "fiscal-year-after-as-of",
        "costs.csv",
        line_of(0),
        "fiscal_year",
        "'2026' is a year after",
        edit=_set("costs", 0, "fiscal_year", "2026"),
    ),
    # --- sites and precincts across files --------------------------------------------------
    BadInput(
        "site-not-in-sites-csv",
        "caseload.csv",
        line_of(1),
        "site_id",
        "'tac' is not a site declared in sites.csv",
        edit=_set("caseload", 1, "site_id", "tac"),
    ),
    BadInput(
        "site-not-in-manifest",
        "sites.csv",
        line_of(1),
        "site_id",
        "'sfe' is not listed in release.json's sites",
        edit=_manifest(sites=["sea"]),
    ),
    BadInput(
        "manifest-site-without-row",
        "release.json",
        4,
        "sites",
        "'abq' is listed in sites but has no row in sites.csv",
        edit=_manifest(sites=["sea", "sfe", "abq"]),
    ),
    BadInput(
        "precinct-not-of-site",
        "eligible_contacts.csv",
        line_of(2),
        "precinct_id",
        "'north' is not a precinct of site 'sfe' in precincts.csv",
        edit=_set("eligible_contacts", 2, "precinct_id", "north"),
    ),
    # --- keys and sums --------------------------------------------------------------------
    BadInput(
        "duplicate-key",
        "population.csv",
        line_of(3),
        "site_id, precinct_id, race_ethnicity, year",
        "repeats line 2",
        edit=_append_copy("population", 0),
    ),
    BadInput(
        "enrolled-over-referrals",
        "referrals.csv",
        line_of(3),
        "enrolled",
        "5 enrolled is more than the 4 referrals",
        edit=_set("referrals", 3, "enrolled", "5"),
    ),
    BadInput(
        # 3 + 2 + 1 = 6 outcomes, but referrals.csv lines 2 and 3 hold 3 + 2 = 5 referrals.
        "screening-total",
        "screening.csv",
        line_of(0),
        "persons",
        "the screening outcomes add up to 6 people, but referrals.csv (lines 2 and 3) "
        "counts 5 referrals",
        edit=_set("screening", 1, "persons", "2"),
    ),
    BadInput(
        # Santa Fe: 2 enrolled + 2 pending = 4 = referrals, but referrals.csv enrolled 3.
        "screening-enrolled",
        "screening.csv",
        line_of(4),
        "persons",
        "the 'enrolled' outcome counts 2 people, but referrals.csv (line 5) counts 3 enrolled",
        edit=_both(_set("screening", 4, "persons", "2"), _set("screening", 5, "persons", "2")),
    ),
    BadInput(
        "served-over-active",
        "services.csv",
        line_of(0),
        "participants_served",
        "13 served with housing is more than the 12 active participants in caseload.csv line 2",
        edit=_set("services", 0, "participants_served", "13"),
    ),
    BadInput(
        "services-without-caseload",
        "services.csv",
        line_of(2),
        "race_ethnicity",
        "caseload.csv has no row for site 'sfe', precinct 'central', month 2024-01, "
        "race_ethnicity black",
        edit=_set("services", 2, "race_ethnicity", "black"),
    ),
    BadInput(
        "rearrested-over-cohort",
        "recidivism.csv",
        line_of(3),
        "rearrested",
        "19 rearrested is more than the cohort_size of 18",
        edit=_set("recidivism", 3, "rearrested", "19"),
    ),
    BadInput(
        "felony-over-cohort",
        "recidivism.csv",
        line_of(1),
        "new_felony_charge",
        "21 new_felony_charge is more than the cohort_size of 20",
        edit=_set("recidivism", 1, "new_felony_charge", "21"),
    ),
    BadInput(
        "rearrested-decreasing",
        "recidivism.csv",
        line_of(1),
        "rearrested",
        "3 rearrested at 12 months is fewer than 4 at 6 months (line 2",
        edit=_set("recidivism", 1, "rearrested", "3"),
    ),
    BadInput(
        "felony-decreasing",
        "recidivism.csv",
        line_of(3),
        "new_felony_charge",
        "1 new_felony_charge at 12 months is fewer than 2 at 6 months (line 4",
        edit=_set("recidivism", 3, "new_felony_charge", "1"),
    ),
    BadInput(
        "cohort-size-changes",
        "recidivism.csv",
        line_of(1),
        "cohort_size",
        "cohort_size 21 differs from 20 on line 2",
        edit=_set("recidivism", 1, "cohort_size", "21"),
    ),
    # --- Parquet is held to the same rules, with row numbers for lines ---------------------
    BadInput(
        "parquet-bad-code",
        "referrals.parquet",
        1,
        "race_ethnicity",
        "'blak' is not a race_ethnicity code",
        edit=_set("referrals", 0, "race_ethnicity", "blak"),
        parquet=("referrals",),
    ),
]
