"""Read a release folder: release.json plus one CSV or Parquet file per table.

CSV files are read with Python's csv module rather than a fast columnar
reader because problems must be reported by line number: a ragged row, a
byte that is not UTF-8 or a missing header is named with the line it sits on.
Spreadsheet exports are accepted as they come: UTF-8 with or without a byte
order mark, LF or CRLF line endings, blank trailing rows.

Every value is kept as text (stripped of surrounding spaces) with the line it
came from in a `_line` column; validation checks the text, and `typed_frame`
turns checked text into numbers.
"""

from __future__ import annotations

import csv
import difflib
import gc
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_access.contract import TABLES, Kind, Table
from data_access.problems import Problem, ProblemCollector, quoted

MANIFEST_FILE = "release.json"
LINE = "_line"  # the column carrying each row's line (CSV) or row number (Parquet)

_INTEGER_KINDS = (Kind.COUNT, Kind.POSITIVE, Kind.YEAR)


@dataclass
class TableFile:
    """One table as read from disk: its header and its rows as text."""

    table: Table
    path: Path
    header: list[str]
    # One String column per header name (duplicates renamed), plus LINE (Int64).
    frame: pl.DataFrame
    header_line: int | None = None  # None for Parquet, whose header is not a line
    rows_skipped: int = 0  # rows that could not be read and are not in `frame`

    @property
    def file_name(self) -> str:
        return self.path.name


@dataclass
class ReleaseFolder:
    """What was found in a release folder, before its content is judged."""

    path: Path
    manifest_text: str | None = None
    tables: dict[str, TableFile] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # every file that makes up the release
    # Tables some of whose rows could not be read (ragged rows, a CSV syntax error):
    # sums and lookups against them would report differences that are not there.
    incomplete: set[str] = field(default_factory=set)


def read_release_folder(path: Path | str, problems: ProblemCollector) -> ReleaseFolder:
    """Read every release file in `path`, recording reading problems in `problems`."""
    folder = Path(path)
    result = ReleaseFolder(folder)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        problems.add(
            "folder",
            Problem(str(folder), None, None, None, f"{what}; a release is a folder of files"),
        )
        return result

    manifest = folder / MANIFEST_FILE
    if manifest.is_file():
        result.files.append(manifest)
        result.manifest_text = decode_utf8(manifest, problems)

    _report_unknown_files(folder, problems)

    for table in TABLES:
        csv_path = folder / f"{table.name}.csv"
        parquet_path = folder / f"{table.name}.parquet"
        if csv_path.is_file() and parquet_path.is_file():
            problems.add(
                "both-formats",
                Problem(
                    parquet_path.name,
                    None,
                    None,
                    None,
                    f"{csv_path.name} is present too; keep one of the two "
                    f"(the CSV file was checked and this one ignored)",
                ),
            )
        if csv_path.is_file():
            result.files.append(csv_path)
            read = read_csv_table(csv_path, table, problems)
        elif parquet_path.is_file():
            result.files.append(parquet_path)
            read = read_parquet_table(parquet_path, table, problems)
        else:
            continue
        if read is not None:
            result.tables[table.name] = read
        if read is None or read.rows_skipped:
            result.incomplete.add(table.name)
    return result


