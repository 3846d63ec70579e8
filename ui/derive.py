"""Memo for the pages' own derivations from view results: frames, titles, words.

A warm rerun derives exactly what it derived before: the same filters, sorts and
sentences over the same few-row frames of a shared view result. Each polars call
on such a frame costs tens of microseconds (thread-pool hand-offs), far more than
the work, and together they were the largest part of a warm page run. `derived`
answers a pure function from a memo keyed by the content of its arguments, as the
chart memo in ui/charts.py does for figures.

Keys are content, never object identity: a frame is keyed by its schema and rows,
a Protected table by that and its audience, threshold and notes, a ViewResult by
all of its tables, facts and notes. So an entry can never answer for other data,
whichever session or view result the arguments came from. An argument that cannot
be keyed (a figure, a list) makes the call run as if there were no memo.

Only functions whose result depends on nothing but their arguments may be
decorated: no globals of a page, no Streamlit calls. Results are shared between
sessions: a list or dict comes back as a shallow copy, frames are never changed in
place by polars, and everything else (strings, tuples, frozen dataclasses) is
immutable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import ParamSpec, TypeVar

import polars as pl
import streamlit as st

from data_access.disclosure import Protected
from data_access.views import ViewResult
from ui import charts

DERIVED_MEMO_SIZE = 2048  # a few dozen derivations per page and selection

P = ParamSpec("P")
R = TypeVar("R")

_UNKEYABLE = object()


@st.cache_resource(show_spinner=False)
def _derived_memo() -> charts.Memo:
    """A resource, so that clearing Streamlit's caches (tests, cold benchmark runs)
    forgets the derivations together with the view results they came from."""
    return charts.Memo(DERIVED_MEMO_SIZE)


def _protected_key(table: Protected) -> Hashable:
    content = charts.content_key(table.frame)
    if content is None:
        return _UNKEYABLE
    return ("protected", table.view, table.audience, table.k, table.rules, table.notes, content)


def _result_key(result: ViewResult) -> Hashable:
    tables = tuple((name, _protected_key(t)) for name, t in result.tables.items())
    if any(key is _UNKEYABLE for _, key in tables):
        return _UNKEYABLE
    return ("result", result.name, tables, tuple(result.facts.items()), result.notes)


def argument_key(value: object) -> Hashable:
    """The content key of one argument, or _UNKEYABLE."""
    if isinstance(value, pl.DataFrame):
        content = charts.content_key(value)
        return _UNKEYABLE if content is None else ("frame", content)
    if isinstance(value, Protected):
        return _protected_key(value)
    if isinstance(value, ViewResult):
        return _result_key(value)
    if isinstance(value, dict):
        items = tuple((k, argument_key(v)) for k, v in value.items())
        return _UNKEYABLE if any(v is _UNKEYABLE for _, v in items) else ("dict", items)
    try:
        hash(value)
    except TypeError:
        return _UNKEYABLE
    # The type too: 1 == 1.0 == True as keys, but they print differently.
    return (type(value), value)


def _answer(name: Hashable, function: Callable[..., R], args: tuple, kwargs: dict) -> R:
    parts = [argument_key(a) for a in args]
    parts += [(k, argument_key(v)) for k, v in sorted(kwargs.items())]
    if any(p is _UNKEYABLE for p in parts[: len(args)]) or any(
        p[1] is _UNKEYABLE for p in parts[len(args) :]
    ):
        return function(*args, **kwargs)
    key = (name, tuple(parts))
    memo = _derived_memo()
    found = memo.get(key)
    if found is None:
        found = (function(*args, **kwargs),)  # in a tuple, so that None is remembered too
        memo.put(key, found)
    result = found[0]  # type: ignore[index]
    if isinstance(result, list | dict):
        return type(result)(result)  # type: ignore[return-value]
    return result


def _name(function: Callable) -> Hashable:
    # The file as well: page scripts are all run as __main__ and may share a name.
    return (function.__code__.co_filename, function.__qualname__)


def derived(function: Callable[P, R]) -> Callable[P, R]:
    """`function`, answering from the memo when its arguments' content was seen before.

    Keyed by the function's file and qualified name, so a function defined in a page
    script (redefined on every run) finds the entries of its earlier runs.
    """
    name = _name(function)

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return _answer(name, function, args, kwargs)

    return call


def call(function: Callable[..., R], *args: object, **kwargs: object) -> R:
    """derived(function)(...) for a function defined elsewhere (e.g. in data_access)."""
    return _answer(_name(function), function, args, kwargs)


@derived
def pairs(frame: pl.DataFrame, key: str, value: str) -> dict:
    """{key: value} over the frame's rows (site and precinct names), derived once."""
    return dict(zip(frame[key], frame[value], strict=True))
