"""The figure builders, the theme's contrast, and formula-safe CSV.

Frames here look like the output of disclosure control: a withheld count is null
and its `<value>_flag` says why. The tests check what a reader would notice: the
reason in the hover and the table, a marked placeholder instead of a gap, alt
text that names the extremes, and no hidden number anywhere in the figure.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_access.csv_safety import neutralise_cell, neutralise_frame, safe_csv_bytes
from ui import charts, theme
from ui.text import escape_markdown, format_value, period_label, table_value

ROOT = Path(__file__).resolve().parents[1]
FEWER = "fewer than 11"
DATA_KEYS = ("x", "y", "text", "hovertext", "customdata")


# ---------------------------------------------------------------- helpers


def _decode(value):
    """plotly's JSON writes numeric arrays as {"dtype", "bdata"}: turn them back into lists."""
    if isinstance(value, dict) and "bdata" in value:
        raw = base64.b64decode(value["bdata"])
        return np.frombuffer(raw, dtype=np.dtype(value["dtype"])).tolist()
    return value


def traces(figure: go.Figure) -> list[dict]:
    """The figure's traces as the browser receives them (fig.to_json), arrays decoded."""
    spec = json.loads(figure.to_json())
    out = []
    for trace in spec["data"]:
        decoded = {k: _decode(v) for k, v in trace.items()}
        for bar in ("error_x", "error_y"):
            if bar in decoded:
                decoded[bar] = {k: _decode(v) for k, v in decoded[bar].items()}
        out.append(decoded)
    return out


def by_role(figure: go.Figure, role: str) -> list[dict]:
    return [t for t in traces(figure) if t.get("meta", {}).get("role") == role]


def numbers_in_traces(figure: go.Figure) -> set[float]:
    """Every number in the traces' data arrays and every number written in their text/hover."""
    found: set[float] = set()
    for trace in traces(figure):
        for key in DATA_KEYS:
            for item in trace.get(key) or []:
                if isinstance(item, int | float) and not isinstance(item, bool):
                    found.add(float(item))
                elif isinstance(item, str) and key in ("text", "hovertext"):
                    found.update(float(n) for n in _numbers_in_text(item))
    return found


def _numbers_in_text(text: str) -> list[str]:
    import re

    return re.findall(r"\d+(?:\.\d+)?", text.replace(",", ""))