def _report_unknown_files(folder: Path, problems: ProblemCollector) -> None:
    # A misspelt file name would otherwise mean a table silently "not published".
    known = {MANIFEST_FILE} | {f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "parquet")}
    for entry in sorted(folder.iterdir()):
        if not entry.is_file() or entry.name in known:
            continue
        if entry.suffix.lower() not in (".csv", ".parquet", ".json"):
            continue  # a README or similar next to the data is harmless
        close = difflib.get_close_matches(entry.name, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.add(
            "unknown-file",
            Problem(
                entry.name,
                None,
                None,
                None,
                f"is not a file of the data contract{hint} "
                f"Known files: {MANIFEST_FILE} and <table>.csv for "
                f"{', '.join(t.name for t in TABLES)}",
            ),
        )


def decode_utf8(path: Path, problems: ProblemCollector) -> str:
    """The file's text (a leading BOM dropped); each line that is not UTF-8 is a problem.

    Undecodable bytes are replaced so the rest of the file can still be checked.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            raw_line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad = raw_line[exc.start : exc.start + 1].hex().upper()
            problems.add(
                "utf-8",
                Problem(
                    path.name,
                    number,
                    None,
                    None,
                    f"is not valid UTF-8 text (byte 0x{bad} at position {exc.start + 1}); "
                    "save the file as 'CSV UTF-8' (spreadsheets) or re-encode it as UTF-8",
                ),
            )
    return data.decode("utf-8-sig", errors="replace")


def read_csv_table(path: Path, table: Table, problems: ProblemCollector) -> TableFile | None:
    """Read a CSV file into text columns with line numbers; None if it has no header."""
    # Millions of small lists would set off the cyclic garbage collector again and
    # again (tripling the time to read a national file); none of them form cycles.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_csv_table(path, table, problems)
    finally:
        if collecting:
            gc.enable()


# The csv module's limit on one field is process-wide, and other libraries raise it (the
# frictionless package sets it to sys.maxsize on import): set ours each time we read.
CSV_FIELD_LIMIT = 131_072


def _read_csv_table(path: Path, table: Table, problems: ProblemCollector) -> TableFile | None:
    text = decode_utf8(path, problems)
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    previous_end = 0
    skipped = 0
    try:
        for row in reader:
            # line_num is the last physical line of the record (quoted fields may
            # span lines), so the record starts just after the previous one ended.
            start, previous_end = previous_end + 1, reader.line_num
            if header is not None and len(row) == len(header):
                rows.append(row)  # the common case, kept cheap for million-row files
                lines.append(start)
                continue
            if not any(value.strip() for value in row):
                continue  # blank lines carry nothing
            if header is None:
                header, header_line = [value.strip() for value in row], start
                continue
            skipped += 1
            problems.add(
                "ragged",
                Problem(
                    path.name,
                    start,
                    None,
                    None,
                    f"has {len(row)} values but the header (line {header_line}) "
                    f"names {len(header)} columns; every row needs one value per column "
                    "(check for a stray or missing comma, or an unquoted comma in a name)",
                ),
            )
    except csv.Error as exc:
        skipped += 1
        problems.add(
            "csv-syntax",
            Problem(
                path.name,
                previous_end + 1,
                None,
                None,
                f"cannot be read as CSV ({exc}); the rest of the file was not checked",
            ),
        )
    if header is None:
        problems.add(
            "no-header",
            Problem(
                path.name,
                1,
                None,
                None,
                "has no header row; the first line must name the columns: "
                + ", ".join(table.column_names),
            ),
        )
        return None
    names = _unique_header(path.name, header, header_line, problems)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    frame = pl.DataFrame(
        [
            pl.Series(name, values, dtype=pl.String)
            for name, values in zip(names, columns, strict=True)
        ]
        + [pl.Series(LINE, lines, dtype=pl.Int64)]
    )
    frame = frame.with_columns(pl.col(n).str.strip_chars() for n in names)
    # Spreadsheets often export trailing rows of empty cells: they carry nothing.
    frame = frame.filter(~pl.all_horizontal(pl.col(n) == "" for n in names))
    return TableFile(table, path, names, frame, header_line, skipped)


def _unique_header(
    file_name: str, header: list[str], line: int, problems: ProblemCollector
) -> list[str]:
    # Frames need distinct column names; a repeated or blank name is reported and
    # renamed so the rest of the file can still be checked.
    names: list[str] = []
    for position, name in enumerate(header, start=1):
        if not name:
            problems.add(
                "header",
                Problem(
                    file_name,
                    line,
                    None,
                    None,
                    f"the header's column {position} has no name; name it or delete the column",
                ),
            )
            name = f"(unnamed column {position})"
        elif name in names:
            problems.add(
                "header",
                Problem(
                    file_name,
                    line,
                    name,
                    None,
                    f"the header names column {quoted(name)} twice; each column appears once",
                ),
            )
            name = f"{name} (again, column {position})"
        names.append(name)
    return names


def read_parquet_table(path: Path, table: Table, problems: ProblemCollector) -> TableFile | None:
    """Read a Parquet file into the same text form as a CSV; row numbers stand for lines."""
    try:
        data = pl.read_parquet(path)
    except Exception as exc:  # any reader failure means the file is unusable
        problems.add(
            "parquet",
            Problem(path.name, None, None, None, f"cannot be read as Parquet: {exc}"),
        )
        return None
    columns = []
    for name in data.columns:
        col = pl.col(name)
        if data.schema[name].is_float():
            # 12.0 is the whole number 12; keep true fractions visible as such.
            as_text = (
                pl.when(col.is_not_null() & (col == col.round(0)))
                .then(col.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(col.cast(pl.String))
            )
        else:
            as_text = col.cast(pl.String, strict=False)
        columns.append(as_text.fill_null("").str.strip_chars().alias(name))
    frame = data.select(columns).with_row_index(LINE, offset=1)
    frame = frame.with_columns(pl.col(LINE).cast(pl.Int64))
    return TableFile(table, path, list(data.columns), frame)


def typed_frame(table: Table, frame: pl.DataFrame, *, keep_line: bool = False) -> pl.DataFrame:
    """The contract columns of `frame` parsed by kind; values that do not parse become null.

    Counts, follow-up months and years become Int64, money Float64, the rest
    stays text. Columns the file lacks are left out.
    """
    exprs = []
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        col = pl.col(column.name)
        if column.kind in _INTEGER_KINDS:
            col = col.cast(pl.Int64, strict=False)
        elif column.kind is Kind.MONEY:
            col = col.cast(pl.Float64, strict=False)
        exprs.append(col)
    if keep_line:
        exprs.append(pl.col(LINE))
    return frame.select(exprs)


def release_checksum(files: list[Path]) -> str:
    """sha256 over the release's files in name order, each framed by its name and size.

    Framing keeps two different folders from hashing alike by moving bytes
    from the end of one file to the start of the next.
    """
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()
