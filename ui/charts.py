"""Figure builders: a tidy polars frame in, a Chart (figure, alt text, table) out.

Pure functions, no streamlit. They receive frames that have already been
through disclosure control, where a withheld value is null and a companion
column holds the reason ("fewer than k"). A builder never fills a withheld
value: it draws a marked placeholder, puts the reason in the hover and in the
table, and counts it in the alt text. Hover and bar text come from preformatted
strings (hovertemplate "%{hovertext}"), so no raw number of a withheld cell
could ever reach the browser, and every label from the data is HTML-escaped
because plotly reads tags such as <a href> in text.

Conventions for the input columns:
- counts: `value` (null when withheld) and `<value>_flag` (the reason, or null);
- estimates: `estimate`, `ci_low`, `ci_high` and `flag`; a null estimate is
  withheld with the flag as its reason, a shown estimate whose flag is set is
  drawn as unstable (hollow marker) with the flag in its hover.

Every trace carries meta {"unit": ..., "role": ...}: role "value" for plotted
numbers, "withheld" for placeholders, "band"/"average" for derived lines, so a
test can find exactly the arrays that hold counts.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

# pandas is imported here, before any chart is built, because plotly does not import
# it: its validators look pandas up in sys.modules. On a freshly started server, two
# first visitors at once had one session still importing pandas while the other's
# chart met the half-made module ("partially initialized module 'pandas' has no
# attribute 'Series'"). An import statement waits until the import is complete.
import pandas  # noqa: F401
import plotly.graph_objects as go
import polars as pl

from data_access.vocabulary import label as vocabulary_label
from ui import theme
from ui.text import (
    format_interval,
    format_value,
    join_words,
    month_start,
    period_code,
    period_label,
    plot_text,
    plural,
    table_value,
    unit_suffix,
)

NOT_AVAILABLE = "not available"
HOVER = "%{hovertext}<extra></extra>"
PLACEHOLDER_SYMBOL = "square-x-open"
CHART_HEIGHT = 420


@dataclass(frozen=True)
class Chart:
    """What a chart card shows: the figure, its text alternative and its data table.

    A Chart from a builder may be shared (see _memoized): read it, never change it
    in place; derive a new figure, alt or table instead.
    """

    figure: go.Figure
    alt: str
    table: pl.DataFrame


# ---------------------------------------------------------------- memo of finished charts

MEMO_SIZE = 256  # charts: every chart of every selection a server shows in a while


class Memo:
    """A bounded, thread-safe LRU map (a server runs a thread per session, for weeks)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: Hashable, item: object) -> None:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


_LOCAL_MEMO = Memo(MEMO_SIZE)
_memo_source: Callable[[], Memo] = lambda: _LOCAL_MEMO  # noqa: E731


def keep_charts_in(source: Callable[[], Memo]) -> None:
    """Where builders keep finished charts: ui.components hands them a Streamlit resource,
    so that st.cache_resource.clear() forgets them with every other cache."""
    global _memo_source
    _memo_source = source


def content_key(frame: object) -> Hashable | None:
    """The frame's schema and every row, or None when they cannot be a key (nested cells).

    Equal keys mean equal frames (a float -0.0 and 0.0 aside, which print alike), so
    a memo keyed by content can never answer for other data, whichever view result or
    session the frame came from. For the few-row frames of a page it costs microseconds.
    """
    if not isinstance(frame, pl.DataFrame):
        return None
    key = (tuple(frame.schema.items()), tuple(frame.rows()))
    try:
        hash(key)
    except TypeError:  # list or struct cells
        return None
    return key


def _memoized(builder: Callable[..., Chart]) -> Callable[..., Chart]:
    """The builder, answering from the memo when it has seen equal input before.

    Building a figure walks plotly's validators for every property, and was most of a
    warm page run although a rerun builds exactly the figures it built before. A
    builder is a pure function of the frame and the options, so equal input may share
    the finished Chart.
    """

    @functools.wraps(builder)
    def build(frame: pl.DataFrame, **options: object) -> Chart:
        content = content_key(frame)
        key: Hashable | None = None
        if content is not None:
            key = (builder.__name__, content, tuple(sorted(options.items())))
            try:
                hash(key)
            except TypeError:  # an option given as a list or a dict
                key = None
        memo = _memo_source()
        if key is not None and isinstance(chart := memo.get(key), Chart):
            return chart
        chart = builder(frame, **options)
        if key is not None:
            memo.put(key, chart)
        return chart

    return build


# ---------------------------------------------------------------- shared helpers


def _require(frame: pl.DataFrame, columns: Sequence[str | None], builder: str) -> None:
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"{builder}: expected a polars DataFrame, got {type(frame).__name__}")
    wanted = [c for c in columns if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{builder}: the frame has no column {join_words(repr(m) for m in missing)}; "
            f"it has {', '.join(frame.columns) or 'no columns'}"
        )


def _flag_column(frame: pl.DataFrame, value: str, flag: str | None) -> str | None:
    """The reason column: as given, else `<value>_flag` when the frame has one."""
    if flag is not None:
        return flag
    return f"{value}_flag" if f"{value}_flag" in frame.columns else None


def _reasons(frame: pl.DataFrame, flag: str | None) -> list[str | None]:
    if flag is None:
        return [None] * frame.height
    return [None if r is None or str(r).strip() == "" else str(r) for r in frame[flag]]


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _labels(frame: pl.DataFrame, column: str) -> list[str]:
    """The column's values as text, codes of a known vocabulary replaced by their labels."""
    return [vocabulary_label(column, str(v)) for v in frame[column]]


def _first_letter_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _numbers(frame: pl.DataFrame, column: str | None) -> list[float | None]:
    if column is None:
        return [None] * frame.height
    return [_number(v) for v in frame[column]]


def _withheld_summary(reasons: list[str], noun: str) -> str:
    """ "2 months withheld (fewer than k)" for the alt text; "" when none."""
    if not reasons:
        return ""
    distinct = list(dict.fromkeys(reasons))
    return f"{plural(len(reasons), noun)} withheld ({'; '.join(distinct)})"


def _sentence(*parts: str) -> str:
    return " ".join(p.rstrip(".") + "." for p in parts if p)