def relative_luminance(hex_color: str) -> float:
    """WCAG 2.1 relative luminance: sRGB channels linearised, weighted 0.2126/0.7152/0.0722."""
    channels = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio (L1 + 0.05) / (L2 + 0.05), lighter over darker."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def blend(foreground: str, background: str, opacity: float) -> str:
    """The colour seen when `foreground` is drawn at `opacity` over `background`."""
    fg = [int(foreground.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    bg = [int(background.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    mixed = [round(opacity * f + (1 - opacity) * b) for f, b in zip(fg, bg, strict=True)]
    return "#" + "".join(f"{c:02X}" for c in mixed)


# ---------------------------------------------------------------- contrast and palette


def test_contrast_formula_matches_the_wcag_worked_values():
    # Black on white: (1.0 + 0.05) / (0.0 + 0.05) = 21.
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    # #767676 is the classic lightest grey passing AA on white: 4.54:1.
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    # #777777 is one step lighter and fails.
    assert contrast("#777777", "#FFFFFF") < 4.5


@pytest.mark.parametrize(
    ("name", "color", "background"),
    [
        ("body text", theme.TEXT, theme.BACKGROUND),
        ("body text in the sidebar", theme.TEXT, theme.SECONDARY_BACKGROUND),
        ("muted text (axis notes)", theme.MUTED_TEXT, theme.BACKGROUND),
        ("withheld placeholder text", theme.WITHHELD, theme.BACKGROUND),
        ("links and primary colour", theme.PRIMARY, theme.BACKGROUND),
        ("links in the sidebar", theme.PRIMARY, theme.SECONDARY_BACKGROUND),
        ("white text on a primary button", "#FFFFFF", theme.PRIMARY),
    ],
)
def test_text_colours_meet_aa_4_5(name, color, background):
    assert contrast(color, background) >= 4.5, name


@pytest.mark.parametrize("background", [theme.BACKGROUND, theme.SECONDARY_BACKGROUND])
def test_captions_faded_by_streamlit_still_meet_aa(background):
    # st.caption draws body text at 60% opacity; #0E1117 at 60% over white is #6E7074.
    faded = blend(theme.TEXT, background, theme.CAPTION_OPACITY)
    assert contrast(faded, background) >= 4.5
    # Streamlit's default text colour #31333F would fail there: that is why we set our own.
    assert contrast(blend("#31333F", background, theme.CAPTION_OPACITY), background) < 4.5


def test_every_chart_mark_colour_meets_3_to_1_on_white():
    styles = [*theme.GROUP_STYLES.values(), *theme.RACE_STYLES.values()]
    colours = set(theme.CATEGORICAL) | {s.color for s in styles} | {theme.WITHHELD}
    ratios = {c: round(contrast(c, theme.BACKGROUND), 2) for c in colours}
    assert all(r >= 3.0 for r in ratios.values()), ratios


def test_okabe_ito_colours_that_fail_on_white_are_adjusted_or_left_out():
    failing = {
        name: color
        for name, color in theme.OKABE_ITO_ORIGINAL.items()
        if contrast(color, theme.BACKGROUND) < 3.0
    }
    # Orange 2.25:1, sky blue 2.31:1 and yellow 1.32:1 fail the 3:1 rule for marks.
    assert set(failing) == {"orange", "sky blue", "yellow"}
    assert not set(failing.values()) & set(theme.CATEGORICAL)
    assert "#F0E442" not in {s.color for s in theme.RACE_STYLES.values()}


# Machado, Oliveira & Fernandes (2009) simulation matrices at full severity, in linear RGB.
_CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
    "typical vision": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
}  # fmt: skip


def _lab(hex_color: str, matrix) -> np.ndarray:
    rgb = np.array([int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(np.array(matrix) @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    t = (xyz @ seen) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", list(_CVD))
def test_race_colours_stay_apart_for_colour_blind_readers(vision):
    # CIE76 distance >= 10 between every pair, as each kind of colour blindness sees them
    # (measured minimum 11.2: bluish green against the grey of "race unknown").
    colours = {code: style.color for code, style in theme.RACE_STYLES.items()}
    labs = {code: _lab(color, _CVD[vision]) for code, color in colours.items()}
    distances = {
        (a, b): float(np.linalg.norm(labs[a] - labs[b])) for a, b in itertools.combinations(labs, 2)
    }
    closest = min(distances, key=distances.get)
    assert distances[closest] >= 10, (closest, distances[closest])


def test_each_group_differs_in_symbol_and_dash_not_only_colour():
    for styles in (theme.RACE_STYLES, theme.GROUP_STYLES):
        values = list(styles.values())
        for field in ("color", "symbol", "dash"):
            assert len({getattr(s, field) for s in values}) == len(values), field
    assert theme.GROUP_STYLES["lead"].pattern != theme.GROUP_STYLES["comparison"].pattern


def test_a_group_keeps_its_style_by_code_or_label_and_in_any_company():
    alone = theme.series_styles(["black"])
    mixed = theme.series_styles(["Precinct 9", "Black or African American", "white"])
    assert alone["black"] == mixed["Black or African American"] == theme.RACE_STYLES["black"]
    assert mixed["white"] == theme.RACE_STYLES["white"]
    # A series without a fixed style takes a colour no fixed one in the chart uses.
    assert mixed["Precinct 9"].color not in {theme.BLUE, theme.VERMILLION}


def test_streamlit_config_mirrors_the_theme_and_is_public_safe():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["theme"]["primaryColor"] == theme.PRIMARY
    assert config["theme"]["textColor"] == theme.TEXT
    assert config["theme"]["backgroundColor"] == theme.BACKGROUND
    assert config["theme"]["secondaryBackgroundColor"] == theme.SECONDARY_BACKGROUND
    assert config["theme"]["chartCategoricalColors"] == list(theme.CATEGORICAL)
    assert config["client"]["toolbarMode"] == "minimal"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= 10
    assert config["browser"]["gatherUsageStats"] is False


def test_the_lead_template_is_registered_default_and_used():
    import streamlit  # noqa: F401  (its import makes "streamlit" the default template)

    import ui.components  # noqa: F401  (which takes the default back)

    assert pio.templates.default == theme.TEMPLATE_NAME
    template = pio.templates[theme.TEMPLATE_NAME]
    assert list(template.layout.colorway) == list(theme.CATEGORICAL)
    assert template.layout.font.size >= 14
    chart = charts.bar_chart(pl.DataFrame({"c": ["a"], "count": [20]}), category="c")
    assert chart.figure.layout.template.layout.font.color == theme.TEXT


# ---------------------------------------------------------------- trend line

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]


def _protected_months() -> pl.DataFrame:
    # True values 74, 7, 185, 3, 56; disclosure control withheld 7 and 3.
    return pl.DataFrame(
        {
            "month": MONTHS,
            "count": [74, None, 185, None, 56],
            "count_flag": [None, FEWER, None, FEWER, None],
        }
    )


def test_trend_withheld_points_are_hollow_on_the_axis_and_say_why():
    chart = charts.trend_chart(_protected_months(), subject="monthly referrals in Seattle")
    (withheld,) = by_role(chart.figure, "withheld")
    assert withheld["y"] == [0, 0]
    assert withheld["marker"]["symbol"].endswith("-open")
    assert withheld["hovertext"] == [f"February 2024: {FEWER}", f"April 2024: {FEWER}"]
    (line,) = by_role(chart.figure, "value")
    assert line["y"] == [74, None, 185, None, 56]  # a gap, never a filled-in number
    assert line["hovertemplate"] == "%{hovertext}<extra></extra>"
    assert {7.0, 3.0}.isdisjoint(numbers_in_traces(chart.figure))


def test_trend_alt_text_names_span_extremes_and_withheld_months():
    chart = charts.trend_chart(_protected_months(), subject="monthly referrals in Seattle")
    assert chart.alt == (
        "Line chart of monthly referrals in Seattle, January 2024 to May 2024; "
        "highest 185 in March 2024; lowest 56 in May 2024. "
        "2 periods withheld (fewer than 11)."
    )


def test_trend_table_is_exactly_the_plotted_numbers():
    chart = charts.trend_chart(_protected_months(), value_label="Referrals")
    assert chart.table.columns == ["Month", "Referrals"]
    assert chart.table["Referrals"].to_list() == ["74", FEWER, "185", FEWER, "56"]
    (line,) = by_role(chart.figure, "value")
    for cell, plotted in zip(chart.table["Referrals"], line["y"], strict=True):
        assert (cell == FEWER) if plotted is None else (float(cell) == plotted)


def test_trend_rolling_average_uses_shown_values_only():
    frame = pl.DataFrame({"month": MONTHS, "count": [74, None, 185, 60, 56]}).with_columns(
        count_flag=pl.when(pl.col("count").is_null()).then(pl.lit(FEWER))
    )
    chart = charts.trend_chart(frame, rolling_window=2, value_label="Referrals")
    (average,) = by_role(chart.figure, "average")
    # Windows holding the withheld February stay empty; (185 + 60) / 2 = 122.5, (60 + 56) / 2 = 58.
    assert average["y"] == [None, None, None, 122.5, 58.0]
    assert chart.table["2-month average"].to_list() == ["", "", "", "122", "58"]


def test_trend_with_series_keeps_fixed_group_styles_and_labels():
    frame = pl.DataFrame(
        {
            "month": MONTHS[:2] * 2,
            "group": ["lead", "lead", "comparison", "comparison"],
            "count": [40, 52, None, 61],
            "count_flag": [None, None, FEWER, None],
        }
    )
    chart = charts.trend_chart(frame, series="group", series_label="Group")
    lines = {t["name"]: t for t in by_role(chart.figure, "value")}
    assert lines["LEAD participants"]["line"]["color"] == theme.GROUP_STYLES["lead"].color
    comparison = lines["Comparison group (system as usual)"]
    assert comparison["line"]["dash"] == theme.GROUP_STYLES["comparison"].dash
    assert chart.table["Group"].to_list()[2] == "Comparison group (system as usual)"
    assert "highest 61 in February 2024 (Comparison group (system as usual))" in chart.alt


def test_quarters_stay_in_time_order_on_a_category_axis():
    frame = pl.DataFrame({"cohort": ["2025-Q2", "2024-Q4", "2025-Q1"], "count": [30, 20, 25]})
    chart = charts.trend_chart(frame, period="cohort", period_label_text="Cohort")
    assert list(chart.figure.layout.xaxis.categoryarray) == ["Q4 2024", "Q1 2025", "Q2 2025"]


# ---------------------------------------------------------------- bars and funnel


def _precincts() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "precinct": ["North", "<img src=x onerror=alert(1)>", "South", "West"],
            "count": [120, None, 45, 88],  # the hidden one was 9
            "count_flag": [None, FEWER, None, None],
        }
    )


def test_bar_withheld_category_is_marked_on_the_axis_with_its_reason():
    chart = charts.bar_chart(_precincts(), category="precinct", subject="referrals by precinct")
    (placeholder,) = by_role(chart.figure, "withheld")
    assert placeholder["text"] == [FEWER]
    assert placeholder["hovertext"] == [f"&lt;img src=x onerror=alert(1)&gt;: {FEWER}"]
    assert placeholder["marker"]["symbol"] == charts.PLACEHOLDER_SYMBOL
    assert 9.0 not in numbers_in_traces(chart.figure)


def test_bar_labels_from_data_reach_plotly_escaped_and_the_table_verbatim():
    chart = charts.bar_chart(_precincts(), category="precinct", category_label="Precinct")
    assert "<img" not in chart.figure.to_json()
    assert chart.table["Precinct"][1] == "<img src=x onerror=alert(1)>"
    assert chart.table.to_dicts()[0] == {"Precinct": "North", "Count": "120"}


def test_bar_alt_text_and_orientation():
    chart = charts.bar_chart(
        _precincts(),
        category="precinct",
        subject="referrals by precinct",
        category_label="Precinct",
    )
    assert chart.alt == (
        "Bar chart of referrals by precinct, 4 precincts; highest North with 120; "
        "lowest South with 45. 1 precinct withheld (fewer than 11)."
    )
    # The longest label (28 characters) turns the bars horizontal.
    assert by_role(chart.figure, "value")[0]["orientation"] == "h"
    short = charts.bar_chart(pl.DataFrame({"c": ["A", "B"], "count": [12, 30]}), category="c")
    assert by_role(short.figure, "value")[0]["orientation"] == "v"


def test_funnel_keeps_stage_order_and_reads_protected_shares():
    frame = pl.DataFrame(
        {
            "stage": ["Referred", "Eligible", "Enrolled"],
            "count": [500, 420, None],
            "count_flag": [None, None, FEWER],
            "share": [1.0, 0.84, None],
            "share_flag": [None, None, FEWER],
        }
    )
    chart = charts.funnel_chart(frame, stage="stage", share="share")
    (bars,) = by_role(chart.figure, "value")
    assert bars["y"] == ["Referred", "Eligible"]
    assert bars["text"] == ["500 (100.0%)", "420 (84.0%)"]
    assert chart.table.rows() == [
        ("Referred", "500", "100.0"),
        ("Eligible", "420", "84.0"),
        ("Enrolled", FEWER, FEWER),
    ]
    assert chart.alt == (
        "Funnel of the screening stages, from first to last stage: "
        "Referred 500, Eligible 420 and Enrolled fewer than 11."
    )


# ---------------------------------------------------------------- estimates and forest plot


def _uptake() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "service": ["housing", "counseling", "drug_treatment", "job_training"],
            "estimate": [0.42, 0.31, None, 0.12],
            "ci_low": [0.36, 0.25, None, 0.06],
            "ci_high": [0.48, 0.38, None, 0.21],
            "flag": [None, None, FEWER, "unstable: interpret with caution"],
        }
    )


def test_estimate_whiskers_come_from_the_interval():
    chart = charts.estimate_chart(_uptake(), category="service", subject="service uptake")
    (dots,) = by_role(chart.figure, "value")
    assert dots["y"] == ["Housing", "Counseling", "Job training"]
    # Housing 0.42 in [0.36, 0.48]: whisker 0.06 each side; job training 0.12 in [0.06, 0.21].
    assert dots["error_x"]["array"] == pytest.approx([0.06, 0.07, 0.09])
    assert dots["error_x"]["arrayminus"] == pytest.approx([0.06, 0.06, 0.06])


def test_unstable_estimate_is_hollow_and_says_so():
    chart = charts.estimate_chart(_uptake(), category="service")
    (dots,) = by_role(chart.figure, "value")
    assert dots["marker"]["symbol"] == ["circle", "circle", "circle-open"]
    assert dots["hovertext"][2] == (
        "Job training: 12.0% (95% CI 6.0% to 21.0%); unstable: interpret with caution"
    )
    (withheld,) = by_role(chart.figure, "withheld")
    assert withheld["y"] == ["Drug treatment"] and withheld["text"] == [FEWER]


def test_estimate_table_and_alt():
    chart = charts.estimate_chart(
        _uptake(), category="service", subject="service uptake", value_label="Share served"
    )
    assert chart.table.columns == [
        "Group",
        "Share served (%)",
        "95% CI low (%)",
        "95% CI high (%)",
        "Note",
    ]
    assert chart.table.row(2) == ("Drug treatment", FEWER, "", "", FEWER)
    assert chart.alt == (
        "Dot chart of service uptake with 95% confidence intervals; "
        "highest Housing at 42.0% (95% CI 36.0% to 48.0%); "
        "lowest Job training at 12.0% (95% CI 6.0% to 21.0%). "
        "Unstable, interpret with caution: Job training. Withheld: Drug treatment (fewer than 11)."
    )


def _rri() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "race_ethnicity": ["black", "hispanic_latino", "asian", "aian", "white"],
            "estimate": [2.31, 1.12, 0.62, None, 1.0],
            "ci_low": [1.80, 0.85, 0.40, None, None],
            "ci_high": [2.96, 1.48, 0.95, None, None],
            "flag": [None, None, None, "insufficient data", "reference group"],
        }
    )


