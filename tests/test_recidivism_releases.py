"""Re-arrest figures across releases: what a reader holding every release can work out.

Each demo release's public re-arrest cube is read as the public sees it (its
published cells, flags and the design it states), and checked against every
other release of the same site:

- no count published in two releases differs by 1 to k-1 (the people added
  between them would be that small group);
- a cell withheld in an earlier release over cohorts whose rows are unchanged
  stays withheld;
- an attacker's linear program, written here from the documented relations and
  not with the project's audit code, finds no withheld cell pinned and no
  difference between releases pinned to 1..k-1. Its unknowns are, per entry
  cohort and group, the people first re-arrested in each quarter of follow-up
  and those not re-arrested; every published cell of every release is a sum of
  them (a pooled window is the sum of the cohorts closed by the date it counts).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from data_access import queries as q
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.disclosure import DEFAULT_POLICY
from data_access.views import recidivism as rv
from data_access.views.base import clear_memos

K = DEFAULT_POLICY.k
QUARTERLY = tuple(range(3, 37, 3))
WINDOWS = (6, 12, 24, 36)


@pytest.fixture(autouse=True)
def _fresh_memos():
    clear_memos()
    yield
    clear_memos()


def _closes(cohort: str, months: int) -> dt.date:
    """Last day of the month `months` after the cohort's quarter ends."""
    year, quarter = int(cohort[:4]), int(cohort[-1])
    month = quarter * 3 + months
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _published(engine) -> dict[str, list[tuple[q.Release, rv.RecidivismCube]]]:
    """Per site, each release (oldest first) and its public re-arrest cube."""
    found: dict[str, list] = defaultdict(list)
    for release in reversed(q.list_releases(engine)):
        for site in release.sites:
            rc = rv.recidivism_cube(
                engine, release.release_id, release.checksum, site, Audience.PUBLIC
            )
            if rc.cube is not None:
                found[site].append((release, rc))
    return found


def _tables(rc: rv.RecidivismCube) -> dict[tuple, dict[tuple, tuple[int | None, str]]]:
    """Published (value, reason) per level and key; absent keys are true zeros."""
    out = {}
    for level, table in rc.cube.levels.items():
        out[level] = {
            tuple(row[c] for c in level): (row["persons"], row["persons_flag"])
            for row in table.frame.iter_rows(named=True)
        }
    return out


def _pairs(releases):
    return [(a, b) for i, a in enumerate(releases) for b in releases[i + 1 :]]


@pytest.fixture
def published(demo_database_url):
    engine = make_engine(demo_database_url)
    found = _published(engine)
    assert set(found) == {"seattle", "santa-fe", "albany"}
    assert all(len(v) >= 2 for v in found.values()), "the demo has at least two releases"
    return engine, found


def test_no_count_published_in_two_releases_differs_by_1_to_k_minus_1(published):
    _, found = published
    for site, releases in found.items():
        for (r1, a), (r2, b) in _pairs(releases):
            ta, tb = _tables(a), _tables(b)
            for level in set(ta) & set(tb):
                for key in set(ta[level]) | set(tb[level]):
                    va, fa = ta[level].get(key, (0, ""))
                    vb, fb = tb[level].get(key, (0, ""))
                    if fa or fb:
                        continue
                    assert not 0 < abs(vb - va) < K, (
                        f"{site} {level} {key}: {va} in {r1.release_id}, {vb} in "
                        f"{r2.release_id}: the {abs(vb - va)} people between them are shown"
                    )


def _linked_cohorts(engine, site: str, old: q.Release, new: q.Release, as_of: dt.date) -> set:
    """Cohorts whose rows closed by `as_of` are the same in both releases."""
    by = ["cohort", "group", "race_ethnicity", "followup_months"]
    rows = [
        q.aggregate(engine, "recidivism", q.Scope(r.release_id, site), by=by) for r in (old, new)
    ]
    keep = ["cohort", "group", "race_ethnicity", "followup_months", "cohort_size", "rearrested"]
    closed = [
        frame.filter(
            pl.struct("cohort", "followup_months").map_elements(
                lambda r: _closes(r["cohort"], r["followup_months"]) <= as_of,
                return_dtype=pl.Boolean,
            )
        ).select(keep)
        for frame in rows
    ]
    differ = pl.concat(
        [
            closed[0].join(closed[1], on=keep, how="anti"),
            closed[1].join(closed[0], on=keep, how="anti"),
        ]
    )
    return set(rows[1]["cohort"].unique().to_list()) - set(differ["cohort"].to_list())


def test_a_cell_withheld_before_over_unchanged_cohorts_stays_withheld(published):
    engine, found = published
    checked = 0
    for site, releases in found.items():
        for (r1, a), (r2, b) in _pairs(releases):
            linked = _linked_cohorts(engine, site, r1, r2, a.as_of)
            ta, tb = _tables(a), _tables(b)
            for level in set(ta) & set(tb):
                for key, (_, flag) in ta[level].items():
                    if not flag:
                        continue
                    if level[0] == "cohort12":
                        same = key[0] in linked
                    elif level[0] == "year12":
                        same = all(f"{key[0]}-Q{n}" in linked for n in range(1, 5))
                    else:  # a pooled cell: the same people only when counted as of the same day
                        same = (a.as_of, a.design, a.grid) == (b.as_of, b.design, b.grid)
                    if key[0] == rv.OPEN or not same:
                        continue
                    checked += 1
                    assert tb[level].get(key, (0, ""))[1], (
                        f"{site} {level} {key}: withheld in {r1.release_id} "
                        f"({flag}), published in {r2.release_id}"
                    )
    assert checked, "the demo's earlier releases withhold re-arrest cells"


