"""The threshold k set by a site's privacy officer reaches every cube and view."""

from __future__ import annotations

import polars as pl

from data_access.audience import Audience
from data_access.db import make_engine
from data_access.views import Selection, build
from data_access.views.base import clear_memos

COUNT_TABLES = ("trend", "by_pathway", "by_offense", "by_precinct")


def _referrals(url: str, k: str | None, monkeypatch):
    if k is None:
        monkeypatch.delenv("LEAD_DISCLOSURE_K", raising=False)
    else:
        monkeypatch.setenv("LEAD_DISCLOSURE_K", k)
    clear_memos()
    return build(
        "referrals",
        make_engine(url),
        Selection("demo-2025-12", "albany", "2025"),
        Audience.PUBLIC,
    )


def test_a_higher_k_withholds_more_and_says_so(demo_sqlite_url, monkeypatch):
    default = _referrals(demo_sqlite_url, None, monkeypatch)
    stricter = _referrals(demo_sqlite_url, "16", monkeypatch)
    clear_memos()
    for key in COUNT_TABLES:
        frame = stricter.table(key).frame
        shown = frame["referrals"].drop_nulls().to_list()
        assert not [v for v in shown if 0 < v < 16], key
        assert stricter.table(key).k == 16
    trend_default = default.table("trend").frame
    trend_strict = stricter.table("trend").frame
    assert trend_strict["referrals"].null_count() > trend_default["referrals"].null_count()
    flags = set(trend_strict["referrals_flag"].to_list())
    assert "fewer than 16" in flags and "fewer than 11" not in flags
    # The same quarter published under k=11 with 11..15 people is withheld under k=16.
    joined = trend_default.join(trend_strict, on="quarter", suffix="_16")
    between = joined.filter(pl.col("referrals").is_between(11, 15))
    assert between.height and between["referrals_16"].null_count() == between.height