class _Draft:
    """A figure under construction: its traces and one layout dict, made a go.Figure once.

    Each update_layout or update_*axes call on a go.Figure walks plotly's validators
    (and naming the template by name deep-copies it); collecting the layout first
    and validating it once at the end gives the same figure for a fraction of that.
    """

    def __init__(self) -> None:
        self.traces: list[go.Scatter | go.Bar] = []
        self.layout: dict = {}

    def add_trace(self, trace: go.Scatter | go.Bar) -> None:
        self.traces.append(trace)

    def set(self, **properties: object) -> None:
        """Top-level layout properties; None leaves one unset, as update_layout does."""
        self.layout.update({k: v for k, v in properties.items() if v is not None})

    def xaxis(self, **properties: object) -> None:
        self.layout.setdefault("xaxis", {}).update(properties)

    def yaxis(self, **properties: object) -> None:
        self.layout.setdefault("yaxis", {}).update(properties)

    def add_shape(self, **shape: object) -> None:
        self.layout.setdefault("shapes", []).append(shape)

    def add_annotation(self, **annotation: object) -> None:
        self.layout.setdefault("annotations", []).append(annotation)

    def figure(self) -> go.Figure:
        """The go.Figure; the legend sits below the plot, so the height grows with it."""
        rows = _legend_rows(self.traces, self.layout)
        if rows:
            self.layout["height"] += 26 * rows
        return go.Figure(data=self.traces, layout=self.layout)


def _legend_entry(figure: _Draft, name: str, symbol: str, color: str) -> None:
    """A legend-only key, for an encoding (such as hollow = unstable) shared by several traces."""
    figure.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            name=name,
            marker={"symbol": symbol, "size": 12, "color": color, "line": {"width": 2}},
            hoverinfo="skip",
            meta={"role": "legend"},
            legendrank=1000,
        )
    )


def _legend_rows(traces: list[go.Scatter | go.Bar], layout: dict) -> int:
    if layout.get("showlegend") is False:
        return 0
    names = {t.name for t in traces if t.showlegend is not False and t.name}
    return math.ceil(len(names) / 2)


def _base_layout(figure: _Draft, *, x_title: str, y_title: str, height: int) -> None:
    """Titles and the template (one object for the process, see ui.theme)."""
    figure.set(template=theme.TEMPLATE, height=height, showlegend=True)
    figure.xaxis(title={"text": plot_text(x_title)})
    figure.yaxis(title={"text": plot_text(y_title)})


# What an empty chart says. Pages say why there is nothing instead of drawing one; the page
# sweep (tests/test_page_sweep.py) looks for this text.
NO_DATA_TEXT = "No data for this selection"


def _empty(subject: str, columns: list[str]) -> Chart:
    figure = _Draft()
    figure.set(template=theme.TEMPLATE, height=200)
    figure.xaxis(visible=False)
    figure.yaxis(visible=False)
    figure.add_annotation(
        text=NO_DATA_TEXT,
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": theme.FONT_SIZE, "color": theme.MUTED_TEXT},
    )
    table = pl.DataFrame({c: [] for c in columns}, schema=dict.fromkeys(columns, pl.String))
    return Chart(figure.figure(), f"No data for {subject} in this selection.", table)


def _chart(figure: _Draft, alt: str, table: pl.DataFrame) -> Chart:
    """The finished Chart, its figure validated once."""
    return Chart(figure.figure(), alt, table)


def _axis_format(unit: str) -> dict:
    if unit == "proportion":
        return {"tickformat": ".0%", "rangemode": "tozero"}
    if unit == "percent":
        return {"ticksuffix": "%", "rangemode": "tozero"}
    if unit == "dollars":
        return {"tickprefix": "$", "tickformat": ",.0f"}
    if unit == "count":
        return {"tickformat": ",d", "rangemode": "tozero"}
    return {}


# ---------------------------------------------------------------- trend line


