"""docs/templates and docs/data-contract.md stay in step with the contract."""

from __future__ import annotations

from pathlib import Path

from data_access.contract import MANIFEST_FIELDS, TABLES
from data_access.templates import write_templates
from data_access.validate import validate_release
from data_access.vocabulary import VOCABULARY_OF_COLUMN

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_committed_templates_match_the_contract(tmp_path):
    written = write_templates(tmp_path)

    assert sorted(p.name for p in written) == sorted(p.name for p in (DOCS / "templates").iterdir())
    for path in written:
        committed = (DOCS / "templates" / path.name).read_text(encoding="utf-8")
        assert committed == path.read_text(encoding="utf-8"), (
            f"docs/templates/{path.name} is stale: "
            "run python -m data_access.templates docs/templates"
        )


def test_each_template_has_the_contract_header_and_example_rows():
    for table in TABLES:
        lines = (DOCS / "templates" / table.file_name).read_text().splitlines()
        assert lines[0] == ",".join(table.column_names)
        assert 2 <= len(lines) - 1 <= 5


def test_the_templates_folder_is_itself_a_valid_release():
    report = validate_release(DOCS / "templates")

    assert report.ok, "\n".join(report.lines())


def test_the_contract_document_names_every_file_column_field_and_code():
    text = (DOCS / "data-contract.md").read_text(encoding="utf-8")

    for table in TABLES:
        assert f"`{table.file_name}`" in text, table.file_name
        for column in table.column_names:
            assert f"`{column}`" in text, column
    for field in MANIFEST_FIELDS:
        assert f"`{field}`" in text, field
    for codes in VOCABULARY_OF_COLUMN.values():
        for code in codes:
            assert f"`{code}`" in text, code
