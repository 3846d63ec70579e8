"""The additive structure of a count table and the margins published from it.

A view publishes cells at several levels: the finest table (e.g. precinct x
race x quarter) and margins that sum it over some columns (totals per precinct,
per race, the site total; quarter within year). Every published cell is a sum
of finest cells, so the whole view is one linear system: `member` is the 0/1
matrix of published cells x finest cells. `relations` are the published
"lines" (a coarse cell and the finer published cells that add up to it), the
unit the classic "at least two withheld per line" rule works on.

Two cells of different levels can hold exactly the same finest cells (in the
referral-flow cube, "not referred" by quarter is also pathway "none" by
quarter): they are one number under two names, so withholding one and showing
the other would give it away. Suppression therefore works on *variables*, one
per distinct set of finest cells: `cell_var` names each cell's variable, and
`var_member` / `var_relations` are `member` / `relations` over variables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

Level = tuple[str, ...]


@dataclass(frozen=True)
class Lattice:
    dimensions: Level
    finest: pl.DataFrame  # one row per finest cell: the key columns every level needs
    levels: tuple[Level, ...]  # published levels, in the caller's order
    level_keys: tuple[pl.DataFrame, ...]  # per level: its cells' keys, in cell order
    cell_level: np.ndarray  # level index of every published cell
    member: sp.csr_matrix  # published cells x finest cells, 1 where the cell sums that finest cell
    relations: sp.csr_matrix  # relations x published cells, 1 for each member of the line
    level_refines: np.ndarray  # [a, b]: every cell of level a lies inside one cell of level b
    cell_var: np.ndarray  # variable of every published cell (cells with the same members share one)
    var_member: sp.csr_matrix  # variables x finest cells
    var_relations: sp.csr_matrix  # relations x variables (lines of one variable dropped)

    @property
    def n_vars(self) -> int:
        return int(self.var_member.shape[0])

    @property
    def n_cells(self) -> int:
        return int(self.cell_level.shape[0])

    @property
    def n_finest(self) -> int:
        return self.finest.height

    def level_slice(self, index: int) -> slice:
        start = int(np.searchsorted(self.cell_level, index, side="left"))
        stop = int(np.searchsorted(self.cell_level, index, side="right"))
        return slice(start, stop)

    def cell_key(self, cell: int) -> tuple[tuple[str, object], ...]:
        level = int(self.cell_level[cell])
        row = int(cell) - self.level_slice(level).start
        keys = self.level_keys[level]
        return tuple((c, keys[c][row]) for c in self.levels[level])

    def finest_key(self, index: int) -> tuple[tuple[str, object], ...]:
        return tuple((c, self.finest[c][int(index)]) for c in self.dimensions)


def _cell_of_finest(finest: pl.DataFrame, level: Level) -> tuple[np.ndarray, pl.DataFrame]:
    """For every finest cell, the index of the cell of `level` holding it; and that level's keys."""
    if not level:
        return np.zeros(finest.height, dtype=np.int64), pl.DataFrame()
    keys = finest.select(level).unique(maintain_order=True).with_row_index("_cell")
    mapped = finest.select(level).join(keys, on=list(level), how="left", maintain_order="left")
    return mapped["_cell"].to_numpy().astype(np.int64), keys.drop("_cell")


def build_lattice(
    finest: pl.DataFrame, dimensions: Sequence[str], levels: Sequence[Level]
) -> Lattice:
    """The linear structure of `levels` published over the finest cells in `finest`.

    `finest` must hold one row per combination of `dimensions` (checked by the
    caller) and every column any level is broken down by.
    """
    dims = tuple(dimensions)
    maps: list[np.ndarray] = []
    keys: list[pl.DataFrame] = []
    for level in levels:
        mapping, level_keys = _cell_of_finest(finest, level)
        maps.append(mapping)
        keys.append(level_keys)
    if finest.height == 0:
        raise ValueError("a lattice needs at least one finest cell")
    sizes = [int(m.max()) + 1 for m in maps]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n_cells = int(offsets[-1])
    cell_level = np.repeat(np.arange(len(levels)), sizes)

    n_finest = finest.height
    rows = np.concatenate([maps[i] + offsets[i] for i in range(len(levels))]) if levels else []
    cols = np.tile(np.arange(n_finest), len(levels))
    member = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float64), (rows, cols)), shape=(n_cells, n_finest)
    )

    refines = _refinement(maps, sizes)
    relations = _relations(maps, sizes, offsets, refines)
    cell_var, var_member, var_relations = _variables(member, relations)
    return Lattice(
        dims,
        finest,
        tuple(levels),
        tuple(keys),
        cell_level,
        member,
        relations,
        refines,
        cell_var,
        var_member,
        var_relations,
    )


