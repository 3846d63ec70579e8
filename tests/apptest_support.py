"""Helpers for AppTest page tests: run a page through the real router, read what it shows."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")
SMALL_COUNT = re.compile(r"^(?:[1-9]|10)$")


def open_page(page: str | None = None, **query: str | list[str]) -> AppTest:
    """Run dashboard.py (and switch to `app_pages/<page>.py`) with URL parameters."""
    at = AppTest.from_file(DASHBOARD, default_timeout=120)
    if page is not None:
        # AppTest learns the router's page paths from a first run; the URL of the
        # page a visitor opens is then given to the run that shows it.
        at.run()
        at.switch_page(f"app_pages/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def show(at: AppTest, page: str, query: dict[str, str]) -> AppTest:
    """Open `app_pages/<page>.py` in a running AppTest with exactly these URL parameters.

    As a visitor pasting a link into an open session: what the session already
    chose (widgets, session state) stays, the URL's filters win.
    """
    at.switch_page(f"app_pages/{page}.py")
    at.query_params.clear()
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def chart_specs(at: AppTest) -> list[dict]:
    """The plotly figure of every chart on the page, as JSON."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def decode(values):
    """Plotly's typed arrays ({"dtype", "bdata"}) as a plain list; lists pass through."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return values


def count_values(spec: dict) -> list[float]:
    """Numbers plotted as counts of people (traces the chart builders tag as counts)."""
    found = []
    for trace in spec["data"]:
        meta = trace.get("meta") or {}
        if isinstance(meta, dict) and meta.get("unit") == "count":
            for axis in ("x", "y"):
                values = decode(trace.get(axis))
                if isinstance(values, list):
                    found += [v for v in values if isinstance(v, int | float)]
    return found


def table_cells(at: AppTest) -> list[str]:
    """Every cell of every dataframe and table on the page, as text."""
    cells = []
    for frame in [*at.dataframe, *at.table]:
        cells += [str(v) for v in frame.value.to_numpy().ravel().tolist()]
    return cells


def texts(at: AppTest) -> str:
    """All markdown, captions, titles and alerts on the page, joined."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success"):  # fmt: skip
        parts += [str(element.value) for element in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)
