"""Words for numbers and safe text for labels: shared by the charts and the components.

Pure functions (no streamlit), so the figure builders, the page components and
the briefing PDF format a number the same way.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Iterable

# How a value of each unit is shown to people and written in a table/CSV cell.
# Tables carry no thousands separators or symbols, so a downloaded CSV parses as
# numbers; the unit moves into the column name instead (see unit_suffix).
UNITS = ("count", "proportion", "percent", "ratio", "rate", "dollars", "number")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$:=^&\"'])")


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}: expected one of {', '.join(UNITS)}")


def format_value(value: float | int, unit: str) -> str:
    """A number as a reader sees it: "1,234", "12.3%", "1.25", "$12,345"."""
    _check_unit(unit)
    if unit == "count":
        return f"{round(value):,}"
    if unit == "proportion":
        return f"{value * 100:.1f}%"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit == "dollars":
        return f"${value:,.0f}" if value >= 0 else f"-${-value:,.0f}"
    return f"{value:,.1f}"


def table_value(value: float | int, unit: str) -> str:
    """The same number for a table or CSV cell: no separators, percent in percent units."""
    _check_unit(unit)
    if unit == "count":
        return str(round(value))
    if unit == "proportion":
        return f"{value * 100:.1f}"
    if unit == "percent":
        return f"{value:.1f}"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit == "dollars":
        return f"{value:.0f}"
    return f"{value:.1f}"


def unit_suffix(unit: str) -> str:
    """What a table column name adds so its plain numbers keep their unit."""
    _check_unit(unit)
    return {"proportion": " (%)", "percent": " (%)", "dollars": " (US dollars)"}.get(unit, "")


def format_interval(low: float | None, high: float | None, unit: str) -> str:
    """ "95% CI 10.1% to 14.6%", or "" when the interval is not available."""
    if low is None or high is None or _is_nan(low) or _is_nan(high):
        return ""
    return f"95% CI {format_value(low, unit)} to {format_value(high, unit)}"


def _is_nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)


def period_label(value: object) -> str:
    """ "2025-03" -> "March 2025", "2025-Q1" -> "Q1 2025", a date -> its month; else as is."""
    if isinstance(value, dt.date):
        return value.strftime("%B %Y")
    text = str(value)
    if month := _MONTH.match(text):
        return dt.date(int(month[1]), int(month[2]), 1).strftime("%B %Y")
    if quarter := _QUARTER.match(text):
        return f"Q{quarter[2]} {quarter[1]}"
    return text


def period_code(value: object) -> str:
    """The period as a table cell: dates as YYYY-MM, anything else unchanged."""
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return str(value)


def month_start(value: object) -> dt.date | None:
    """The first day of a YYYY-MM month (or of a date's month); None for other periods."""
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, 1)
    if month := _MONTH.match(str(value)):
        return dt.date(int(month[1]), int(month[2]), 1)
    return None


def join_words(items: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 month", "3 months"."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def one_line(value: object) -> str:
    """A label on one line: runs of whitespace (newlines included) become one space."""
    return " ".join(str(value).split())


def plot_text(value: object) -> str:
    """A data label made safe for plotly, which reads <b>, <a href> and entities in text."""
    return html.escape(one_line(value), quote=False)


def escape_markdown(value: object) -> str:
    """A data label made literal for st.markdown / st.caption / st.metric.

    Backslash-escapes every character that Markdown, Streamlit's directives
    (":red[...]", ":material/...:") or its math ("$...$") give meaning to, and
    keeps the label on one line so it cannot start a heading, list or rule.
    """
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(value))
    # Backslashes do not stop a bare address from becoming a link: an invisible
    # word joiner (U+2060) inside "//", "www." and "@" does.
    return escaped.replace("//", "/\u2060/").replace("www.", "www\u2060.").replace("@", "@\u2060")
