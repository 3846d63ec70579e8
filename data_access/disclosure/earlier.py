"""What earlier public releases published, as knowledge the protection of a new release must assume.

A reader who downloads every release holds the union of everything ever
published. Protecting a release on its own is therefore not enough: the later
figure minus the earlier one can be a small group (a pooled re-arrest window
grows by the cohorts that have just closed; a year published half-way and then
whole differs by its second half), and two releases that withhold different
complements for the same unchanged quantity publish, between them, what each
withholds.

So the protection of a release takes the earlier publications of the same cube
(recorded in the publication ledger, data_access/ledger.py) as extra levels of
its own lattice: each earlier cell is re-expressed as a sum of the NEW release's
finest cells (the cube decides how: "the same quarter, unchanged", "the cohorts
whose window had closed by then"), published with its earlier value or withheld
with its earlier reason. Cells that stand for the same finest cells as a new
cell become one variable, so

- a cell withheld before stays withheld (the pattern is carried forward);
- a cell published before is known: withholding it again protects nothing, so it
  is never chosen as a complement, and the audit counts it as published;
- an earlier cell with no twin (a partial year, an earlier pool) is a linear
  relation the exact audit includes, so neither a new withheld cell nor an old one
  can be worked out from the union, nor can their difference.

Earlier cells over periods that changed since (a correction, a pending screening
become final) are not linked: the cube leaves them out, and they are treated as
unknown changes. Cells whose published value no longer matches the new finest
cells are dropped the same way and counted, so a cube's linking can be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from data_access.disclosure.lattice import Lattice, Level
from data_access.disclosure.policy import Policy, policy_for_k

# Key value of cells nobody publishes: in this release's own levels, a period not yet
# complete (a year half-way through); in an earlier release's levels, finest cells it
# did not cover the same way (a later quarter, a changed period, a cohort not yet
# closed). Such cells are neither shown nor audited: they only carry the sums.
UNPUBLISHED = "~unpublished"


@dataclass(frozen=True)
class EarlierPublication:
    """One earlier public release of a cube, over the new release's finest-table columns.

    levels: each earlier level, named by columns of the new finest frame (for example
        ("referred", "year@demo-2025-06")), mapped to its table as published then: the
        level's columns, the count (null where withheld) and `<count>_flag`.
    k: the threshold it was protected with (its reasons say "fewer than k").
    """

    release_id: str
    k: int
    levels: Mapping[Level, pl.DataFrame] = field(repr=False)
    # The same tables under the level names they had then ("year", not "year@0"): a cell
    # published then and now with a different value (a correction) differs by a group of
    # people, so a change of 1 to k-1 is withheld now (`small_changes`).
    as_published: Mapping[Level, pl.DataFrame] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class EarlierKnowledge:
    """Per lattice variable: what the earlier publications tell a reader."""

    known: np.ndarray  # bool: its value was published before
    hidden: np.ndarray  # bool: withheld before (and not published by another release)
    lower: np.ndarray  # what the earlier reasons say of its value
    upper: np.ndarray
    covered: np.ndarray  # bool: some earlier cell (published, or withheld) stands for it
    mismatched: int  # earlier published cells dropped: value differs from the new cells


def label_bounds_of(flags: np.ndarray, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """What a withheld cell's reason, under this policy's threshold, says of its value."""
    lower = np.zeros(len(flags))
    upper = np.full(len(flags), np.inf)
    small = flags == policy.small_reason
    lower[small], upper[small] = 1, policy.k - 1
    upper[flags == policy.small_or_zero_reason] = policy.k - 1
    lower[flags == policy.complementary_reason] = policy.k  # never zero, never small
    return lower, upper


def earlier_knowledge(
    lattice: Lattice,
    first_earlier_level: int,
    earlier: tuple[EarlierPublication, ...],
    values: np.ndarray,
    count: str,
) -> EarlierKnowledge:
    """Join every earlier level's published table to its lattice cells; fold into variables.

    `values` are the true values of the lattice's variables; levels from
    `first_earlier_level` on are the earlier publications', in the order given.
    """
    n = lattice.n_vars
    known = np.zeros(n, dtype=bool)
    hidden = np.zeros(n, dtype=bool)
    covered = np.zeros(n, dtype=bool)  # some earlier cell stands for it
    lower = np.zeros(n)
    upper = np.full(n, np.inf)
    mismatched = 0
    flag = f"{count}_flag"
    index = first_earlier_level
    for publication in earlier:
        for level, table in publication.levels.items():
            cells = lattice.level_slice(index)
            keys = lattice.level_keys[index]
            index += 1
            joined = (
                keys.join(table.select([*level, count, flag]), on=list(level), how="left",
                          maintain_order="left")
                if level
                else table.select([count, flag])
            )  # fmt: skip
            variables = lattice.cell_var[cells]
            present = ~(joined[count].is_null() & joined[flag].is_null()).to_numpy()
            shown = joined[count].to_numpy()
            flags = joined[flag].fill_null("").to_numpy().astype(str)
            published = present & (flags == "")
            agrees = np.zeros(len(variables), dtype=bool)
            agrees[published] = shown[published].astype(np.int64) == values[variables[published]]
            mismatched += int((published & ~agrees).sum())
            known[variables[published & agrees]] = True
            withheld = present & (flags != "")
            low, high = label_bounds_of(flags[withheld], policy_for_k(publication.k))
            truth = values[variables[withheld]]
            fits = (truth >= low) & (truth <= high)
            mismatched += int((~fits).sum())
            withheld[np.flatnonzero(withheld)[~fits]] = False
            low, high = low[fits], high[fits]
            chosen = variables[withheld]
            np.maximum.at(lower, chosen, low)
            np.minimum.at(upper, chosen, high)
            hidden[chosen] = True
            covered[chosen] = True
            covered[variables[published & agrees]] = True
    hidden &= ~known
    return EarlierKnowledge(
        known=known,
        hidden=hidden,
        lower=lower,
        upper=upper,
        covered=covered,
        mismatched=mismatched,
    )


def rename_levels(
    levels: Mapping[Level, pl.DataFrame], renamed: Mapping[str, str], extra: Mapping[str, str]
) -> dict[Level, pl.DataFrame]:
    """Earlier level tables with columns renamed to the new frame's linked columns.

    `renamed` maps an earlier column to the new frame's column that reproduces it
    (e.g. "year" -> "year@demo-2025-06"); `extra` adds constant key columns (for
    example the "in this release" marker) to every level.
    """
    out: dict[Level, pl.DataFrame] = {}
    for level, table in levels.items():
        columns = {c: renamed[c] for c in table.columns if c in renamed}
        new_level = (*(renamed.get(c, c) for c in level), *extra)
        out[new_level] = table.rename(columns).with_columns(
            *(pl.lit(value).alias(column) for column, value in extra.items())
        )
    return out


def small_changes(
    lattice: Lattice,
    n_levels: int,
    earlier: tuple[EarlierPublication, ...],
    cell_values: np.ndarray,
    count: str,
    k: int,
) -> np.ndarray:
    """Cells of this release's levels published before with a value 1 to k-1 away from now.

    A correction, or a screening that was pending and is final now, changes a
    closed period; the change is a group of people. Withholding the new cell
    (and protecting it as any withheld cell) keeps the change from being read
    off two releases; the earlier value stays what it was.
    """
    changed = np.zeros(lattice.n_cells, dtype=bool)
    flag = f"{count}_flag"
    for index, level in enumerate(lattice.levels[:n_levels]):
        cells = lattice.level_slice(index)
        keys = lattice.level_keys[index]
        for publication in earlier:
            table = publication.as_published.get(level)
            if table is None:
                continue
            then = table.filter(pl.col(flag) == "").select([*level, count])
            joined = (
                keys.join(then, on=list(level), how="left", maintain_order="left")
                if level
                else then
            )
            if joined.height != cells.stop - cells.start:
                continue
            before = joined[count].to_numpy()
            present = ~joined[count].is_null().to_numpy()
            gap = np.abs(cell_values[cells][present] - before[present].astype(np.int64))
            hit = np.zeros(len(present), dtype=bool)
            hit[present] = (gap > 0) & (gap < max(k, publication.k))
            changed[cells] |= hit
    return changed
