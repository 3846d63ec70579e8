"""What a briefing says: the Briefing type, and helpers that write its parts from numbers.

A Briefing holds text that is already safe to publish (every number in it has
been through disclosure control and the sentence generators) and the plotly
figures to draw. It is assembled elsewhere from protected data; the page, the
PDF and the command line all render the same Briefing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import plotly.graph_objects as go

from briefing import sentences
from data_access.disclosure import Policy
from data_access.metrics.registry import get_metric

SYNTHETIC_MARK = "SYNTHETIC DEMONSTRATION DATA"
SYNTHETIC_EXPLANATION = "Made-up numbers for demonstration; no real people or events."
MAX_HEADLINES = 6
MAX_CHARTS = 2


@dataclass(frozen=True)
class HeadlineItem:
    """One headline figure: its value as text and one sentence written from the numbers."""

    label: str  # "Referrals"
    value_text: str  # "214", "62%", "fewer than k", "not published"
    sentence: str  # from briefing.sentences
    definition: str = ""  # one line from the metric registry
    denominator_text: str = ""  # "Out of: eligible people", or "" for counts

    def __post_init__(self) -> None:
        _require_text("HeadlineItem.label", self.label)
        _require_text(f"HeadlineItem {self.label!r}: value_text", self.value_text)
        _require_text(f"HeadlineItem {self.label!r}: sentence", self.sentence)


@dataclass(frozen=True)
class BriefingChart:
    """A chart for the briefing: the figure, a title that states the finding, and alt text."""

    figure: go.Figure
    title: str
    alt_text: str
    caption: str = ""  # definition, denominator, source

    def __post_init__(self) -> None:
        if not isinstance(self.figure, go.Figure):
            raise TypeError(
                f"BriefingChart {self.title!r}: figure must be a plotly go.Figure; got "
                f"{type(self.figure).__name__}"
            )
        _require_text("BriefingChart.title", self.title)
        _require_text(f"BriefingChart {self.title!r}: alt_text", self.alt_text)


@dataclass(frozen=True)
class Briefing:
    """Everything one briefing shows, for one site and one period."""

    site_name: str
    period_label: str  # "The fourth quarter of 2025" or "2025"
    release_id: str
    as_of: dt.date
    synthetic: bool
    headlines: tuple[HeadlineItem, ...]
    recidivism: str
    disparity: str
    cost: str
    methods_note: str
    privacy_note: str
    dashboard_url: str
    charts: tuple[BriefingChart, ...] = field(default_factory=tuple)
    period_detail: str = ""  # "October to December 2025", shown under the title

    def __post_init__(self) -> None:
        for name in ("site_name", "period_label", "release_id", "methods_note", "privacy_note"):
            _require_text(f"Briefing.{name}", getattr(self, name))
        if not isinstance(self.as_of, dt.date):
            raise TypeError(f"Briefing.as_of must be a date; got {type(self.as_of).__name__}")
        object.__setattr__(self, "headlines", tuple(self.headlines))
        object.__setattr__(self, "charts", tuple(self.charts))
        if not 1 <= len(self.headlines) <= MAX_HEADLINES:
            raise ValueError(
                f"Briefing: between 1 and {MAX_HEADLINES} headline figures fit the page; got "
                f"{len(self.headlines)}"
            )
        if len(self.charts) > MAX_CHARTS:
            raise ValueError(
                f"Briefing: at most {MAX_CHARTS} charts fit the page; got {len(self.charts)}"
            )
        if not self.dashboard_url.startswith(("https://", "http://")):
            raise ValueError(
                f"Briefing.dashboard_url must be an http(s) address; got {self.dashboard_url!r}"
            )

    @property
    def as_of_text(self) -> str:
        """ "15 January 2026"."""
        return f"{self.as_of.day} {self.as_of:%B %Y}"

    @property
    def title(self) -> str:
        return f"LEAD briefing: {self.site_name}, {self.period_label}"


def _require_text(where: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} must be non-empty text; got {value!r}")


# ------------------------------------------------------------------ builders


def value_text(
    value: sentences.Number | None,
    withheld: str | None = None,
    *,
    unit: str = sentences.COUNT,
    decimals: int | None = None,
) -> str:
    """A headline value as text: the reason when withheld ("fewer than k"), never the number."""
    if withheld:
        return withheld if withheld.strip().startswith("fewer than") else "withheld"
    if value is None:
        return "not published"
    return sentences.format_value(value, unit, decimals)


def headline_item(
    metric_id: str,
    current: sentences.Number | None,
    previous: sentences.Number | None = None,
    *,
    period_label: str,
    previous_label: str | None = None,
    year_ago: sentences.Number | None = None,
    year_ago_label: str = "a year earlier",
    current_withheld: str | None = None,
    previous_withheld: str | None = None,
    year_ago_withheld: str | None = None,
    unstable: bool = False,
    unit: str = sentences.COUNT,
    label: str | None = None,
    sentence_label: str | None = None,
    singular: bool = False,
) -> HeadlineItem:
    """A headline figure from protected values, with definition and denominator from the registry.

    label: the card's label (default: the metric's registry name).
    sentence_label: how the sentence starts (default: the label).
    """
    definition = get_metric(metric_id)
    label = label or definition.name
    sentence = sentences.change_sentence(
        sentence_label or label,
        current,
        previous,
        period_label=period_label,
        previous_label=previous_label,
        year_ago=year_ago,
        year_ago_label=year_ago_label,
        current_withheld=current_withheld,
        previous_withheld=previous_withheld,
        year_ago_withheld=year_ago_withheld,
        unstable=unstable,
        unit=unit,
        singular=singular,
    )
    denominator = definition.denominator.strip()
    # The card shows the value as precisely as its sentence does ("14.8%" beside
    # "rose 0.7 percentage points"), and never a precision taken from a withheld value.
    decimals = None
    if unit == sentences.PROPORTION and not (current_withheld or previous_withheld):
        decimals = sentences.percent_decimals(current, previous if previous_label else None)
    return HeadlineItem(
        label=label,
        value_text=value_text(current, current_withheld, unit=unit, decimals=decimals),
        sentence=sentence,
        definition=definition.description,
        denominator_text="" if denominator.startswith("None") else f"Out of: {denominator}",
    )


def privacy_note(policy: Policy) -> str:
    """The privacy footnote, in the policy's own words and thresholds."""
    return (
        f"Privacy: this briefing is public. Counts from 1 to {policy.k - 1} are shown as "
        f'"{policy.small_reason}", and any figure that would let a reader work one out is '
        f"withheld as well. No rate or percentage is given on fewer than "
        f"{policy.min_denominator} people, and estimates built on fewer than "
        f"{policy.unstable_below} events are marked as based on small numbers."
    )


def methods_note(release_id: str) -> str:
    """The methods footnote: where the figures come from and how intervals are read."""
    return (
        f"Methods: figures come from data release {release_id}. Counts are complete counts, "
        "not samples. A 95% interval shows the range of values consistent with the data; when "
        "it excludes no difference (a ratio of 1, or 0 points), chance alone is an unlikely "
        "explanation. Re-arrest counts only entry cohorts whose whole follow-up window has "
        "passed and compares LEAD with a comparison group that was not chosen at random. "
        "Disparities use the Relative Rate Index (OJJDP), with white residents as the reference "
        "group unless stated; people of unknown race are left out. Costs are per person-year, "
        "as a difference in differences between LEAD and the comparison group. Full definitions "
        "are on the dashboard's Data and methods page."
    )