# ------------------------------------------------------------------ the attacker's program


class _Attack:
    """Unknowns per (cohort version, group): first re-arrests per quarter, and the rest.

    People first re-arrested in a quarter no release has followed yet fall in
    "not re-arrested" everywhere, like the rest: interchangeable unknowns.
    """

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}

    def var(self, *key) -> int:
        return self.index.setdefault(key, len(self.index))


def _cells_of(rc: rv.RecidivismCube, cohorts: list[str], version: dict[str, int], attack):
    """Every cell the release's levels can hold, as a list of unknowns, by level and key."""
    grid = rc.grid or rc.windows
    floor = max(rc.design.floor, min(w for w in WINDOWS if w in grid))
    cells: dict[tuple, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(list))
    for cohort in cohorts:
        reached = [g for g in grid if _closes(cohort, g) <= rc.as_of]
        if not reached or reached[-1] < floor:
            continue
        h = reached[-1]
        year = cohort[:4]
        year_closed = _closes(f"{year}-Q4", 12) <= rc.as_of
        for group in ("lead", "comparison"):
            v = version[cohort]
            units = [(t, attack.var(v, cohort, group, t)) for t in QUARTERLY]
            units.append((99, attack.var(v, cohort, group, "rest")))
            for t, x in units:
                cells[("group",)][(group,)].append(x)
                if rc.grid:
                    if t <= h:
                        point = next(g for g in grid if g >= t)
                        cells[("group", "status")][(group, f"event_{point:02d}")].append(x)
                    else:
                        cells[("group", "status")][(group, f"none_{h:02d}")].append(x)
                for w in rc.windows:
                    answer = "na" if h < w else ("yes" if t <= w else "no")
                    cells[("group", f"by_{w}")][(group, answer)].append(x)
                if 12 in rc.windows:
                    answer = "na" if h < 12 else ("yes" if t <= 12 else "no")
                    label = cohort if h >= 12 else rv.OPEN
                    yearly = year if h >= 12 and year_closed else rv.OPEN
                    cells[("cohort12", "group", "by_12")][(label, group, answer)].append(x)
                    cells[("year12", "group", "by_12")][(yearly, group, answer)].append(x)
    return {level: cells[level] for level in rc.cube.levels}


def _attack_rows(site: str, releases, engine) -> tuple[list, list, int]:
    """Linear rows (unknowns, published value or label bounds) of every release's cells."""
    attack = _Attack()
    newest = releases[-1][0]
    cohorts = sorted(
        q.aggregate(engine, "recidivism", q.Scope(newest.release_id, site), by=["cohort"])[
            "cohort"
        ].to_list()
    )
    version = dict.fromkeys(cohorts, 0)
    rows = []  # (release index, level, key, unknowns, value or None, low, high)
    for i, (release, rc) in enumerate(releases):
        if i:  # a corrected cohort is another set of people to the attacker
            before = releases[i - 1]
            linked = _linked_cohorts(engine, site, before[0], release, before[1].as_of)
            for cohort in cohorts:
                if cohort not in linked:
                    version[cohort] = i
        tables = _tables(rc)
        model = _cells_of(rc, cohorts, version, attack)
        for level, keyed in model.items():
            shown = tables[level]
            extra = set(shown) - set(keyed)
            assert not extra, f"{site} {release.release_id} {level}: cells the model lacks {extra}"
            for key, unknowns in keyed.items():
                value, flag = shown.get(key, (0, ""))
                low, high = 0.0, math.inf
                if flag == DEFAULT_POLICY.small_reason:
                    low, high = 1, K - 1
                elif flag == DEFAULT_POLICY.small_or_zero_reason:
                    high = K - 1
                elif flag == DEFAULT_POLICY.complementary_reason:
                    low = K
                rows.append((i, level, key, unknowns, None if flag else value, low, high))
    return rows, attack, len(attack.index)


def _matrix(rows, n: int) -> sp.csr_matrix:
    data, r, c = [], [], []
    for i, row in enumerate(rows):
        for x in row[3]:
            data.append(1.0)
            r.append(i)
            c.append(x)
    return sp.csr_matrix((data, (r, c)), shape=(len(rows), n))


def _range(objective: np.ndarray, a_eq, b_eq, a_ub, b_ub) -> tuple[float, float]:
    ends = []
    for sign in (1.0, -1.0):
        result = linprog(sign * objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                         bounds=(0, None), method="highs")  # fmt: skip
        if result.status == 3:  # unbounded
            ends.append(-sign * math.inf)
            continue
        assert result.status == 0, result.message
        ends.append(sign * result.fun)
    return ends[0], ends[1]


