"""Views of costs: per person-year by category, LEAD against comparison, the saving as a range.

Disclosure. The costs table carries, per fiscal year and group, `persons` (a
count of people, repeated on every category row) and dollars per category.
- The people counts are protected with `protect_counts`: one count per fiscal
  year and group. No total over groups or years is published anywhere, so
  there is no line for a withheld count to be subtracted from; the exact audit
  (tests) confirms it.
- A cost per person-year is a derived value (kind PER_PERSON): withheld when
  its people count is withheld or under the policy's minimum denominator.
  The group's total dollars go with it (total / a published people count
  would give the withheld figure back), so every category of a group-year is
  shown or withheld together and the "all categories" total cannot be used to
  recover one category.
- Every saving is computed from per-person costs whose people counts are
  published (withheld counts enter the metrics as null, and null propagates),
  then passed through `protect_derived` with the smallest of its four groups.

Time. Costs are recorded by fiscal year. A fiscal year is named by the
calendar year it ends in; the data contract does not yet record when a site's
fiscal year starts, so FISCAL_YEAR_START_MONTH (January: fiscal year =
calendar year, as in the demo) applies to every site. The selected period maps
to the fiscal year holding its last month. A fiscal year not complete by the
release's as_of date holds costs so far against a full year of people, so it
is left out everywhere (the latest complete year is shown instead, with a note).

Which costs. The headline saving counts legal-system costs (jail, prosecution,
defense, courts, police), the domains the Seattle evaluation costed, so the
words "criminal-justice costs" are true. The by-category views add the health
costs some sites track (EMS, hospital). The range runs from "marginal" (jail,
prosecution and defense only: costs that shrink when fewer people pass
through) to "fully loaded" (adds police time and courts, fixed in the short
run). The LEAD program's own cost is never part of a saving; the net saving
subtracts it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import (
    DerivedKind,
    Protected,
    ProtectedCounts,
    policy_from_environment,
    protect_counts,
    protect_derived,
    storable,
)
from data_access.metrics import costs as metrics
from data_access.periods import Period, parse_period
from data_access.views.base import Selection, ViewResult, memoize, view, words

FISCAL_YEAR_START_MONTH = 1
COUNT = "persons"
GROUPS = ("lead", "comparison")
PROGRAM = metrics.PROGRAM
ALL = metrics.ALL
LEGAL_CATEGORIES = ("jail", "prosecution", "defense", "court", "police")
HEALTH_CATEGORIES = ("ems", "hospital")
PUBLIC_CATEGORIES = LEGAL_CATEGORIES + HEALTH_CATEGORIES
SCOPES = metrics.SCOPES  # ("marginal", "fully_loaded")

# Whose budget each category usually sits in (Vera's "wrong pockets": the
# agency that pays for LEAD is rarely the one whose costs fall). Generic US
# arrangements; a site's own may differ, and the page says "usually".
PAYERS: dict[str, str] = {
    "jail": "the county or city jail",
    "prosecution": "the prosecutor's office",
    "defense": "the public defender",
    "court": "the courts",
    "police": "the police department",
    "ems": "the fire or ambulance service",
    "hospital": "hospitals and Medicaid",
    "program": "LEAD's funders (city, county, state or private)",
}
SCOPE_WORDS: dict[str, str] = {
    "marginal": "jail, prosecution and defense: costs that shrink when fewer people are "
    "booked, charged and defended",
    "fully_loaded": "every legal-system cost, adding police time and courts, whose staff and "
    "buildings cost the same in the short run whatever the caseload",
}


# ---------------------------------------------------------------- fiscal years


def fiscal_year_of(period: Period, start_month: int = FISCAL_YEAR_START_MONTH) -> int:
    """The fiscal year holding the period's last month (named by the year it ends in)."""
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal year start month must be 1..12, got {start_month}")
    year, month = (int(part) for part in period.end_month.split("-"))
    return year + (1 if start_month > 1 and month >= start_month else 0)


def fiscal_year_end(year: int, start_month: int = FISCAL_YEAR_START_MONTH) -> dt.date:
    """The last day of fiscal year `year`."""
    if start_month == 1:
        return dt.date(year, 12, 31)
    last = start_month - 1
    return dt.date(year, last, calendar.monthrange(year, last)[1])


def fiscal_year_words(year: int | str) -> str:
    return f"fiscal year {year}"


# ---------------------------------------------------------------- one site's protected inputs


