"""Primary and complementary suppression of count tables with published margins.

The exact check in this file (`_attacker_bounds`) is written independently of
data_access.disclosure: it rebuilds the linear system from the published tables
alone and asks scipy's LP solver for each withheld cell's smallest and largest
possible value, as an attacker would.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from data_access.audience import Audience
from data_access.disclosure import (
    Policy,
    PolicyError,
    Protected,
    audit_counts,
    audit_published,
    protect_counts,
)

K = 11
SMALL = "fewer than 11"
COMPLEMENT = "withheld to protect another cell"
SMALL_OR_ZERO = "fewer than 11 (zeros withheld too)"


def _grid(rows: str, cols: str, values: list[list[int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(r, c, values[i][j]) for i, r in enumerate(rows) for j, c in enumerate(cols)],
        schema=["row", "col", "n"],
        orient="row",
    )


def _cell(protected: Protected, **key: str) -> tuple[int | None, str]:
    frame = protected.frame
    for column, value in key.items():
        frame = frame.filter(pl.col(column) == value)
    assert frame.height == 1, key
    return frame["n"][0], frame["n_flag"][0]


def _attacker_bounds(
    tables: dict[tuple[str, ...], pl.DataFrame],
    finest: pl.DataFrame,
    dims: tuple[str, ...],
    k: int = K,
) -> tuple[dict, dict]:
    """LP bounds of every withheld published cell and every finest cell, from published data.

    Unknowns: one per finest cell, >= 0. Each published cell fixes the sum of its
    finest cells; a cell flagged "fewer than k" lies in 1..k-1 (zeros are shown);
    one flagged "fewer than k (zeros withheld too)" in 0..k-1; a complement lies
    at k or above (the policy text says complements are never zero or small).
    """
    finest = finest.with_row_index("_i")
    n = finest.height
    a_eq, b_eq, a_ub, b_ub, withheld = [], [], [], [], []
    for level, table in tables.items():
        for row in table.iter_rows(named=True):
            mask = np.ones(n, dtype=bool)
            for column in level:
                mask &= (finest[column] == row[column]).to_numpy()
            vector = mask.astype(float)
            if row["n_flag"] == "":
                a_eq.append(vector)
                b_eq.append(row["n"])
            else:
                withheld.append(((level, tuple(row[c] for c in level)), vector))
                if row["n_flag"] == f"fewer than {k}":
                    a_ub += [vector, -vector]
                    b_ub += [k - 1, -1]
                elif row["n_flag"] == f"fewer than {k} (zeros withheld too)":
                    a_ub.append(vector)
                    b_ub.append(k - 1)
                else:
                    a_ub.append(-vector)
                    b_ub.append(-k)

    def bounds(vector: np.ndarray) -> tuple[float, float]:
        args = dict(
            A_eq=np.array(a_eq) if a_eq else None,
            b_eq=np.array(b_eq) if b_eq else None,
            A_ub=np.array(a_ub) if a_ub else None,
            b_ub=np.array(b_ub) if b_ub else None,
            bounds=(0, None),
            method="highs",
        )
        low = linprog(vector, **args)
        assert low.status == 0, low.message
        high = linprog(-vector, **args)
        assert high.status in (0, 3), high.message
        return low.fun, (math.inf if high.status == 3 else -high.fun)

    cells = {key: bounds(vector) for key, vector in withheld}
    finest_bounds = {}
    for i in range(n):
        vector = np.zeros(n)
        vector[i] = 1
        finest_bounds[tuple(finest[c][i] for c in dims)] = bounds(vector)
    return cells, finest_bounds


def _has_range(low: float, high: float) -> bool:
    """At least two whole numbers fit: the attacker cannot pin the value."""
    return math.isinf(high) or math.floor(high + 1e-6) - math.ceil(low - 1e-6) >= 1


# --- worked examples ---------------------------------------------------------------------------


def test_three_by_three_with_margins_hides_a_rectangle_and_every_hidden_cell_keeps_a_range():
    #        x    y    z  | row
    #   A   20    3   30  |  53
    #   B   25   40   15  |  80
    #   C   12   18   50  |  80
    #  col  57   61   95  | 213
    table = _grid("ABC", "xyz", [[20, 3, 30], [25, 40, 15], [12, 18, 50]])
    result = protect_counts(
        table, view="3x3", dimensions=["row", "col"], count="n", margins=[["row"], ["col"], []]
    )
    finest = result.finest
    # 3 is primary. Row A's smallest other non-zero cell is A-x (20); column y's is C-y (18);
    # column x then has only A-x hidden, so its smallest other is C-x (12). Row C holds two.
    assert _cell(finest, row="A", col="y") == (None, SMALL)
    assert _cell(finest, row="A", col="x") == (None, COMPLEMENT)
    assert _cell(finest, row="C", col="y") == (None, COMPLEMENT)
    assert _cell(finest, row="C", col="x") == (None, COMPLEMENT)
    assert finest.frame["n"].null_count() == 4
    # Margins are all published.
    assert result.level(["row"]).frame["n"].to_list() == [53, 80, 80]
    assert result.level(["col"]).frame["n"].to_list() == [57, 61, 95]
    assert result.level([]).frame["n"].to_list() == [213]
    # What a reader can work out, with t = A-y:
    #   A-x = 53 - 30 - t = 23 - t      C-y = 61 - 40 - t = 21 - t
    #   C-x = 57 - 25 - (23 - t) = 9 + t
    # A-y is "fewer than 11": 1 <= t <= 10; complements are at least 11:
    #   23 - t >= 11 -> t <= 12;  21 - t >= 11 -> t <= 10;  9 + t >= 11 -> t >= 2.
    # So A-y could be anything from 2 to 10.
    tables = {level: p.frame for level, p in result.levels.items()}
    cells, _ = _attacker_bounds(tables, result.finest_keys, ("row", "col"))
    assert cells[(("row", "col"), ("A", "y"))] == pytest.approx((2, 10))
    assert cells[(("row", "col"), ("C", "x"))] == pytest.approx((11, 19))
    report = audit_counts(result)
    assert report.passed, report.problems
    # The audit log names every withheld cell, its rule and its reason.
    log = {(dict(r.cell)["row"], dict(r.cell)["col"]): (r.rule, r.reason) for r in result.audit_log}
    assert log[("A", "y")] == ("primary", SMALL)
    assert log[("C", "x")] == ("complementary", COMPLEMENT)
    assert len(log) == 4


def _bridge_table() -> pl.DataFrame:
    # s = small (primary). Two 2x2 blocks of small cells joined by one small cell B-3:
    #        1    2    3    4    5
    #   A    s    s   40   50   60
    #   B    s    s    s   45   55
    #   C   35   42    s    s   48
    #   D   38   44    s    s   52
    #   E   61   62   63   64   65
    s = {("A", "1"): 4, ("A", "2"): 6, ("B", "1"): 7, ("B", "2"): 3, ("B", "3"): 5}
    s |= {("C", "3"): 2, ("C", "4"): 8, ("D", "3"): 9, ("D", "4"): 1}
    big = [[0, 0, 40, 50, 60], [0, 0, 0, 45, 55], [35, 42, 0, 0, 48], [38, 44, 0, 0, 52]]
    big.append([61, 62, 63, 64, 65])
    values = [
        [s.get((r, c), big[i][j]) for j, c in enumerate("12345")] for i, r in enumerate("ABCDE")
    ]
    return _grid("ABCDE", "12345", values)


def test_two_per_line_is_not_enough_the_exact_audit_finds_and_fixes_the_bridge_cell():
    table = _bridge_table()
    small = table.filter((pl.col("n") > 0) & (pl.col("n") < K))
    # Every row and column holding a small cell holds at least two: the naive rule is satisfied.
    for column in ("row", "col"):
        assert small.group_by(column).len()["len"].min() >= 2
    # Yet publishing only those nine as withheld gives B-3 away. Rows A and B and columns 1
    # and 2 are published, so (A1 + A2) + (B1 + B2 + B3) and (A1 + B1) + (A2 + B2) are known:
    #   row A hidden:  A1 + A2 = 110 - 40 - 50 - 60 = 10
    #   row B hidden:  B1 + B2 + B3 = 115 - 45 - 55 = 15
    #   col 1 hidden:  A1 + B1 = 145 - 35 - 38 - 61 = 11
    #   col 2 hidden:  A2 + B2 = 157 - 42 - 44 - 62 = 9
    #   B3 = 15 - (11 + 9 - 10) = 5: the exact value.
    naive = table.with_columns(
        pl.when((pl.col("n") > 0) & (pl.col("n") < K)).then(None).otherwise(pl.col("n")).alias("n"),
        pl.when((pl.col("n") > 0) & (pl.col("n") < K))
        .then(pl.lit(SMALL))
        .otherwise(pl.lit(""))
        .alias("n_flag"),
    )
    margins = {
        ("row",): table.group_by("row", maintain_order=True).agg(pl.col("n").sum()),
        ("col",): table.group_by("col", maintain_order=True).agg(pl.col("n").sum()),
        (): table.select(pl.col("n").sum()),
    }
    naive_tables = {("row", "col"): naive} | {
        level: t.with_columns(pl.lit("").alias("n_flag")) for level, t in margins.items()
    }
    report = audit_published(
        naive_tables,
        view="naive",
        finest_keys=table.select("row", "col"),
        dimensions=["row", "col"],
        count="n",
    )
    assert not report.passed
    assert report.problems == ("withheld cell row=B, col=3 can be worked out: 5",)

    # protect_counts runs the same audit, withholds more, and passes its own and ours.
    result = protect_counts(
        table, view="bridge", dimensions=["row", "col"], count="n", margins=[["row"], ["col"], []]
    )
    complements = [r for r in result.audit_log if r.rule == "complementary"]
    assert complements, "the bridge cell needs at least one complement"
    tables = {level: p.frame for level, p in result.levels.items()}
    cells, _ = _attacker_bounds(tables, result.finest_keys, ("row", "col"))
    assert all(_has_range(*b) for b in cells.values()), cells
    assert cells[(("row", "col"), ("B", "3"))][0] < 5 < cells[(("row", "col"), ("B", "3"))][1]
    assert audit_counts(result).passed


def test_true_zeros_are_shown_as_zero_and_never_chosen_as_complements():
    #        x    y    z  | row
    #   A    0    4    0  |   4   <- the row total is 4, so it is withheld too
    #   B    0   30   25  |  55
    #   C   14    0   22  |  36
    table = _grid("ABC", "xyz", [[0, 4, 0], [0, 30, 25], [14, 0, 22]])
    result = protect_counts(
        table, view="zeros", dimensions=["row", "col"], count="n", margins=[["row"], ["col"], []]
    )
    finest = result.finest.frame
    zeros = table.filter(pl.col("n") == 0).join(finest, on=["row", "col"])
    assert zeros["n_right"].to_list() == [0] * zeros.height
    assert set(zeros["n_flag"].to_list()) == {""}
    assert _cell(result.level(["row"]), row="A") == (None, SMALL)
    # Column y holds A-y (4, primary); its smallest other non-zero cell is B-y (30).
    assert _cell(result.finest, row="B", col="y") == (None, COMPLEMENT)
    assert audit_counts(result).passed


def test_a_group_whose_cells_are_all_small_is_withheld_together_with_its_total():
    # Row A is small everywhere and its total (3 + 2 + 5 = 10) is small too.
    table = _grid("ABC", "xyz", [[3, 2, 5], [40, 35, 30], [25, 50, 45]])
    result = protect_counts(
        table,
        view="all small",
        dimensions=["row", "col"],
        count="n",
        margins=[["row"], ["col"], []],
    )
    assert result.finest.frame.filter(pl.col("row") == "A")["n_flag"].to_list() == [SMALL] * 3
    assert _cell(result.level(["row"]), row="A") == (None, SMALL)
    tables = {level: p.frame for level, p in result.levels.items()}
    cells, _ = _attacker_bounds(tables, result.finest_keys, ("row", "col"))
    assert all(_has_range(*b) for b in cells.values())
    assert audit_counts(result).passed


def test_small_cells_that_would_pin_each_other_are_relabelled_to_include_zero():
    # Row A: ten cells of 1 and a row total of 10. "Fewer than 11" says each is at least 1
    # (zeros are shown as 0), and ten cells of at least 1 in a total of at most 10 must
    # each be exactly 1. So row A's labels are widened to "fewer than 11 (zeros withheld
    # too)": each cell 0 to 10, and the reader can no longer count them.
    cols = [f"c{j}" for j in range(10)]
    table = _grid("AB", "".join(str(j) for j in range(10)), [[1] * 10, list(range(20, 30))])
    table = table.with_columns(col="c" + pl.col("col"))
    result = protect_counts(
        table, view="pinned", dimensions=["row", "col"], count="n", margins=[["row"], ["col"], []]
    )
    row_a = result.finest.frame.filter(pl.col("row") == "A")
    assert row_a["col"].to_list() == cols
    assert row_a["n_flag"].to_list() == [SMALL_OR_ZERO] * 10
    assert _cell(result.level(["row"]), row="A") == (None, SMALL_OR_ZERO)
    tables = {level: p.frame for level, p in result.levels.items()}
    cells, _ = _attacker_bounds(tables, result.finest_keys, ("row", "col"))
    assert cells[(("row", "col"), ("A", "c0"))][0] == pytest.approx(0)
    assert all(_has_range(*b) for b in cells.values())
    assert audit_counts(result).passed


def test_month_quarter_year_hierarchy_protects_across_the_levels():
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    counts = [30, 4, 25, 40, 41, 42, 20, 22, 24, 50, 60, 70]
    table = pl.DataFrame({"month": months, "n": counts}).with_columns(
        quarter=pl.col("month").str.slice(0, 4)
        + "-Q"
        + ((pl.col("month").str.slice(5, 2).cast(pl.Int32) - 1) // 3 + 1).cast(pl.Utf8),
        year=pl.col("month").str.slice(0, 4),
    )
    result = protect_counts(
        table, view="months", dimensions=["month"], count="n", margins=[["quarter"], ["year"]]
    )
    by_month = result.finest.frame
    # February (4) is small; Q1 = 30 + 4 + 25 is published, so another Q1 month is withheld:
    # the smallest other, March (25).
    assert by_month.filter(pl.col("n").is_null())["month"].to_list() == ["2024-02", "2024-03"]
    assert result.level(["quarter"]).frame["n"].to_list() == [59, 123, 66, 180]
    assert result.level(["year"]).frame["n"].to_list() == [428]
    assert audit_counts(result).passed


def test_an_unpublished_finest_grain_cannot_be_solved_for_from_the_views_built_on_it():
    # precinct x month is never shown; precinct x quarter and the site's monthly chart are.
    rows = []
    for precinct, monthly in {"P1": [12, 3, 20], "P2": [30, 25, 14], "P3": [0, 0, 9]}.items():
        for month, n in zip(["2024-01", "2024-02", "2024-03"], monthly, strict=True):
            rows.append((precinct, month, "2024-Q1", n))
    table = pl.DataFrame(rows, schema=["precinct", "month", "quarter", "n"], orient="row")
    result = protect_counts(
        table,
        view="latent",
        dimensions=["precinct", "month"],
        count="n",
        margins=[["precinct", "quarter"], ["month"]],
        finest_published=False,
    )
    # P3's quarter (9) is small; so is P3 in March, but it is never shown on its own.
    assert _cell(result.level(["precinct", "quarter"]), precinct="P3") == (None, SMALL)
    tables = {level: p.frame for level, p in result.levels.items()}
    _, finest = _attacker_bounds(tables, result.finest_keys, ("precinct", "month"))
    small_cells = [("P1", "2024-02"), ("P3", "2024-03")]
    assert all(_has_range(*finest[c]) for c in small_cells), {c: finest[c] for c in small_cells}
    assert audit_counts(result, true_finest_counts=table).passed


def test_staff_output_is_exact_and_says_so():
    table = _grid("AB", "xy", [[3, 20], [15, 1]])
    result = protect_counts(
        table,
        view="staff",
        dimensions=["row", "col"],
        count="n",
        margins=[["row"]],
        audience=Audience.STAFF,
    )
    assert result.exact and result.finest.exact and result.finest.k is None
    assert result.finest.frame["n"].to_list() == [3, 20, 15, 1]
    assert set(result.finest.frame["n_flag"].to_list()) == {""}
    assert result.level(["row"]).frame["n"].to_list() == [23, 16]


def test_k_is_configurable():
    table = _grid("AB", "xy", [[12, 20], [15, 30]])
    result = protect_counts(
        table, view="k15", dimensions=["row", "col"], count="n", policy=Policy(k=15)
    )
    assert result.finest.k == 15
    assert result.finest.frame["n_flag"].to_list() == ["fewer than 15", "", "", ""]


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (
            pl.DataFrame({"row": ["A", "A"], "n": [1, 2]}),
            {"dimensions": ["row"]},
            "more than one row for the same row",
        ),
        (pl.DataFrame({"row": ["A"], "n": [-1]}), {"dimensions": ["row"]}, "negative"),
        (pl.DataFrame({"row": ["A"], "n": [1.5]}), {"dimensions": ["row"]}, "whole numbers"),
        (
            pl.DataFrame({"row": ["A"], "n": [3]}),
            {"dimensions": ["row"], "margins": [["precinct"]]},
            "no column 'precinct'",
        ),
        (pl.DataFrame({"row": [None], "n": [3]}), {"dimensions": ["row"]}, "missing values"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_problem(frame, kwargs, message):
    with pytest.raises(PolicyError, match=message):
        protect_counts(frame, view="bad", count="n", **kwargs)


def test_protected_frames_cannot_be_forged_or_changed_in_place():
    with pytest.raises(TypeError, match="only be made by data_access.disclosure"):
        Protected("fake", pl.DataFrame({"n": [3]}), Audience.PUBLIC, 11, (), ())
    result = protect_counts(
        _grid("AB", "xy", [[3, 20], [15, 30]]), view="v", dimensions=["row", "col"], count="n"
    )
    copy = result.finest.frame
    copy[0, "n"] = 3
    assert result.finest.frame["n"][0] is None


# --- property-based ----------------------------------------------------------------------------

_value = st.one_of(st.just(0), st.integers(1, 10), st.integers(11, 60))


@st.composite
def _tables(draw):
    n_dims = draw(st.integers(2, 3))
    sizes = [draw(st.integers(2, 4 if n_dims == 2 else 3)) for _ in range(n_dims)]
    dims = tuple(f"d{i}" for i in range(n_dims))
    cells = list(itertools.product(*[[f"v{j}" for j in range(s)] for s in sizes]))
    values = draw(st.lists(_value, min_size=len(cells), max_size=len(cells)))
    frame = pl.DataFrame(
        [(*cell, v) for cell, v in zip(cells, values, strict=True)],
        schema=[*dims, "n"],
        orient="row",
    )
    proper = [s for r in range(n_dims) for s in itertools.combinations(dims, r)]
    margins = draw(st.lists(st.sampled_from(proper), unique=True, min_size=0, max_size=len(proper)))
    finest_published = draw(st.booleans()) if margins else True
    return frame, dims, margins, finest_published


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables())
def test_random_tables_no_small_count_published_and_no_withheld_cell_determined(case):
    frame, dims, margins, finest_published = case
    result = protect_counts(
        frame,
        view="random",
        dimensions=dims,
        count="n",
        margins=[list(m) for m in margins],
        finest_published=finest_published,
    )
    tables = {level: p.frame for level, p in result.levels.items()}
    for level, table in tables.items():
        # (c) every published cell equals the true sum over the finest cells
        truth = (
            frame.group_by(list(level)).agg(pl.col("n").sum().alias("true"))
            if level
            else frame.select(pl.col("n").sum().alias("true"))
        )
        joined = table.join(truth, on=list(level)) if level else table.with_columns(truth)
        shown = joined.filter(pl.col("n_flag") == "")
        assert (shown["n"] == shown["true"]).all()
        # (a) no published cell is 1..k-1; withheld cells are null with a reason
        assert not ((shown["n"] > 0) & (shown["n"] < K)).any()
        hidden = joined.filter(pl.col("n_flag") != "")
        assert hidden["n"].null_count() == hidden.height
        assert set(hidden["n_flag"].to_list()) <= {SMALL, SMALL_OR_ZERO, COMPLEMENT}
        # every small value is withheld as small; each label tells the truth
        small = (joined["true"] > 0) & (joined["true"] < K)
        assert (~small | joined["n_flag"].is_in([SMALL, SMALL_OR_ZERO])).all()
        assert (~(joined["n_flag"] == SMALL) | small).all()
        assert (~(joined["n_flag"] == SMALL_OR_ZERO) | (joined["true"] < K)).all()
        assert (~(joined["n_flag"] == COMPLEMENT) | (joined["true"] >= K)).all()
    # (b) independently: every withheld cell, and every unpublished small finest cell, has a range
    cells, finest = _attacker_bounds(tables, result.finest_keys, dims)
    for key, (low, high) in cells.items():
        assert _has_range(low, high), (key, low, high)
    if not finest_published:
        for row in frame.filter((pl.col("n") > 0) & (pl.col("n") < K)).iter_rows(named=True):
            key = tuple(row[d] for d in dims)
            assert _has_range(*finest[key]), (key, finest[key])


def test_the_audit_rejects_a_published_small_count_and_numbers_that_do_not_add_up():
    table = _grid("AB", "xy", [[7, 20], [15, 30]])
    published = table.with_columns(pl.lit("").alias("n_flag"))
    row_totals = pl.DataFrame({"row": ["A", "B"], "n": [27, 44], "n_flag": ["", ""]})
    report = audit_published(
        {("row", "col"): published, ("row",): row_totals},
        view="leaky",
        finest_keys=table.select("row", "col"),
        dimensions=["row", "col"],
        count="n",
    )
    # A-x = 7 is shown, and row B's total (44) is not 15 + 30 = 45.
    assert "published count 7 is below 11 at row=A, col=x" in report.problems
    assert any("do not add up" in p for p in report.problems)
    with pytest.raises(AssertionError, match="disclosure audit of 'leaky' failed"):
        report.raise_for_problems()
