"""Periods a view can cover, their codes (YYYY-Qn, YYYY, YYYY-MM) and their words.

The public choose a whole quarter or a whole year, never an arbitrary range of
months: totals over overlapping ranges could be subtracted from each other to
reveal a withheld month. An official reads "the fourth quarter of 2025" in a
sentence and "October to December 2025" under a title. The previous period and
the same period a year earlier are worked out here so the pages, the PDF and
the command line compare the same periods.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

_ORDINALS = ("first", "second", "third", "fourth")
QUARTER, YEAR, MONTH = "quarter", "year", "month"


@dataclass(frozen=True)
class Period:
    """One period: its grain, year and number within the year (quarter 1-4, month 1-12, or 1)."""

    grain: str
    year: int
    number: int = 1

    @property
    def code(self) -> str:
        """The code the data layer uses: "2025-Q4", "2025" or "2025-03"."""
        if self.grain == QUARTER:
            return f"{self.year}-Q{self.number}"
        if self.grain == MONTH:
            return f"{self.year}-{self.number:02d}"
        return str(self.year)

    @property
    def phrase(self) -> str:
        """For the middle of a sentence: "the fourth quarter of 2025", "2025", "March 2025"."""
        if self.grain == QUARTER:
            return f"the {_ORDINALS[self.number - 1]} quarter of {self.year}"
        if self.grain == MONTH:
            return f"{calendar.month_name[self.number]} {self.year}"
        return str(self.year)

    @property
    def span(self) -> str:
        """For a title block: "October to December 2025", "January to December 2025"."""
        if self.grain == MONTH:
            return self.phrase
        first, last = (1, 12) if self.grain == YEAR else (3 * self.number - 2, 3 * self.number)
        return f"{calendar.month_name[first]} to {calendar.month_name[last]} {self.year}"

    @property
    def short(self) -> str:
        """For a chart axis or a file name: "Q4 2025", "2025", "Mar 2025"."""
        if self.grain == QUARTER:
            return f"Q{self.number} {self.year}"
        if self.grain == MONTH:
            return f"{calendar.month_abbr[self.number]} {self.year}"
        return str(self.year)

    @property
    def label(self) -> str:
        """For a menu: "Q4 2025 (October to December)", "2025 (full year)"."""
        if self.grain == QUARTER:
            first, last = 3 * self.number - 2, 3 * self.number
            return (
                f"Q{self.number} {self.year} "
                f"({calendar.month_name[first]} to {calendar.month_name[last]})"
            )
        if self.grain == YEAR:
            return f"{self.year} (full year)"
        return self.phrase

    @property
    def start_month(self) -> str:
        """The first month covered, YYYY-MM."""
        first = {QUARTER: 3 * self.number - 2, MONTH: self.number}.get(self.grain, 1)
        return f"{self.year}-{first:02d}"

    @property
    def end_month(self) -> str:
        """The last month covered, YYYY-MM."""
        last = {QUARTER: 3 * self.number, MONTH: self.number}.get(self.grain, 12)
        return f"{self.year}-{last:02d}"

    @property
    def end_date(self) -> dt.date:
        """The last day covered."""
        year, month = (int(part) for part in self.end_month.split("-"))
        return dt.date(year, month, calendar.monthrange(year, month)[1])

    def previous(self) -> Period:
        """The period just before, at the same grain (Q1 2025 -> Q4 2024)."""
        per_year = {QUARTER: 4, MONTH: 12, YEAR: 1}[self.grain]
        if self.grain == YEAR:
            return Period(YEAR, self.year - 1)
        if self.number == 1:
            return Period(self.grain, self.year - 1, per_year)
        return Period(self.grain, self.year, self.number - 1)

    def year_earlier(self) -> Period:
        """The same period one year before (Q4 2025 -> Q4 2024)."""
        return Period(self.grain, self.year - 1, self.number)


def parse_period(code: str) -> Period:
    """A period code as a Period; a ValueError naming the code when it is none of the forms."""
    text = str(code).strip()
    if match := _QUARTER.match(text):
        return Period(QUARTER, int(match[1]), int(match[2]))
    if match := _YEAR.match(text):
        return Period(YEAR, int(match[1]))
    if match := _MONTH.match(text):
        return Period(MONTH, int(match[1]), int(match[2]))
    raise ValueError(
        f"period {code!r} is not a quarter (YYYY-Qn), a year (YYYY) or a month (YYYY-MM)"
    )


def period_phrase(code: str) -> str:
    """ "2025-Q4" -> "the fourth quarter of 2025"; "2025" -> "2025"."""
    return parse_period(code).phrase


def period_span(code: str) -> str:
    """ "2025-Q4" -> "October to December 2025"."""
    return parse_period(code).span


def available_periods(as_of: dt.date, launched: str) -> list[Period]:
    """Whole quarters, then whole years, complete by `as_of` and not before `launched`.

    Newest first within each grain, so the first is the latest complete quarter:
    the default view. A partial quarter or year is left out because comparing it
    with a whole one would mislead.
    """
    start = parse_period(launched)
    quarters = []
    period = Period(QUARTER, as_of.year, (as_of.month - 1) // 3 + 1)
    if period.end_date > as_of:
        period = period.previous()
    first_quarter = Period(QUARTER, start.year, (start.number - 1) // 3 + 1)
    while (period.year, period.number) >= (first_quarter.year, first_quarter.number):
        quarters.append(period)
        period = period.previous()
    years = [
        Period(YEAR, year)
        for year in range(as_of.year, start.year - 1, -1)
        if Period(YEAR, year).end_date <= as_of
    ]
    return quarters + years


def whole_year_for(period: Period, as_of: dt.date) -> Period:
    """The calendar year whose by-year figures stand for `period` in a release as of `as_of`.

    Its own year once that year has ended; before then, the latest year that has. Figures
    by year are published for whole years only: a year so far, subtracted from the whole
    year in a later release, would give away the months in between (docs/privacy.md). The
    result may precede the site's launch, when no year has ended since: say so, not 0.
    """
    if Period(YEAR, period.year).end_date <= as_of:
        return Period(YEAR, period.year)
    return Period(YEAR, min(period.year, as_of.year) - 1)


def whole_year_note(period: Period, year: Period) -> str:
    """Why figures by year for `period` cover `year` ("" when it is the period's own year)."""
    if year.year == period.year:
        return ""
    return (
        f"{period.year} is not over yet, and figures by year are published once a year has "
        f"ended (a year so far, compared with the whole year later, would reveal the months "
        f"in between): figures by year here cover {year.phrase}, the latest whole year."
    )