@storable
@dataclass(frozen=True)
class SiteCosts:
    """A site's costs for complete fiscal years, with its people counts protected.

    `frame` holds fiscal_year, group, category, persons, total_cost_usd with
    `persons` as published (null where withheld), so any metric computed from
    it can only use published counts.
    """

    persons: ProtectedCounts
    frame: pl.DataFrame
    years: tuple[int, ...]  # complete fiscal years with costs, oldest first
    incomplete: tuple[int, ...]  # fiscal years in the data not complete by as_of

    def persons_table(self) -> Protected:
        return self.persons.level(("fiscal_year", "group"))


@memoize(maxsize=64)
def site_costs(
    engine: sa.Engine, release_id: str, checksum: str, site_id: str, audience: Audience
) -> SiteCosts:
    """The site's complete fiscal years of costs and its protected people counts."""
    del checksum  # only part of the memo key: a replaced release is recomputed
    release = q.get_release(engine, release_id)
    exact = q.aggregate(
        engine, "costs", q.Scope(release_id, site_id), by=["fiscal_year", "group", "category"]
    ).with_columns(pl.col("fiscal_year").cast(pl.Int64))
    all_years = sorted(exact["fiscal_year"].unique().to_list())
    years = [y for y in all_years if fiscal_year_end(y) <= release.as_of]
    exact = exact.filter(pl.col("fiscal_year").is_in(years))
    # Every category row repeats the group's people; the metrics take the largest
    # when rows disagree, and so does the published count.
    people = exact.group_by("fiscal_year", "group").agg(pl.col(COUNT).max())
    people = people.sort("fiscal_year", "group")
    persons = protect_counts(
        people,
        view=f"costs:{site_id}",
        dimensions=("fiscal_year", "group"),
        count=COUNT,
        audience=audience,
    )
    published = persons.level(("fiscal_year", "group")).frame.select("fiscal_year", "group", COUNT)
    frame = exact.drop(COUNT).join(published, on=["fiscal_year", "group"], how="left")
    return SiteCosts(
        persons=persons,
        frame=frame.select("fiscal_year", "group", "category", COUNT, "total_cost_usd"),
        years=tuple(years),
        incomplete=tuple(y for y in all_years if y not in years),
    )


# ---------------------------------------------------------------- protection helpers


def _persons_flags(site: SiteCosts) -> pl.DataFrame:
    """fiscal_year, group, persons_flag ("" when the count is published)."""
    return site.persons_table().frame.select(
        "fiscal_year", "group", pl.col(f"{COUNT}_flag").fill_null("")
    )


def _protect_per_person(
    rows: pl.DataFrame,
    site: SiteCosts,
    *,
    view: str,
    keys: Sequence[str],
    estimates: Sequence[str],
    audience: Audience,
) -> Protected:
    """A per-person figure of one group-year: withheld with its people count, or under the
    minimum denominator."""
    rows = rows.join(_persons_flags(site), on=["fiscal_year", "group"], how="left").with_columns(
        pl.col(f"{COUNT}_flag").fill_null("")
    )
    return protect_derived(
        rows,
        view=view,
        keys=keys,
        denominator=COUNT,
        estimates=estimates,
        kind=DerivedKind.PER_PERSON,
        withheld_flags=[f"{COUNT}_flag"],
        audience=audience,
    )


def _per_person_year(site: SiteCosts, categories: Sequence[str]) -> pl.DataFrame:
    """Cost per person-year by fiscal year, group and category, plus "all" over `categories`."""
    frame = site.frame.filter(pl.col("category").is_in(list(categories)))
    result = metrics.cost_per_person_year(frame)
    return result.select(
        "fiscal_year",
        "group",
        "category",
        "estimate",
        pl.col("numerator").alias("total_cost_usd"),
        pl.col("denominator").alias(COUNT),
    )


def per_person_year(
    site: SiteCosts, categories: Sequence[str], *, view: str, audience: Audience
) -> Protected:
    """Protected cost per person-year (and the total dollars behind it) per group-year."""
    rows = _per_person_year(site, categories)
    return _protect_per_person(
        rows,
        site,
        view=view,
        keys=["fiscal_year", "group", "category"],
        estimates=["estimate", "total_cost_usd"],
        audience=audience,
    )


