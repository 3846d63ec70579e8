"""Which cells serve as complements (details before totals), and cells published twice.

The exact check used here (`_attacker_bounds`) is the independent one in
test_disclosure_complementary.py: it rebuilds the linear system from the
published tables alone and asks scipy's LP solver, as an attacker would.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_disclosure_complementary import _attacker_bounds, _has_range

from data_access.disclosure import PolicyError, audit_counts, protect_counts
from data_access.disclosure.lattice import build_lattice
from data_access.disclosure.priority import level_costs

SMALL = "fewer than 11"
COMPLEMENT = "withheld to protect another cell"
REPO = Path(__file__).resolve().parents[1]


def _quarters(counts: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"quarter": [f"2024-Q{q}" for q in range(1, 5)], "year": ["2024"] * 4, "n": counts}
    )


def _flags(result, level) -> list[str]:
    return result.level(level).frame["n_flag"].to_list()


def test_details_are_withheld_before_totals_and_protect_keeps_a_level_published():
    #   Q1  Q2  Q3  Q4 | year
    #   30   4  25  40 |   99
    # Q2 (4) is small. With the year total published, Q2 = 99 - 30 - 25 - 40, so one more
    # cell of that line must go: a quarter (the finer level; the smallest, Q3 = 25) rather
    # than the year total.
    table = _quarters([30, 4, 25, 40])
    default = protect_counts(table, view="q", dimensions=["quarter"], count="n", margins=[["year"]])
    assert _flags(default, ["quarter"]) == ["", SMALL, COMPLEMENT, ""]
    assert default.level(["year"]).frame["n"].to_list() == [99]
    # Q2 + Q3 = 99 - 30 - 40 = 29 with Q2 in 1..10 and Q3 at least 11: Q2 is 1..10, Q3 19..28.
    tables = {level: p.frame for level, p in default.levels.items()}
    cells, _ = _attacker_bounds(tables, default.finest_keys, ("quarter",))
    assert cells[(("quarter",), ("2024-Q2",))] == pytest.approx((1, 10))
    assert cells[(("quarter",), ("2024-Q3",))] == pytest.approx((19, 28))

    # Naming the quarterly totals in `protect` keeps them: the year total goes instead.
    # Year = 95 + Q2 with Q2 in 1..10: the year is 96..105, Q2 still 1..10.
    kept = protect_counts(
        table,
        view="q",
        dimensions=["quarter"],
        count="n",
        margins=[["year"]],
        protect=[["quarter"]],
    )
    assert _flags(kept, ["quarter"]) == ["", SMALL, "", ""]
    assert _flags(kept, ["year"]) == [COMPLEMENT]
    tables = {level: p.frame for level, p in kept.levels.items()}
    cells, _ = _attacker_bounds(tables, kept.finest_keys, ("quarter",))
    assert cells[(("year",), ("2024",))] == pytest.approx((96, 105))
    assert audit_counts(kept).passed


def test_coarser_levels_cost_more_than_finer_ones():
    # precinct x race x quarter with its margins: the cube's own cells are the cheapest
    # complements, the single-column totals dearer, the overall total dearest of all.
    rows = itertools.product(["P1", "P2"], ["a", "b", "c"], ["Q1", "Q2"])
    table = pl.DataFrame(list(rows), schema=["precinct", "race", "quarter"], orient="row")
    levels = [
        ("precinct", "race", "quarter"),
        ("quarter",),
        (),
        ("precinct", "quarter"),
        ("race",),
    ]
    lattice = build_lattice(table, ("precinct", "race", "quarter"), levels)
    cost = dict(zip(levels, level_costs(lattice), strict=True))
    assert cost[("precinct", "race", "quarter")] < cost[("precinct", "quarter")]
    assert cost[("precinct", "quarter")] < cost[("race",)] < cost[("quarter",)] < cost[()]
    # ("race",) has 3 cells and ("quarter",) 2: with as many columns, fewer cells is coarser.
    # A level named in `protect` outranks every other level, even the overall total.
    protected = dict(zip(levels, level_costs(lattice, [("precinct", "quarter")]), strict=True))
    assert protected[("precinct", "quarter")] > protected[()]


def test_protect_must_name_a_published_level():
    with pytest.raises(PolicyError, match=r"protect names \['month'\]"):
        protect_counts(
            _quarters([30, 4, 25, 40]),
            view="q",
            dimensions=["quarter"],
            count="n",
            margins=[["year"]],
            protect=[["month"]],
        )


def _flow(none_count: int) -> pl.DataFrame:
    # Referral flow in miniature: pathway "none" (eligible contacts not referred) is the
    # same group of people as referred = "no", published under two names.
    rows = [
        ("Q1", "arrest", "yes", 30),
        ("Q1", "social", "yes", 6),
        ("Q1", "none", "no", none_count),
        ("Q2", "arrest", "yes", 25),
        ("Q2", "social", "yes", 14),
        ("Q2", "none", "no", 40),
    ]
    return pl.DataFrame(rows, schema=["quarter", "pathway", "referred", "n"], orient="row")


def test_a_cell_published_under_two_names_is_one_variable_with_one_fate():
    table = _flow(12)
    levels = [("pathway", "quarter"), ("referred", "quarter"), ("quarter",)]
    lattice = build_lattice(table.drop("n"), ("quarter", "pathway", "referred"), levels)
    # Cells: pathway x quarter (6), referred x quarter (4), quarter (2) = 12 cells; the two
    # "none" cells equal the two "referred = no" cells, so 10 variables.
    assert lattice.n_cells == 12
    assert lattice.n_vars == 10
    for quarter in ("Q1", "Q2"):
        none = _cell_index(lattice, 0, pathway="none", quarter=quarter)
        not_referred = _cell_index(lattice, 1, referred="no", quarter=quarter)
        assert lattice.cell_var[none] == lattice.cell_var[not_referred]

    result = protect_counts(
        table,
        view="flow",
        dimensions=["quarter", "pathway", "referred"],
        count="n",
        margins=[list(level) for level in levels],
        finest_published=False,
    )
    # Q1: social (6) is small, so its line (referred yes = arrest + social) needs a second
    # hidden cell: arrest (30). Then quarter Q1 = yes + no holds "yes" (36, published) and
    # "no" (12): both names of the 12 are published together or withheld together.
    pathway = result.level(["pathway", "quarter"]).frame
    referred = result.level(["referred", "quarter"]).frame
    for quarter in ("Q1", "Q2"):
        none = pathway.filter((pl.col("pathway") == "none") & (pl.col("quarter") == quarter))
        no = referred.filter((pl.col("referred") == "no") & (pl.col("quarter") == quarter))
        assert none["n_flag"].to_list() == no["n_flag"].to_list()
        assert none["n"].to_list() == no["n"].to_list()
    assert audit_counts(result, true_finest_counts=table).passed


def _cell_index(lattice, level_index: int, **key: str) -> int:
    cells = lattice.level_slice(level_index)
    for cell in range(cells.start, cells.stop):
        if dict(lattice.cell_key(cell)) == key:
            return cell
    raise AssertionError(key)


_value = st.one_of(st.just(0), st.integers(1, 10), st.integers(11, 60))


@st.composite
def _tables_with_twins(draw):
    """Random tables where column `g` groups d0's first value alone: g = solo is d0 = v0."""
    sizes = [draw(st.integers(2, 3)), draw(st.integers(2, 3))]
    cells = list(itertools.product(*[[f"v{j}" for j in range(s)] for s in sizes]))
    values = draw(st.lists(_value, min_size=len(cells), max_size=len(cells)))
    frame = pl.DataFrame(
        [(*cell, v) for cell, v in zip(cells, values, strict=True)],
        schema=["d0", "d1", "n"],
        orient="row",
    ).with_columns(g=pl.when(pl.col("d0") == "v0").then(pl.lit("solo")).otherwise(pl.lit("rest")))
    optional = [("d0",), ("d1",), ("g", "d1"), ()]
    extra = draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional)))
    margins = [("g",), ("d0",), *[m for m in extra if m != ("d0",)]]
    return frame, margins, draw(st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables_with_twins())
