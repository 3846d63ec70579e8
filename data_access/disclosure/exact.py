"""Exact audit: what can an attacker deduce about each withheld value?

The attacker knows every published cell, that published cells add up (the
finest cells sum to every margin), that counts are never negative, and what
each withheld cell's reason says: "fewer than k" means 1..k-1, and "withheld to
protect another cell" means the value is not small, i.e. at least k (we never
choose a zero as complement, so the policy text tells the attacker that much).
For each target (a withheld cell, or an unpublished finest cell) we compute the
smallest and largest value consistent with all of that by linear programming
(HiGHS, through highspy). A target is protected when at least two whole numbers lie in
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

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

_TOL = 1e-6
_GROUP_ROUNDS = 200
_BUNDLE_SIZE = 400


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

    # cells x unknown finest cells (a product with a selection matrix: cheaper than slicing
    # the columns of a large CSR matrix, which converts it to CSC first)
    select = sp.csr_matrix(
        (np.ones(len(unknown)), (unknown, np.arange(len(unknown)))),
        shape=(view.member.shape[1], len(unknown)),
    )
    sub = (view.member @ select).tocsr()
    sub.sort_indices()
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
        # Rows and unknowns as one graph (a row links the unknowns it holds): linear in
        # the number of entries, where rows.T @ rows would square the busiest rows.
        coo = rows.tocoo()
        n_rows = rows.shape[0]
        graph = sp.csr_matrix(
            (np.ones(coo.nnz), (coo.row, coo.col + n_rows)),
            shape=(n_rows + n_unknown, n_rows + n_unknown),
        )
        _, labels = connected_components(graph, directed=False)
        comp_of_var = np.unique(labels[n_rows:], return_inverse=True)[1].ravel()
    else:
        comp_of_var = np.arange(n_unknown)

    # Every target as the unknown columns it sums, plus the pinned part it holds.
    n_cells = len(target_cells)
    columns: list[np.ndarray] = []
    offsets = np.zeros(n_cells + len(target_finest))
    for i, cell in enumerate(target_cells):
        columns.append(sub.indices[sub.indptr[cell] : sub.indptr[cell + 1]])
        offsets[i] = known_part[cell]
    for i, f in enumerate(target_finest):
        unknown_f = col_of[f] >= 0
        columns.append(np.array([col_of[f]]) if unknown_f else np.array([], dtype=np.int64))
        offsets[n_cells + i] = 0.0 if unknown_f else pinned[f]
    results = [Bounds(float(o), float(o)) for o in offsets]  # right for the pinned ones
    open_targets = np.array([t for t, cols in enumerate(columns) if len(cols)], dtype=np.int64)
    if len(open_targets) == 0:
        return results[:n_cells], results[n_cells:]
    bundle_of_var = _bundles(comp_of_var)[comp_of_var]
    bundle_of_target = bundle_of_var[[columns[t][0] for t in open_targets]]
    eq_bundle = _row_component(a_eq, bundle_of_var)
    wh_bundle = _row_component(a_wh, bundle_of_var)
    for bundle in np.unique(bundle_of_target):
        var_idx = np.flatnonzero(bundle_of_var == bundle)
        local = np.full(n_unknown, -1, dtype=np.int64)
        local[var_idx] = np.arange(len(var_idx))
        eq_rows = np.flatnonzero(eq_bundle == bundle)
        wh_rows = np.flatnonzero(wh_bundle == bundle)
        system = _System(
            a_eq[eq_rows][:, var_idx],
            b_eq[eq_rows],
            a_wh[wh_rows][:, var_idx],
            lo_wh[wh_rows],
            hi_wh[wh_rows],
            comp_of_var[var_idx],
        )
        mine = open_targets[bundle_of_target == bundle]
        found = system.bounds_of_all([local[columns[t]] for t in mine], offsets[mine])
        for t, bounds in zip(mine, found, strict=True):
            results[t] = bounds
    return results[:n_cells], results[n_cells:]


def _bundles(comp_of_var: np.ndarray) -> np.ndarray:
    """Independent parts packed into bundles of about _BUNDLE_SIZE unknowns, one LP each.

    One LP per small part costs mostly call overhead; one LP for everything costs
    more than its parts (simplex work grows faster than size). Bundles sit between.
    """
    sizes = np.bincount(comp_of_var)
    bundle_of_comp = np.empty(len(sizes), dtype=np.int64)
    bundle, filled = 0, 0
    for comp, size in enumerate(sizes):
        if filled and filled + size > _BUNDLE_SIZE:
            bundle, filled = bundle + 1, 0
        bundle_of_comp[comp] = bundle
        filled += size
    return bundle_of_comp


def _row_component(rows: sp.csr_matrix, comp_of_var: np.ndarray) -> np.ndarray:
    first = rows.indices[rows.indptr[:-1]] if rows.shape[0] else np.array([], dtype=np.int64)
    return comp_of_var[first] if len(first) else np.array([], dtype=np.int64)


class _Evidence:
    """The smallest and largest value of each target seen in any feasible table so far."""

    def __init__(self, targets: list[np.ndarray], offsets: np.ndarray, n: int) -> None:
        rows = np.repeat(np.arange(len(targets)), [len(c) for c in targets])
        self.matrix = sp.csr_matrix(
            (np.ones(len(rows)), (rows, np.concatenate(targets))), shape=(len(targets), n)
        )
        self.offsets = np.asarray(offsets, dtype=float)
        self.low = np.full(len(targets), np.inf)
        self.high = np.full(len(targets), -np.inf)
        self.proven = np.zeros(len(targets), dtype=bool)

    def add(self, x: np.ndarray | None) -> None:
        if x is not None:
            self._update(slice(None), self.matrix @ x + self.offsets)

    def add_values(self, which: np.ndarray, values: np.ndarray) -> None:
        """Values of some targets in one feasible table (e.g. of their part only)."""
        self._update(which, values)

    def _update(self, where: slice | np.ndarray, values: np.ndarray) -> None:
        self.low[where] = np.minimum(self.low[where], values)
        self.high[where] = np.maximum(self.high[where], values)
        with np.errstate(invalid="ignore"):
            self.proven[where] = (
                np.floor(self.high[where] + _TOL) - np.ceil(self.low[where] - _TOL) >= 1
            )

    def bounds(self, t: int) -> Bounds:
        return Bounds(float(self.low[t]), float(self.high[t]))


class _System:
    """A bundle of independent parts of a view's constraints, over their unknown finest cells.

    Shared-evidence solves run on the whole bundle at once: its parts share no
    constraint, so optimising a sum over all of them optimises each part, and one
    LP does the work of one per part. Pinned targets are then tested, and exact
    bounds solved, on their own part only (a smaller LP).
    """

    def __init__(self, a_eq, b_eq, a_wh, lo_wh, hi_wh, comp_of_var: np.ndarray) -> None:
        self.whole = _Problem(a_eq, b_eq, a_wh, lo_wh, hi_wh)
        self._rows = (a_eq, b_eq, a_wh, lo_wh, hi_wh)
        self.comp_of_var = comp_of_var
        self._eq_comp = _row_component(a_eq, comp_of_var)
        self._wh_comp = _row_component(a_wh, comp_of_var)

    def part(self, comp: int) -> tuple[_Problem, np.ndarray]:
        """The LP of one independent part, and which of the bundle's columns it holds."""
        a_eq, b_eq, a_wh, lo_wh, hi_wh = self._rows
        var_idx = np.flatnonzero(self.comp_of_var == comp)
        eq_rows = np.flatnonzero(self._eq_comp == comp)
        wh_rows = np.flatnonzero(self._wh_comp == comp)
        problem = _Problem(
            a_eq[eq_rows][:, var_idx],
            b_eq[eq_rows],
            a_wh[wh_rows][:, var_idx],
            lo_wh[wh_rows],
            hi_wh[wh_rows],
        )
        return problem, var_idx

    def bounds_of_all(self, targets: list[np.ndarray], offsets: np.ndarray) -> list[Bounds]:
        """Bounds of every target (given by its columns), proving most with shared evidence.

        1. Each round optimises a random signed sum of the targets not yet proven,
           both ways: every target is pushed up in one solve and down in the other,
           so one pair of solves proves a range for many targets at once.
        2. The targets left are mostly pinned; see `_settle_part`.
        """
        evidence = _Evidence(targets, offsets, self.whole.n)
        box = self.whole._box()
        rng = np.random.default_rng(20240611)  # fixed: the same data give the same choices
        for _ in range(_GROUP_ROUNDS if len(targets) > 2 else 0):
            open_targets = np.flatnonzero(~evidence.proven)
            if len(open_targets) <= 2:
                break
            signs = rng.choice([-1.0, 1.0], size=len(open_targets))
            objective = np.asarray(signs @ evidence.matrix[open_targets]).ravel()
            for direction in (1.0, -1.0):
                evidence.add(self.whole._solve(direction * objective, upper=box, strict=False)[1])
            if len(open_targets) - int(np.count_nonzero(~evidence.proven)) < 2:
                break  # shared evidence has stopped paying; test the rest in groups

        results: dict[int, Bounds] = {}
        open_targets = np.flatnonzero(~evidence.proven)
        comp_of_target = self.comp_of_var[[targets[t][0] for t in open_targets]]
        for comp in np.unique(comp_of_target):
            group = open_targets[comp_of_target == comp]
            results |= self._settle_part(int(comp), group, evidence, rng)
        return [results[t] if t in results else evidence.bounds(t) for t in range(len(targets))]

    def _settle_part(
        self, comp: int, group: np.ndarray, evidence: _Evidence, rng: np.random.Generator
    ) -> dict[int, Bounds]:
        """Decide the open targets of one part, testing pinned ones a group at a time.

        Minimise and maximise a sum of the group with random positive weights. If
        both give the same value, the weighted sum is the same in every table
        consistent with what is published, and (the weights being random) so is
        each target in the group: all are pinned, for two LPs. Otherwise some
        target took different values in the two solutions: those are not pinned
        and get their exact bounds (when the evidence has not already shown a
        range); the others are tested again as a group.
        """
        problem, var_idx = self.part(comp)
        local = evidence.matrix[group][:, var_idx].tocsr()  # the group's rows, the part's columns
        position = {int(t): i for i, t in enumerate(group)}

        def witness(x: np.ndarray | None) -> np.ndarray | None:
            if x is None:
                return None
            values = local @ x + evidence.offsets[group]
            evidence.add_values(group, values)
            return values

        results: dict[int, Bounds] = {}
        pending = group
        while len(pending):
            pending = pending[~evidence.proven[pending]]
            if len(pending) <= 1:
                for t in pending:
                    results[int(t)] = self._exact(problem, local[position[int(t)]], t, evidence)
                break
            rows = [position[int(t)] for t in pending]
            objective = np.asarray(rng.uniform(1.0, 2.0, size=len(rows)) @ local[rows]).ravel()
            low, x_low = problem._solve(objective)
            values_low = witness(x_low)
            high_neg, x_high = problem._solve(-objective)
            if x_high is None:  # unbounded above: some target is free; split to find it
                witness(problem._solve(-objective, upper=problem._box(), strict=False)[1])
                half = len(pending) // 2
                for t in pending[:half]:
                    results[int(t)] = self._exact(problem, local[position[int(t)]], t, evidence)
                pending = pending[half:]
                continue
            values_high = witness(x_high)
            if -high_neg - low <= _TOL * max(1.0, abs(low)):
                for t in pending:
                    value = float(values_low[position[int(t)]])
                    results[int(t)] = Bounds(value, value)
                break
            moved = np.abs(values_high[rows] - values_low[rows]) > _TOL
            for t in pending[moved]:
                if not evidence.proven[t]:
                    results[int(t)] = self._exact(problem, local[position[int(t)]], t, evidence)
            pending = pending[~moved]
        return results

    def _exact(self, problem: _Problem, row: sp.csr_matrix, t: int, evidence: _Evidence) -> Bounds:
        """Exact LP bounds of one target on its part (stopping once it shows a range)."""
        objective = np.asarray(row.todense()).ravel()
        offset = float(evidence.offsets[t])
        low, x_low = problem._solve(objective)
        if x_low is not None:
            evidence.add_values(np.array([t]), np.array([objective @ x_low + offset]))
        if evidence.proven[t]:
            return evidence.bounds(t)
        high_neg, x_high = problem._solve(-objective)
        if x_high is not None:
            evidence.add_values(np.array([t]), np.array([objective @ x_high + offset]))
        return Bounds(low + offset, math.inf if x_high is None else -high_neg + offset)