@_memoized
def trend_chart(
    frame: pl.DataFrame,
    *,
    period: str = "month",
    value: str = "count",
    flag: str | None = None,
    series: str | None = None,
    subject: str = "counts",
    value_label: str = "Count",
    period_label_text: str = "Month",
    series_label: str = "Group",
    unit: str = "count",
    rolling_window: int | None = None,
    height: int = CHART_HEIGHT,
) -> Chart:
    """Counts over periods, one line per series; withheld points as hollow markers on the axis.

    `rolling_window` adds an average over that many rows of each series (one row
    per period, none skipped), computed from the shown values only and left
    empty wherever the window holds a withheld value.
    """
    _require(frame, [period, value, flag, series], "trend_chart")
    flag = _flag_column(frame, value, flag)
    columns = [
        period_label_text,
        *([series_label] if series else []),
        value_label + unit_suffix(unit),
    ]
    if rolling_window:
        average_name = f"{rolling_window}-{period_label_text.lower()} average"
        columns.append(average_name + unit_suffix(unit))
    if frame.is_empty():
        return _empty(subject, columns)
    data = frame.sort(period, maintain_order=True)
    if rolling_window:
        over = [series] if series else None
        average = pl.col(value).rolling_mean(rolling_window, min_samples=rolling_window)
        data = data.with_columns((average.over(over) if over else average).alias("__average"))
    if series:
        data = data.with_columns(pl.Series(series, _labels(data, series), dtype=pl.String))
    names = list(dict.fromkeys(data[series])) if series else [value_label]
    styles = theme.series_styles(names)
    figure = _Draft()
    table_rows: list[list[str]] = []
    shown_points: list[tuple[float, str, str]] = []
    withheld_reasons: list[str] = []
    for name in names:
        part = data.filter(pl.col(series) == name) if series else data
        style = styles[name]
        periods = list(part[period])
        xs = [month_start(p) or period_label(p) for p in periods]
        values = _numbers(part, value)
        reasons = _reasons(part, flag)
        shown_text = [
            format_value(v, unit) if v is not None else (r or NOT_AVAILABLE)
            for v, r in zip(values, reasons, strict=True)
        ]
        prefix = f"{plot_text(name)} · " if series else ""
        hover = [
            f"{prefix}{period_label(p)}: {plot_text(t)}"
            for p, t in zip(periods, shown_text, strict=True)
        ]
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=values,
                mode="lines+markers",
                name=plot_text(name),
                line={"color": style.color, "dash": style.dash},
                marker={"color": style.color, "symbol": style.symbol},
                hovertext=hover,
                hovertemplate=HOVER,
                connectgaps=False,
                meta={"unit": unit, "role": "value"},
                legendgroup=name,
            )
        )
        gaps = [i for i, v in enumerate(values) if v is None]
        if gaps:
            figure.add_trace(
                go.Scatter(
                    x=[xs[i] for i in gaps],
                    y=[0] * len(gaps),
                    mode="markers",
                    name=plot_text(f"{name}: withheld (hollow, on the axis)"),
                    marker={
                        "color": style.color,
                        "symbol": style.hollow_symbol(),
                        "size": 11,
                        "line": {"width": 2},
                    },
                    hovertext=[hover[i] for i in gaps],
                    hovertemplate=HOVER,
                    cliponaxis=False,
                    meta={"unit": unit, "role": "withheld"},
                    legendrank=1000,
                    legendgroup=name,
                )
            )
        averages = _numbers(part, "__average") if rolling_window else [None] * part.height
        if rolling_window:
            figure.add_trace(
                go.Scatter(
                    x=xs,
                    y=averages,
                    mode="lines",
                    name=plot_text(f"{name}: {average_name}"),
                    line={"color": style.color, "dash": "dot", "width": 1.5},
                    hovertext=[
                        f"{prefix}{period_label(p)}: {average_name} "
                        + (format_value(a, unit) if a is not None else NOT_AVAILABLE)
                        for p, a in zip(periods, averages, strict=True)
                    ],
                    hovertemplate=HOVER,
                    meta={"unit": unit, "role": "average"},
                    legendgroup=name,
                )
            )
        for p, v, r, a in zip(periods, values, reasons, averages, strict=True):
            cell = table_value(v, unit) if v is not None else (r or NOT_AVAILABLE)
            row = [period_code(p), *([name] if series else []), cell]
            if rolling_window:
                row.append(table_value(a, unit) if a is not None else "")
            table_rows.append(row)
            if v is None:
                withheld_reasons.append(r or NOT_AVAILABLE)
            else:
                shown_points.append((v, period_label(p), name))
    _base_layout(figure, x_title=period_label_text, y_title=value_label, height=height)
    figure.yaxis(**_axis_format(unit))
    figure.set(showlegend=bool(series) or bool(withheld_reasons) or bool(rolling_window))
    all_periods = data[period].unique(maintain_order=True).sort()
    if month_start(all_periods[0]) is None:
        # Quarters, years or other labels: keep them in time order, not first-seen order.
        order = [period_label(p) for p in all_periods]
        figure.xaxis(type="category", categoryorder="array", categoryarray=order)
    else:
        figure.xaxis(type="date", tickformat="%b %Y", hoverformat="%B %Y")
    alt = _trend_alt(
        subject, all_periods, shown_points, withheld_reasons, unit, series_label if series else ""
    )
    table = pl.DataFrame(table_rows, schema=dict.fromkeys(columns, pl.String), orient="row")
    return _chart(figure, alt, table)


def _trend_alt(
    subject: str,
    periods: pl.Series,
    shown: list[tuple[float, str, str]],
    withheld: list[str],
    unit: str,
    series_label: str,
) -> str:
    by = f" by {series_label.lower()}" if series_label else ""
    span = f"{period_label(periods[0])} to {period_label(periods[-1])}"
    parts = [f"Line chart of {subject}{by}, {span}"]
    if shown:
        high = max(shown, key=lambda s: s[0])
        low = min(shown, key=lambda s: s[0])
        who = (lambda s: f" ({s[2]})") if series_label else (lambda s: "")
        parts.append(f"highest {format_value(high[0], unit)} in {high[1]}{who(high)}")
        parts.append(f"lowest {format_value(low[0], unit)} in {low[1]}{who(low)}")
    else:
        parts.append("no value can be shown")
    summary = "; ".join(parts)
    return _sentence(summary, _withheld_summary(withheld, "point" if series_label else "period"))


# ---------------------------------------------------------------- counts by category


def _category_bars(
    frame: pl.DataFrame,
    *,
    category: str,
    value: str,
    flag: str | None,
    unit: str,
    value_label: str,
    category_label: str,
    horizontal: bool,
    extra_text: list[str] | None,
    height: int,
) -> tuple[_Draft, list[tuple[str, float | None, str | None]]]:
    """Bars for shown values and a marked placeholder on the axis for withheld ones."""
    labels = _labels(frame, category)
    values = _numbers(frame, value)
    reasons = _reasons(frame, flag)
    texts = [
        (format_value(v, unit) if v is not None else (r or NOT_AVAILABLE))
        for v, r in zip(values, reasons, strict=True)
    ]
    if extra_text:
        texts = [f"{t} {e}".strip() for t, e in zip(texts, extra_text, strict=True)]
    safe_labels = [plot_text(label) for label in labels]
    hover = [f"{s}: {plot_text(t)}" for s, t in zip(safe_labels, texts, strict=True)]
    shown = [i for i, v in enumerate(values) if v is not None]
    gaps = [i for i, v in enumerate(values) if v is None]
    figure = _Draft()

    def pick(seq: list, idx: list[int]) -> list:
        return [seq[i] for i in idx]

    positions = {"y": pick(safe_labels, shown), "x": pick(values, shown)}
    if not horizontal:
        positions = {"x": positions["y"], "y": positions["x"]}
    figure.add_trace(
        go.Bar(
            **positions,
            orientation="h" if horizontal else "v",
            name=plot_text(value_label),
            marker={"color": theme.BLUE},
            text=[plot_text(t) for t in pick(texts, shown)],
            textposition="outside",
            cliponaxis=False,
            hovertext=pick(hover, shown),
            hovertemplate=HOVER,
            meta={"unit": unit, "role": "value"},
        )
    )
    if gaps:
        at_axis = {"y": pick(safe_labels, gaps), "x": [0] * len(gaps)}
        if not horizontal:
            at_axis = {"x": at_axis["y"], "y": at_axis["x"]}
        figure.add_trace(
            go.Scatter(
                **at_axis,
                mode="markers+text",
                name="Withheld (marked on the axis)",
                marker={"symbol": PLACEHOLDER_SYMBOL, "size": 14, "color": theme.WITHHELD},
                text=[plot_text(t) for t in pick(texts, gaps)],
                textposition="middle right" if horizontal else "top center",
                textfont={"color": theme.MUTED_TEXT, "size": theme.SMALL_SIZE},
                cliponaxis=False,
                hovertext=pick(hover, gaps),
                hovertemplate=HOVER,
                meta={"unit": unit, "role": "withheld"},
                legendrank=1000,
            )
        )
    x_title, y_title = (
        (value_label, category_label) if horizontal else (category_label, value_label)
    )
    _base_layout(figure, x_title=x_title, y_title=y_title, height=height)
    value_axis = figure.xaxis if horizontal else figure.yaxis
    category_axis = figure.yaxis if horizontal else figure.xaxis
    value_axis(**_axis_format(unit))
    visible = [v for v in values if v is not None]
    if visible and min(visible) >= 0:
        # Room for the value printed past the end of the longest bar.
        headroom = (1.35 if extra_text else 1.18) if horizontal else 1.1
        value_axis(range=[0, max(visible) * headroom or 1])
    category_axis(type="category", categoryorder="array", categoryarray=safe_labels, showgrid=False)
    if horizontal:
        # ticklabelstandoff keeps a placeholder on the axis clear of its label.
        figure.yaxis(autorange="reversed", ticklabelstandoff=8)
    figure.set(showlegend=bool(gaps))
    return figure, list(zip(labels, values, reasons, strict=True))