def test_random_tables_cells_with_the_same_members_always_share_their_status(case):
    frame, margins, finest_published = case
    result = protect_counts(
        frame,
        view="twins",
        dimensions=["d0", "d1"],
        count="n",
        margins=[list(m) for m in margins],
        finest_published=finest_published,
    )
    # g = solo and d0 = v0 hold the same finest cells; so do (g = solo, d1) and (d0 = v0, d1).
    solo = result.level(["g"]).frame.filter(pl.col("g") == "solo")
    v0 = result.level(["d0"]).frame.filter(pl.col("d0") == "v0")
    assert solo["n_flag"].to_list() == v0["n_flag"].to_list()
    if ("g", "d1") in margins:
        by_g = result.level(["g", "d1"]).frame.filter(pl.col("g") == "solo").sort("d1")
        finest_v0 = frame.filter(pl.col("d0") == "v0").sort("d1")
        if finest_published:
            shown = result.finest.frame.filter(pl.col("d0") == "v0").sort("d1")
            assert by_g["n_flag"].to_list() == shown["n_flag"].to_list()
        assert by_g["d1"].to_list() == finest_v0["d1"].to_list()
    tables = {level: p.frame for level, p in result.levels.items()}
    cells, finest = _attacker_bounds(tables, result.finest_keys, ("d0", "d1"))
    assert all(_has_range(*b) for b in cells.values()), cells
    if not finest_published:
        for row in frame.filter((pl.col("n") > 0) & (pl.col("n") < 11)).iter_rows(named=True):
            assert _has_range(*finest[(row["d0"], row["d1"])])


# --- only disclosure can construct a Protected ------------------------------------------------

_SEAL_NAMES = {"_SEAL", "_make_protected"}


def _seal_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [alias.name for alias in node.names if alias.name in _SEAL_NAMES]
        elif isinstance(node, ast.Attribute) and node.attr in _SEAL_NAMES:
            found.append(node.attr)
        elif isinstance(node, ast.Name) and node.id in _SEAL_NAMES:
            found.append(node.id)
    return found


def test_no_module_outside_disclosure_reaches_for_the_seal():
    package = REPO / "data_access" / "disclosure"
    sources = [
        path
        for path in REPO.rglob("*.py")
        if not any(part.startswith(".") or part in {"node_modules"} for part in path.parts)
    ]
    assert package / "protected.py" in sources  # the scan does see the package itself
    assert _seal_uses(package / "protected.py")  # ...and would notice the names there
    offenders = {
        str(path.relative_to(REPO)): uses
        for path in sources
        if package not in path.parents and (uses := _seal_uses(path))
    }
    assert offenders == {}