class _Problem:
    """The constraints of one LP over some unknown finest cells, and one HiGHS model of them.

    The audit solves each LP many times (random signed sums, then exact bounds)
    with the same constraints and only another objective, and sometimes the box
    bound. scipy's linprog rebuilt and presolved the whole model for every solve;
    here the model is built once and each solve changes only the column costs (and
    the column upper bounds when the box changes), so HiGHS starts from the last
    optimal basis, which stays feasible when only the costs change.
    """

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
        self._highs: highspy._Highs | None = None  # built on the first solve
        self._upper: float | None = None  # the column upper bound the model holds now
        self._columns = np.arange(self.n, dtype=np.int32)

    def _box(self) -> float:
        """A bound on every cell, large enough not to cut off any table we care about.

        Random objectives may be unbounded, so those solves run inside this box; a
        point feasible in the box is feasible without it, which is all evidence needs.
        """
        rhs = [np.abs(self.b_eq) if self.b_eq is not None else np.zeros(1)]
        if self.b_ub is not None:
            rhs.append(np.abs(self.b_ub))
        return 2.0 * float(max(r.max(initial=0.0) for r in rhs)) + 100.0

    def _model(self) -> highspy._Highs:
        """The LP as linprog posed it: A_ub x <= b_ub rows, then A_eq x = b_eq rows, x >= 0."""
        if self._highs is not None:
            return self._highs
        parts = [m for m in (self.a_ub, self.a_eq) if m is not None]
        matrix = sp.vstack(parts).tocsc() if parts else sp.csc_matrix((0, self.n))
        n_ub = 0 if self.b_ub is None else len(self.b_ub)
        b_eq = np.zeros(0) if self.b_eq is None else self.b_eq
        b_ub = np.zeros(0) if self.b_ub is None else self.b_ub
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = matrix.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.zeros(self.n)
        lp.col_upper_ = np.full(self.n, highspy.kHighsInf)
        lp.row_lower_ = np.concatenate([np.full(n_ub, -highspy.kHighsInf), b_eq])
        lp.row_upper_ = np.concatenate([b_ub, b_eq]).astype(float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = matrix.shape[0]
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data.astype(float)
        # The plain binding: highspy.Highs adds Python callbacks (and prints a banner)
        # that cost several times the construction, and a part's LP is built often.
        highs = highspy._Highs()
        highs.setOptionValue("output_flag", False)
        # Primal simplex: after a change of costs the last optimal basis is still primal
        # feasible, so primal simplex goes on from it, where dual simplex (HiGHS's choice
        # for LPs) must first restore dual feasibility; about 3x less time over a large
        # site's solves. The first solve, without a basis, presolves as linprog did.
        highs.setOptionValue("simplex_strategy", _PRIMAL_SIMPLEX)
        if highs.passModel(lp) == highspy.HighsStatus.kError:
            raise RuntimeError("linear program failed: HiGHS refused the model")
        self._highs = highs
        return highs

    def _run(self, objective: np.ndarray, upper: float | None) -> highspy.HighsModelStatus:
        highs = self._model()
        highs.changeColsCost(self.n, self._columns, np.asarray(objective, dtype=float))
        if upper != self._upper:
            bound = highspy.kHighsInf if upper is None else float(upper)
            highs.changeColsBounds(self.n, self._columns, np.zeros(self.n), np.full(self.n, bound))
            self._upper = upper
        highs.run()
        status = highs.getModelStatus()
        if status not in _SETTLED:
            # Anything else (numerical trouble from a warm start, say): solve again from
            # scratch, with presolve, as linprog solved every time.
            highs.clearSolver()
            highs.run()
            status = highs.getModelStatus()
        return status

    def _solve(
        self, objective: np.ndarray, upper: float | None = None, strict: bool = True
    ) -> tuple[float, np.ndarray | None]:
        status = self._run(objective, upper)
        if status == _OPTIMAL:
            x = np.array(self._highs.getSolution().col_value)
            return float(self._highs.getInfo().objective_function_value), x
        if not strict:
            return math.nan, None
        if status == _UNBOUNDED_OR_INFEASIBLE:
            # The constraints decide which: feasible with a zero objective means unbounded.
            status = self._run(np.zeros(self.n), upper)
            status = highspy.HighsModelStatus.kUnbounded if status == _OPTIMAL else status
        if status == highspy.HighsModelStatus.kUnbounded:
            return -math.inf, None  # the target can be made as large as you like
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InconsistentView("the published numbers admit no table at all")
        raise RuntimeError(f"linear program failed: {self._highs.modelStatusToString(status)}")


_PRIMAL_SIMPLEX = int(highspy.simplex_constants.SimplexStrategy.kSimplexStrategyPrimal)
_OPTIMAL = highspy.HighsModelStatus.kOptimal
_UNBOUNDED_OR_INFEASIBLE = highspy.HighsModelStatus.kUnboundedOrInfeasible
_SETTLED = (_OPTIMAL, highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kInfeasible)
