"""Problems found in a release, and a collector that keeps the list readable.

A problem names the file, the line, the column and the offending value, in
words a site's analyst can act on. A national release can hold the same
mistake a million times, so the collector lists the first few of each kind
and counts the rest instead of printing them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# How many problems of one kind (same file, same rule) are listed in full.
LISTED_PER_RULE = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a release, located as precisely as the input allows."""

    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str

    def location(self) -> str:
        # Parquet has no lines, so its position is a row number (1 = first data row).
        unit = "row" if self.file.endswith(".parquet") else "line"
        parts = [self.file]
        if self.line is not None:
            parts.append(f"{unit} {self.line}")
        where = " ".join(parts)
        if self.column:
            where += f", column {self.column}"
        return where

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


def shorten(value: object, limit: int = 60) -> str:
    """`value` as text of at most `limit` characters, an ellipsis ending a cut one.

    A message repeats what it was given; a value of any length (a 100 kB URL
    parameter, a pasted file) would otherwise make a message of that length.
    """
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: object, limit: int = 60) -> str:
    """A value as it appears in messages: in quotes, shortened when very long."""
    return repr(shorten(value, limit))


@dataclass
class ProblemCollector:
    """Gathers problems by rule; lists `limit` of each rule and counts every one."""

    limit: int = LISTED_PER_RULE
    _listed: dict[tuple[str, str], list[Problem]] = field(default_factory=dict)
    _counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, rule: str, problem: Problem) -> None:
        key = (problem.file, rule)
        self._counts[key] = self._counts.get(key, 0) + 1
        listed = self._listed.setdefault(key, [])
        if len(listed) < self.limit:
            listed.append(problem)

    def add_many(
        self,
        rule: str,
        file: str,
        count: int,
        first_rows: Iterable[dict],
        make: Callable[[dict], Problem],
    ) -> None:
        """Record `count` problems of one rule, building only the ones that are listed.

        `first_rows` yields the offending rows in order; at most `limit` are
        turned into problems, so a million offending rows cost one count.
        """
        if count <= 0:
            return
        key = (file, rule)
        listed = self._listed.setdefault(key, [])
        room = self.limit - len(listed)
        if room > 0:
            for i, row in enumerate(first_rows):
                if i >= room:
                    break
                listed.append(make(row))
        self._counts[key] = self._counts.get(key, 0) + count

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def problems(self) -> list[Problem]:
        """Listed problems grouped by file and rule, each group followed by its remainder."""
        result: list[Problem] = []
        for key, listed in self._listed.items():
            result.extend(listed)
            hidden = self._counts[key] - len(listed)
            if hidden > 0:
                column = listed[-1].column if listed else None
                result.append(
                    Problem(
                        key[0],
                        None,
                        column,
                        None,
                        f"and {hidden:,} more problems like the ones above",
                    )
                )
        return result
