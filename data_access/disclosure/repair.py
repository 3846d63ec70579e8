"""Which further cells to withhold when the audit finds a withheld value that can be worked out.

The cheap answer (withhold some cell sharing a line with it) often misses: the
value may be pinned through a chain of other lines, and the nearest cell may be
a headline total. Instead we ask a small linear program for the cheapest way to
free it: find a table that agrees with everything published except a few cells,
in which the pinned value differs from the truth by at least one, paying for
every published cell it has to disagree with. Withholding exactly those cells
makes that table consistent with what is published, so the pinned value gets a
range. The price of a cell comes from priority.py: a cell of a coarser level
costs far more than the finer ones a swap disturbs, so totals are given up last.

The search is local: only finest cells sharing a published cell with the pinned
value may move; everything else stays at its true value. That keeps each
program small, and a two-cell swap (one finest cell up, a neighbour down) is all
it takes in practice. When no such table exists the caller falls back to the
simple rule.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog


def cheapest_release(
    member: sp.csr_matrix,
    member_t: sp.csr_matrix,
    target: np.ndarray,
    withheld: np.ndarray,
    values: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    finest_values: np.ndarray,
    prices: np.ndarray,
    k: int,
    fixed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Published variables to withhold so the sum of finest cells `target` can move by one.

    `fixed` marks published variables that withholding cannot hide (an earlier
    release published them): the table found must agree with them.
    Returns the variables to withhold and the table found (finest values), or
    None when no local table moves the target.
    """
    around = _rows_of(member_t, target)
    free = _rows_of(member, around)  # finest cells allowed to move
    touched = _rows_of(member_t, free)  # published cells whose sums can change
    local = member[touched][:, free].tocsr()
    outside = member[touched] @ finest_values.astype(float) - local @ finest_values[free]
    published = ~withheld[touched]
    payable = published & (values[touched] > 0)  # zeros are never withheld as complements
    if fixed is not None:
        payable &= ~fixed[touched]
    n_free, n_pay = len(free), int(payable.sum())

    # Columns: the free finest cells, then per payable cell its excess and its shortfall.
    pay_rows = np.flatnonzero(payable)
    deviation = sp.csr_matrix(
        (np.ones(n_pay), (pay_rows, np.arange(n_pay))), shape=(len(touched), n_pay)
    )
    shown = np.flatnonzero(published)
    a_eq = sp.hstack([local[shown], -deviation[shown], deviation[shown]]).tocsr()
    b_eq = values[touched][shown] - outside[shown]
    # Published non-zero cells are never small, so a table where one is below k is no
    # evidence (once withheld, its label says at least k). Withheld cells keep to their labels.
    hidden = np.flatnonzero(~published)
    finite = hidden[np.isfinite(upper[touched][hidden])]
    ub_blocks = [
        sp.hstack([-local[pay_rows], sp.csr_matrix((n_pay, 2 * n_pay))]),
        sp.hstack([-local[hidden], sp.csr_matrix((len(hidden), 2 * n_pay))]),
        sp.hstack([local[finite], sp.csr_matrix((len(finite), 2 * n_pay))]),
    ]
    ub_rhs = [
        -(k - outside[pay_rows]),
        -(lower[touched][hidden] - outside[hidden]),
        upper[touched][finite] - outside[finite],
    ]
    target_row = np.zeros(n_free + 2 * n_pay)
    target_row[np.searchsorted(free, target)] = 1.0
    truth = float(finest_values[target].sum())
    price = prices[touched][pay_rows]
    cost = np.concatenate([np.zeros(n_free), price, price])
    for sign in (1.0, -1.0):  # up by one, else down by one
        a_ub = sp.vstack([*ub_blocks, sp.csr_matrix(-sign * target_row)]).tocsr()
        b_ub = np.concatenate([*ub_rhs, [-sign * (truth + sign)]])
        result = linprog(
            cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs"
        )
        if result.status != 0:
            continue
        moved = result.x[n_free : n_free + n_pay] + result.x[n_free + n_pay :]
        chosen = touched[pay_rows[moved > 1e-6]]
        if len(chosen) == 0:
            continue
        table = finest_values.astype(float).copy()
        table[free] = result.x[:n_free]
        return chosen, table
    return None


def _rows_of(matrix: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """The sorted column indices present in any of `rows`."""
    if len(rows) == 0:
        return np.array([], dtype=np.int64)
    return np.unique(matrix[rows].indices)