def _bars_alt(kind: str, subject: str, rows: list, unit: str, noun: str) -> str:
    shown = [(label, v) for label, v, _ in rows if v is not None]
    withheld = [r or NOT_AVAILABLE for _, v, r in rows if v is None]
    parts = [f"{kind} of {subject}, {plural(len(rows), noun)}"]
    if shown:
        high = max(shown, key=lambda s: s[1])
        low = min(shown, key=lambda s: s[1])
        parts.append(f"highest {high[0]} with {format_value(high[1], unit)}")
        if len(shown) > 1:
            parts.append(f"lowest {low[0]} with {format_value(low[1], unit)}")
    summary = "; ".join(parts)
    return _sentence(summary, _withheld_summary(withheld, noun))


def _count_table(rows: list, unit: str, category_label: str, value_label: str) -> pl.DataFrame:
    value_column = value_label + unit_suffix(unit)
    return pl.DataFrame(
        {
            category_label: [label for label, _, _ in rows],
            value_column: [
                table_value(v, unit) if v is not None else (r or NOT_AVAILABLE) for _, v, r in rows
            ],
        },
        schema={category_label: pl.String, value_column: pl.String},
    )


@_memoized
def bar_chart(
    frame: pl.DataFrame,
    *,
    category: str,
    value: str = "count",
    flag: str | None = None,
    subject: str = "counts",
    value_label: str = "Count",
    category_label: str = "Category",
    unit: str = "count",
    horizontal: bool | None = None,
    sort_by_value: bool = False,
    height: int | None = None,
) -> Chart:
    """Counts by category; horizontal when labels are long or many. Withheld: marked on the axis."""
    _require(frame, [category, value, flag], "bar_chart")
    flag = _flag_column(frame, value, flag)
    if frame.is_empty():
        return _empty(subject, [category_label, value_label + unit_suffix(unit)])
    data = frame.sort(value, descending=True, nulls_last=True) if sort_by_value else frame
    if horizontal is None:
        longest = max(len(str(c)) for c in data[category])
        horizontal = longest > 12 or data.height > 6
    if height is None:
        height = max(260, 60 + 36 * data.height) if horizontal else CHART_HEIGHT
    figure, rows = _category_bars(
        data,
        category=category,
        value=value,
        flag=flag,
        unit=unit,
        value_label=value_label,
        category_label=category_label,
        horizontal=horizontal,
        extra_text=None,
        height=height,
    )
    alt = _bars_alt("Bar chart", subject, rows, unit, category_label.lower())
    return _chart(figure, alt, _count_table(rows, unit, category_label, value_label))


@_memoized
def funnel_chart(
    frame: pl.DataFrame,
    *,
    stage: str,
    value: str = "count",
    flag: str | None = None,
    share: str | None = None,
    share_flag: str | None = None,
    subject: str = "the screening stages",
    value_label: str = "People",
    stage_label: str = "Stage",
    share_label: str = "Share of the first stage",
) -> Chart:
    """Stage counts top to bottom in the given order, with an optional protected share per stage.

    The share is read from the frame (the data layer computes and protects it);
    the funnel never derives one, since a share can reveal a withheld count.
    """
    _require(frame, [stage, value, flag, share, share_flag], "funnel_chart")
    flag = _flag_column(frame, value, flag)
    share_flag = _flag_column(frame, share, share_flag) if share else None
    columns = [stage_label, value_label] + ([share_label + " (%)"] if share else [])
    if frame.is_empty():
        return _empty(subject, columns)
    shares = _numbers(frame, share)
    share_reasons = _reasons(frame, share_flag)
    extra = None
    if share:
        extra = [f"({format_value(s, 'proportion')})" if s is not None else "" for s in shares]
    figure, rows = _category_bars(
        frame,
        category=stage,
        value=value,
        flag=flag,
        unit="count",
        value_label=value_label,
        category_label=stage_label,
        horizontal=True,
        extra_text=extra,
        height=max(260, 60 + 44 * frame.height),
    )
    figure.yaxis(title={"text": ""})
    table = _count_table(rows, "count", stage_label, value_label)
    if share:
        table = table.with_columns(
            pl.Series(
                share_label + " (%)",
                [
                    table_value(s, "proportion") if s is not None else (r or NOT_AVAILABLE)
                    for s, r in zip(shares, share_reasons, strict=True)
                ],
                dtype=pl.String,
            )
        )
    stages = [
        f"{label} {format_value(v, 'count') if v is not None else (r or NOT_AVAILABLE)}"
        for label, v, r in rows
    ]
    alt = _sentence(f"Funnel of {subject}, from first to last stage: {join_words(stages)}")
    return _chart(figure, alt, table)


# ---------------------------------------------------------------- estimates with intervals


