"""The largest disparity of a `disparity_headline` view as a RateRatio, without streamlit.

ui/disparity_words.py does the same for the Disparities page but imports
streamlit (for its reference-group widget), which the command line must not
load. The wording here is the page's wording: "<Group> people" against
"<Reference> people", with the decision point's own passive phrase, so the
page, the PDF and the Disparities page describe one ratio in the same words.
"""

from __future__ import annotations

from briefing import sentences
from data_access.metrics.reliability import INSUFFICIENT, NOT_COMPUTABLE, REFERENCE
from data_access.views import ViewResult
from data_access.views.disparities import race_label


def rate_ratio_of(row: dict, decision: str) -> sentences.RateRatio:
    """One protected RRI row as a RateRatio; a withheld reason only when no value is shown."""
    reliability = row["reliability"]
    if reliability == REFERENCE:
        reliability = sentences.OK
    withheld = row.get("input_flag") or row.get("estimate_flag") or None
    if row["estimate"] is not None or reliability in (INSUFFICIENT, NOT_COMPUTABLE):
        withheld = None
    return sentences.RateRatio(
        group_label=f"{race_label(row['race_ethnicity'])} people",
        reference_label=f"{race_label(row['reference_group'])} people",
        decision=decision,
        rri=row["estimate"],
        ci_low=row["ci_low"],
        ci_high=row["ci_high"],
        reliability=reliability,
        withheld=withheld,
    )


def headline_rate_ratio(result: ViewResult) -> sentences.RateRatio | None:
    """The view's one headline ratio, or None when no result qualifies."""
    if result.name != "disparity_headline":
        raise ValueError(
            f"headline_rate_ratio needs the disparity_headline view; got {result.name}"
        )
    if result.facts.get("found") != "yes":
        return None
    frame = result.table("headline").frame
    if frame.is_empty():
        return None
    return rate_ratio_of(frame.row(0, named=True), result.facts["decision"])


def disparity_paragraph(result: ViewResult) -> str:
    """The disparity section: the year, the step, the ratio and whether it differs from parity."""
    facts = result.facts
    year = facts.get("year_phrase") or facts.get("year") or "this year"
    reference = facts.get("reference_label", "the reference group")
    chosen = headline_rate_ratio(result)
    if chosen is None:
        return (
            f"In {year}, no group could be compared with {reference} people at any step from "
            "police contact to enrollment: there were too few people in each group to publish "
            "or to judge a ratio."
        )
    return (
        f"The largest disparity in {year}, across the steps from police contact to enrollment "
        f"({facts['decision_label'].lower()}): {sentences.rate_ratio_sentence(chosen)} "
        "A ratio of 1 would mean both groups moved on at the same rate."
    )