def program_per_participant(site: SiteCosts, *, view: str, audience: Audience) -> Protected:
    """LEAD program cost per participant (and the program's total) per fiscal year."""
    result = metrics.program_cost_per_participant(site.frame)
    rows = result.select(
        "fiscal_year",
        pl.lit("lead").alias("group"),
        "estimate",
        pl.col("numerator").alias("program_total_usd"),
        pl.col("denominator").alias(COUNT),
    )
    return _protect_per_person(
        rows,
        site,
        view=view,
        keys=["fiscal_year", "group"],
        estimates=["estimate", "program_total_usd"],
        audience=audience,
    )


def _program_per_month(
    engine: sa.Engine, selection: Selection, site: SiteCosts, audience: Audience
) -> Protected:
    """Staff only: program cost per participant-month.

    Participant-months are a yearly sum of the monthly caseload, a count that
    no public table publishes; a public per-month figure would reveal it (with
    the published program total), so the public do not get this table until a
    caseload cube publishes that sum as one of its protected margins.
    """
    caseload = q.aggregate(
        engine, "caseload", q.Scope(selection.release_id, selection.site_id), grain="month"
    ).rename({"period": "month"})
    result = metrics.program_cost_per_participant_month(
        site.frame, caseload, fiscal_year_start_month=FISCAL_YEAR_START_MONTH
    )
    return protect_derived(
        result.select("fiscal_year", "estimate", pl.col("denominator").alias("participant_months")),
        view="costs.program_per_month",
        keys=["fiscal_year"],
        denominator="participant_months",
        estimates=["estimate"],
        kind=DerivedKind.PER_PERSON,
        audience=audience,
    )


# ---------------------------------------------------------------- the saving


def baseline_year(site: SiteCosts) -> int | None:
    """The first complete fiscal year in which both groups' people counts are published and
    at least the policy's minimum denominator: the earliest year a cost per person is
    dependable."""
    people = site.frame.group_by("fiscal_year", "group").agg(pl.col(COUNT).max())
    for year in site.years:
        counts = people.filter(pl.col("fiscal_year") == year)
        enough = counts.filter(pl.col(COUNT) >= policy_from_environment().min_denominator)
        if set(enough["group"]) >= set(GROUPS):
            return year
    return None


def _four_flags(site: SiteCosts, baseline: int, followup: int) -> pl.Expr:
    """A reason when any of the four people counts behind a saving is withheld."""
    flags = _persons_flags(site).filter(
        pl.col("fiscal_year").is_in([baseline, followup]) & pl.col("group").is_in(GROUPS)
    )
    reasons = [r for r in flags[f"{COUNT}_flag"].to_list() if r]
    present = flags.height == 2 * len(GROUPS)
    reason = reasons[0] if reasons else ("" if present else "no data for a group")
    return pl.lit(reason)


_SAVING_COSTS = ("lead_pre", "lead_post", "comparison_pre", "comparison_post")
_SAVING_PERSONS = (
    "lead_persons_pre",
    "lead_persons_post",
    "comparison_persons_pre",
    "comparison_persons_post",
)


