"""Exact audit: what can an attacker deduce about each withheld value?

The attacker knows every published cell, that published cells add up (the
finest cells sum to every margin), that counts are never negative, and what
each withheld cell's reason says: "fewer than k" means 1..k-1, and "withheld to
protect another cell" means the value is not small, i.e. at least k (we never
choose a zero as complement, so the policy text tells the attacker that much).
For each target (a withheld cell, or an unpublished finest cell) we compute the
smallest and largest value consistent with all of that by linear programming
(scipy's HiGHS). A target is protected when at least two whole numbers lie in
its range.

Integrality: an attacker reasons about whole numbers. For two-way tables with
their margins, and hierarchies nested in one dimension, the constraint matrix is
totally unimodular, so the LP bounds are whole numbers and equal the integer
bounds. For three-way tables with all two-way margins the integer range can be
narrower than the LP range; requiring two whole numbers inside the LP range (not
merely min < max) narrows that gap but does not close it in every case. This
is stated in docs/privacy.md as an accepted residual risk.

Speed: targets are grouped into independent components (cells that share no
published relation cannot inform each other) and every LP solution is a
feasible table, so each solve is also evidence about all other targets in its
component; most targets are proven to have a range without an LP of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

_TOL = 1e-6
_GROUP_ROUNDS = 200


@dataclass(frozen=True)
class LinearView:
    """A published view as linear constraints on its finest cells.

    member: published cells x finest cells (0/1).
    published: per cell, True when its value is published.
    value: per cell, the published value (ignored where not published).
    lower, upper: per cell, what a withheld cell's reason reveals (upper may be inf).
    """

    member: sp.csr_matrix
    published: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class Bounds:
    low: float
    high: float

    @property
    def has_range(self) -> bool:
        """At least two whole numbers are consistent with everything published."""
        if math.isinf(self.high):
            return True
        return math.floor(self.high + _TOL) - math.ceil(self.low - _TOL) >= 1


class InconsistentView(ValueError):
    """The published numbers contradict each other (they do not add up)."""


def _pinned_finest(view: LinearView) -> np.ndarray:
    """Finest values known at once: a published cell of one finest cell, or a published zero."""
    n_finest = view.member.shape[1]
    pinned = np.full(n_finest, np.nan)
    sizes = np.diff(view.member.indptr)
    for cell in np.flatnonzero(view.published & ((sizes == 1) | (view.value == 0))):
        members = view.member.indices[view.member.indptr[cell] : view.member.indptr[cell + 1]]
        pinned[members] = 0.0 if view.value[cell] == 0 else view.value[cell]
    return pinned


def bounds_of_targets(
    view: LinearView, target_cells: np.ndarray, target_finest: np.ndarray
) -> tuple[list[Bounds], list[Bounds]]:
    """Bounds of withheld published cells and of unpublished finest cells.

    A returned range may be an inner range (found from feasible tables rather
    than an LP of its own) when it already holds two whole numbers; a target
    without a range always gets its exact LP bounds.
    """
    pinned = _pinned_finest(view)
    unknown = np.flatnonzero(np.isnan(pinned))
    col_of = np.full(view.member.shape[1], -1, dtype=np.int64)
    col_of[unknown] = np.arange(len(unknown))
    known_values = np.nan_to_num(pinned, nan=0.0)
    known_part = view.member @ known_values  # sum of the pinned finest cells in each cell

    sub = view.member[:, unknown].tocsr()  # cells x unknown finest cells
    has_unknown = np.diff(sub.indptr) > 0
    eq_cells = np.flatnonzero(view.published & has_unknown)
    wh_cells = np.flatnonzero(~view.published & has_unknown)

    # Published cells made only of pinned finest cells must agree with them.
    check = np.flatnonzero(view.published & ~has_unknown)
    if np.any(np.abs(known_part[check] - view.value[check]) > _TOL):
        raise InconsistentView("published cells do not add up to the finest cells they cover")

    a_eq = sub[eq_cells]
    b_eq = view.value[eq_cells] - known_part[eq_cells]
    a_wh = sub[wh_cells]
    lo_wh = view.lower[wh_cells] - known_part[wh_cells]
    hi_wh = view.upper[wh_cells] - known_part[wh_cells]

    # Components: unknown finest cells linked through any constraint row.
    rows = sp.vstack([a_eq, a_wh]).tocsr() if (a_eq.shape[0] + a_wh.shape[0]) else None
    n_unknown = len(unknown)
    if n_unknown and rows is not None and rows.shape[0]:
        incidence = (rows.T @ rows).tocsr()
        _, comp_of_var = connected_components(incidence, directed=False)
    else:
        comp_of_var = np.arange(n_unknown)

    cell_results: list[Bounds | None] = [None] * len(target_cells)
    finest_results: list[Bounds | None] = [None] * len(target_finest)
    # Each target: (kind, index, unknown columns, constant offset)
    targets_by_comp: dict[int, list[tuple[str, int, np.ndarray, float]]] = {}
    for i, cell in enumerate(target_cells):
        cols = sub.indices[sub.indptr[cell] : sub.indptr[cell + 1]]
        if len(cols) == 0:
            cell_results[i] = Bounds(float(known_part[cell]), float(known_part[cell]))
            continue
        targets_by_comp.setdefault(int(comp_of_var[cols[0]]), []).append(
            ("cell", i, cols, float(known_part[cell]))
        )
    for i, f in enumerate(target_finest):
        if col_of[f] < 0:
            finest_results[i] = Bounds(float(pinned[f]), float(pinned[f]))
            continue
        col = np.array([col_of[f]])
        targets_by_comp.setdefault(int(comp_of_var[col[0]]), []).append(("finest", i, col, 0.0))

    eq_comp = _row_component(a_eq, comp_of_var)
    wh_comp = _row_component(a_wh, comp_of_var)
    for comp, targets in targets_by_comp.items():
        var_idx = np.flatnonzero(comp_of_var == comp)
        local = np.full(n_unknown, -1, dtype=np.int64)
        local[var_idx] = np.arange(len(var_idx))
        eq_rows = np.flatnonzero(eq_comp == comp)
        wh_rows = np.flatnonzero(wh_comp == comp)
        problem = _Problem(
            a_eq[eq_rows][:, var_idx],
            b_eq[eq_rows],
            a_wh[wh_rows][:, var_idx],
            lo_wh[wh_rows],
            hi_wh[wh_rows],
        )
        results = problem.bounds_of_all(
            [local[cols] for _, _, cols, _ in targets], np.array([t[3] for t in targets])
        )
        for (kind, i, _, _), bounds in zip(targets, results, strict=True):
            if kind == "cell":
                cell_results[i] = bounds
            else:
                finest_results[i] = bounds
    return [b for b in cell_results if b is not None], [b for b in finest_results if b is not None]


def _row_component(rows: sp.csr_matrix, comp_of_var: np.ndarray) -> np.ndarray:
    first = rows.indices[rows.indptr[:-1]] if rows.shape[0] else np.array([], dtype=np.int64)
    return comp_of_var[first] if len(first) else np.array([], dtype=np.int64)


class _Problem:
    """One component's constraints; remembers every feasible table it has seen."""

    def __init__(self, a_eq, b_eq, a_wh, lo_wh, hi_wh) -> None:
        self.n = a_eq.shape[1] if a_eq.shape[0] else a_wh.shape[1]
        self.a_eq = a_eq if a_eq.shape[0] else None
        self.b_eq = b_eq if a_eq.shape[0] else None
        ub_parts, rhs = [], []
        finite = np.isfinite(hi_wh)
        if np.any(finite):
            ub_parts.append(a_wh[np.flatnonzero(finite)])
            rhs.append(hi_wh[finite])
        positive_low = lo_wh > 0
        if np.any(positive_low):
            ub_parts.append(-a_wh[np.flatnonzero(positive_low)])
            rhs.append(-lo_wh[positive_low])
        self.a_ub = sp.vstack(ub_parts).tocsr() if ub_parts else None
        self.b_ub = np.concatenate(rhs) if rhs else None

    def bounds_of_all(self, targets: list[np.ndarray], offsets: np.ndarray) -> list[Bounds]:
        """Bounds of every target (given by its columns), proving most with shared evidence.

        Each round optimises a random signed sum of the targets not yet proven,
        both ways: every target is pushed up in one solve and down in the other,
        so one pair of solves proves a range for many targets at once. Targets
        still unproven after that get two LPs of their own (exact bounds).
        """
        n_targets = len(targets)
        rows = np.repeat(np.arange(n_targets), [len(c) for c in targets])
        matrix = sp.csr_matrix(
            (np.ones(len(rows)), (rows, np.concatenate(targets))), shape=(n_targets, self.n)
        )
        low_seen = np.full(n_targets, np.inf)
        high_seen = np.full(n_targets, -np.inf)

        def add(x: np.ndarray | None) -> None:
            if x is not None:
                values = matrix @ x + offsets
                np.minimum(low_seen, values, out=low_seen)
                np.maximum(high_seen, values, out=high_seen)

        def proven() -> np.ndarray:
            with np.errstate(invalid="ignore"):
                return np.floor(high_seen + _TOL) - np.ceil(low_seen - _TOL) >= 1

        box = self._box()
        rng = np.random.default_rng(20240611)  # fixed: the same data give the same choices
        for _ in range(_GROUP_ROUNDS if n_targets > 2 else 0):
            open_targets = np.flatnonzero(~proven())
            if len(open_targets) <= 2:
                break
            signs = rng.choice([-1.0, 1.0], size=len(open_targets))
            objective = signs @ matrix[open_targets]
            objective = np.asarray(objective).ravel()
            before = len(open_targets)
            for direction in (1.0, -1.0):
                add(self._solve(direction * objective, upper=box, strict=False)[1])
            if before - int(np.count_nonzero(~proven())) < 2:
                break  # shared evidence has stopped paying; finish one by one

        results: list[Bounds] = []
        for t in range(n_targets):
            if proven()[t]:
                results.append(Bounds(float(low_seen[t]), float(high_seen[t])))
                continue
            objective = np.asarray(matrix[t].todense()).ravel()
            low, x_low = self._solve(objective)
            add(x_low)
            if proven()[t]:
                results.append(Bounds(float(low_seen[t]), float(high_seen[t])))
                continue
            high_neg, x_high = self._solve(-objective)
            add(x_high)
            high = math.inf if x_high is None else -high_neg + offsets[t]
            results.append(Bounds(low + offsets[t], high))
        return results

    def _box(self) -> float:
        """A bound on every cell, large enough not to cut off any table we care about.

        Random objectives may be unbounded, so those solves run inside this box; a
        point feasible in the box is feasible without it, which is all evidence needs.
        """
        rhs = [np.abs(self.b_eq) if self.b_eq is not None else np.zeros(1)]
        if self.b_ub is not None:
            rhs.append(np.abs(self.b_ub))
        return 2.0 * float(max(r.max(initial=0.0) for r in rhs)) + 100.0

    def _solve(
        self, objective: np.ndarray, upper: float | None = None, strict: bool = True
    ) -> tuple[float, np.ndarray | None]:
        res = linprog(
            objective,
            A_ub=self.a_ub,
            b_ub=self.b_ub,
            A_eq=self.a_eq,
            b_eq=self.b_eq,
            bounds=(0, upper),
            method="highs",
        )
        if not strict:
            return (float(res.fun), res.x) if res.status == 0 else (math.nan, None)
        if res.status == 3:  # unbounded: the target can be made as large as you like
            return -math.inf, None
        if res.status == 2:
            raise InconsistentView("the published numbers admit no table at all")
        if res.status != 0:
            raise RuntimeError(f"linear program failed: {res.message}")
        return float(res.fun), res.x
