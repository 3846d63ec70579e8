"""Turning protected values into text for tables, downloads and hover labels.

A withheld value is rendered from its reason alone: the helper never looks at
the number behind a non-empty flag, so even a frame that still held one (it
should not) could not leak it through here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from data_access.disclosure.policy import DEFAULT_POLICY, Policy, policy_for_k
from data_access.disclosure.protected import Protected


def withheld_text(flag: str, policy: Policy = DEFAULT_POLICY) -> str:
    """What a reader sees in place of a withheld value."""
    small = (policy.small_reason, policy.small_or_zero_reason)
    return policy.small_reason if flag in small else "withheld"


def display_value(
    value: float | int | None,
    flag: str | None,
    *,
    policy: Policy = DEFAULT_POLICY,
    fmt: Callable[[float | int], str] = "{:,}".format,
) -> str:
    """One value as text: "fewer than 11" (or "withheld") when flagged, else the formatted value."""
    if flag:
        return withheld_text(flag, policy)
    if value is None:
        return ""
    return fmt(value)


def display_column(
    frame: pl.DataFrame,
    column: str,
    *,
    flag: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    fmt: Callable[[float | int], str] = "{:,}".format,
) -> pl.Series:
    """A column as text, each withheld value replaced by its display text."""
    flag = flag or f"{column}_flag"
    flags = frame[flag].fill_null("").to_list() if flag in frame.columns else [""] * frame.height
    values = frame[column].to_list()
    return pl.Series(
        column,
        [display_value(v, f, policy=policy, fmt=fmt) for v, f in zip(values, flags, strict=True)],
        dtype=pl.Utf8,
    )


def for_display(
    protected: Protected,
    columns: Sequence[str],
    *,
    flags: dict[str, str] | None = None,
    fmt: Callable[[float | int], str] = "{:,}".format,
) -> pl.DataFrame:
    """The protected frame with `columns` as text, ready for a table, CSV or hover text.

    flags: column -> its flag column, where that is not `<column>_flag` (e.g. the
    interval bounds of an estimate share the estimate's flag).
    """
    policy = DEFAULT_POLICY if protected.k is None else policy_for_k(protected.k)
    frame = protected.frame
    flags = flags or {}
    return frame.with_columns(
        display_column(frame, c, flag=flags.get(c), policy=policy, fmt=fmt) for c in columns
    )
