"""Protection of a release against the releases published before it (disclosure/earlier.py).

A synthetic quarterly table is published twice: as of June (two quarters; the
year not yet over) and as of December (four quarters and the year). An
attacker independent of the project's audit code (an LP over both releases'
published cells, written out here with scipy) must find no withheld cell
pinned and no difference between the releases of 1 to k-1. The same attack on
December protected alone (no ledger) must find something on some seed, so the
test can fail.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog

from data_access.disclosure import UNPUBLISHED, Policy, protect_counts
from data_access.views.linking import link_by_quarter, whole_periods_only

K = 11
POLICY = Policy(k=K)
LEVELS = (("quarter",), ("year",), ("kind", "quarter"), ("kind", "year"), ("place", "year"))
DIMS = ("place", "kind", "quarter", "year")
QUARTERS = ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4")


def _table(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for place, kind, quarter in itertools.product("ABC", ("x", "y", "z"), QUARTERS):
        # Mostly publishable counts with a sprinkling of small ones.
        value = int(
            rng.choice(
                [0, 2, 4, 7, 12, 15, 20, 30, 45],
                p=[0.05, 0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.1, 0.1],
            )
        )
        rows.append({"place": place, "kind": kind, "quarter": quarter, "year": "2025",
                     "n": value})  # fmt: skip
    return pl.DataFrame(rows).filter(pl.col("n") > 0)


def _protect(frame: pl.DataFrame, as_of: dt.date, earlier=()):
    finest = whole_periods_only(frame, as_of)
    return protect_counts(
        finest, view="t", dimensions=DIMS, count="n", margins=LEVELS, finest_published=False,
        policy=POLICY, earlier=earlier,
    )  # fmt: skip


def _linked(frame: pl.DataFrame, june, as_of: dt.date):
    from data_access.ledger import Publication

    finest = whole_periods_only(frame, as_of)
    publication = Publication("june", "c", dt.date(2025, 6, 30), K, june)
    return link_by_quarter(
        finest,
        [publication],
        finest_then=lambda _p: frame.filter(pl.col("quarter") <= "2025-Q2"),
        levels_then=lambda p: {level: t.frame for level, t in p.value.levels.items()},
        count="n",
    )


def _attack(frame: pl.DataFrame, releases: list[tuple[dt.date, object]]) -> list[str]:
    """Everything an attacker can pin from the releases' published cells alone."""
    finest = frame.with_row_index("i")
    rows, rhs, bounds, targets = [], [], [], []
    for as_of, cube in releases:
        seen = finest.filter(whole_periods_only_mask(as_of))
        for level, table in cube.levels.items():
            for record in table.frame.iter_rows(named=True):
                members = seen
                for column in level:
                    members = members.filter(pl.col(column) == record[column])
                vector = np.zeros(finest.height)
                vector[members["i"].to_numpy()] = 1
                flag = record["n_flag"]
                label = f"{as_of} {level} {[record[c] for c in level]}"
                if not flag:
                    rows.append(vector)
                    rhs.append(record["n"])
                else:
                    low, high = (1, K - 1) if flag == f"fewer than {K}" else (0, None)
                    low = K if flag == "withheld to protect another cell" else low
                    bounds.append((vector, low, high))
                    targets.append((label, vector))
    # Differences of the same published cell between releases.
    found = []
    a_eq, b_eq = (np.array(rows), np.array(rhs)) if rows else (None, None)
    a_ub, b_ub = [], []
    for vector, low, high in bounds:
        a_ub.append(-vector)
        b_ub.append(-low)
        if high is not None:
            a_ub.append(vector)
            b_ub.append(high)
    for label, vector in targets:
        ends = []
        for sign in (1, -1):
            result = linprog(sign * vector, A_ub=np.array(a_ub) if a_ub else None,
                             b_ub=np.array(b_ub) if b_ub else None, A_eq=a_eq, b_eq=b_eq,
                             bounds=(0, None), method="highs")  # fmt: skip
            assert result.status == 0, result.message
            ends.append(sign * result.fun)
        if np.floor(ends[1] + 1e-6) - np.ceil(ends[0] - 1e-6) < 1:
            found.append(f"{label} pinned at {ends[0]:g}")
    return found


def whole_periods_only_mask(as_of: dt.date) -> pl.Expr:
    ends = {"2025-Q1": dt.date(2025, 3, 31), "2025-Q2": dt.date(2025, 6, 30),
            "2025-Q3": dt.date(2025, 9, 30), "2025-Q4": dt.date(2025, 12, 31)}  # fmt: skip
    return pl.col("quarter").is_in([q for q, end in ends.items() if end <= as_of])


def _differences(june, december) -> list[str]:
    found = []
    for level, table in june.levels.items():
        later = december.levels[level].frame
        joined = table.frame.join(later, on=list(level), suffix="_later")
        small = joined.filter(
            pl.col("n").is_not_null() & pl.col("n_later").is_not_null()
            & ((pl.col("n_later") - pl.col("n")).abs().is_between(1, K - 1))
        )  # fmt: skip
        found += [f"{level} {r}" for r in small.iter_rows()]
    return found


JUNE, DECEMBER = dt.date(2025, 6, 30), dt.date(2025, 12, 31)


def test_a_year_not_over_is_not_published_and_its_quarters_are():
    june = _protect(_table(1), JUNE)
    assert june.level(("year",)).frame.height == 0
    assert june.level(("quarter",)).frame["quarter"].to_list() == ["2025-Q1", "2025-Q2"]
    for table in june.levels.values():
        assert UNPUBLISHED not in table.frame.select(pl.col(pl.Utf8)).to_numpy().ravel().tolist()


@pytest.mark.parametrize("seed", range(6))
def test_the_union_of_two_releases_pins_nothing(seed):
    frame = _table(seed)
    june = _protect(frame, JUNE)
    linked, earlier = _linked(frame, june, DECEMBER)
    december = protect_counts(
        linked, view="t", dimensions=DIMS, count="n", margins=LEVELS, finest_published=False,
        policy=POLICY, earlier=earlier,
    )  # fmt: skip
    assert _attack(frame, [(JUNE, june), (DECEMBER, december)]) == []
    assert _differences(june, december) == []
    # What was withheld in June over its (unchanged) quarters is withheld in December.
    for level, table in june.levels.items():
        joined = table.frame.join(december.levels[level].frame, on=list(level), suffix="_dec")
        assert joined.filter(pl.col("n").is_null() & pl.col("n_dec").is_not_null()).height == 0


def test_protecting_each_release_alone_leaks_on_some_seed():
    leaks = 0
    for seed in range(6):
        frame = _table(seed)
        june = _protect(frame, JUNE)
        alone = _protect(frame, DECEMBER)
        leaks += len(_attack(frame, [(JUNE, june), (DECEMBER, alone)]))
        leaks += len(_differences(june, alone))
    assert leaks > 0