def test_forest_plot_is_on_a_log_axis_with_a_labelled_line_at_one():
    chart = charts.forest_plot(_rri(), category="race_ethnicity")
    layout = chart.figure.layout
    assert layout.xaxis.type == "log"
    (line,) = layout.shapes
    assert (line.x0, line.x1, line.yref) == (1, 1, "paper")
    texts = [a.text for a in layout.annotations]
    assert "parity with White = 1" in texts
    # The axis spans every interval and 1: log10(0.40 / 1.3) to log10(2.96 * 1.3).
    assert layout.xaxis.range == pytest.approx((math.log10(0.4 / 1.3), math.log10(2.96 * 1.3)))


def test_forest_marker_tells_whether_the_interval_excludes_one():
    chart = charts.forest_plot(_rri(), category="race_ethnicity")
    shown = {t["name"]: t for t in by_role(chart.figure, "value")}
    excludes = shown["Interval excludes 1"]
    includes = shown["Interval includes 1"]
    # 1.80-2.96 and 0.40-0.95 exclude 1; 0.85-1.48 includes it.
    assert excludes["y"] == ["Black or African American", "Asian"]
    assert excludes["marker"]["symbol"] == ["diamond", "diamond"]
    assert includes["y"] == ["Hispanic or Latino"]
    assert includes["marker"]["symbol"] == ["circle"]
    assert chart.table["Interval excludes 1"].to_list() == ["yes", "no", "yes", "", ""]


