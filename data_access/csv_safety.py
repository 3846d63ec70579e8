"""Neutralise CSV cells that a spreadsheet would run as a formula.

A cell that begins with "=", "+", "-" or "@" (or a tab or carriage return, which
some spreadsheets strip before looking) is read as a formula by Excel, LibreOffice
and Google Sheets: a precinct named '=HYPERLINK("http://evil","click")' would
become a live link in a downloaded file. Such cells get a leading apostrophe,
which spreadsheets show as plain text (OWASP "CSV injection").

Plain numbers such as "-12.5" or "+3" are left alone: they cannot run anything
and a negative risk difference must stay a number. Used by the page download
buttons (ui.components) and the open-data export alike, so both write the same.
"""

from __future__ import annotations

import re

import polars as pl

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_PATTERN = r"^[=+\-@\t\r]"
_PLAIN_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_PLAIN_NUMBER = re.compile(_PLAIN_NUMBER_PATTERN)


def neutralise_cell(value: str) -> str:
    """The cell as a spreadsheet will show it as text, never run it as a formula."""
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell and every column name neutralised; numbers untouched."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    guarded = frame.with_columns(
        pl.when(
            pl.col(name).str.contains(_TRIGGER_PATTERN)
            & ~pl.col(name).str.contains(_PLAIN_NUMBER_PATTERN)
        )
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )
    return guarded.rename({name: neutralise_cell(name) for name in frame.columns})


def safe_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV of the frame, neutralised; null cells are written empty."""
    return neutralise_frame(frame).write_csv().encode("utf-8")
