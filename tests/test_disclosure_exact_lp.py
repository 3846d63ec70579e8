"""The exact audit's LP (one HiGHS model, re-solved) answers as scipy's linprog did."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from data_access.disclosure.exact import InconsistentView, _Problem


def _problem(a_eq, b_eq, a_wh, lo_wh, hi_wh) -> _Problem:
    return _Problem(
        sp.csr_matrix(np.asarray(a_eq, dtype=float).reshape(-1, 3)),
        np.asarray(b_eq, dtype=float),
        sp.csr_matrix(np.asarray(a_wh, dtype=float).reshape(-1, 3)),
        np.asarray(lo_wh, dtype=float),
        np.asarray(hi_wh, dtype=float),
    )


def test_many_solves_of_one_model_match_a_fresh_linprog_each():
    # A published total of 30 over three cells, one withheld cell (the first two) at least 5
    # and at most 20: random objectives, with and without the box, against linprog.
    problem = _problem([[1, 1, 1]], [30], [[1, 1, 0]], [5], [20])
    rng = np.random.default_rng(7)
    for i in range(40):
        objective = rng.normal(size=3)
        upper = problem._box() if i % 3 == 0 else None
        fun, x = problem._solve(objective, upper=upper, strict=False)
        expected = linprog(
            objective,
            A_ub=problem.a_ub,
            b_ub=problem.b_ub,
            A_eq=problem.a_eq,
            b_eq=problem.b_eq,
            bounds=(0, upper),
            method="highs",
        )
        assert expected.status == 0
        assert fun == pytest.approx(expected.fun, abs=1e-9)
        assert x is not None and x.sum() == pytest.approx(30) and 5 - 1e-9 <= x[:2].sum() <= 20


def test_unbounded_is_minus_infinity_when_strict_and_nan_otherwise():
    # Only a withheld cell's lower bound: the cells can be as large as you like.
    problem = _problem([], [], [[1, 1, 1]], [5], [math.inf])
    assert problem._solve(np.array([-1.0, 0.0, 0.0])) == (-math.inf, None)
    fun, x = problem._solve(np.array([-1.0, 0.0, 0.0]), strict=False)
    assert math.isnan(fun) and x is None
    # The same model then solves a bounded objective, and a boxed one, as before.
    assert problem._solve(np.array([1.0, 1.0, 1.0]))[0] == pytest.approx(5)
    assert problem._solve(np.array([-1.0, 0.0, 0.0]), upper=10.0)[0] == pytest.approx(-10)


def test_numbers_that_do_not_add_up_raise_when_strict_and_give_nan_otherwise():
    # A total of 3 over cells of which the first two are at least 5.
    problem = _problem([[1, 1, 1]], [3], [[1, 1, 0]], [5], [math.inf])
    with pytest.raises(InconsistentView):
        problem._solve(np.array([1.0, 0.0, 0.0]))
    fun, x = problem._solve(np.array([1.0, 0.0, 0.0]), strict=False)
    assert math.isnan(fun) and x is None


@pytest.mark.parametrize("total, expected", [(10.0, -math.inf), (3.0, InconsistentView)])
def test_unbounded_or_infeasible_is_decided_by_the_constraints(total, expected):
    # HiGHS only answers "unbounded or infeasible" when allowed to (presolve can tell no
    # more); forced here, the constraints alone must decide which it is.
    problem = _problem([[1, 1, 0]], [total], [[1, 0, 0], [0, 0, 1]], [5, 1], [math.inf, math.inf])
    problem._model().setOptionValue("allow_unbounded_or_infeasible", True)
    objective = np.array([0.0, 0.0, -1.0])
    if expected is InconsistentView:
        with pytest.raises(InconsistentView):
            problem._solve(objective)
    else:
        assert problem._solve(objective) == (expected, None)
