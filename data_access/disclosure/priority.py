"""Which published cells to give up first when a complement is needed: details before totals.

A dashboard's headline numbers are its coarse totals: the site's referrals in a
quarter or a year, a precinct's total, a race group's yearly total. When a
further cell must be withheld to protect a small one, complementary suppression
takes it from the most detailed level that can do the job, and the smallest
value there, and withholds a total only when nothing finer serves.

A level is coarser (so kept longer) when it is broken down by fewer columns; on
a tie, when more published levels add up to it (it is their total); on a tie
again, when it has fewer cells. A caller may name levels to keep above all
others (`protect`): their cells are withheld only as a last resort, the first
named kept longest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from data_access.disclosure.lattice import Lattice, Level
from data_access.disclosure.policy import PolicyError


def level_costs(lattice: Lattice, protect: Sequence[Level] = ()) -> np.ndarray:
    """Per published level, the cost of withholding one of its cells (0 = cheapest).

    Costs are ranks: every level has a distinct cost unless two levels are the
    same in every respect used (then they tie and values decide).
    """
    n = len(lattice.levels)
    protected_rank = np.zeros(n, dtype=np.int64)
    for position, level in enumerate(protect):
        index = _level_index(lattice, level)
        if protected_rank[index] == 0:  # named twice: the first mention counts
            protected_rank[index] = len(protect) - position
    refines = lattice.level_refines
    strictly_finer = (refines & ~refines.T).sum(axis=0)  # how many published levels add up to it
    n_cells = np.bincount(lattice.cell_level, minlength=n)
    n_columns = np.array([len(level) for level in lattice.levels])
    # np.lexsort: the last key is the primary one; ascending order = cheapest first.
    order = np.lexsort((-n_cells, strictly_finer, -n_columns, protected_rank))
    keys = np.stack([protected_rank, -n_columns, strictly_finer, -n_cells], axis=1)[order]
    distinct = np.concatenate([[0], np.cumsum(np.any(keys[1:] != keys[:-1], axis=1))])
    costs = np.empty(n, dtype=np.int64)
    costs[order] = distinct
    return costs


def variable_order(
    lattice: Lattice, values: np.ndarray, protect: Sequence[Level] = ()
) -> np.ndarray:
    """Rank of every variable as a complement: cheaper level first, then smaller value.

    A variable standing for cells of several levels costs as much as the dearest
    of them (withholding it withholds all of them).
    """
    per_level = level_costs(lattice, protect)
    cost = np.zeros(lattice.n_vars, dtype=np.int64)
    np.maximum.at(cost, lattice.cell_var, per_level[lattice.cell_level])
    order = np.lexsort((np.arange(lattice.n_vars), values, cost))
    rank = np.empty(lattice.n_vars, dtype=np.int64)
    rank[order] = np.arange(lattice.n_vars)
    return rank


# A coarser tier costs this many times a finer one in the repair program (repair.py):
# more than all the finer cells a two-cell swap can disturb, so a swap that avoids a
# coarser cell is always preferred.
TIER_FACTOR = 40.0  # prices below this are cells of the finest tier


def variable_prices(
    lattice: Lattice, values: np.ndarray, protect: Sequence[Level] = ()
) -> np.ndarray:
    """Price of withholding each variable, for the repair program: tier, then level, then value.

    Tiers: levels named in `protect` above all others, then fewer columns above more.
    """
    per_level = level_costs(lattice, protect)
    protected = np.zeros(len(lattice.levels), dtype=np.int64)
    for position, level in enumerate(protect):
        index = _level_index(lattice, level)
        protected[index] = max(protected[index], len(protect) - position)
    columns = np.array([len(level) for level in lattice.levels])
    tier_keys = np.stack([protected, -columns], axis=1)
    _, tier = np.unique(tier_keys, axis=0, return_inverse=True)
    var_tier = np.zeros(lattice.n_vars, dtype=np.int64)
    var_cost = np.zeros(lattice.n_vars, dtype=np.int64)
    np.maximum.at(var_tier, lattice.cell_var, tier.ravel()[lattice.cell_level])
    np.maximum.at(var_cost, lattice.cell_var, per_level[lattice.cell_level])
    spread = 1.0 + var_cost / (1.0 + var_cost.max(initial=0))
    size = 1.0 + values / (1.0 + values.max(initial=0))
    return TIER_FACTOR ** var_tier.astype(float) * spread * size


def _level_index(lattice: Lattice, level: Level) -> int:
    for index, published in enumerate(lattice.levels):
        if set(published) == set(level) and len(published) == len(level):
            return index
    shown = ", ".join(str(list(lv)) for lv in lattice.levels)
    raise PolicyError(
        f"protect names {list(level)}, which is not a published level; published: {shown}."
    )