def test_forest_lists_insufficient_rows_with_their_reason_instead_of_a_gap():
    chart = charts.forest_plot(_rri(), category="race_ethnicity")
    (withheld,) = by_role(chart.figure, "withheld")
    assert withheld["y"] == ["American Indian or Alaska Native"]
    assert withheld["text"] == ["insufficient data"]
    categories = list(chart.figure.layout.yaxis.categoryarray)
    assert "American Indian or Alaska Native" in categories
    assert chart.alt == (
        "Forest plot of the relative rate index, each group against White (= 1), "
        "with 95% confidence intervals on a log scale. "
        "Highest Black or African American at 2.31 (95% CI 1.80 to 2.96); "
        "lowest Asian at 0.62 (95% CI 0.40 to 0.95). "
        "The intervals of Black or African American and Asian exclude 1. "
        "Withheld: American Indian or Alaska Native (insufficient data)."
    )


def test_forest_rejects_a_ratio_that_a_log_axis_cannot_show():
    frame = _rri().with_columns(ci_low=pl.Series([0.0, 0.85, 0.40, None, None]))
    with pytest.raises(ValueError, match="ci_low of 'Black or African American' is 0.0"):
        charts.forest_plot(frame, category="race_ethnicity")


# ---------------------------------------------------------------- LEAD against comparison