def _saving_rows(did: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """One row per scope (and key): saving, net saving and the four costs behind them."""
    saving = did.filter(pl.col("metric_id") == "costs.did_saving")
    net = did.filter(pl.col("metric_id") == "costs.net_saving").select(
        *keys, pl.col("estimate").alias("net_saving")
    )
    return saving.join(net, on=list(keys), how="left").select(
        *keys,
        pl.col("estimate").alias("saving"),
        "net_saving",
        *_SAVING_COSTS,
        pl.col("program_per_person_year"),
        pl.min_horizontal(*_SAVING_PERSONS).alias("smallest_group"),
    )


def _protect_saving(
    rows: pl.DataFrame,
    site: SiteCosts,
    baseline: int,
    followup: int,
    *,
    view: str,
    keys: Sequence[str],
    estimates: Sequence[str],
    audience: Audience,
) -> Protected:
    rows = rows.with_columns(
        pl.lit(str(baseline)).alias("baseline_year"),
        pl.lit(str(followup)).alias("followup_year"),
        _four_flags(site, baseline, followup).alias("inputs_flag"),
    )
    return protect_derived(
        rows,
        view=view,
        keys=[*keys, "baseline_year", "followup_year"],
        denominator="smallest_group",
        estimates=estimates,
        kind=DerivedKind.PER_PERSON,
        withheld_flags=["inputs_flag"],
        audience=audience,
    )


def saving_tables(
    site: SiteCosts, baseline: int, followup: int, audience: Audience
) -> dict[str, Protected]:
    """The legal-system saving (marginal and fully loaded) and the saving per category."""
    legal = site.frame.filter(pl.col("category").is_in([*LEGAL_CATEGORIES, PROGRAM]))
    did = metrics.did_saving(legal, baseline_years=[baseline], followup_years=[followup])
    saving = _protect_saving(
        _saving_rows(did, ["scope"]),
        site,
        baseline,
        followup,
        view="costs.saving",
        keys=["scope"],
        estimates=["saving", "net_saving", *_SAVING_COSTS, "program_per_person_year"],
        audience=audience,
    )
    public = site.frame.filter(pl.col("category").is_in(PUBLIC_CATEGORIES))
    by_category = metrics.did_saving(
        public, baseline_years=[baseline], followup_years=[followup], by=["category"]
    ).filter(pl.col("scope") == "fully_loaded")
    rows = _saving_rows(by_category, ["category"]).with_columns(
        pl.col("category").replace_strict(PAYERS, default="").alias("payer")
    )
    pockets = _protect_saving(
        rows,
        site,
        baseline,
        followup,
        view="costs.saving_by_category",
        keys=["category", "payer"],
        estimates=["saving", *_SAVING_COSTS],
        audience=audience,
    )
    return {"saving": saving, "saving_by_category": pockets}


def saving_status(site: SiteCosts, baseline: int | None, followup: int | None) -> str:
    """Why no saving is computed, in words ("" when one is)."""
    if followup is None:
        return "No complete fiscal year of costs is published yet."
    if baseline is None:
        return (
            "No fiscal year had at least "
            f"{policy_from_environment().min_denominator} people in both groups, so no dependable "
            "baseline exists for a saving."
        )
    if followup <= baseline:
        return (
            f"The saving is measured from {fiscal_year_words(baseline)}, the first year with "
            f"enough people in both groups; choose a period in a later fiscal year to see it."
        )
    return ""


# ---------------------------------------------------------------- the views


def _site(engine: sa.Engine, selection: Selection, audience: Audience):
    release = q.get_release(engine, selection.release_id)
    present = q.published_tables(engine, release.release_id, selection.site_id)
    if "costs" not in present:
        return release, present, None
    site = site_costs(engine, release.release_id, release.checksum, selection.site_id, audience)
    return release, present, site


def _chosen_year(site: SiteCosts, wanted: int) -> tuple[int | None, str]:
    """The fiscal year shown and why: the selected one if complete, else the nearest
    complete one before it ("incomplete" when the selected year is still under way)."""
    if wanted in site.years:
        return wanted, "selected"
    if not site.years:
        return None, "missing"
    earlier = [y for y in site.years if y < wanted]
    shown = earlier[-1] if earlier else site.years[0]
    return shown, "incomplete" if wanted in site.incomplete else "missing"


def _year_note(wanted: int, shown: int | None, reason: str, as_of: dt.date) -> str:
    if reason == "selected" or shown is None:
        return ""
    if reason == "incomplete":
        return (
            f"{fiscal_year_words(wanted).capitalize()} is not complete in this release (data "
            f"through {as_of:%d %B %Y}), so its costs so far would understate a full year; "
            f"showing {fiscal_year_words(shown)}, the latest complete one."
        )
    return (
        f"This site publishes no costs for {fiscal_year_words(wanted)}; "
        f"showing {fiscal_year_words(shown)} instead."
    )


def _no_costs(name: str, facts: dict) -> ViewResult:
    return ViewResult(name, {}, words({**facts, "costs_published": "no"}))


@view("costs")
def costs_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """Cost per person-year by category and over time, the saving range and the program cost."""
    release, present, site = _site(engine, selection, audience)
    period = parse_period(selection.period)
    wanted = fiscal_year_of(period)
    base_facts = {
        "period_phrase": period.phrase,
        "selected_fiscal_year": wanted,
        "as_of": f"{release.as_of:%d %B %Y}",
    }
    if site is None:
        return _no_costs("costs", base_facts)
    year, why = _chosen_year(site, wanted)
    notes = []
    if selection.precinct_ids:
        notes.append(
            "Costs are published for the whole site only, not by precinct: the figures below "
            "are the site's."
        )
    if note := _year_note(wanted, year, why, release.as_of):
        notes.append(note)
    per_category = per_person_year(
        site, PUBLIC_CATEGORIES, view="costs.per_person_year", audience=audience
    )
    legal = per_person_year(site, LEGAL_CATEGORIES, view="costs.legal_trend", audience=audience)
    tables: dict[str, Protected] = {
        "persons": site.persons_table(),
        "by_category": per_category.subset(
            rows=(pl.col("fiscal_year") == year) & (pl.col("category") != ALL),
            sort=["group", "category"],
        ),
        "totals": per_category.subset(
            rows=pl.col("category") == ALL, sort=["fiscal_year", "group"]
        ),
        "legal_trend": legal.subset(rows=pl.col("category") == ALL, sort=["fiscal_year", "group"]),
        "program": program_per_participant(site, view="costs.program", audience=audience),
    }
    if audience is Audience.STAFF and "caseload" in present:
        tables["program_per_month"] = _program_per_month(engine, selection, site, audience)
    baseline = baseline_year(site)
    status = saving_status(site, baseline, year)
    if not status:
        tables.update(saving_tables(site, baseline, year, audience))
    facts = {
        **base_facts,
        "costs_published": "yes",
        "fiscal_year": year or "",
        "fiscal_year_reason": why,
        "baseline_year": baseline or "",
        "followup_year": year if not status else "",
        "saving_status": status,
        "incomplete_years": ", ".join(map(str, site.incomplete)),
        "first_year": site.years[0] if site.years else "",
        "last_year": site.years[-1] if site.years else "",
    }
    return ViewResult("costs", tables, words(facts), tuple(notes))


@view("cost_headline")
def cost_headline_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """For the Overview and the briefing: the saving range for the latest complete fiscal
    year against the baseline, and the program cost per participant that year."""
    release, _, site = _site(engine, selection, audience)
    base_facts = {"as_of": f"{release.as_of:%d %B %Y}"}
    if site is None:
        return _no_costs("cost_headline", base_facts)
    year = site.years[-1] if site.years else None
    baseline = baseline_year(site)
    status = saving_status(site, baseline, year)
    program = program_per_participant(site, view="costs.program", audience=audience)
    tables = {"program": program.subset(rows=pl.col("fiscal_year") == year)}
    if not status:
        tables["saving"] = saving_tables(site, baseline, year, audience)["saving"]
    facts = {
        **base_facts,
        "costs_published": "yes",
        "fiscal_year": year or "",
        "baseline_year": baseline or "",
        "followup_year": year if not status else "",
        "saving_status": status,
    }
    return ViewResult("cost_headline", tables, words(facts))


# ---------------------------------------------------------------- words for the headline


def _first(protected: Protected | None, column: str, value: str) -> dict | None:
    if protected is None:
        return None
    rows = protected.frame.filter(pl.col(column) == value).to_dicts()
    return rows[0] if rows else None


def sentence_arguments(result: ViewResult) -> dict:
    """Keyword arguments for briefing.sentences.cost_sentence from a costs or cost_headline
    view: published numbers only, with the withheld reason where there is one."""
    facts = result.facts
    year = facts.get("followup_year") or facts.get("fiscal_year") or ""
    if facts.get("costs_published") != "yes":
        return {
            "saving_marginal": None,
            "saving_fully_loaded": None,
            "period_label": fiscal_year_words(year) if year else "this site",
        }
    label = (
        f"{fiscal_year_words(year)}, measured against {fiscal_year_words(facts['baseline_year'])}"
        if facts.get("followup_year")
        else fiscal_year_words(year)
    )
    saving = result.tables.get("saving")
    marginal = _first(saving, "scope", "marginal") or {}
    loaded = _first(saving, "scope", "fully_loaded") or {}
    program = result.tables.get("program")
    program_row = (
        _first(program, "fiscal_year", int(year)) if program is not None and year else None
    ) or {}
    reason = marginal.get("saving_flag") or loaded.get("saving_flag") or ""
    reliability = "ok"
    if reason == policy_from_environment().small_denominator_reason:
        reason, reliability = "", "insufficient"
    if reason or reliability != "ok":
        label = fiscal_year_words(year)  # no saving to measure against the baseline
    return {
        "saving_marginal": marginal.get("saving"),
        "saving_fully_loaded": loaded.get("saving"),
        "period_label": label,
        "program_cost": program_row.get("estimate"),
        "net_marginal": marginal.get("net_saving"),
        "net_fully_loaded": loaded.get("net_saving"),
        "withheld": reason or None,
        "reliability": reliability,
    }