@dataclass(frozen=True)
class _Estimate:
    label: str
    series: str
    estimate: float | None
    low: float | None
    high: float | None
    reason: str | None

    @property
    def withheld(self) -> bool:
        return self.estimate is None

    @property
    def unstable(self) -> bool:
        return self.estimate is not None and self.reason is not None

    def text(self, unit: str, with_reason: bool = True) -> str:
        if self.estimate is None:
            return self.reason or NOT_AVAILABLE
        words = format_value(self.estimate, unit)
        interval = format_interval(self.low, self.high, unit)
        words += f" ({interval})" if interval else ""
        return words + (f"; {self.reason}" if self.reason and with_reason else "")

    def cells(self, unit: str) -> list[str]:
        if self.estimate is None:
            return [self.reason or NOT_AVAILABLE, "", ""]
        return [
            table_value(self.estimate, unit),
            table_value(self.low, unit) if self.low is not None else "",
            table_value(self.high, unit) if self.high is not None else "",
        ]


def _estimate_columns(
    frame: pl.DataFrame, estimate: str, flag: str | None, reliability: str | None
) -> tuple[str | None, str | None]:
    """The reason and reliability columns: as given, else as disclosure control names them.

    data_access.disclosure writes `<estimate>_flag` (the reason, "" when shown) and
    `<estimate>_reliability` (the unstable note, "" when stable); a plain `flag`
    column is accepted too.
    """
    if flag is None:
        flag = next((c for c in (f"{estimate}_flag", "flag") if c in frame.columns), None)
    if reliability is None and f"{estimate}_reliability" in frame.columns:
        reliability = f"{estimate}_reliability"
    return flag, reliability


def _estimates(
    frame: pl.DataFrame,
    category: str,
    series: str | None,
    estimate: str,
    ci_low: str | None,
    ci_high: str | None,
    flag: str | None,
    reliability: str | None = None,
) -> list[_Estimate]:
    """One point per row; a shown estimate's reason is its reliability note (or flag)."""
    return [
        _Estimate(c, s, e, lo, hi, r if e is None else (note or r))
        for c, s, e, lo, hi, r, note in zip(
            _labels(frame, category),
            _labels(frame, series) if series else [""] * frame.height,
            _numbers(frame, estimate),
            _numbers(frame, ci_low),
            _numbers(frame, ci_high),
            _reasons(frame, flag),
            _reasons(frame, reliability),
            strict=True,
        )
    ]


def _whiskers(points: list[_Estimate]) -> dict:
    """error_x/error_y arrays from the interval; no whisker where there is none."""
    plus = [p.high - p.estimate if p.high is not None else None for p in points]
    minus = [p.estimate - p.low if p.low is not None else None for p in points]
    return {
        "type": "data",
        "symmetric": False,
        "array": plus,
        "arrayminus": minus,
        "thickness": 2,
        "width": 6,
    }