def _rearrest() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "window": ["6 months", "6 months", "12 months", "12 months"],
            "group": ["lead", "comparison", "lead", "comparison"],
            "estimate": [0.21, 0.33, None, 0.45],
            "ci_low": [0.16, 0.27, None, 0.39],
            "ci_high": [0.27, 0.40, None, 0.52],
            "flag": [None, None, FEWER, None],
        }
    )


def test_group_comparison_bars_carry_intervals_and_a_pattern_for_comparison():
    chart = charts.group_comparison_chart(_rearrest(), category="window")
    bars = {t["name"]: t for t in by_role(chart.figure, "value")}
    lead, comparison = bars["LEAD participants"], bars["Comparison group (system as usual)"]
    assert lead["error_y"]["array"] == pytest.approx([0.06])  # 0.27 - 0.21
    assert comparison["error_y"]["arrayminus"] == pytest.approx([0.06, 0.06])
    assert comparison["marker"]["pattern"]["shape"] == "/"
    assert lead["marker"]["color"] == theme.BLUE
    (placeholder,) = by_role(chart.figure, "withheld")
    assert placeholder["x"] == ["12 months"] and placeholder["text"] == [FEWER]
    assert placeholder["offsetgroup"] == lead["offsetgroup"]


def test_group_comparison_table_rows_follow_the_frame():
    chart = charts.group_comparison_chart(_rearrest(), category="window", value_label="Re-arrested")
    assert chart.table.row(2) == ("12 months", "LEAD participants", FEWER, "", "", FEWER)
    assert chart.table.row(3) == (
        "12 months",
        "Comparison group (system as usual)",
        "45.0",
        "39.0",
        "52.0",
        "",
    )


