"""ui.derive: derivations answered from a memo keyed by content, never by identity."""

from __future__ import annotations

import polars as pl
import streamlit as st

from ui import derive

calls: list[object] = []


@derive.derived
def _heights(frame: pl.DataFrame, column: str) -> list[int]:
    calls.append(column)
    return [frame.height, frame[column].sum()]


def setup_function() -> None:
    st.cache_resource.clear()
    calls.clear()


def test_equal_content_is_answered_from_the_memo():
    first = _heights(pl.DataFrame({"a": [1, 2]}), "a")
    again = _heights(pl.DataFrame({"a": [1, 2]}), "a")  # another object, same content
    assert first == again == [2, 3]
    assert calls == ["a"]


def test_other_content_or_arguments_are_not():
    _heights(pl.DataFrame({"a": [1, 2]}), "a")
    assert _heights(pl.DataFrame({"a": [1, 5]}), "a") == [2, 6]
    assert _heights(pl.DataFrame({"a": [1.0, 2.0]}), "a") == [2, 3.0]  # other schema
    _heights(pl.DataFrame({"a": [1, 2], "b": [0, 0]}), "b")
    assert len(calls) == 4


def test_a_shared_list_comes_back_as_a_copy():
    _heights(pl.DataFrame({"a": [1]}), "a").append("changed")
    assert _heights(pl.DataFrame({"a": [1]}), "a") == [1, 1]


def test_unkeyable_arguments_run_the_function_every_time():
    @derive.derived
    def total(values: list[int]) -> int:
        calls.append("total")
        return sum(values)

    assert total([1, 2]) == total([1, 2]) == 3
    assert calls == ["total", "total"]


def test_none_is_remembered_and_clearing_the_resources_forgets():
    @derive.derived
    def nothing(frame: pl.DataFrame) -> None:
        calls.append("nothing")

    frame = pl.DataFrame({"a": [1]})
    nothing(frame)
    nothing(frame)
    assert calls == ["nothing"]
    st.cache_resource.clear()
    nothing(frame)
    assert calls == ["nothing", "nothing"]


def test_call_memoizes_a_function_defined_elsewhere():
    def width(frame: pl.DataFrame) -> int:
        calls.append("width")
        return frame.width

    assert derive.call(width, pl.DataFrame({"a": [1]})) == 1
    assert derive.call(width, pl.DataFrame({"a": [1]})) == 1
    assert calls == ["width"]


def test_pairs():
    frame = pl.DataFrame({"id": ["x", "y"], "name": ["Ex", "Why"]})
    assert derive.pairs(frame, "id", "name") == {"x": "Ex", "y": "Why"}
