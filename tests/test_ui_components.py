"""The streamlit components, rendered by AppTest from tests/apps/ui_components_app.py."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from ui import charts, components
from ui.text import escape_markdown

APP = Path(__file__).parent / "apps" / "ui_components_app.py"
FEWER = "fewer than 11"


@pytest.fixture(scope="module")
def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _decode(value):
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def _spec(at: AppTest, index: int = 0) -> dict:
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    for trace in spec["data"]:
        for key in ("x", "y"):
            if key in trace:
                trace[key] = _decode(trace[key])
    return spec


def test_chart_card_renders_chart_with_alt_text_title_and_caption(app):
    (chart,) = app.get("plotly_chart")
    assert chart.proto.alt == (
        "Bar chart of referrals by precinct, 4 precincts; highest North with 120; "
        "lowest South with 45. 1 precinct withheld (fewer than 11)."
    )
    assert chart.proto.theme == ""  # theme=None: our template, not Streamlit's restyling
    assert json.loads(chart.proto.config)["displaylogo"] is False
    (title,) = app.subheader
    assert title.value == "North had the most referrals\\: 120"
    assert app.caption[0].value.startswith("Referrals\\: people referred to LEAD")


def test_chart_spec_holds_the_reason_never_a_small_count(app):
    spec = _spec(app)
    withheld = [t for t in spec["data"] if t["meta"]["role"] == "withheld"]
    assert [t["text"] for t in withheld] == [[FEWER]]
    assert withheld[0]["hovertext"][0].endswith(f": {FEWER}")
    counts = [v for t in spec["data"] if t["meta"]["unit"] == "count" for v in t["x"]]
    counts = [v for v in counts if isinstance(v, int | float)]
    assert not [v for v in counts if 1 <= v <= 10], counts


def test_table_view_shows_exactly_the_plotted_table(app):
    (expander,) = app.expander
    assert expander.label == "Table view"
    (table,) = app.dataframe
    assert table.value.to_dict("records") == [
        {"Precinct": "North", "Referrals": "120"},
        {"Precinct": "East **bold** :red[x]", "Referrals": FEWER},
        {"Precinct": "South", "Referrals": "45"},
        {"Precinct": "West", "Referrals": "88"},
    ]


def test_a_rerun_shows_the_same_chart_and_table_as_the_first_run():
    # The rerun draws from the finished chart and converted table of the first run.
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    first_spec, first_table = at.get("plotly_chart")[0].proto.spec, at.dataframe[0].value
    at.run()
    assert not at.exception
    assert at.get("plotly_chart")[0].proto.spec == first_spec
    assert at.dataframe[0].value.equals(first_table)
    assert at.dataframe[0].value["Referrals"].tolist() == ["120", FEWER, "45", "88"]


def test_download_button_serves_the_table_lazily_without_a_rerun(app):
    (button,) = app.get("download_button")
    assert button.proto.label == "Download this table (CSV)"
    assert button.proto.deferred_file_id  # built on click, not on every run
    assert button.proto.ignore_rerun is True


def test_kpis_tell_the_change_in_words_with_arrows_and_no_colour(app):
    referrals, rearrest = app.metric
    assert (referrals.label, referrals.value, referrals.delta) == (
        "Referrals",
        "214",
        "up 12% from Q3 2025",
    )
    assert rearrest.delta == "down 4\\.0 points from 2024"
    assert referrals.proto.color == rearrest.proto.color  # grey both ways: words carry meaning
    assert referrals.proto.direction != rearrest.proto.direction


def test_withheld_note_banner_and_definition(app):
    texts = [m.value for m in app.markdown]
    (note,) = [t for t in texts if t.startswith("Some values are not shown")]
    assert FEWER in note and "withheld so a smaller count cannot be worked out" in note
    assert note.count(FEWER) == 1
    (banner,) = app.warning
    assert banner.value == "Synthetic demonstration data: not real LEAD results"
    assert "**Referrals**" in texts
    assert any("- Denominator: None \\(a count\\)" in t for t in texts)
    assert any(t.startswith("Caveats:") for t in texts)
    assert any(t.startswith("Sources:") for t in texts)
    assert app.caption[-1].value == (
        "Referrals: People referred to LEAD by officers or the community · "
        "Denominator: None (a count) · Source: Demo site records · "
        "Data through 2025-12-31 · Release demo-1."
    )


def test_chart_card_refuses_to_render_without_alt_text():
    chart = charts.bar_chart(pl.DataFrame({"c": ["A"], "count": [12]}), category="c")
    with pytest.raises(ValueError, match="alt text is required"):
        components.chart_card("A", chart.figure, chart.table, "", "  ", "a", key="a")


@pytest.mark.parametrize(
    ("name", "file_name"),
    [
        ("referrals by precinct", "referrals-by-precinct.csv"),
        ("../../etc/passwd", "etc-passwd.csv"),
        ("Seattle: Q1 2025.csv", "seattle-q1-2025.csv"),
        ("<>", "table.csv"),
    ],
)
def test_download_file_names_are_safe(name, file_name):
    assert components.download_file_name(name) == file_name


def test_a_registry_definition_renders_every_part_it_has(app):
    from data_access.metrics.registry import list_metrics

    definition = list_metrics()[0]
    texts = [m.value for m in app.markdown]
    name = f"**{escape_markdown(definition.name)}**"
    start = texts.index(name)
    rendered = "\n".join(texts[start:])
    for part in (definition.numerator, definition.denominator, definition.method):
        assert escape_markdown(part) in rendered
    for source in definition.sources:
        assert escape_markdown(source) in rendered
