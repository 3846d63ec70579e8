"""Validate a release folder against data contract v1, reporting every problem in one pass.

Checks run file by file (header, each value, duplicate keys), then across
rows and files (see data_access.cross_checks). Values that fail their own
check are set aside before the cross-file checks, so one typo is reported
once rather than again as every sum it spoils. Checks are polars expressions
and joins, so a national release of a million rows validates in seconds.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_access.contract import TABLES, TABLES_BY_NAME, Column, Kind, Table
from data_access.cross_checks import check_consistency
from data_access.manifest import Manifest, check_manifest
from data_access.problems import Problem, ProblemCollector, quoted
from data_access.release_files import LINE, TableFile, read_release_folder, typed_frame
from data_access.vocabulary import VOCABULARY_OF_COLUMN

__all__ = ["Problem", "ValidationReport", "validate_release"]

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split()
)
MAX_COUNT_DIGITS = 9  # a count above 999,999,999 people is a data-entry error
MAX_FOLLOWUP_MONTHS = 600
MAX_TEXT_LENGTH = 200  # names of sites and precincts


@dataclass
class ValidationReport:
    """The outcome of validating one release folder."""

    path: Path
    problems: list[Problem]  # listed problems, with "and N more" lines for long runs
    problem_count: int  # every problem, listed or not
    manifest: dict | None  # release.json as given, when it is a JSON object
    # Each table present, its values parsed by kind (a value that failed is null).
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # the files that make up the release

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def lines(self) -> list[str]:
        """The problems as printable lines, then a count."""
        if self.ok:
            return []
        noun = "problem" if self.problem_count == 1 else "problems"
        return [str(p) for p in self.problems] + [
            f"{self.problem_count:,} {noun} found in {self.path}"
        ]


def validate_release(path: Path | str) -> ValidationReport:
    """Check the release folder at `path`; the report lists every problem found."""
    problems = ProblemCollector()
    folder = read_release_folder(path, problems)
    manifest = (
        check_manifest(folder.manifest_text, problems)
        if folder.path.is_dir()
        else Manifest(None, None, None, None)
    )

    clean: dict[str, pl.DataFrame] = {}
    file_names: dict[str, str] = {}
    for table in TABLES:
        table_file = folder.tables.get(table.name)
        if table_file is None:
            if table.required and folder.path.is_dir() and not _unreadable(folder, table):
                problems.add(
                    "missing-file",
                    Problem(
                        table.file_name,
                        None,
                        None,
                        None,
                        f"is missing; every release needs it ({table.description})",
                    ),
                )
            continue
        file_names[table.name] = table_file.file_name
        present = _check_header(table_file, problems)
        clean[table.name] = _check_values(table_file, present, problems)
        if set(table.key) <= present:
            _check_duplicate_keys(table_file, problems)

    check_consistency(clean, file_names, manifest, problems, incomplete=folder.incomplete)

    tables = {
        name: frame.drop(LINE)
        for name, frame in clean.items()
        if set(frame.columns) >= set(TABLES_BY_NAME[name].column_names)
    }
    return ValidationReport(
        path=folder.path,
        problems=problems.problems(),
        problem_count=problems.total,
        manifest=manifest.data,
        tables=tables,
        files=folder.files,
    )


def _unreadable(folder, table: Table) -> bool:
    # A file that exists but could not be read has been reported already.
    return any((folder.path / f"{table.name}.{ext}").is_file() for ext in ("csv", "parquet"))


def _check_header(table_file: TableFile, problems: ProblemCollector) -> set[str]:
    """Report missing and unknown columns; return the contract columns present."""
    table, header, line = table_file.table, table_file.header, table_file.header_line
    name = table_file.file_name
    known = table.column_names
    if len(header) == len(known) and not set(header) & set(known):
        problems.add(
            "header",
            Problem(
                name,
                line,
                None,
                None,
                "does not look like a header row (it names no known column); the first line "
                "must name the columns: " + ", ".join(known),
            ),
        )
        return set()
    for column in table.columns:
        if column.name not in header:
            problems.add(
                "header",
                Problem(
                    name,
                    line,
                    column.name,
                    None,
                    f"the column {column.name!r} is missing: {column.description}",
                ),
            )
    for given in header:
        if given in known or given.startswith("(unnamed") or " (again, column " in given:
            continue
        close = difflib.get_close_matches(given, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problems.add(
            "header",
            Problem(
                name,
                line,
                given,
                given,
                f"{given!r} is not a column of {name}; {hint}the columns are {', '.join(known)}",
            ),
        )
    return {c for c in known if c in header}


def _valid_value(column: Column) -> pl.Expr:
    """True where the column's text is a well-formed value of its kind."""
    c = pl.col(column.name)
    match column.kind:
        case Kind.ID:
            return c.str.contains(r"^[A-Za-z0-9_-]{1,64}$")
        case Kind.TEXT:
            # Control characters (NUL, line breaks) break exports and PostgreSQL text.
            return (
                (c != "")
                & (c.str.len_chars() <= MAX_TEXT_LENGTH)
                & ~c.str.contains(r"[\x00-\x1f\x7f]")
            )
        case Kind.STATE:
            return c.is_in(sorted(US_STATES))
        case Kind.CODE:
            return c.is_in(list(VOCABULARY_OF_COLUMN[column.name]))
        case Kind.MONTH:
            return c.str.contains(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")
        case Kind.COHORT:
            return c.str.contains(r"^(19|20)\d{2}-Q[1-4]$")
        case Kind.YEAR:
            return c.str.contains(r"^(19|20)\d{2}$")
        case Kind.COUNT:
            return c.str.contains(rf"^\d{{1,{MAX_COUNT_DIGITS}}}$")
        case Kind.POSITIVE:
            number = c.cast(pl.Int64, strict=False)
            return c.str.contains(r"^\d{1,9}$") & (number >= 1) & (number <= MAX_FOLLOWUP_MONTHS)
        case Kind.MONEY:
            return c.str.contains(r"^\d{1,14}(\.\d{1,2})?$")
    raise AssertionError(f"no check for kind {column.kind}")  # a new Kind needs one


def _check_values(
    table_file: TableFile, present: set[str], problems: ProblemCollector
) -> pl.DataFrame:
    """Report each malformed value; return the frame typed, malformed values as null."""
    frame = table_file.frame
    table = table_file.table
    checks = {c.name: _valid_value(c).fill_null(False) for c in table.columns if c.name in present}
    if checks:
        flags = frame.select(LINE, *(expr.alias(name) for name, expr in checks.items()))
        for column in table.columns:
            if column.name not in checks:
                continue
            bad = frame.filter(~flags[column.name])
            problems.add_many(
                f"value:{column.name}",
                table_file.file_name,
                bad.height,
                bad.head(problems.limit).select(LINE, column.name).iter_rows(named=True),
                lambda row, column=column: Problem(
                    table_file.file_name,
                    row[LINE],
                    column.name,
                    row[column.name],
                    value_message(column, row[column.name]),
                ),
            )
        frame = frame.with_columns(
            pl.when(flags[name]).then(pl.col(name)).otherwise(None).alias(name) for name in checks
        )
    return typed_frame(table, frame.select(*checks, LINE), keep_line=True)


def value_message(column: Column, value: str) -> str:
    """Why `value` is not a valid value of `column`, and what would be."""
    name = column.name
    if value == "":
        return f"the value is empty; every row needs a {name}"
    shown = quoted(value)
    match column.kind:
        case Kind.ID:
            return (
                f"{shown} is not an identifier: use letters, digits, '_' and '-' only, "
                "at most 64 characters"
            )
        case Kind.TEXT:
            if len(value) > MAX_TEXT_LENGTH:
                return f"{shown} is longer than {MAX_TEXT_LENGTH} characters"
            return (
                f"{shown} contains a control character (such as a line break or tab); "
                "names are one line of plain text"
            )
        case Kind.STATE:
            hint = f"; did you mean {value.upper()!r}?" if value.upper() in US_STATES else ""
            return f"{shown} is not a two-letter US state code such as WA or NM{hint}"
        case Kind.CODE:
            codes = list(VOCABULARY_OF_COLUMN[name])
            normal = value.strip().lower().replace(" ", "_")
            close = [normal] if normal in codes else difflib.get_close_matches(normal, codes, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return f"{shown} is not a {name} code{hint} Expected one of {', '.join(codes)}"
        case Kind.MONTH:
            return f"{shown} is not a month written YYYY-MM, such as 2024-03"
        case Kind.COHORT:
            return f"{shown} is not a quarter written YYYY-Qn, such as 2024-Q1"
        case Kind.YEAR:
            return f"{shown} is not a year written YYYY, such as 2024"
        case Kind.COUNT | Kind.POSITIVE:
            return _count_message(column, value, shown)
        case Kind.MONEY:
            return _money_message(value, shown)
    return f"{shown} is not a valid {name}"


def _count_message(column: Column, value: str, shown: str) -> str:
    least = 1 if column.kind is Kind.POSITIVE else 0
    try:
        number = float(value)
    except ValueError:
        return (
            f"{shown} is not a number; {column.name} is a whole number, {least} or more, "
            "written with digits only (no commas, spaces or words)"
        )
    if number != int(number):
        return f"{shown} is not a whole number; {column.name} counts whole people or months"
    if number < least:
        if number < 0:
            return f"{shown} is negative; {column.name} is {least} or more"
        return f"{shown} is too small; {column.name} is {least} or more"
    if column.kind is Kind.POSITIVE and number > MAX_FOLLOWUP_MONTHS:
        return f"{shown} is more than {MAX_FOLLOWUP_MONTHS} months of follow-up"
    if number >= 10**MAX_COUNT_DIGITS:
        return f"{shown} is too large to be a count of people"
    return f"{shown} must be written as a plain whole number, such as {int(number)}"


def _money_message(value: str, shown: str) -> str:
    if "$" in value or "," in value:
        return f"{shown} must be written with digits only, without '$' or ',' (e.g. 1200.50)"
    try:
        number = float(value)
    except ValueError:
        return f"{shown} is not an amount of US dollars, such as 1200.50"
    if number < 0:
        return f"{shown} is negative; costs are 0 or more US dollars"
    if "." in value and len(value.split(".")[1]) > 2:
        return f"{shown} has more than two decimals; round it to whole cents"
    return f"{shown} is not an amount of US dollars written like 1200.50"


def _check_duplicate_keys(table_file: TableFile, problems: ProblemCollector) -> None:
    key = list(table_file.table.key)
    frame = table_file.frame.select(*key, LINE)
    repeats = (
        frame.with_columns(pl.col(LINE).min().over(key).alias("_first"))
        .filter(pl.col(LINE) != pl.col("_first"))
        .sort(LINE)
    )
    columns = ", ".join(key)
    problems.add_many(
        "duplicate-key",
        table_file.file_name,
        repeats.height,
        repeats.head(problems.limit).iter_rows(named=True),
        lambda row: Problem(
            table_file.file_name,
            row[LINE],
            columns,
            ", ".join(row[k] for k in key),
            f"repeats line {row['_first']}: both rows have "
            + ", ".join(f"{k} {quoted(row[k])}" for k in key)
            + "; each combination may appear only once (add the rows up into one)",
        ),
    )