def test_an_attacker_with_every_release_pins_no_withheld_cell_and_no_small_difference(published):
    engine, found = published
    for site, releases in found.items():
        rows, _, n = _attack_rows(site, releases, engine)
        matrix = _matrix(rows, n)
        shown = [i for i, row in enumerate(rows) if row[4] is not None]
        hidden = [i for i, row in enumerate(rows) if row[4] is None]
        a_eq, b_eq = matrix[shown], np.array([rows[i][4] for i in shown], dtype=float)
        lows = np.array([rows[i][5] for i in hidden])
        highs = np.array([rows[i][6] for i in hidden])
        finite = np.isfinite(highs)
        a_ub = sp.vstack([-matrix[hidden], matrix[hidden][finite]]).tocsr()
        b_ub = np.concatenate([-lows, highs[finite]])
        feasible = linprog(np.zeros(n), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                           bounds=(0, None), method="highs")  # fmt: skip
        assert feasible.status == 0, f"{site}: the published cells do not fit the model"
        for i in hidden:
            low, high = _range(matrix[i].toarray().ravel(), a_eq, b_eq, a_ub, b_ub)
            assert math.floor(high + 1e-6) - math.ceil(low - 1e-6) >= 1, (
                f"{site} {releases[rows[i][0]][0].release_id} {rows[i][1]} {rows[i][2]}: "
                f"withheld, but it can only be {low:g}..{high:g}"
            )
        # The same cell in two releases: the difference is a group of people.
        by_key = defaultdict(dict)
        for i, row in enumerate(rows):
            by_key[row[1], row[2]][row[0]] = i
        for (level, key), where in by_key.items():
            for a, b in _pairs(sorted(where)):
                i, j = where[a], where[b]
                if rows[i][4] is not None and rows[j][4] is not None:
                    continue  # both published: the first test
                objective = matrix[j].toarray().ravel() - matrix[i].toarray().ravel()
                low, high = _range(objective, a_eq, b_eq, a_ub, b_ub)
                pinned = math.floor(high + 1e-6) == math.ceil(low - 1e-6)
                assert not (pinned and 0 < abs(round(low)) < K), (
                    f"{site} {level} {key}: between releases {a} and {b} it changes by "
                    f"exactly {low:g}"
                )


# ------------------------------------------------------------------ the linking itself


def test_each_earlier_release_s_published_cells_are_sums_of_the_new_fine_table(published):
    # The mapping from the common refinement onto an earlier release's own cells
    # (its grid, floor and as_of) must reproduce every count it published; a count
    # that did not would be dropped from the audit, and a reader would still know it.
    engine, found = published
    for site, releases in found.items():
        newest, _ = releases[-1]
        frame = rv._rows(engine, newest.release_id, site)
        fine = rv.fine_table(frame, newest.as_of)
        publications = [
            p
            for p in rv.earlier_publications(rv.recidivism_cube, engine, newest.release_id, site)
            if p.release_id != newest.release_id
        ]
        assert publications, site
        linked, earlier, _ = rv.link_earlier(
            fine, frame, publications, lambda p, site=site: rv._rows_then(engine, p, site)
        )
        compared = 0
        for publication in earlier:
            for level, table in publication.levels.items():
                sums = (
                    linked.filter(pl.all_horizontal(pl.col(c) != rv.UNPUBLISHED for c in level))
                    .group_by(list(level))
                    .agg(pl.col("persons").sum().alias("sum"))
                )
                shown = table.filter(pl.col("persons_flag") == "").join(
                    sums, on=list(level), how="left"
                )
                wrong = shown.filter(pl.col("sum").fill_null(0) != pl.col("persons"))
                assert wrong.is_empty(), f"{site} {publication.release_id} {level}: {wrong}"
                compared += shown.height
        assert compared, site


def test_a_cohort_corrected_since_is_not_linked_and_one_followed_further_is():
    def rows(changes: dict) -> pl.DataFrame:
        base = {
            ("2024-Q1", 3): 2, ("2024-Q1", 6): 3, ("2024-Q1", 9): 4,
            ("2024-Q2", 3): 1, ("2024-Q2", 6): 2, ("2024-Q2", 9): 5,
        }  # fmt: skip
        base.update(changes)
        return pl.DataFrame(
            [(c, "lead", "black", m, 20, n) for (c, m), n in base.items()],
            schema=["cohort", "group", "race_ethnicity", "followup_months", "cohort_size",
                    "rearrested"],
            orient="row",
        )  # fmt: skip

    old = rows({})
    # 30 Sep 2024: 2024-Q1 had been followed 6 months, 2024-Q2 3 months. A later release
    # that corrects 2024-Q1 at 3 months changes it; 2024-Q2's rows past 3 months were
    # not yet closed then, so a different count there is a longer follow-up, not a change.
    new = rows({("2024-Q1", 3): 1, ("2024-Q2", 6): 4})
    assert rv.changed_cohorts(new, old, dt.date(2024, 9, 30)) == {"2024-Q1"}
    assert rv.changed_cohorts(old, old, dt.date(2024, 9, 30)) == set()