def test_group_comparison_without_intervals_shows_no_whiskers_words_or_columns():
    # Costs have no sampling interval: no ci_low or ci_high given.
    chart = charts.group_comparison_chart(
        _rearrest(), category="window", ci_low=None, ci_high=None, unit="dollars"
    )
    bars = [t for t in traces(chart.figure) if t["type"] == "bar"]
    assert bars and all(t["error_y"]["visible"] is False for t in bars)
    assert "confidence interval" not in chart.alt
    assert not [c for c in chart.table.columns if "CI" in c]
    with_intervals = charts.group_comparison_chart(_rearrest(), category="window")
    assert "with 95% confidence intervals" in with_intervals.alt


# ---------------------------------------------------------------- reuse of finished charts


def test_a_chart_of_other_numbers_or_words_is_never_an_earlier_one():
    # Builders reuse the finished chart for equal input: any other cell or option
    # must give its own chart, whichever builder and however small the change.
    frame = _rearrest()
    first = charts.group_comparison_chart(frame, category="window")
    assert charts.group_comparison_chart(frame.clone(), category="window").alt == first.alt
    changed = frame.with_columns(estimate=pl.Series([0.21, 0.34, None, 0.45]))
    other = charts.group_comparison_chart(changed, category="window")
    assert "34.0" in other.table["Estimate (%)"].to_list()
    assert "33.0" not in other.table["Estimate (%)"].to_list()
    withheld = frame.with_columns(flag=pl.Series([None, None, "withheld", None]))
    assert "withheld" in charts.group_comparison_chart(withheld, category="window").table["Note"]
    renamed = charts.group_comparison_chart(frame, category="window", subject="re-arrest")
    assert renamed.alt.startswith("Grouped bar chart of re-arrest with")
    assert not first.alt.startswith("Grouped bar chart of re-arrest with")


