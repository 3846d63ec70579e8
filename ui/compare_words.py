"""One row of words per site for the Compare sites page, from each site's protected figures."""

from __future__ import annotations

import polars as pl

from briefing import sentences
from data_access.views import ViewResult
from ui.derive import derived

WITHHELD = "withheld (small numbers)"


def _first(result: ViewResult, key: str, column: str, value) -> dict | None:
    if key not in result.tables:
        return None
    rows = result.table(key).frame.filter(pl.col(column) == value).to_dicts()
    return rows[0] if rows else None


def _flagged(row: dict | None, value: str, flag: str) -> str | None:
    if row is None:
        return "not published"
    if row.get(flag):
        return WITHHELD
    if row.get(value) is None:
        return "not published"
    return None


def site_row(result: ViewResult, site_id: str, site_name: str) -> dict[str, str]:
    """The words shown for one site: referrals, enrollment, re-arrest, disparity, saving."""
    status = result.facts.get(f"{site_id}/status")
    row = {"Site": site_name}
    if status:
        return row | {k: status for k in ("Referrals", "Enrolled", "Re-arrest", "Disparity")}
    change = _first(result, f"{site_id}/referrals/change", "comparison", "previous")
    row["Referrals"] = (
        (change.get("current_flag") or "").split(" (")[0]
        if change and (change.get("current_flag") or "").startswith("fewer")
        else _flagged(change, "current", "current_flag")
        or sentences.format_count(change["current"])
    )
    enrolled = _first(result, f"{site_id}/referrals/funnel", "stage", "enrolled")
    row["Enrolled"] = _flagged(enrolled, "estimate", "estimate_flag") or (
        f"{sentences.format_count(enrolled['numerator'])} "
        f"({sentences.format_percent(enrolled['estimate'])} of referred)"
    )
    ratio = _first(result, f"{site_id}/recidivism_headline/comparison", "metric_id",
                   "recidivism.risk_ratio")  # fmt: skip
    window = result.facts.get(f"{site_id}/recidivism_headline/window_months", "")
    row["Re-arrest"] = _flagged(ratio, "estimate", "estimate_flag") or (
        f"{sentences.format_ratio(ratio['estimate'])} times the comparison group's risk "
        f"within {window} months (95% CI {sentences.format_ratio(ratio['ci_low'])} to "
        f"{sentences.format_ratio(ratio['ci_high'])})"
    )
    key = f"{site_id}/disparity_headline/headline"
    if key in result.tables and result.table(key).height:
        rri = result.table(key).frame.row(0, named=True)
        group = result.facts.get(f"{site_id}/disparity_headline/group_label", "")
        reference = result.facts.get(f"{site_id}/disparity_headline/reference_label", "")
        verdict = "differs from parity" if rri["excludes_one"] else "cannot be told from parity"
        row["Disparity"] = (
            f"{group}: {sentences.format_ratio(rri['estimate'])} times the rate of {reference} "
            f"people ({verdict})"
        )
    else:
        row["Disparity"] = "too few people to judge"
    saving = result.tables.get(f"{site_id}/cost_headline/saving")
    if saving is None or saving.frame.filter(pl.col("saving").is_not_null()).is_empty():
        row["Legal-system saving"] = "not published"
    else:
        values = sorted(saving.frame["saving"].drop_nulls().to_list())
        row["Legal-system saving"] = (
            f"{sentences.format_dollars(values[0])} to {sentences.format_dollars(values[-1])} "
            "per person-year"
        )
    return row


@derived  # a rerun asks again for the same sites of the same shared result
def sites_frame(result: ViewResult, names: dict[str, str]) -> pl.DataFrame:
    """The words of every site in `names` (site id to name, in order), one row each."""
    return pl.DataFrame([site_row(result, site_id, name) for site_id, name in names.items()])


@derived
def referral_frame(result: ViewResult, names: dict[str, str]) -> pl.DataFrame:
    """Referrals in the period per site, with each site's own withheld flag."""
    rows = []
    for site_id, name in names.items():
        change = _first(result, f"{site_id}/referrals/change", "comparison", "previous")
        if change is None:
            continue
        rows.append(
            {
                "site": name,
                "referrals": change["current"],
                "referrals_flag": change.get("current_flag") or "",
            }
        )
    schema = {"site": pl.String, "referrals": pl.Int64, "referrals_flag": pl.String}
    return pl.DataFrame(rows, schema=schema)
