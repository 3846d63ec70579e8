"""Reading release files: encodings, line endings, line numbers, Parquet, checksums."""

from __future__ import annotations

import csv
import io

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from release_builder import minimal_release

from data_access.contract import TABLES_BY_NAME
from data_access.problems import ProblemCollector
from data_access.release_files import (
    LINE,
    read_csv_table,
    read_parquet_table,
    release_checksum,
    typed_frame,
)

PRECINCTS = TABLES_BY_NAME["precincts"]


def _read(path, table=PRECINCTS):
    problems = ProblemCollector()
    return read_csv_table(path, table, problems), problems.problems()


def test_bom_and_crlf_read_the_same_as_plain_utf8(tmp_path):
    plain = minimal_release().write(tmp_path / "plain")
    exported = minimal_release().write(tmp_path / "exported", bom=True, crlf=True)
    assert (exported / "precincts.csv").read_bytes().startswith(b"\xef\xbb\xbfsite_id,")
    assert b"\r\n" in (exported / "precincts.csv").read_bytes()

    (a, a_problems), (b, b_problems) = (
        _read(plain / "precincts.csv"),
        _read(exported / "precincts.csv"),
    )

    assert a_problems == b_problems == []
    assert a.header == b.header == ["site_id", "precinct_id", "precinct_name"]
    assert a.frame.equals(b.frame)
    assert a.frame[LINE].to_list() == [2, 3, 4]


def test_invalid_utf8_names_each_bad_line_and_the_rest_is_still_read(tmp_path):
    path = tmp_path / "precincts.csv"
    path.write_bytes(
        b"site_id,precinct_id,precinct_name\n"
        b"sea,north,North\n"
        b"sea,west,W\xe9st\n"  # Latin-1 e-acute: a spreadsheet saved as "CSV", not "CSV UTF-8"
        b"sfe,central,Centr\x92al\n"
    )

    table, problems = _read(path)

    assert [(p.file, p.line) for p in problems] == [("precincts.csv", 3), ("precincts.csv", 4)]
    assert "not valid UTF-8 text (byte 0xE9 at position 11)" in problems[0].message
    assert table.frame["precinct_id"].to_list() == ["north", "west", "central"]


def test_line_numbers_count_physical_lines_across_quoted_line_breaks_and_blanks(tmp_path):
    path = tmp_path / "precincts.csv"
    path.write_text(
        "\n"  # line 1: blank before the header
        "site_id,precinct_id,precinct_name\n"  # line 2
        'sea,north,"North\nSide"\n'  # lines 3-4: a quoted name holding a line break
        "\n"  # line 5: blank
        "sea,west,West\n"  # line 6
        ",,\n"  # line 7: an all-empty spreadsheet row
        "sfe,central,Central\n"  # line 8
    )

    table, problems = _read(path)

    assert problems == []
    assert table.header_line == 2
    assert table.frame[LINE].to_list() == [3, 6, 8]
    assert table.frame["precinct_name"].to_list() == ["North\nSide", "West", "Central"]


def test_ragged_rows_are_reported_and_left_out(tmp_path):
    path = tmp_path / "precincts.csv"
    path.write_text(
        "site_id,precinct_id,precinct_name\nsea,north\nsea,west,West\nsea,east,East,extra\n"
    )

    table, problems = _read(path)

    assert [(p.line, p.message[:42]) for p in problems] == [
        (2, "has 2 values but the header (line 1) names"),
        (4, "has 4 values but the header (line 1) names"),
    ]
    assert table.frame["precinct_id"].to_list() == ["west"]
    assert table.rows_skipped == 2


def test_a_file_without_any_row_has_no_header(tmp_path):
    path = tmp_path / "precincts.csv"
    path.write_text("\n\n")

    table, problems = _read(path)

    assert table is None
    assert str(problems[0]) == (
        "precincts.csv line 1: has no header row; the first line must name the columns: "
        "site_id, precinct_id, precinct_name"
    )


def test_parquet_values_read_as_the_text_a_csv_would_hold(tmp_path):
    path = tmp_path / "costs.parquet"
    pl.DataFrame(
        {
            "site_id": ["sea", "sea", "sea"],
            "fiscal_year": [2024, 2024, None],
            "group": ["lead", "comparison", "lead"],
            "category": ["program", "jail", "court"],
            "persons": [20.0, 18.5, 3.0],  # floats: whole ones read as whole numbers
            "total_cost_usd": [150000.5, 98000.0, 12.25],
        }
    ).write_parquet(path)

    problems = ProblemCollector()
    table = read_parquet_table(path, TABLES_BY_NAME["costs"], problems)

    assert problems.total == 0
    assert table.frame[LINE].to_list() == [1, 2, 3]
    assert table.frame["fiscal_year"].to_list() == ["2024", "2024", ""]
    assert table.frame["persons"].to_list() == ["20", "18.5", "3"]
    assert table.frame["total_cost_usd"].to_list() == ["150000.5", "98000", "12.25"]


def test_typed_frame_parses_by_kind():
    costs = TABLES_BY_NAME["costs"]
    text = pl.DataFrame(
        {
            "site_id": ["sea"],
            "fiscal_year": ["2024"],
            "group": ["lead"],
            "category": ["jail"],
            "persons": ["7"],
            "total_cost_usd": ["1200.50"],
            LINE: [2],
        }
    )

    typed = typed_frame(costs, text)

    assert typed.schema == {
        "site_id": pl.String,
        "fiscal_year": pl.Int64,
        "group": pl.String,
        "category": pl.String,
        "persons": pl.Int64,
        "total_cost_usd": pl.Float64,
    }
    assert typed.row(0) == ("sea", 2024, "lead", "jail", 7, 1200.5)


def test_checksum_depends_on_content_and_names_not_on_order(tmp_path):
    folder = minimal_release().write(tmp_path / "release")
    files = sorted(folder.iterdir())

    first = release_checksum(files)
    assert release_checksum(list(reversed(files))) == first
    assert len(first) == 64

    (folder / "costs.csv").write_text((folder / "costs.csv").read_text().replace("98000", "98001"))
    assert release_checksum(files) != first


# Any text a case-management system may hold in a name: commas, quotes, line breaks,
# markup, non-Latin letters. Surrounding spaces are trimmed by the reader by design.
# (Other control characters are refused by validation, so the reader need not keep them.)
names = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters='\n,"<>'
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip())


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(names, min_size=1, max_size=8), crlf=st.booleans(), bom=st.booleans())
def test_any_name_round_trips_with_the_line_its_record_starts_on(tmp_path_factory, rows, crlf, bom):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(PRECINCTS.column_names)
    expected_lines, line = [], 2
    for i, name in enumerate(rows):
        writer.writerow(["sea", f"p{i}", name])
        expected_lines.append(line)
        line += name.count("\n") + 1
    path = tmp_path_factory.mktemp("csv") / "precincts.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode())

    table, problems = _read(path)

    assert problems == []
    assert table.frame["precinct_name"].to_list() == [name.strip() for name in rows]
    assert table.frame[LINE].to_list() == expected_lines