# ---------------------------------------------------------------- cumulative curve


def test_cumulative_curve_draws_a_band_and_marks_withheld_points():
    frame = pl.DataFrame(
        {
            "month": [0, 6, 12, 0, 6, 12],
            "group": ["lead"] * 3 + ["comparison"] * 3,
            "estimate": [0.0, 0.10, 0.18, 0.0, 0.16, None],
            "ci_low": [0.0, 0.07, 0.14, 0.0, 0.12, None],
            "ci_high": [0.0, 0.13, 0.22, 0.0, 0.20, None],
            "flag": [None] * 5 + [FEWER],
        }
    )
    chart = charts.cumulative_curve(frame)
    bands = by_role(chart.figure, "band")
    assert [b["fill"] for b in bands if "fill" in b] == ["tonexty", "tonexty"]
    assert bands[0]["y"] == [0.0, 0.13, 0.22]  # LEAD upper bound
    (withheld,) = by_role(chart.figure, "withheld")
    assert withheld["x"] == [12] and withheld["y"] == [0]
    assert withheld["hovertext"] == [
        f"Comparison group (system as usual) · Months since entry 12: {FEWER}"
    ]
    assert chart.alt == (
        "Step chart of cumulative re-arrest with 95% confidence bands, months since entry 0 to 12. "
        "Latest shown: LEAD participants 18.0% (95% CI 14.0% to 22.0%) at 12; "
        "Comparison group (system as usual) 16.0% (95% CI 12.0% to 20.0%) at 6. "
        "1 point withheld (fewer than 11)."
    )


# ---------------------------------------------------------------- edges and properties


def test_a_missing_column_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"bar_chart: the frame has no column 'count'"):
        charts.bar_chart(pl.DataFrame({"precinct": ["North"], "n": [3]}), category="precinct")


def test_an_empty_frame_gives_a_no_data_chart_not_an_error():
    frame = pl.DataFrame(schema={"month": pl.String, "count": pl.Int64})
    chart = charts.trend_chart(frame, subject="monthly referrals")
    assert chart.alt == "No data for monthly referrals in this selection."
    assert chart.table.columns == ["Month", "Count"] and chart.table.height == 0


@settings(max_examples=80, deadline=None)
@given(
    cells=st.lists(
        st.one_of(st.integers(11, 5000), st.integers(1, 10).map(lambda v: -v)),
        min_size=1,
        max_size=12,
    )
)
def test_no_withheld_number_ever_reaches_the_figure(cells):
    # Negative entries stand for hidden counts 1..10 that disclosure control nulled.
    hidden = {float(-c) for c in cells if c < 0}
    frame = pl.DataFrame(
        {
            "month": [f"2024-{i + 1:02d}" for i in range(len(cells))],
            "count": [c if c > 0 else None for c in cells],
            "count_flag": [None if c > 0 else FEWER for c in cells],
        },
        schema={"month": pl.String, "count": pl.Int64, "count_flag": pl.String},
    )
    for chart in (
        charts.trend_chart(frame),
        charts.bar_chart(frame, category="month"),
    ):
        values = [n for t in by_role(chart.figure, "value") for n in t.get("x", []) + t["y"]]
        assert not hidden & {float(v) for v in values if isinstance(v, int | float)}
        for trace in by_role(chart.figure, "withheld"):
            assert all(h.endswith(FEWER) for h in trace["hovertext"])
        expected = [str(c) if c > 0 else FEWER for c in cells]
        assert chart.table[chart.table.columns[-1]].to_list() == expected


# ---------------------------------------------------------------- text helpers


