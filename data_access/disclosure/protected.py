"""The result types of disclosure control, which only this package can create.

Code that renders public output (pages, charts, downloads, the PDF, the
open-data bundle) should accept a `Protected` and nothing else: a plain frame
cannot be passed off as one, because the constructor demands a seal that only
`data_access.disclosure` holds. A staff (exact) output is a `Protected` too,
marked `exact=True`, so the same code path serves both audiences and the
difference is visible to the renderer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from data_access.audience import Audience
from data_access.disclosure.policy import DEFAULT_POLICY, Policy

_SEAL = object()  # held by this package only; see Protected.__post_init__


@dataclass(frozen=True)
class AuditRecord:
    """One withheld (or flagged, or coarsened) value and why."""

    view: str
    column: str
    cell: tuple[tuple[str, Any], ...]  # (key column, value) pairs naming the cell
    rule: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "column": self.column,
            "cell": ", ".join(f"{k}={v}" for k, v in self.cell) or "(total)",
            "rule": self.rule,
            "reason": self.reason,
        }


def audit_frame(records: Iterable[AuditRecord]) -> pl.DataFrame:
    """The audit log as a table (view, column, cell, rule, reason)."""
    rows = [r.as_dict() for r in records]
    schema = {c: pl.Utf8 for c in ("view", "column", "cell", "rule", "reason")}
    return pl.DataFrame(rows, schema=schema)


@dataclass(frozen=True)
class Protected:
    """A frame fit for its audience, with the rules applied and the audit log.

    `frame` returns a copy, so no caller can alter the protected values in place.
    For the public audience every withheld value is null and its reason is in the
    companion `<column>_flag` column; `k` is the threshold used. For staff the
    values are exact, `exact` is True and `k` is None.
    """

    view: str
    _frame: pl.DataFrame = field(repr=False)
    audience: Audience
    k: int | None
    rules: tuple[str, ...]
    audit_log: tuple[AuditRecord, ...] = field(repr=False)
    notes: tuple[str, ...] = ()
    _seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise TypeError(
                "A Protected frame can only be made by data_access.disclosure; "
                "pass the data through its functions instead of constructing one."
            )
        if (self.audience is Audience.STAFF) != (self.k is None):
            raise ValueError("k is recorded for public output and only for public output.")

    @property
    def frame(self) -> pl.DataFrame:
        return self._frame.clone()

    @property
    def exact(self) -> bool:
        """True for staff output: exact aggregates, nothing withheld."""
        return self.audience is Audience.STAFF

    @property
    def height(self) -> int:
        return self._frame.height

    def subset(
        self,
        rows: pl.Expr | None = None,
        columns: Iterable[str] | None = None,
        rename: Mapping[str, str] | None = None,
        view: str | None = None,
        sort: Iterable[str] = (),
    ) -> Protected:
        """Some rows and columns of this protected frame, still protected.

        Choosing, renaming and dropping cannot create a new number, so the
        result keeps this frame's audience, rules and audit log. Anything that
        computes (sums, differences, ratios) must go back through the
        disclosure functions instead.
        """
        frame = self._frame if rows is None else self._frame.filter(rows)
        if sort:
            frame = frame.sort(list(sort))
        if columns is not None:
            wanted = list(columns)
            flags = [f"{c}_flag" for c in wanted if f"{c}_flag" in frame.columns]
            frame = frame.select(list(dict.fromkeys([*wanted, *flags])))
        if rename:
            frame = frame.rename(
                {**rename, **{f"{a}_flag": f"{b}_flag" for a, b in rename.items()
                              if f"{a}_flag" in frame.columns}}
            )  # fmt: skip
        return Protected(
            view=view or self.view,
            _frame=frame,
            audience=self.audience,
            k=self.k,
            rules=self.rules,
            audit_log=self.audit_log,
            notes=self.notes,
            _seal=_SEAL,
        )

    def labelled(self, column: str, value: str) -> Protected:
        """This frame with a constant word column in front (the period its rows are for).

        A label says which people the numbers are about; it is not a number, so the
        result keeps this frame's audience, rules and audit log, as `subset` does.
        """
        if column in self._frame.columns:
            raise ValueError(f"view {self.view!r} already has a column {column!r}")
        frame = self._frame.select(pl.lit(value, dtype=pl.String).alias(column), pl.all())
        return Protected(
            view=self.view,
            _frame=frame,
            audience=self.audience,
            k=self.k,
            rules=self.rules,
            audit_log=self.audit_log,
            notes=self.notes,
            _seal=_SEAL,
        )


def _make_protected(
    view: str,
    frame: pl.DataFrame,
    *,
    audience: Audience,
    k: int | None,
    rules: Iterable[str],
    audit_log: Iterable[AuditRecord] = (),
    notes: Iterable[str] = (),
) -> Protected:
    return Protected(
        view=view,
        _frame=frame,
        audience=audience,
        k=None if audience is Audience.STAFF else k,
        rules=tuple(dict.fromkeys(rules)),
        audit_log=tuple(audit_log),
        notes=tuple(notes),
        _seal=_SEAL,
    )


@dataclass(frozen=True)
class ProtectedCounts:
    """A count table and its published margins, protected together.

    `levels` maps each published level (the tuple of columns it is broken down
    by; () is the overall total) to its protected table. `finest_keys` lists the
    finest cells (keys only, never values) so an audit can rebuild every
    additive relation between the levels.
    """

    view: str
    dimensions: tuple[str, ...]
    count: str
    levels: Mapping[tuple[str, ...], Protected]
    finest_keys: pl.DataFrame = field(repr=False)
    audience: Audience
    k: int | None
    audit_log: tuple[AuditRecord, ...] = field(repr=False)
    _seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise TypeError("ProtectedCounts can only be made by data_access.disclosure.")

    def level(self, keys: Iterable[str]) -> Protected:
        """The protected table broken down by exactly these columns (any order)."""
        wanted = tuple(keys)
        for level, protected in self.levels.items():
            if set(level) == set(wanted) and len(level) == len(wanted):
                return protected
        published = ", ".join(str(list(lv)) for lv in self.levels) or "none"
        raise KeyError(f"{list(wanted)} is not a published level of {self.view!r}: {published}.")

    @property
    def finest(self) -> Protected:
        return self.level(self.dimensions)

    @property
    def exact(self) -> bool:
        return self.audience is Audience.STAFF


def publish_reference(
    frame: pl.DataFrame, *, view: str, audience: Audience, policy: Policy = DEFAULT_POLICY
) -> Protected:
    """Wrap a frame holding no numbers about people (site names, precinct lists, labels).

    Refuses any numeric column, so a count table cannot be waved through as
    "reference data": counts go through protect_counts or protect_derived.
    """
    numeric = [name for name, dtype in frame.schema.items() if dtype.is_numeric()]
    if numeric:
        raise TypeError(
            f"view {view!r}: reference data may not hold numbers ({', '.join(numeric)}); "
            "protect counts with protect_counts or protect_derived."
        )
    return _make_protected(view, frame, audience=audience, k=policy.k, rules=())