def _estimate_table(
    points: list[_Estimate], unit: str, labels: tuple[str, str | None], value_label: str
) -> pl.DataFrame:
    category_label, series_label = labels
    suffix = unit_suffix(unit)
    columns = [category_label, *([series_label] if series_label else [])]
    columns += [value_label + suffix, "95% CI low" + suffix, "95% CI high" + suffix, "Note"]
    rows = [
        [p.label, *([p.series] if series_label else []), *p.cells(unit), p.reason or ""]
        for p in points
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def _estimates_alt(
    kind: str, subject: str, points: list[_Estimate], unit: str, *, intervals: bool = True
) -> str:
    shown = [p for p in points if not p.withheld]
    parts = [f"{kind} of {subject}" + (" with 95% confidence intervals" if intervals else "")]

    def name(p: _Estimate) -> str:
        return f"{p.label} ({p.series})" if p.series else p.label

    if shown:
        high = max(shown, key=lambda p: p.estimate)
        low = min(shown, key=lambda p: p.estimate)
        parts.append(f"highest {name(high)} at {high.text(unit, with_reason=False)}")
        if len(shown) > 1:
            parts.append(f"lowest {name(low)} at {low.text(unit, with_reason=False)}")
    unstable = [name(p) for p in shown if p.unstable]
    withheld = [f"{name(p)} ({p.reason or NOT_AVAILABLE})" for p in points if p.withheld]
    return _sentence(
        "; ".join(parts),
        f"Unstable, interpret with caution: {join_words(unstable)}" if unstable else "",
        f"Withheld: {join_words(withheld)}" if withheld else "",
    )


@_memoized
def estimate_chart(
    frame: pl.DataFrame,
    *,
    category: str,
    estimate: str = "estimate",
    ci_low: str | None = "ci_low",
    ci_high: str | None = "ci_high",
    flag: str | None = None,
    reliability: str | None = None,
    series: str | None = None,
    subject: str = "the estimates",
    value_label: str = "Estimate",
    category_label: str = "Group",
    series_label: str = "Series",
    unit: str = "proportion",
    height: int | None = None,
) -> Chart:
    """Dots with 95% CI whiskers per category (and series); unstable hollow, withheld labelled."""
    _require(
        frame, [category, estimate, ci_low, ci_high, flag, reliability, series], "estimate_chart"
    )
    flag, reliability = _estimate_columns(frame, estimate, flag, reliability)
    labels = (category_label, series_label if series else None)
    if frame.is_empty():
        return _empty(subject, _estimate_table([], unit, labels, value_label).columns)
    points = _estimates(frame, category, series, estimate, ci_low, ci_high, flag, reliability)
    categories = list(dict.fromkeys(p.label for p in points))
    names = list(dict.fromkeys(p.series for p in points))
    styles = theme.series_styles(names) if series else {"": theme.GROUP_STYLES["lead"]}
    figure = _Draft()
    for name in names:
        style = styles[name]
        group = [p for p in points if p.series == name and not p.withheld]
        if not group:
            continue
        figure.add_trace(
            go.Scatter(
                x=[p.estimate for p in group],
                y=[plot_text(p.label) for p in group],
                mode="markers",
                name=plot_text(name or value_label),
                marker={
                    "color": style.color,
                    "size": 12,
                    "symbol": [
                        style.hollow_symbol() if p.unstable else style.symbol for p in group
                    ],
                    "line": {"width": 2, "color": style.color},
                },
                error_x={**_whiskers(group), "color": style.color},
                hovertext=[_estimate_hover(p, unit) for p in group],
                hovertemplate=HOVER,
                offsetgroup=name or None,
                legendgroup=name,
                showlegend=bool(series),
                meta={"unit": unit, "role": "value"},
            )
        )
    if any(p.unstable for p in points):
        _legend_entry(figure, "Hollow: unstable estimate", "circle-open", theme.MUTED_TEXT)
    low_end = min(
        [0.0]
        + [p.low if p.low is not None else p.estimate for p in points if p.estimate is not None]
    )
    _add_withheld_labels(figure, [p for p in points if p.withheld], low_end, unit)
    _base_layout(
        figure,
        x_title=value_label,
        y_title=category_label,
        height=height or max(280, 80 + 40 * len(categories) * max(1, len(names) if series else 1)),
    )
    figure.xaxis(**_axis_format(unit))
    figure.yaxis(
        type="category",
        categoryorder="array",
        categoryarray=[plot_text(c) for c in categories],
        autorange="reversed",
    )
    figure.set(scattermode="group" if series else None)
    alt = _estimates_alt("Dot chart", subject, points, unit)
    return _chart(figure, alt, _estimate_table(points, unit, labels, value_label))


def _estimate_hover(point: _Estimate, unit: str) -> str:
    who = f"{point.label} · {point.series}" if point.series else point.label
    return plot_text(f"{who}: {point.text(unit)}")


def _add_withheld_labels(figure: _Draft, points: list[_Estimate], x: float, unit: str) -> None:
    """Withheld rows keep their place: a marked point at the axis end with its reason."""
    if not points:
        return
    figure.yaxis(ticklabelstandoff=8)
    figure.add_trace(
        go.Scatter(
            x=[x] * len(points),
            y=[plot_text(p.label) for p in points],
            mode="markers+text",
            name="Withheld (reason shown)",
            marker={"symbol": PLACEHOLDER_SYMBOL, "size": 14, "color": theme.WITHHELD},
            text=[plot_text(p.reason or NOT_AVAILABLE) for p in points],
            textposition="middle right",
            textfont={"color": theme.MUTED_TEXT, "size": theme.SMALL_SIZE},
            hovertext=[_estimate_hover(p, unit) for p in points],
            hovertemplate=HOVER,
            cliponaxis=False,
            meta={"unit": unit, "role": "withheld"},
            legendrank=1000,
        )
    )


# ---------------------------------------------------------------- forest plot (ratios, log x)

_LOG_TICKS = (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50)


@_memoized
def forest_plot(
    frame: pl.DataFrame,
    *,
    category: str,
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    flag: str | None = None,
    reliability: str | None = None,
    reference_label: str = "White",
    subject: str = "the relative rate index",
    value_label: str = "Relative rate index",
    category_label: str = "Group",
    height: int | None = None,
) -> Chart:
    """Ratios against a reference group on a log axis, with a labelled line at 1.

    A filled diamond marks an interval that excludes 1, a filled circle one that
    includes it, a hollow marker an unstable estimate; withheld or insufficient
    rows stay in the list with their reason instead of leaving a gap.
    """
    _require(frame, [category, estimate, ci_low, ci_high, flag, reliability], "forest_plot")
    flag, reliability = _estimate_columns(frame, estimate, flag, reliability)
    labels = (category_label, None)
    if frame.is_empty():
        return _empty(subject, [*_estimate_table([], "ratio", labels, value_label).columns])
    points = _estimates(frame, category, None, estimate, ci_low, ci_high, flag, reliability)
    _check_positive(points)
    shown = [p for p in points if not p.withheld]
    extent = [1.0] + [v for p in shown for v in (p.estimate, p.low, p.high) if v is not None]
    left, right = math.log10(min(extent) / 1.3), math.log10(max(extent) * 1.3)
    figure = _Draft()
    kinds = (
        ("Interval excludes 1", "diamond", theme.BLUE, lambda p: _excludes_one(p) is True),
        (
            "Interval includes 1",
            "circle",
            theme.MUTED_TEXT,
            lambda p: _excludes_one(p) is not True,
        ),
    )
    is_reference = [p for p in shown if p.label == reference_label]
    compared = [p for p in shown if p.label != reference_label]
    for kind, symbol, color, belongs in kinds:
        group = [p for p in compared if belongs(p)]
        if not group:
            continue
        figure.add_trace(
            go.Scatter(
                x=[p.estimate for p in group],
                y=[plot_text(p.label) for p in group],
                mode="markers",
                name=kind,
                marker={
                    "symbol": [symbol + ("-open" if p.unstable else "") for p in group],
                    "size": 13,
                    "color": color,
                    "line": {"width": 2, "color": color},
                },
                error_x={**_whiskers(group), "color": color},
                hovertext=[_forest_hover(p, reference_label) for p in group],
                hovertemplate=HOVER,
                meta={"unit": "ratio", "role": "value"},
            )
        )
    if is_reference:
        figure.add_trace(
            go.Scatter(
                x=[p.estimate for p in is_reference],
                y=[plot_text(p.label) for p in is_reference],
                mode="markers",
                name="Reference group",
                marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": theme.TEXT}},
                hovertext=[plot_text(f"{p.label}: reference group (= 1)") for p in is_reference],
                hovertemplate=HOVER,
                meta={"unit": "ratio", "role": "reference"},
            )
        )
    if any(p.unstable for p in compared):
        _legend_entry(figure, "Hollow: unstable estimate", "circle-open", theme.MUTED_TEXT)
    _add_withheld_labels(figure, [p for p in points if p.withheld], 10**left, "ratio")
    _add_reference_line(figure, reference_label)
    categories = list(dict.fromkeys(p.label for p in points))
    _base_layout(
        figure,
        x_title=f"{value_label} (log scale)",
        y_title=category_label,
        height=height or max(300, 110 + 44 * len(categories)),
    )
    ticks = [t for t in _LOG_TICKS if left <= math.log10(t) <= right]
    figure.xaxis(
        type="log", range=[left, right], tickvals=ticks, ticktext=[f"{t:g}" for t in ticks]
    )
    figure.yaxis(
        type="category",
        categoryorder="array",
        categoryarray=[plot_text(c) for c in categories],
        autorange="reversed",
    )
    table = _estimate_table(points, "ratio", labels, value_label)
    table = table.insert_column(
        4, pl.Series("Interval excludes 1", [_yes_no(_excludes_one(p)) for p in points])
    )
    return _chart(figure, _forest_alt(subject, points, reference_label), table)


def _check_positive(points: list[_Estimate]) -> None:
    for p in points:
        for name, v in (("estimate", p.estimate), ("ci_low", p.low), ("ci_high", p.high)):
            if v is not None and v <= 0:
                raise ValueError(
                    f"forest_plot: {name} of {p.label!r} is {v}; a ratio on a log axis "
                    "must be above 0 (withhold it with a reason instead)"
                )


def _excludes_one(point: _Estimate) -> bool | None:
    if point.withheld or point.low is None or point.high is None:
        return None
    return point.low > 1 or point.high < 1


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _forest_hover(point: _Estimate, reference_label: str) -> str:
    verdict = {True: "differs from", False: "cannot be told apart from", None: "compared with"}
    return plot_text(
        f"{point.label}: {point.text('ratio')}; {verdict[_excludes_one(point)]} "
        f"{reference_label} (= 1)"
    )


def _add_reference_line(figure: _Draft, reference_label: str) -> None:
    figure.add_shape(
        type="line",
        x0=1,
        x1=1,
        xref="x",
        y0=0,
        y1=1,
        yref="paper",
        line={"color": theme.TEXT, "width": 1.5, "dash": "dash"},
    )
    figure.add_annotation(
        x=0,  # log axes place annotations by log10(x): 0 is the line at 1
        xref="x",
        y=1,
        yref="paper",
        yanchor="bottom",
        text=plot_text(f"parity with {reference_label} = 1"),
        showarrow=False,
        font={"size": theme.SMALL_SIZE, "color": theme.TEXT},
    )


def _forest_alt(subject: str, points: list[_Estimate], reference_label: str) -> str:
    shown = [p for p in points if not p.withheld]
    head = (
        f"Forest plot of {subject}, each group against {reference_label} (= 1), "
        "with 95% confidence intervals on a log scale"
    )
    details = []
    if shown:
        high = max(shown, key=lambda p: p.estimate)
        low = min(shown, key=lambda p: p.estimate)
        details.append(f"highest {high.label} at {high.text('ratio', with_reason=False)}")
        if len(shown) > 1:
            details.append(f"lowest {low.label} at {low.text('ratio', with_reason=False)}")
    shown = [p for p in shown if p.label != reference_label]
    differ = [p.label for p in shown if _excludes_one(p)]
    verdict = (
        f"the intervals of {join_words(differ)} exclude 1"
        if differ
        else "no group's interval excludes 1"
    )
    unstable = [p.label for p in shown if p.unstable]
    withheld = [f"{p.label} ({p.reason or NOT_AVAILABLE})" for p in points if p.withheld]
    return _sentence(
        head,
        _first_letter_upper("; ".join(details)),
        _first_letter_upper(verdict) if shown else "",
        f"Unstable, interpret with caution: {join_words(unstable)}" if unstable else "",
        f"Withheld: {join_words(withheld)}" if withheld else "",
    )


# ---------------------------------------------------------------- LEAD against comparison


@_memoized
def group_comparison_chart(
    frame: pl.DataFrame,
    *,
    category: str,
    group: str = "group",
    estimate: str = "estimate",
    ci_low: str | None = "ci_low",
    ci_high: str | None = "ci_high",
    flag: str | None = None,
    reliability: str | None = None,
    subject: str = "LEAD participants against the comparison group",
    value_label: str = "Estimate",
    category_label: str = "Window",
    group_label: str = "Group",
    unit: str = "proportion",
    height: int = CHART_HEIGHT,
) -> Chart:
    """Grouped bars with 95% CI whiskers; the comparison group hatched, withheld bars marked.

    Without ci_low and ci_high (costs have no sampling interval) there are no
    whiskers, no interval words in the alt text and no interval columns.
    """
    _require(
        frame,
        [category, group, estimate, ci_low, ci_high, flag, reliability],
        "group_comparison_chart",
    )
    flag, reliability = _estimate_columns(frame, estimate, flag, reliability)
    labels = (category_label, group_label)
    intervals = ci_low is not None or ci_high is not None
    if frame.is_empty():
        columns = _estimate_table([], unit, labels, value_label).columns
        return _empty(subject, columns if intervals else _without_intervals(columns))
    points = _estimates(frame, category, group, estimate, ci_low, ci_high, flag, reliability)
    names = list(dict.fromkeys(p.series for p in points))
    styles = theme.series_styles(names)
    tallest = max([p.high or p.estimate or 0.0 for p in points if not p.withheld] + [0.0])
    stub = tallest * 0.03 or 0.03
    hidden_whiskers = {} if intervals else {"visible": False}
    figure = _Draft()
    for name in names:
        style = styles[name]
        shown = [p for p in points if p.series == name and not p.withheld]
        figure.add_trace(
            go.Bar(
                x=[plot_text(p.label) for p in shown],
                y=[p.estimate for p in shown],
                name=plot_text(name),
                offsetgroup=name,
                marker={
                    "color": style.color,
                    "opacity": [0.55 if p.unstable else 1.0 for p in shown],
                    "pattern": {
                        "shape": style.pattern,
                        "fillmode": "overlay",
                        "fgcolor": "#FFFFFF",
                        "solidity": 0.3,
                    },
                },
                error_y={**_whiskers(shown), "color": theme.TEXT, **hidden_whiskers},
                hovertext=[_estimate_hover(p, unit) for p in shown],
                hovertemplate=HOVER,
                legendgroup=name,
                meta={"unit": unit, "role": "value"},
            )
        )
        gaps = [p for p in points if p.series == name and p.withheld]
        if gaps:
            figure.add_trace(
                go.Bar(
                    x=[plot_text(p.label) for p in gaps],
                    y=[stub] * len(gaps),
                    name=plot_text(f"{name}: withheld (crossed placeholder)"),
                    offsetgroup=name,
                    marker={
                        "color": "#FFFFFF",
                        "line": {"color": theme.WITHHELD, "width": 1.5},
                        "pattern": {"shape": "x", "fgcolor": theme.WITHHELD, "solidity": 0.4},
                    },
                    text=[plot_text(p.reason or NOT_AVAILABLE) for p in gaps],
                    textposition="outside",
                    textfont={"color": theme.MUTED_TEXT, "size": theme.SMALL_SIZE},
                    cliponaxis=False,
                    **({} if intervals else {"error_y": hidden_whiskers}),
                    hovertext=[_estimate_hover(p, unit) for p in gaps],
                    hovertemplate=HOVER,
                    legendgroup=name,
                    meta={"unit": unit, "role": "withheld"},
                    legendrank=1000,
                )
            )
    _base_layout(figure, x_title=category_label, y_title=value_label, height=height)
    figure.yaxis(**_axis_format(unit))
    figure.xaxis(
        type="category",
        categoryorder="array",
        categoryarray=[plot_text(c) for c in dict.fromkeys(p.label for p in points)],
        showgrid=False,
    )
    figure.set(barmode="group", bargap=0.25, bargroupgap=0.08)
    alt = _estimates_alt("Grouped bar chart", subject, points, unit, intervals=intervals)
    table = _estimate_table(points, unit, labels, value_label)
    if not intervals:
        table = table.select(_without_intervals(table.columns))
    return _chart(figure, alt, table)


def _without_intervals(columns: list[str]) -> list[str]:
    return [c for c in columns if not c.startswith("95% CI")]


# ---------------------------------------------------------------- cumulative curve


@_memoized
def cumulative_curve(
    frame: pl.DataFrame,
    *,
    time: str = "month",
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    flag: str | None = None,
    reliability: str | None = None,
    group: str | None = "group",
    subject: str = "cumulative re-arrest",
    value_label: str = "Share re-arrested",
    time_label: str = "Months since entry",
    group_label: str = "Group",
    unit: str = "proportion",
    height: int = CHART_HEIGHT,
) -> Chart:
    """A step curve per group with its 95% band; withheld points hollow on the axis."""
    _require(frame, [time, estimate, ci_low, ci_high, flag, reliability, group], "cumulative_curve")
    flag, reliability = _estimate_columns(frame, estimate, flag, reliability)
    labels = (time_label, group_label if group else None)
    if frame.is_empty():
        return _empty(subject, _estimate_table([], unit, labels, value_label).columns)
    data = frame.sort(time, maintain_order=True)
    if group:
        order = {g: i for i, g in enumerate(dict.fromkeys(frame[group]))}
        data = data.sort(pl.col(group).replace_strict(order), maintain_order=True)
    points = _estimates(data, time, group, estimate, ci_low, ci_high, flag, reliability)
    times = [_number(t) for t in data[time]]
    names = list(dict.fromkeys(p.series for p in points))
    styles = theme.series_styles(names) if group else {"": theme.GROUP_STYLES["lead"]}
    figure = _Draft()
    for name in names:
        style = styles[name]
        mine = [(t, p) for t, p in zip(times, points, strict=True) if p.series == name]
        xs = [t for t, _ in mine]
        label = plot_text(name or value_label)
        for bound, fill in ((lambda p: p.high, None), (lambda p: p.low, "tonexty")):
            figure.add_trace(
                go.Scatter(
                    x=xs,
                    y=[bound(p) for _, p in mine],
                    mode="lines",
                    line={"width": 0, "shape": "hv", "color": style.color},
                    fill=fill,
                    fillcolor=theme.rgba(style.color, 0.18),
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                    meta={"unit": unit, "role": "band"},
                )
            )
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=[p.estimate for _, p in mine],
                mode="lines+markers",
                name=label,
                line={"color": style.color, "dash": style.dash, "shape": "hv"},
                marker={
                    "color": style.color,
                    "symbol": [
                        style.hollow_symbol() if p.unstable else style.symbol for _, p in mine
                    ],
                },
                hovertext=[_curve_hover(t, p, unit, time_label) for t, p in mine],
                hovertemplate=HOVER,
                legendgroup=name,
                meta={"unit": unit, "role": "value"},
            )
        )
        gaps = [(t, p) for t, p in mine if p.withheld]
        if gaps:
            figure.add_trace(
                go.Scatter(
                    x=[t for t, _ in gaps],
                    y=[0] * len(gaps),
                    mode="markers",
                    name=plot_text(f"{name or value_label}: withheld (hollow, on the axis)"),
                    marker={"color": style.color, "symbol": style.hollow_symbol(), "size": 11},
                    hovertext=[_curve_hover(t, p, unit, time_label) for t, p in gaps],
                    hovertemplate=HOVER,
                    cliponaxis=False,
                    legendgroup=name,
                    meta={"unit": unit, "role": "withheld"},
                    legendrank=1000,
                )
            )
    _base_layout(figure, x_title=time_label, y_title=value_label, height=height)
    figure.yaxis(**_axis_format(unit))
    figure.xaxis(rangemode="tozero")
    table = _estimate_table(points, unit, labels, value_label)
    table = table.with_columns(pl.Series(time_label, [_time_text(t) for t in times]))
    return _chart(figure, _curve_alt(subject, times, points, unit, time_label), table)


def _time_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _curve_hover(time: float | None, point: _Estimate, unit: str, time_label: str) -> str:
    who = f"{point.series} · " if point.series else ""
    return plot_text(f"{who}{time_label} {_time_text(time)}: {point.text(unit)}")


def _curve_alt(
    subject: str, times: list[float | None], points: list[_Estimate], unit: str, time_label: str
) -> str:
    names = list(dict.fromkeys(p.series for p in points))
    span = f"{_time_text(min(t for t in times if t is not None))} to "
    span += f"{_time_text(max(t for t in times if t is not None))}"
    head = f"Step chart of {subject} with 95% confidence bands, {time_label.lower()} {span}"
    finals = []
    for name in names:
        mine = [(t, p) for t, p in zip(times, points, strict=True) if p.series == name]
        last = [(t, p) for t, p in mine if not p.withheld]
        if last:
            t, p = last[-1]
            who = f"{name} " if name else ""
            finals.append(f"{who}{p.text(unit)} at {_time_text(t)}")
    withheld = [p.reason or NOT_AVAILABLE for p in points if p.withheld]
    return _sentence(
        head,
        f"Latest shown: {'; '.join(finals)}" if finals else "No value can be shown",
        _withheld_summary(withheld, "point"),
    )