@pytest.mark.parametrize(
    ("value", "unit", "shown", "cell"),
    [
        (1234, "count", "1,234", "1234"),
        (0.4217, "proportion", "42.2%", "42.2"),
        (2.3149, "ratio", "2.31", "2.31"),
        (-1520.4, "dollars", "-$1,520", "-1520"),
    ],
)
def test_a_number_reads_the_same_in_hover_and_table(value, unit, shown, cell):
    assert format_value(value, unit) == shown
    assert table_value(value, unit) == cell


def test_period_labels():
    assert period_label("2025-03") == "March 2025"
    assert period_label("2025-Q1") == "Q1 2025"
    assert period_label(dt.date(2024, 11, 30)) == "November 2024"


def test_escape_markdown_makes_a_hostile_label_literal_and_one_line():
    label = "**Bold** :red[alarm] $x$ [link](http://e.vil)\n# heading"
    escaped = escape_markdown(label)
    assert "\n" not in escaped
    for special in "*:[]$()#":
        # Every special character is preceded by a backslash.
        positions = [i for i, ch in enumerate(escaped) if ch == special]
        assert positions and all(escaped[i - 1] == "\\" for i in positions), special


# ---------------------------------------------------------------- formula-safe CSV


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("-12.5", "-12.5"),  # a plain negative number stays a number
        ("+3", "+3"),
        ("North precinct", "North precinct"),
        (FEWER, FEWER),
    ],
)
def test_neutralise_cell(cell, safe):
    assert neutralise_cell(cell) == safe


def test_safe_csv_neutralises_text_and_leaves_numbers():
    frame = pl.DataFrame(
        {"Precinct": ["=1+1", "North"], "Referrals": ["-5", FEWER], "Count": [-3, 12]}
    )
    assert neutralise_frame(frame)["Precinct"].to_list() == ["'=1+1", "North"]
    assert safe_csv_bytes(frame) == (
        b"Precinct,Referrals,Count\n'=1+1,-5,-3\nNorth,fewer than 11,12\n"
    )


# ---------------------------------------------------------------- real disclosure output


def test_estimates_straight_from_disclosure_control_are_drawn_as_they_should_be():
    from data_access.disclosure import DerivedKind, protect_derived

    # 40/100 is shown; 15/100 is shown but unstable (11 to 19 events);
    # 5/100 is withheld (a share of fewer than 11 people).
    raw = pl.DataFrame(
        {
            "service": ["housing", "counseling", "groceries"],
            "served": [40, 15, 5],
            "active": [100, 100, 100],
            "estimate": [0.40, 0.15, 0.05],
            "ci_low": [0.31, 0.09, 0.02],
            "ci_high": [0.50, 0.24, 0.11],
        }
    )
    protected = protect_derived(
        raw,
        view="uptake",
        keys=["service"],
        numerator="served",
        denominator="active",
        estimates=["estimate", "ci_low", "ci_high"],
        kind=DerivedKind.PROPORTION,
    ).frame
    chart = charts.estimate_chart(protected, category="service")
    (dots,) = by_role(chart.figure, "value")
    assert dots["y"] == ["Housing", "Counseling"]
    assert dots["marker"]["symbol"] == ["circle", "circle-open"]
    assert "unstable" in dots["hovertext"][1]
    (withheld,) = by_role(chart.figure, "withheld")
    assert withheld["text"] == [protected["estimate_flag"][2]]
    assert 0.05 not in numbers_in_traces(chart.figure)
    assert chart.table["Estimate (%)"].to_list() == ["40.0", "15.0", protected["estimate_flag"][2]]


def test_counts_straight_from_disclosure_control_show_fewer_than_11():
    from data_access.disclosure import protect_counts

    raw = pl.DataFrame({"precinct": ["North", "East", "South"], "count": [120, 4, 45]})
    protected = protect_counts(raw, view="by precinct", dimensions=["precinct"], count="count")
    chart = charts.bar_chart(protected.finest.frame, category="precinct")
    assert 4.0 not in numbers_in_traces(chart.figure)
    (placeholder,) = by_role(chart.figure, "withheld")
    assert placeholder["text"] == [FEWER]
    assert chart.table["Count"].to_list()[1] == FEWER
