"""Primary and complementary suppression of a count table and its published margins.

`protect_counts` takes a table at its finest grain and the margins published
anywhere (totals per precinct, per race, the site total; quarter and year
totals of a monthly table) and withholds:

1. primary: every published cell from 1 to k-1 (true zeros stay 0);
2. complementary: further cells until every published line (a cell and the
   finer published cells adding up to it) holding a withheld cell holds at least
   two, repeated to a fixed point;
3. then an exact audit (see exact.py): given everything published, each
   withheld cell, and each unpublished finest cell from 1 to k-1, must still have
   a range of at least two whole numbers. Where one does not, a published cell
   sharing a line with it (or, failing that, any cell overlapping it) is
   withheld too, and steps 2-3 repeat until the audit passes.

Which cell serves as a complement (priority.py): details before totals. The
cheapest candidate is the one of the most detailed level (most columns), then
the smallest value; a coarse total (the site's quarter, a precinct's year) is
withheld only when no finer cell can do the job, and levels named in `protect`
only after every other level. Cells of different levels holding the same
finest cells are one variable (lattice.py) and always share their fate.

Why both: the "two per line" rule is cheap and does most of the work, but is
not sufficient (cells linked across rows and columns, or pinned by
non-negativity, can still be solved for); the audit is the real test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from data_access.audience import Audience
from data_access.disclosure.earlier import (
    UNPUBLISHED,
    EarlierKnowledge,
    EarlierPublication,
    earlier_knowledge,
    label_bounds_of,
    small_changes,
)
from data_access.disclosure.exact import Bounds, InconsistentView, LinearView, bounds_of_targets
from data_access.disclosure.lattice import Lattice, Level, build_lattice
from data_access.disclosure.policy import (
    COMPLEMENTARY,
    DEFAULT_POLICY,
    PRIMARY,
    Policy,
    PolicyError,
    policy_from_environment,
)
from data_access.disclosure.priority import TIER_FACTOR as _TIER_STEP
from data_access.disclosure.priority import variable_order, variable_prices
from data_access.disclosure.protected import (
    _SEAL,
    AuditRecord,
    Protected,
    ProtectedCounts,
    _make_protected,
)
from data_access.disclosure.repair import cheapest_release


def flag_column(column: str) -> str:
    """The companion column holding the reason a value of `column` is withheld ("" if shown)."""
    return f"{column}_flag"


def _validate(
    frame: pl.DataFrame, dims: tuple[str, ...], count: str, margins: Sequence[Level], view: str
) -> None:
    where = f"view {view!r}"
    if not dims:
        raise PolicyError(f"{where}: name at least one dimension column.")
    needed = set(dims) | {count} | {c for m in margins for c in m}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise PolicyError(f"{where}: the frame has no column {', '.join(map(repr, missing))}.")
    if count in dims or any(count in m for m in margins):
        raise PolicyError(f"{where}: the count column {count!r} cannot also be a dimension.")
    dtype = frame.schema[count]
    if not dtype.is_integer():
        raise PolicyError(f"{where}: count column {count!r} must hold whole numbers, not {dtype}.")
    if frame[count].null_count():
        raise PolicyError(f"{where}: count column {count!r} has missing values.")
    if frame.height and frame[count].min() < 0:
        raise PolicyError(f"{where}: count column {count!r} has negative values.")
    keys = sorted(set(dims) | {c for m in margins for c in m})
    for column in keys:
        if frame[column].null_count():
            raise PolicyError(f"{where}: key column {column!r} has missing values.")
    if frame.select(dims).is_duplicated().any():
        raise PolicyError(
            f"{where}: more than one row for the same {', '.join(dims)}; "
            "pass the table at its finest grain, one row per cell."
        )


def _levels(dims: tuple[str, ...], margins: Sequence[Sequence[str]], finest: bool) -> list[Level]:
    levels: list[Level] = [dims] if finest else []
    for margin in margins:
        level = tuple(margin)
        if len(set(level)) != len(level):
            raise PolicyError(f"margin {list(level)} names a column twice.")
        if not any(set(level) == set(seen) for seen in levels):
            levels.append(level)
    return levels


def _exact_tables(
    frame: pl.DataFrame, levels: list[Level], count: str
) -> dict[Level, pl.DataFrame]:
    flag = flag_column(count)
    tables = {}
    for level in levels:
        if level:
            table = frame.group_by(list(level), maintain_order=True).agg(pl.col(count).sum())
            marked = pl.any_horizontal(pl.col(c).cast(pl.Utf8) == UNPUBLISHED for c in level)
            table = table.filter(~marked)
        else:
            table = frame.select(pl.col(count).sum())
        tables[level] = table.with_columns(
            pl.col(count).cast(pl.Int64), pl.lit("", dtype=pl.Utf8).alias(flag)
        )
    return tables


def protect_counts(
    frame: pl.DataFrame,
    *,
    view: str,
    dimensions: Sequence[str],
    count: str,
    margins: Sequence[Sequence[str]] = (),
    finest_published: bool = True,
    policy: Policy | None = None,
    audience: Audience = Audience.PUBLIC,
    protect: Sequence[Sequence[str]] = (),
    earlier: Sequence[EarlierPublication] = (),
    latent_levels: Sequence[Sequence[str]] = (),
) -> ProtectedCounts:
    """Protect a count table and the margins published from it, together.

    frame: one row per finest cell: the `dimensions`, any coarser columns a
        margin is broken down by (e.g. `quarter` and `year` beside `month`), and
        the person count.
    margins: each published margin as the columns it is broken down by:
        ("precinct_id",) = totals per precinct, () = the overall total,
        ("race_ethnicity", "quarter") = race by quarter. List every margin
        published anywhere alongside this table, on any page or download.
    finest_published: False when the finest grain itself is never shown (e.g.
        precinct x race x month underlies a quarterly table and a monthly
        chart); its cells from 1 to k-1 are then protected from being solved for.
    protect: published levels whose cells are withheld as complements only as a
        last resort, the first named kept longest (e.g. the site's quarterly
        totals). Without it, details are still withheld before totals: a cell of
        a coarser level (fewer columns) is chosen only when nothing finer serves.
    earlier: what earlier public releases published of this cube, over columns of
        `frame` (earlier.py): their cells are what every reader already knows, so
        this release is protected against the union of all of them.
    latent_levels: levels that are audited but never published, as columns of
        `frame`: each of their cells from 1 to k-1 (not keyed UNPUBLISHED) must
        keep a range, as the finest cells do when `finest_published` is False.
        For a cube whose finest table is finer than the grain its design promises
        to protect (a common refinement of several releases' finest tables).

    Returns each published level with withheld counts as null and the reason in
    `<count>_flag`. Staff output is exact and marked so.
    """
    # Read at call time, so LEAD_DISCLOSURE_K applies to every cube and view.
    policy = policy or policy_from_environment()
    dims = tuple(dimensions)
    margin_levels = [tuple(m) for m in margins]
    latent = [tuple(level) for level in latent_levels]
    _validate(frame, dims, count, [*margin_levels, *latent], view)
    levels = _levels(dims, margin_levels, finest_published)
    if not levels:
        raise PolicyError(f"view {view!r}: nothing is published (no finest table, no margins).")
    for level in protect:
        if not any(set(level) == set(lv) and len(level) == len(lv) for lv in levels):
            raise PolicyError(
                f"view {view!r}: protect names {list(level)}, which is not a published level."
            )
    key_columns = list(dict.fromkeys([*dims, *(c for lv in levels for c in lv)]))
    earlier = tuple(earlier) if audience is Audience.PUBLIC else ()
    earlier_levels = [level for publication in earlier for level in publication.levels]
    linked_columns = [c for lv in [*earlier_levels, *latent] for c in lv if c not in key_columns]
    finest = frame.select([*key_columns, *dict.fromkeys(linked_columns), count])
    finest_keys = finest.select(key_columns)

    if audience is Audience.STAFF or finest.height == 0:
        tables = _exact_tables(finest, levels, count)
        rules = () if audience is Audience.STAFF else (PRIMARY, COMPLEMENTARY)
        return _result(view, dims, count, tables, finest_keys, audience, policy.k, rules, [])

    lattice = build_lattice(finest.drop(count), dims, [*levels, *earlier_levels, *latent])
    finest_values = finest[count].to_numpy().astype(np.int64)
    values = np.rint(lattice.member @ finest_values.astype(np.float64)).astype(np.int64)
    withheld, reasons = suppress(
        lattice,
        values,
        finest_values,
        finest_published,
        policy,
        [tuple(p) for p in protect],
        earlier=earlier,
        count=count,
        published_levels=len(levels),
        latent_levels=len(latent),
    )

    flag = flag_column(count)
    tables: dict[Level, pl.DataFrame] = {}
    records: list[AuditRecord] = []
    hidden_cells = unpublished_cells(lattice)
    for i, level in enumerate(levels):  # this release's levels only, never the earlier ones
        cells = lattice.level_slice(i)
        shown = pl.Series(count, values[cells], dtype=pl.Int64)
        hidden = pl.Series(withheld[cells])
        columns = [
            pl.when(hidden).then(None).otherwise(shown).alias(count),
            pl.Series(flag, reasons[cells], dtype=pl.Utf8),
        ]
        base = lattice.level_keys[i] if level else pl.DataFrame({"_": [0]})
        table = base.with_columns(columns).select([*level, count, flag])
        shown_rows = ~hidden_cells[cells]
        tables[level] = table.filter(pl.Series(shown_rows)) if not shown_rows.all() else table
        for cell in np.flatnonzero(withheld[cells] & shown_rows) + cells.start:
            primary = reasons[cell] in (policy.small_reason, policy.small_or_zero_reason)
            rule = PRIMARY if primary else COMPLEMENTARY
            records.append(AuditRecord(view, count, lattice.cell_key(cell), rule, reasons[cell]))
    return _result(
        view,
        dims,
        count,
        tables,
        finest_keys,
        audience,
        policy.k,
        (PRIMARY, COMPLEMENTARY),
        records,
    )


def _result(view, dims, count, tables, finest_keys, audience, k, rules, records) -> ProtectedCounts:
    by_level: dict[Level, list[AuditRecord]] = {}
    for record in records:
        by_level.setdefault(tuple(c for c, _ in record.cell), []).append(record)
    per_level = {}
    for level, table in tables.items():
        level_records = by_level.get(level, [])
        per_level[level] = _make_protected(
            view, table, audience=audience, k=k, rules=rules, audit_log=level_records
        )
    return ProtectedCounts(
        view=view,
        dimensions=dims,
        count=count,
        levels=per_level,
        finest_keys=finest_keys,
        audience=audience,
        k=None if audience is Audience.STAFF else k,
        audit_log=tuple(records),
        _seal=_SEAL,
    )


# --- the suppression itself ----------------------------------------------------------------


def _label_bounds(
    withheld: np.ndarray, reasons: np.ndarray, policy: Policy
) -> tuple[np.ndarray, np.ndarray]:
    """What each withheld cell's reason tells a reader about its value."""
    return label_bounds_of(np.where(withheld, reasons, ""), policy)


def suppress(
    lattice: Lattice,
    values: np.ndarray,
    finest_values: np.ndarray,
    finest_published: bool,
    policy: Policy,
    protect: Sequence[Level] = (),
    *,
    earlier: tuple[EarlierPublication, ...] = (),
    count: str = "",
    published_levels: int | None = None,
    latent_levels: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Which published cells to withhold, and why: primary, fixed point, audit, repeat.

    Works on the lattice's variables, so cells holding the same finest cells are
    always withheld together; returns one flag and one reason per published cell.
    The lattice's levels from `published_levels` on are earlier publications' (earlier.py),
    and its last `latent_levels` levels are audited, never published (protect_counts).
    """
    var_values = np.zeros(lattice.n_vars, dtype=np.int64)
    var_values[lattice.cell_var] = values
    n_levels = len(lattice.levels) if published_levels is None else published_levels
    mine = np.zeros(lattice.n_vars, dtype=bool)  # variables this release publishes
    mine[lattice.cell_var[(lattice.cell_level < n_levels) & ~unpublished_cells(lattice)]] = True
    knowledge = (
        earlier_knowledge(lattice, n_levels, earlier, var_values, count) if earlier else None
    )
    if knowledge is not None:
        changed = small_changes(lattice, n_levels, earlier, values, count, policy.k)
        knowledge.hidden[lattice.cell_var[changed]] = True
        knowledge.covered[lattice.cell_var[changed]] = True
    latent_cells = lattice.cell_level >= len(lattice.levels) - latent_levels
    latent_vars = np.unique(lattice.cell_var[latent_cells & ~unpublished_cells(lattice)])
    latent_vars = latent_vars[(var_values[latent_vars] > 0) & (var_values[latent_vars] < policy.k)]
    withheld, reasons = _suppress_variables(
        lattice, var_values, finest_values, finest_published, policy, protect, mine, knowledge,
        latent_vars,
    )  # fmt: skip
    return withheld[lattice.cell_var], reasons[lattice.cell_var]


def _suppress_variables(
    lattice: Lattice,
    values: np.ndarray,
    finest_values: np.ndarray,
    finest_published: bool,
    policy: Policy,
    protect: Sequence[Level],
    mine: np.ndarray,
    knowledge: EarlierKnowledge | None,
    latent_vars: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    n = lattice.n_vars
    relations, member = lattice.var_relations, lattice.var_member
    withheld = mine & (values > 0) & (values < policy.k)
    reasons = np.where(withheld, policy.small_reason, "").astype(object)
    # What earlier releases published (earlier.py). `known` values are public whatever
    # this release does; `unknown` ones a reader cannot see (withheld before, or a
    # remainder of an earlier level no release published), and only this release's own
    # variables that are not known can serve as complements.
    known = np.zeros(n, dtype=bool) if knowledge is None else knowledge.known
    carried = np.zeros(n, dtype=bool) if knowledge is None else knowledge.hidden
    phantom = ~mine & (np.ones(n, dtype=bool) if knowledge is None else ~knowledge.covered)
    free = mine & ~known
    carried_mine = carried & mine & ~withheld
    withheld |= carried | phantom
    reasons[carried_mine] = np.where(
        values[carried_mine] == 0, policy.small_or_zero_reason, policy.complementary_reason
    )
    if phantom.any():
        # A line through an unpublished remainder says nothing a reader can use.
        through = relations @ phantom.astype(np.int64)
        relations = relations[np.flatnonzero(through == 0)]
    # Details before totals, then smaller values first: see priority.py.
    rank = variable_order(lattice, values, protect)
    prices = variable_prices(lattice, values, protect)
    mates = (relations.T @ relations).tocsr()  # variables sharing a line
    latent = (
        np.array([], dtype=np.int64)
        if finest_published
        else np.flatnonzero((finest_values > 0) & (finest_values < policy.k))
    )
    # Small cells of latent levels that no release shows or withholds: audited like the
    # latent finest cells (one that is published, or withheld, is a target already).
    latent_vars = np.array([], dtype=np.int64) if latent_vars is None else latent_vars
    latent_vars = latent_vars[phantom[latent_vars]]
    if knowledge is not None and (len(latent) or len(latent_vars)):
        # What earlier releases published alone may pin a latent cell (a sum of their own
        # latent cells, which is a latent cell of this design): nothing withheld now can
        # hide it again, so it is no target here.
        past = LinearView(
            member,
            known,
            values.astype(float),
            np.where(carried, knowledge.lower, 0.0),
            np.where(carried, knowledge.upper, np.inf),
        )
        var_bounds, finest_bounds = bounds_of_targets(past, latent_vars, latent)
        latent_vars = latent_vars[np.array([b.has_range for b in var_bounds], dtype=bool)]
        latent = latent[np.array([b.has_range for b in finest_bounds], dtype=bool)]
    member_t = member.T.tocsr()
    safe = np.zeros(n, dtype=bool)
    safe_latent = np.zeros(len(latent), dtype=bool)
    safe_latent_vars = np.zeros(len(latent_vars), dtype=bool)

    def withhold_best(candidates: np.ndarray) -> bool:
        candidates = candidates[free[candidates] & ~withheld[candidates] & (values[candidates] > 0)]
        if len(candidates) == 0:
            return False
        best = candidates[np.argmin(rank[candidates])]
        withheld[best] = True
        reasons[best] = policy.complementary_reason
        return True

    for _ in range(n + len(latent) + len(latent_vars) + 1):
        _fixed_point(relations, withheld, known, withhold_best)
        lower, upper = _label_bounds(withheld, reasons, policy)
        if knowledge is not None:
            lower = np.maximum(lower, np.where(carried, knowledge.lower, 0))
            upper = np.minimum(upper, np.where(carried, knowledge.upper, np.inf))
        lower[phantom], upper[phantom] = 0, np.inf
        unseen = withheld & ~known
        linear = LinearView(member, ~unseen, values.astype(float), lower, upper)
        # Each round only relaxes what a reader knows (a published equality becomes a
        # bound the true value meets; a label widens), so a cell shown to have a range
        # keeps it: only new and still-exposed cells need checking again.
        targets = np.flatnonzero(unseen & ~phantom & ~safe)
        open_latent = latent[~safe_latent]
        open_vars = latent_vars[~safe_latent_vars]
        cell_bounds, latent_bounds = bounds_of_targets(
            linear, np.concatenate([targets, open_vars]).astype(np.int64), open_latent
        )
        var_bounds, cell_bounds = cell_bounds[len(targets) :], cell_bounds[: len(targets)]
        exposed_cells = [c for c, b in zip(targets, cell_bounds, strict=True) if not b.has_range]
        exposed_latent = [
            f for f, b in zip(open_latent, latent_bounds, strict=True) if not b.has_range
        ]
        exposed_vars = [v for v, b in zip(open_vars, var_bounds, strict=True) if not b.has_range]
        safe[targets] = True
        safe[exposed_cells] = False
        safe_latent |= np.isin(latent, open_latent) & ~np.isin(latent, exposed_latent)
        safe_latent_vars |= np.isin(latent_vars, open_vars) & ~np.isin(latent_vars, exposed_vars)
        if not exposed_cells and not exposed_latent and not exposed_vars:
            return withheld, reasons.astype(str)
        changed = False
        freed = np.zeros(n, dtype=bool)  # exposed variables a repair table already moved
        freed_latent: set[int] = set()
        repairs = (
            [("cell", c) for c in exposed_cells]
            + [("latent", f) for f in exposed_latent]
            + [("latent_var", v) for v in exposed_vars]
        )
        for kind, index in repairs:
            if (kind != "latent" and freed[index]) or (kind == "latent" and index in freed_latent):
                continue
            target = (
                np.array([index])
                if kind == "latent"
                else member.indices[member.indptr[index] : member.indptr[index + 1]]
            )
            # When the simple rule's pick is already a detail of the finest tier, take it:
            # the repair program could do no better than a detail and costs an LP or two.
            if kind == "cell":
                nearby = mates.indices[mates.indptr[index] : mates.indptr[index + 1]]
            elif kind == "latent":
                nearby = member_t.indices[member_t.indptr[index] : member_t.indptr[index + 1]]
            else:  # a latent level's cell: the published cells overlapping it
                nearby = _overlapping(member, member_t, index)
            nearby = nearby[free[nearby] & ~withheld[nearby] & (values[nearby] > 0)]
            if len(nearby) and prices[nearby[np.argmin(rank[nearby])]] < _TIER_STEP:
                withhold_best(nearby)
                changed = True
                continue
            found = cheapest_release(
                member, member_t, target, unseen, values, lower, upper,
                finest_values, prices, policy.k, ~free,
            )  # fmt: skip
            if found is not None:
                chosen, table = found
                withheld[chosen] = True
                reasons[chosen] = policy.complementary_reason
                changed = True
                # The table found is consistent with what is now published: every exposed
                # value it moves by at least one has a range too, pending the next audit.
                moved = np.abs(member @ table - values) >= 1 - 1e-6
                freed |= moved
                freed_latent.update(
                    int(f) for f in exposed_latent if abs(table[f] - finest_values[f]) >= 1 - 1e-6
                )
                continue
            if kind == "cell":
                neighbours = mates.indices[mates.indptr[index] : mates.indptr[index + 1]]
                if withhold_best(neighbours) or withhold_best(
                    _overlapping(member, member_t, index)
                ):
                    changed = True
                else:
                    # Nothing non-zero is left to withhold: the cell is pinned by what the
                    # "fewer than k" labels say (each at least 1). Widen the labels of its
                    # line, zeros included, so a reader can no longer count on that.
                    line = np.append(neighbours, index)
                    changed |= _widen(line[free[line]], withheld, reasons, values, policy)
            else:
                containers = (
                    member_t.indices[member_t.indptr[index] : member_t.indptr[index + 1]]
                    if kind == "latent"
                    else _overlapping(member, member_t, index)
                )
                if withhold_best(containers):
                    changed = True
                else:
                    containers = containers[free[containers]]
                    changed |= _widen(containers, withheld, reasons, values, policy)
        if not changed:
            break
    raise RuntimeError(
        "complementary suppression could not protect every cell; this is a bug, please report it"
    )


def unpublished_cells(lattice: Lattice) -> np.ndarray:
    """Cells keyed by UNPUBLISHED in any column: carried in the sums, never shown."""
    hidden = np.zeros(lattice.n_cells, dtype=bool)
    for i, keys in enumerate(lattice.level_keys):
        if keys.width == 0:
            continue
        marked = keys.select(
            pl.any_horizontal(pl.col(c).cast(pl.Utf8) == UNPUBLISHED for c in keys.columns)
        ).to_series()
        hidden[lattice.level_slice(i)] = marked.fill_null(False).to_numpy()
    return hidden


def _widen(cells, withheld, reasons, values, policy: Policy) -> bool:
    """Relabel small cells (and withhold zeros) among `cells` as "fewer than k (zeros too)"."""
    eligible = cells[(values[cells] < policy.k) & (reasons[cells] != policy.small_or_zero_reason)]
    withheld[eligible] = True
    reasons[eligible] = policy.small_or_zero_reason
    return len(eligible) > 0


def _overlapping(member: sp.csr_matrix, member_t: sp.csr_matrix, cell: int) -> np.ndarray:
    finest = member.indices[member.indptr[cell] : member.indptr[cell + 1]]
    return np.unique(
        np.concatenate(
            [member_t.indices[member_t.indptr[f] : member_t.indptr[f + 1]] for f in finest]
        )
    )


def _fixed_point(
    relations: sp.csr_matrix, withheld: np.ndarray, known: np.ndarray, withhold_best
) -> None:
    """Until no published line holds exactly one withheld cell, give each such line a second.

    A cell an earlier release published counts as shown, whether withheld now or not.
    """
    if relations.shape[0] == 0:
        return
    while True:
        unseen = withheld & ~known
        lone = np.flatnonzero(relations @ unseen.astype(np.int64) == 1)
        if len(lone) == 0:
            return
        changed = False
        for r in lone:
            members = relations.indices[relations.indptr[r] : relations.indptr[r + 1]]
            if (withheld[members] & ~known[members]).sum() == 1:
                changed |= withhold_best(members)
        if not changed:
            # A lone withheld cell whose line has no non-zero cell left cannot be
            # fixed on that line; the exact audit decides whether it matters.
            return


# --- the audit, from what was published ------------------------------------------------------


@dataclass(frozen=True)
class AuditReport:
    """The outcome of an exact audit of a published view."""

    view: str
    problems: tuple[str, ...]
    ranges: tuple[tuple[Level, tuple[tuple[str, object], ...], Bounds], ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            raise AssertionError(
                f"disclosure audit of {self.view!r} failed:\n  " + "\n  ".join(self.problems)
            )


def audit_published(
    tables: Mapping[Sequence[str], pl.DataFrame],
    *,
    view: str,
    finest_keys: pl.DataFrame,
    dimensions: Sequence[str],
    count: str,
    policy: Policy = DEFAULT_POLICY,
    true_finest_counts: pl.DataFrame | None = None,
) -> AuditReport:
    """Audit exactly what was published, as a reader (or attacker) would see it.

    tables: each published level (the columns it is broken down by) and its
        table as published: keys, `count` (null where withheld) and `<count>_flag`.
    finest_keys: one row per finest cell (keys only) with every column the levels use.
    true_finest_counts: the finest table with true counts; needed only when the
        finest grain is unpublished, to check its small cells cannot be solved for.

    Checks: no published count is from 1 to k-1, the published numbers add up,
    and each withheld cell (and each unpublished small finest cell) has a range
    of at least two whole numbers given every published cell, the additive
    relations, non-negativity and what each reason reveals.
    """
    dims = tuple(dimensions)
    levels = [tuple(level) for level in tables]
    flag = flag_column(count)
    lattice = build_lattice(finest_keys, dims, levels)
    # Cells keyed UNPUBLISHED are in no table: a reader knows nothing of them, not even a label.
    hidden = unpublished_cells(lattice)
    problems: list[str] = []
    value_parts, flag_parts = [], []
    for i, level in enumerate(levels):
        table = tables[level] if level in tables else tables[list(level)]  # type: ignore[index]
        for column in (*level, count, flag):
            if column not in table.columns:
                raise PolicyError(f"view {view!r}: level {list(level)} has no column {column!r}.")
        if level:
            joined = lattice.level_keys[i].join(
                table.select([*level, count, flag]),
                on=list(level),
                how="left",
                maintain_order="left",
            )
        else:
            joined = table.select([count, flag])
        if joined.height != lattice.level_slice(i).stop - lattice.level_slice(i).start:
            problems.append(f"level {list(level)}: rows do not match the finest cells' keys")
            continue
        shown = pl.Series(~hidden[lattice.level_slice(i)]) if level else pl.Series([True])
        unmatched = joined.filter(
            shown & pl.col(count).is_null() & (pl.col(flag).fill_null("") == "")
        )
        if unmatched.height:
            problems.append(f"level {list(level)}: {unmatched.height} cell(s) missing or unflagged")
        value_parts.append(joined[count].cast(pl.Float64).to_numpy())
        flag_parts.append(joined[flag].fill_null("").to_numpy().astype(str))
    if problems:
        return AuditReport(view, tuple(problems), ())

    values = np.nan_to_num(np.concatenate(value_parts), nan=0.0)
    flags = np.concatenate(flag_parts).astype(object)
    withheld = (flags != "") | hidden
    for cell in np.flatnonzero(~withheld & (values > 0) & (values < policy.k)):
        problems.append(
            f"published count {int(values[cell])} is below {policy.k} at "
            f"{_describe(lattice.cell_key(cell))}"
        )

    latent = np.array([], dtype=np.int64)
    if dims not in [tuple(lv) for lv in levels] and true_finest_counts is not None:
        truth = finest_keys.join(
            true_finest_counts.select([*dims, count]), on=list(dims), how="left"
        )
        true_values = truth[count].fill_null(0).to_numpy()
        latent = np.flatnonzero((true_values > 0) & (true_values < policy.k))

    lower, upper = _label_bounds(withheld, flags, policy)
    targets = np.flatnonzero(withheld & ~hidden)
    ranges = []
    try:
        cell_bounds, latent_bounds = bounds_of_targets(
            LinearView(lattice.member, ~withheld, values, lower, upper), targets, latent
        )
    except InconsistentView as exc:
        return AuditReport(view, (*problems, f"the published numbers do not add up: {exc}"), ())
    for cell, bounds in zip(targets, cell_bounds, strict=True):
        key = lattice.cell_key(cell)
        ranges.append((levels[lattice.cell_level[cell]], key, bounds))
        if not bounds.has_range:
            problems.append(f"withheld cell {_describe(key)} can be worked out: {bounds.low:g}")
    for f, bounds in zip(latent, latent_bounds, strict=True):
        if not bounds.has_range:
            problems.append(
                f"unpublished cell {_describe(lattice.finest_key(f))} can be worked out: "
                f"{bounds.low:g}"
            )
    return AuditReport(view, tuple(problems), tuple(ranges))


def audit_counts(
    result: ProtectedCounts, true_finest_counts: pl.DataFrame | None = None
) -> AuditReport:
    """Exact audit of a `protect_counts` result, from its published tables alone."""
    if result.exact:
        return AuditReport(result.view, (), ())
    policy = Policy(k=result.k, unstable_below=max(20, result.k), min_denominator=max(30, result.k))
    return audit_published(
        {level: p.frame for level, p in result.levels.items()},
        view=result.view,
        finest_keys=result.finest_keys,
        dimensions=result.dimensions,
        count=result.count,
        policy=policy,
        true_finest_counts=true_finest_counts,
    )


def _describe(key: tuple[tuple[str, object], ...]) -> str:
    return ", ".join(f"{c}={v}" for c, v in key) or "the overall total"


__all__ = [
    "AuditReport",
    "Protected",
    "audit_counts",
    "audit_published",
    "flag_column",
    "protect_counts",
]
