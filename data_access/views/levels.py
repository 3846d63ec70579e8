"""Small helpers views share: pick rows of a protected level, and protect what is derived.

Every derived figure (a change, a share, a ratio) is computed from *published*
counts only (withheld ones are null and stay null through the metrics), then
passed through `protect_derived`, which adds the complement and denominator
rules. A derived number therefore never carries information that the
protected counts do not.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from data_access.audience import Audience
from data_access.disclosure import DerivedKind, Protected, ProtectedCounts, protect_derived
from data_access.periods import Period, parse_period


def time_column(period: Period) -> str:
    """The cube column holding periods of this grain: "quarter" or "year"."""
    return "year" if period.grain == "year" else "quarter"


def compared_periods(period: Period) -> dict[str, str]:
    """The selected period, the one before it and the same one a year earlier."""
    return {
        "current": period.code,
        "previous": period.previous().code,
        "year_ago": period.year_earlier().code,
    }


def pick(
    cube: ProtectedCounts,
    level: Sequence[str],
    equal: dict[str, object] | None = None,
    isin: dict[str, Sequence[object]] | None = None,
    drop: Sequence[str] = (),
    view: str | None = None,
) -> Protected:
    """Rows of one published level where columns equal (or are among) given values."""
    condition = pl.lit(True)
    for column, value in (equal or {}).items():
        condition = condition & (pl.col(column) == value)
    for column, values in (isin or {}).items():
        condition = condition & pl.col(column).is_in(list(values))
    protected = cube.level(level)
    keep = [c for c in protected.frame.columns if c not in drop and not c.endswith("_flag")]
    return protected.subset(rows=condition, columns=keep, view=view, sort=list(level))


# One row per comparison of a period's figure with an earlier one; headlines.count_change
# reads this shape, whether the figure is a count or an average (views/services.py).
CHANGE_SCHEMA = {
    "comparison": pl.String,
    "period": pl.String,
    "base_period": pl.String,
    "current": pl.Int64,
    "base": pl.Int64,
    "change": pl.Int64,
    "relative_change": pl.Float64,
    "current_flag": pl.String,
    "base_flag": pl.String,
}


def change_figures(
    counts: Protected,
    *,
    time: str,
    count: str,
    period: Period,
    view: str,
    audience: Audience,
) -> Protected:
    """A period's count with its change against the previous period and a year earlier.

    `counts` holds one row per period (column `time`) with `count` and its flag.
    The result has one row per comparison ("previous", "year_ago"): the two
    counts, the absolute change and the relative change (0.12 = +12%). A change
    is withheld when either count is withheld; a relative change is withheld
    on a base under the policy's minimum denominator.
    """
    frame = counts.frame
    flag = f"{count}_flag"
    value_of = {r[time]: (r[count], r[flag]) for r in frame.iter_rows(named=True)}
    current, current_flag = value_of.get(period.code, (None, ""))
    rows = []
    for name, other in (("previous", period.previous()), ("year_ago", period.year_earlier())):
        base, base_flag = value_of.get(other.code, (None, ""))
        known = current is not None and base is not None
        rows.append(
            {
                "comparison": name,
                "period": period.code,
                "base_period": other.code,
                "current": current,
                "base": base,
                "change": (current - base) if known else None,
                "relative_change": (current - base) / base if known and base else None,
                "current_flag": current_flag or "",
                "base_flag": base_flag or ("" if other.code in value_of else "no data"),
            }
        )
    table = pl.DataFrame(rows, schema=CHANGE_SCHEMA)
    return protect_derived(
        table,
        view=view,
        keys=["comparison", "period", "base_period"],
        numerator="current",
        denominator="base",
        estimates=["relative_change", "change"],
        kind=DerivedKind.RATE,
        withheld_flags=["current_flag", "base_flag"],
        keep_counts=True,
        count_flags={"current": "current_flag", "base": "base_flag"},
        audience=audience,
    )


def periods_of(codes: Sequence[str]) -> list[Period]:
    return [parse_period(c) for c in codes]
