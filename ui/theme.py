"""The one look of the dashboard: colours, fonts and the plotly template "lead".

Screen and PDF use the same template, so a chart looks the same wherever it is
shown. Every colour here is checked in tests/test_ui_charts.py against WCAG 2.1
AA: text 4.5:1 on the backgrounds it sits on, chart marks 3:1 on white.

The palette is Okabe-Ito, adjusted for contrast on white:
- sky blue #56B4E9 (2.3:1) is darkened to #1E9BE2 (3.1:1), same hue;
- orange #E69F00 (2.3:1) is darkened to the brown #7A5200 (6.9:1): darkened only
  to 3:1 it became indistinguishable from vermillion under deuteranopia;
- yellow #F0E442 (1.3:1) is left out: darkened far enough it turns olive and
  collides with the darkened orange for colour-blind readers;
- Paul Tol's wine #882255 takes its place as the ninth categorical colour.
Colour is never the only cue: every group also has a marker symbol and a dash.

Importing streamlit makes its own template plotly's default, so ui.components
registers ours again after that import; the builders in ui.charts name the
template explicitly and never depend on the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE_NAME = "lead"

# Page and text colours (mirrored in .streamlit/config.toml).
BACKGROUND = "#FFFFFF"
SECONDARY_BACKGROUND = "#F0F2F6"  # Streamlit's sidebar and widget background
TEXT = "#0E1117"  # near-black: Streamlit fades captions to 60%, which must still pass
MUTED_TEXT = "#595959"  # axis titles, notes: 7.0:1 on white
PRIMARY = "#0072B2"  # buttons, links, focus: 5.2:1 on white, white text on it 5.2:1
GRID = "#D9D9D9"  # decorative only, deliberately faint
AXIS_LINE = "#595959"
WITHHELD = "#767676"  # placeholders for withheld values: 4.5:1 on white
CAPTION_OPACITY = 0.6  # Streamlit's opacities.secondary, applied to st.caption

# Okabe-Ito (adjusted, see module docstring) plus Tol's wine.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
BLUISH_GREEN = "#009E73"
REDDISH_PURPLE = "#CC79A7"
SKY_BLUE_DARK = "#1E9BE2"
ORANGE_DARK = "#7A5200"
WINE = "#882255"
BLACK = "#000000"
GREY = WITHHELD

OKABE_ITO_ORIGINAL: dict[str, str] = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}

# The order in which series without a fixed style take colours.
CATEGORICAL: tuple[str, ...] = (
    BLUE,
    VERMILLION,
    BLUISH_GREEN,
    REDDISH_PURPLE,
    SKY_BLUE_DARK,
    ORANGE_DARK,
    WINE,
    BLACK,
)
SYMBOLS: tuple[str, ...] = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "triangle-down",
    "star",
    "hexagon",
    "cross",
    "x",
)
DASHES: tuple[str, ...] = (
    "solid",
    "dash",
    "dot",
    "dashdot",
    "longdash",
    "longdashdot",
    "8px,3px,2px,3px,2px,3px",
    "2px,6px",
    "12px,4px",
)

FONT_FAMILY = '"Source Sans 3", "Source Sans Pro", "Helvetica Neue", Arial, sans-serif'
FONT_SIZE = 15  # body of charts: ticks, legend, hover
TITLE_SIZE = 18
SMALL_SIZE = 13  # annotations; never smaller


@dataclass(frozen=True)
class SeriesStyle:
    """How one group is drawn, the same in every chart."""

    color: str
    symbol: str
    dash: str
    pattern: str = ""  # bar hatching: a second, colour-free cue

    def hollow_symbol(self) -> str:
        """The open variant of the symbol, used for unstable or withheld points."""
        return self.symbol + "-open"


GROUP_STYLES: dict[str, SeriesStyle] = {
    "lead": SeriesStyle(BLUE, "circle", "solid", ""),
    "comparison": SeriesStyle(VERMILLION, "square", "dash", "/"),
}

RACE_STYLES: dict[str, SeriesStyle] = {
    "aian": SeriesStyle(ORANGE_DARK, "triangle-up", "dashdot"),
    "asian": SeriesStyle(REDDISH_PURPLE, "diamond", "dot"),
    "black": SeriesStyle(BLUE, "circle", "solid"),
    "hispanic_latino": SeriesStyle(BLUISH_GREEN, "square", "dash"),
    "mena": SeriesStyle(WINE, "star", "longdash"),
    "nhpi": SeriesStyle(SKY_BLUE_DARK, "triangle-down", "longdashdot"),
    "white": SeriesStyle(VERMILLION, "hexagon", "8px,3px,2px,3px,2px,3px"),
    "multiracial": SeriesStyle(BLACK, "cross", "2px,6px"),
    "unknown": SeriesStyle(GREY, "x", "12px,4px"),
}


def _labelled(styles: dict[str, SeriesStyle], column: str) -> dict[str, SeriesStyle]:
    from data_access.vocabulary import label

    return {label(column, code): style for code, style in styles.items()}


# Charts may receive either codes ("black") or their labels ("Black or African
# American"); both map to the same style so a group keeps its look.
FIXED_STYLES: dict[str, SeriesStyle] = {
    **GROUP_STYLES,
    **RACE_STYLES,
    **_labelled(GROUP_STYLES, "group"),
    **_labelled(RACE_STYLES, "race_ethnicity"),
    "LEAD": GROUP_STYLES["lead"],
    "Comparison": GROUP_STYLES["comparison"],
}


def series_styles(names: list[str]) -> dict[str, SeriesStyle]:
    """A style for each series name: the fixed one where it exists, else the next free one."""
    styles: dict[str, SeriesStyle] = {}
    used_colors = {FIXED_STYLES[n].color for n in names if n in FIXED_STYLES}
    free = [c for c in CATEGORICAL if c not in used_colors] or list(CATEGORICAL)
    position = 0
    for name in names:
        if name in FIXED_STYLES:
            styles[name] = FIXED_STYLES[name]
            continue
        styles[name] = SeriesStyle(
            free[position % len(free)],
            SYMBOLS[position % len(SYMBOLS)],
            DASHES[position % len(DASHES)],
        )
        position += 1
    return styles


def rgba(hex_color: str, alpha: float) -> str:
    """A hex colour as an rgba() string, for translucent bands."""
    red, green, blue = (int(hex_color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def _axis() -> dict:
    return {
        "showgrid": True,
        "gridcolor": GRID,
        "zeroline": False,
        "showline": True,
        "linecolor": AXIS_LINE,
        "ticks": "outside",
        "tickcolor": AXIS_LINE,
        "tickfont": {"size": FONT_SIZE, "color": TEXT},
        "title": {"font": {"size": FONT_SIZE, "color": TEXT}, "standoff": 8},
        "automargin": True,
    }


def build_template() -> go.layout.Template:
    """The plotly template; deliberately small, since it travels with every figure."""
    return go.layout.Template(
        layout={
            "font": {"family": FONT_FAMILY, "size": FONT_SIZE, "color": TEXT},
            "title": {"font": {"size": TITLE_SIZE, "color": TEXT}, "x": 0, "xanchor": "left"},
            "paper_bgcolor": BACKGROUND,
            "plot_bgcolor": BACKGROUND,
            "colorway": list(CATEGORICAL),
            "xaxis": _axis(),
            "yaxis": _axis(),
            # Below the plot, in the figure's own space, so it never covers data or notes.
            "legend": {
                "orientation": "h",
                "yref": "container",
                "yanchor": "bottom",
                "y": 0,
                "xanchor": "left",
                "x": 0,
                "font": {"size": FONT_SIZE, "color": TEXT},
                "title": {"text": ""},
            },
            "hoverlabel": {
                "bgcolor": BACKGROUND,
                "bordercolor": TEXT,
                "font": {"family": FONT_FAMILY, "size": FONT_SIZE, "color": TEXT},
                "align": "left",
            },
            "hovermode": "closest",
            "margin": {"l": 8, "r": 24, "t": 36, "b": 8},
            "separators": ".,",
        },
        data={
            "scatter": [
                go.Scatter(marker={"size": 9, "line": {"width": 1.5}}, line={"width": 2.5})
            ],
            "bar": [go.Bar(marker={"line": {"width": 1, "color": TEXT}})],
        },
    )


# Built once per process: building (validating) a Template took a few per cent of every
# figure. Figures are given this object; treat it as read-only.
TEMPLATE: go.layout.Template = build_template()


def register_template() -> None:
    """Register "lead" with plotly and make it the default; safe to call more than once."""
    pio.templates[TEMPLATE_NAME] = TEMPLATE
    pio.templates.default = TEMPLATE_NAME


# Streamlit chart config: a trimmed modebar, no plotly logo, PNG export at print size.
PLOTLY_CONFIG: dict = {
    "displaylogo": False,
    # The mode bar adds seven Tab stops per chart for zoom and pan that need a mouse
    # anyway; the table view beside every chart is the keyboard's way to the numbers.
    "displayModeBar": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

register_template()