def _variables(
    member: sp.csr_matrix, relations: sp.csr_matrix
) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix]:
    """Merge cells holding exactly the same finest cells into one variable each."""
    member = member.tocsr()
    member.sort_indices()
    first_of: dict[bytes, int] = {}
    cell_var = np.empty(member.shape[0], dtype=np.int64)
    representatives: list[int] = []
    for cell in range(member.shape[0]):
        signature = member.indices[member.indptr[cell] : member.indptr[cell + 1]].tobytes()
        var = first_of.setdefault(signature, len(representatives))
        if var == len(representatives):
            representatives.append(cell)
        cell_var[cell] = var
    n_vars = len(representatives)
    var_member = member[np.array(representatives, dtype=np.int64)]
    to_var = sp.csr_matrix(
        (np.ones(len(cell_var)), (np.arange(len(cell_var)), cell_var)),
        shape=(len(cell_var), n_vars),
    )
    var_relations = (relations @ to_var).tocsr()
    # A line whose coarse cell is its only finer cell under another name says v = v:
    # nothing to protect there. (A coarse cell can equal a finer one only when that
    # finer cell is its only member, since published cells are never empty.)
    var_relations.data[:] = 1
    keep = np.flatnonzero(np.diff(var_relations.indptr) >= 2)
    return cell_var, var_member, var_relations[keep].astype(np.int64)


def _refinement(maps: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """refines[a, b]: every cell of level a lies inside a single cell of level b."""
    n = len(maps)
    refines = np.zeros((n, n), dtype=bool)
    for a in range(n):
        for b in range(n):
            if a != b and sizes[a] >= sizes[b]:
                # Level a refines b when the b-cell of a finest cell depends only on its a-cell.
                parent = np.empty(sizes[a], dtype=np.int64)
                parent[maps[a]] = maps[b]
                refines[a, b] = bool(np.array_equal(parent[maps[a]], maps[b]))
    return refines


def _relations(
    maps: list[np.ndarray], sizes: list[int], offsets: np.ndarray, refines: np.ndarray
) -> sp.csr_matrix:
    """One relation per coarse cell for each pair (finer level, coarser level) next to each other.

    Only covering pairs are used (no published level strictly between them):
    longer chains add up from shorter ones. Levels with the same cells (the same
    partition, e.g. a margin over a column with one value) are tied cell by cell.
    """
    n = len(maps)
    strict = refines & ~refines.T
    rel_rows: list[np.ndarray] = []
    rel_cols: list[np.ndarray] = []
    n_rel = 0
    for a in range(n):
        for b in range(n):
            equal = refines[a, b] and refines[b, a]
            if equal and a > b:
                continue
            covering = strict[a, b] and not any(strict[a, c] and strict[c, b] for c in range(n))
            if not (covering or equal):
                continue
            parent = np.zeros(sizes[a], dtype=np.int64)
            parent[maps[a]] = maps[b]
            fine_cells = np.arange(sizes[a]) + offsets[a]
            coarse_cells = np.arange(sizes[b]) + offsets[b]
            # relation r holds coarse cell r and every fine cell whose parent is r
            rel_rows.append(np.concatenate([np.arange(sizes[b]), parent]) + n_rel)
            rel_cols.append(np.concatenate([coarse_cells, fine_cells]))
            n_rel += sizes[b]
    if not rel_rows:
        return sp.csr_matrix((0, int(offsets[-1])))
    rows = np.concatenate(rel_rows)
    cols = np.concatenate(rel_cols)
    return sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int64), (rows, cols)), shape=(n_rel, int(offsets[-1]))
    )
