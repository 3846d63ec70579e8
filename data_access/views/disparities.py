"""Views of racial disparity in the referral flow: who moves on at each decision point.

Everything here is computed from the PUBLISHED counts of the referral-flow cube
(withheld counts are null and stay null), then protected again as derived
values. Two decision points come from the cube:

- eligible police contact -> referral (police pathways: community referrals do
  not start from a police contact);
- referral -> enrollment.

Both are read for the calendar year of the selected period: a quarter holds too
few people of most groups to judge (OJJDP's minimum is 50 at the base stage),
and precinct-by-race figures are published by year only. Figures by year are
published for whole years: for a quarter of a year under way, the latest whole
year is read, and the view's note says so (periods.whole_year_for).

Totals (for the share of unknown race, and for representation against
population) are taken from published margins, never summed over race groups:
a single withheld small group would otherwise make every total unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import DerivedKind, Protected, protect_comparison, protect_derived
from data_access.metrics.disparities import population_rate, relative_rate_index
from data_access.metrics.disparities import representation_ratio as representation_metric
from data_access.metrics.reliability import INSUFFICIENT, NOT_COMPUTABLE, OK, UNSTABLE
from data_access.metrics.stats import wilson
from data_access.periods import parse_period, whole_year_for, whole_year_note
from data_access.views.base import Selection, ViewResult, view, words
from data_access.views.referral_flow import COUNT, POLICE_PATHWAYS, referral_flow
from data_access.vocabulary import RACES

RACE = "race_ethnicity"
UNKNOWN = "unknown"
FLAG = f"{COUNT}_flag"


@dataclass(frozen=True)
class DecisionPoint:
    code: str
    label: str  # for a chart axis: the step and its base
    decision: str  # passive, to follow a possessive: "Black people's <decision> at ..."
    base_label: str  # the people at the stage before, for "of <base_label>"
    event_label: str


REFERRAL = DecisionPoint(
    "eligible_contact_to_referral",
    "Referred by police, of eligible police contacts",
    "eligible police contacts were referred to LEAD",
    "eligible police contacts",
    "referred by police",
)
ENROLLMENT = DecisionPoint(
    "referral_to_enrollment",
    "Enrolled, of people referred",
    "referrals ended in enrollment",
    "people referred",
    "enrolled",
)
# The cube publishes referrals by precinct and race as referred yes / no only, so
# a precinct's step counts every pathway (see the module docstring of the page).
PRECINCT_REACH = DecisionPoint(
    "reached_lead_in_precinct",
    "Referred (any pathway), of eligible police contacts and community referrals",
    "eligible police contacts and community referrals reached LEAD",
    "eligible police contacts and community referrals",
    "referred",
)
DECISION_POINTS = {d.code: d for d in (REFERRAL, ENROLLMENT, PRECINCT_REACH)}
_USABLE = (OK, UNSTABLE)


def race_label(code: str) -> str:
    return RACES.get(code, code)


# ---------------------------------------------------------------- published counts


def _published(protected: Protected, equal: dict[str, str]) -> dict[str, tuple[int | None, str]]:
    """{race: (count or None, reason)} for rows of a protected level matching `equal`."""
    condition = pl.lit(True)
    for column, value in equal.items():
        condition = condition & (pl.col(column) == value)
    frame = protected.frame.filter(condition)
    return {r[RACE]: (r[COUNT], r[FLAG] or "") for r in frame.iter_rows(named=True)}


def _one(protected: Protected, equal: dict[str, str]) -> tuple[int | None, str]:
    """One published cell (count or None, reason); an absent cell is a true zero."""
    condition = pl.lit(True)
    for column, value in equal.items():
        condition = condition & (pl.col(column) == value)
    rows = protected.frame.filter(condition)
    if rows.is_empty():
        return 0, ""
    return rows[COUNT][0], rows[FLAG][0] or ""


def _add(*cells: tuple[int | None, str]) -> tuple[int | None, str]:
    """The sum of published cells; unknown (None) when any part is withheld.

    One cell keeps its own reason ("fewer than k"); a sum with a withheld part
    is only "partly withheld": the part's reason does not describe the sum.
    """
    if any(value is None for value, _ in cells):
        if len(cells) == 1:
            return None, cells[0][1] or "withheld"
        return None, "partly withheld"
    return sum(value for value, _ in cells), ""  # type: ignore[misc]


def _race_counts(cube, year: str, precinct: str | None, contacts: bool = True) -> pl.DataFrame:
    """Events and base of every decision point by race, from published cells only.

    Without eligible contacts (`contacts` False: the site does not publish
    them) the police step has no base, so it is left out, not shown as 100%.

    Columns: decision_point, race_ethnicity, events, base, input_flag (the
    cube's reason when a count behind the row is withheld), base_flag (the
    base's own reason: "partly withheld" for a sum). A race absent from
    a level had nobody there (the cube publishes no zero cells).
    """
    rows = []
    if precinct is None:
        route = cube.level(("route", "referred", "year", RACE))
        police_yes = _published(route, {"route": "police", "referred": "yes", "year": year})
        police_no = _published(route, {"route": "police", "referred": "no", "year": year})
        referred = cube.level(("referred", "year", RACE))
        referrals = _published(referred, {"referred": "yes", "year": year})
        enrolled = _published(
            cube.level(("enrolled", "year", RACE)), {"enrolled": "yes", "year": year}
        )
        points = (
            *([(REFERRAL, police_yes, (police_yes, police_no))] if contacts else []),
            (ENROLLMENT, enrolled, (referrals,)),
        )
    else:
        level = cube.level(("referred", "precinct_id", "year", RACE))
        place = {"precinct_id": precinct, "year": year}
        yes = _published(level, {"referred": "yes", **place})
        no = _published(level, {"referred": "no", **place})
        points = ((PRECINCT_REACH, yes, (yes, no)),) if contacts else ()
    for point, events, bases in points:
        races = set(events).union(*bases)
        for race in races:
            event = events.get(race, (0, ""))
            base = _add(*(b.get(race, (0, "")) for b in bases))
            rows.append(
                {
                    "decision_point": point.code,
                    RACE: race,
                    "events": event[0],
                    "base": base[0],
                    "input_flag": event[1] or base[1],
                    "base_flag": base[1],  # the base's own reason, not its events'
                }
            )
    schema = {
        "decision_point": pl.String,
        RACE: pl.String,
        "events": pl.Int64,
        "base": pl.Int64,
        "input_flag": pl.String,
        "base_flag": pl.String,
    }
    order = {code: i for i, code in enumerate(RACES)}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.sort(["decision_point", pl.col(RACE).replace_strict(order, default=len(order))])


def _base_totals(
    cube, year: str, precinct: str | None, contacts: bool = True
) -> dict[str, tuple[int | None, str]]:
    """Everyone at the base stage of each decision point, from published margins."""
    if precinct is None:
        referrals = _one(cube.level(("referred", "year")), {"referred": "yes", "year": year})
        if not contacts:
            return {ENROLLMENT.code: referrals}
        pathways = cube.level(("pathway", "year"))
        eligible = _add(
            *(_one(pathways, {"pathway": p, "year": year}) for p in POLICE_PATHWAYS),
            _one(cube.level(("referred", "year")), {"referred": "no", "year": year}),
        )
        return {REFERRAL.code: eligible, ENROLLMENT.code: referrals}
    level = cube.level(("referred", "precinct_id", "year"))
    place = {"precinct_id": precinct, "year": year}
    both = _add(_one(level, {"referred": "yes", **place}), _one(level, {"referred": "no", **place}))
    return {PRECINCT_REACH.code: both} if contacts else {}


# ---------------------------------------------------------------- derived tables


def _rates(counts: pl.DataFrame, view_name: str, audience: Audience) -> Protected:
    """Each group's rate at each decision point (Wilson interval), known races and unknown."""
    share = wilson(pl.col("events"), pl.col("base"))
    frame = counts.with_columns(
        share.estimate.alias("estimate"), share.low.alias("ci_low"), share.high.alias("ci_high")
    )
    return protect_derived(
        frame,
        view=view_name,
        keys=["decision_point", RACE],
        numerator="events",
        denominator="base",
        estimates=["estimate", "ci_low", "ci_high"],
        kind=DerivedKind.PROPORTION,
        withheld_flags=["input_flag"],
        keep_counts=True,
        audience=audience,
    )


def _rri(counts: pl.DataFrame, reference: str, view_name: str, audience: Audience) -> Protected:
    """RRI of every known race against the reference group, then the comparison rules.

    Results OJJDP's minimums call insufficient, or that cannot be computed, lose
    their estimate here, so no reader of this table (page, briefing, download)
    can present one: the reliability and note columns say why.
    """
    parts = []
    for code in counts["decision_point"].unique(maintain_order=True):
        part = counts.filter(pl.col("decision_point") == code)
        if part.filter(pl.col(RACE) != UNKNOWN).is_empty():
            continue
        parts.append(
            relative_rate_index(
                part.drop("decision_point", "input_flag", "base_flag"),
                "events",
                "base",
                reference=reference,
                decision_point=code,
            )
        )
    if not parts:
        return _empty_rri(view_name, audience)
    rri = pl.concat(parts, how="diagonal_relaxed")
    rri = rri.join(
        counts.select("decision_point", RACE, "input_flag"), on=["decision_point", RACE], how="left"
    )
    hidden = pl.col("reliability").is_in([INSUFFICIENT, NOT_COMPUTABLE])
    # The reference group's own inputs hold the other half of every comparison.
    reference_flag = (
        pl.col("input_flag").filter(pl.col(RACE) == reference).first().over("decision_point")
    )
    rri = rri.with_columns(
        *(pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("estimate", "ci_low", "ci_high", "excludes_one")),
        pl.col("input_flag").fill_null("").alias("input_flag"),
        reference_flag.fill_null("").alias("reference_input_flag"),
        pl.col("note").fill_null("").alias("note"),
    )  # fmt: skip
    return protect_comparison(
        rri,
        view=view_name,
        keys=["decision_point", RACE, "reference_group", "reliability", "note", "input_flag"],
        groups=[("numerator", "denominator"), ("reference_numerator", "reference_denominator")],
        estimates=["estimate", "ci_low", "ci_high", "excludes_one", "rate", "reference_rate"],
        withheld_flags=["input_flag", "reference_input_flag"],
        audience=audience,
    )


def _empty_rri(view_name: str, audience: Audience) -> Protected:
    schema = {
        "decision_point": pl.String,
        RACE: pl.String,
        "reference_group": pl.String,
        "reliability": pl.String,
        "note": pl.String,
        "input_flag": pl.String,
        "numerator": pl.Int64,
        "denominator": pl.Int64,
        "reference_numerator": pl.Int64,
        "reference_denominator": pl.Int64,
        "estimate": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "excludes_one": pl.Boolean,
        "rate": pl.Float64,
        "reference_rate": pl.Float64,
    }
    return protect_comparison(
        pl.DataFrame(schema=schema),
        view=view_name,
        keys=["decision_point", RACE, "reference_group", "reliability", "note", "input_flag"],
        groups=[("numerator", "denominator"), ("reference_numerator", "reference_denominator")],
        estimates=["estimate", "ci_low", "ci_high", "excludes_one", "rate", "reference_rate"],
        withheld_flags=["input_flag"],
        audience=audience,
    )


def _unknown_share(
    counts: pl.DataFrame,
    totals: dict[str, tuple[int | None, str]],
    view_name: str,
    audience: Audience,
) -> Protected:
    """The share of each decision point's base whose race is unknown (Wilson interval)."""
    rows = []
    for code, (total, total_flag) in totals.items():
        unknown = counts.filter((pl.col("decision_point") == code) & (pl.col(RACE) == UNKNOWN))
        if unknown.is_empty():
            value, flag = 0, ""
        else:
            value, flag = unknown["base"][0], unknown["base_flag"][0] or ""
        rows.append(
            {
                "decision_point": code,
                "unknown": value,
                "total": total,
                # "fewer than k" of the unknown count itself is said as is; a withheld
                # total leaves the share unknown.
                "count_flag": total_flag or ("" if value is not None else flag or "withheld"),
                "unknown_flag": flag if value is None else "",
                # The total's own reason: it is not withheld because its part is.
                "total_flag": total_flag or "",
            }
        )
    schema = {
        "decision_point": pl.String,
        "unknown": pl.Int64,
        "total": pl.Int64,
        "count_flag": pl.String,
        "unknown_flag": pl.String,
        "total_flag": pl.String,
    }
    frame = pl.DataFrame(rows, schema=schema)
    share = wilson(pl.col("unknown"), pl.col("total"))
    frame = frame.with_columns(
        share.estimate.alias("estimate"), share.low.alias("ci_low"), share.high.alias("ci_high")
    )
    return protect_derived(
        frame,
        view=view_name,
        keys=["decision_point"],
        numerator="unknown",
        denominator="total",
        estimates=["estimate", "ci_low", "ci_high"],
        kind=DerivedKind.PROPORTION,
        withheld_flags=["count_flag"],
        keep_counts=True,
        count_flags={"unknown": "unknown_flag", "total": "total_flag"},
        audience=audience,
    )


def _population_year(engine: sa.Engine, scope: q.Scope, year: int) -> tuple[pl.DataFrame, int]:
    """Adult residents by race for `year`, or the nearest earlier (else later) year published."""
    frame = q.aggregate(engine, "population", scope, by=[RACE, "year"])
    if frame.is_empty():
        return frame, year
    years = sorted(int(y) for y in frame["year"].unique())
    earlier = [y for y in years if y <= year]
    chosen = earlier[-1] if earlier else years[0]
    chosen_rows = frame.filter(pl.col("year").cast(pl.Int64) == chosen).drop("year")
    return chosen_rows, chosen


def _representation(
    cube,
    year: str,
    population: pl.DataFrame,
    view_name: str,
    audience: Audience,
) -> Protected:
    """Each group's share of referrals against its share of adult residents, and its rate.

    The metric sums the referrals of known race itself; here that total is the
    published referral total less the published unknown count (a sum over race
    groups would be unknown whenever one small group is withheld). The groups
    not shown are entered as one remainder row, so the metric's totals are the
    true ones; the remainder is never published.
    """
    referred = cube.level(("referred", "year", RACE))
    counts = _published(referred, {"referred": "yes", "year": year})
    total, total_flag = _one(cube.level(("referred", "year")), {"referred": "yes", "year": year})
    unknown = counts.get(UNKNOWN, (0, ""))[0]
    known_total = None if total is None or unknown is None else total - unknown
    why_no_total = total_flag or (
        "the number of people of unknown race is withheld" if unknown is None else ""
    )
    residents = dict(zip(population[RACE], population["population"], strict=True))
    races = [r for r in RACES if r != UNKNOWN and (r in residents or r in counts)]
    rows = [
        {
            RACE: race,
            "referrals": counts.get(race, (0, ""))[0],
            "population": residents.get(race, 0),
            "count_flag": counts.get(race, (0, ""))[1],
        }
        for race in races
    ]
    schema = {RACE: pl.String, "referrals": pl.Int64, "population": pl.Int64,
              "count_flag": pl.String}  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema)
    shown = frame.filter(pl.col("referrals").is_not_null()).drop("count_flag")
    rest = pl.DataFrame(
        [
            {
                RACE: "_rest",
                "referrals": None if known_total is None else known_total - sum(shown["referrals"]),
                "population": sum(residents.get(r, 0) for r in races) - sum(shown["population"]),
            }
        ],
        schema={RACE: pl.String, "referrals": pl.Int64, "population": pl.Int64},
    )
    both = pl.concat([shown, rest])
    ratio = representation_metric(
        both.select(RACE, "referrals"), both.select(RACE, "population"), "referrals"
    ).filter(pl.col(RACE) != "_rest")
    rate = population_rate(shown.select(RACE, "referrals"), shown.select(RACE, "population"))
    out = frame.join(
        ratio.select(
            RACE,
            "estimate",
            "ci_low",
            "ci_high",
            pl.col("denominator").alias("known_race_referrals"),
            "population_share",
            "ceiling",
            "reliability",
            "note",
        ),
        on=RACE,
        how="left",
    ).join(
        rate.select(
            RACE,
            pl.col("estimate").alias("per_10000"),
            pl.col("ci_low").alias("per_10000_low"),
            pl.col("ci_high").alias("per_10000_high"),
        ),
        on=RACE,
        how="left",
    )
    note = pl.when(pl.col("known_race_referrals").is_null() & pl.col("referrals").is_not_null())
    out = out.with_columns(
        (pl.col("referrals") / pl.col("known_race_referrals")).alias("referral_share"),
        pl.col("reliability").fill_null(NOT_COMPUTABLE),
        note.then(pl.lit(why_no_total or "input withheld or missing"))
        .otherwise(pl.col("note").fill_null(""))
        .alias("note"),
    )
    hidden = pl.col("reliability").is_in([INSUFFICIENT, NOT_COMPUTABLE])
    out = out.with_columns(
        pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("estimate", "ci_low", "ci_high")
    )
    return protect_derived(
        out,
        view=view_name,
        keys=[RACE, "reliability", "note"],
        numerator="referrals",
        denominator="population",
        estimates=["estimate", "ci_low", "ci_high", "referral_share", "population_share",
                   "ceiling", "per_10000", "per_10000_low", "per_10000_high"],
        kind=DerivedKind.RATE,
        withheld_flags=["count_flag"],
        keep_counts=True,
        audience=audience,
    )  # fmt: skip


# ---------------------------------------------------------------- the views


@dataclass(frozen=True)
class _Scope:
    year: str
    phrase: str  # "2024"
    note: str  # why the year is not the period's own ("" when it is)
    precinct: str | None


def _scope(release: q.Release, selection: Selection) -> _Scope:
    """The whole year whose figures stand for the selected period (periods.whole_year_for)."""
    period = parse_period(selection.period)
    year = whole_year_for(period, release.as_of)
    precinct = selection.precinct_ids[0] if len(selection.precinct_ids) == 1 else None
    return _Scope(year.code, year.phrase, whole_year_note(period, year), precinct)


def _cube(engine: sa.Engine, selection: Selection, audience: Audience):
    release = q.get_release(engine, selection.release_id)
    cube = referral_flow(engine, release.release_id, release.checksum, selection.site_id, audience)
    return release, cube


def _races_present(counts: pl.DataFrame) -> list[str]:
    """Known race codes with anyone at a base stage, in vocabulary order."""
    seen = set(counts.filter(pl.col("base").is_null() | (pl.col("base") > 0))[RACE])
    return [r for r in RACES if r in seen and r != UNKNOWN]


@view("disparities")
def disparities_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """Rates, RRIs and the unknown-race share at each decision point; representation by race.

    Tables: rates, rri, unknown_share (whole site) and, when one precinct is
    chosen, precinct_rates, precinct_rri, precinct_unknown_share; population
    (representation against adult residents) when the site publishes it.
    """
    release, cube = _cube(engine, selection, audience)
    scope = _scope(release, selection)
    reference = selection.reference
    present = q.published_tables(engine, release.release_id, selection.site_id)
    contacts = "eligible_contacts" in present
    counts = _race_counts(cube, scope.year, None, contacts)
    totals = _base_totals(cube, scope.year, None, contacts)
    tables: dict[str, Protected] = {
        "rates": _rates(counts, "disparities.rates", audience),
        "rri": _rri(counts, reference, "disparities.rri", audience),
        "unknown_share": _unknown_share(counts, totals, "disparities.unknown_share", audience),
    }
    notes = []
    if not contacts:
        notes.append(
            "This site does not publish eligible police contacts, so the step from contact "
            "to referral cannot be compared."
        )
    population_year = ""
    if "population" in present:
        scope_q = q.Scope(release.release_id, selection.site_id)
        population, chosen = _population_year(engine, scope_q, int(scope.year))
        if not population.is_empty():
            population_year = str(chosen)
            tables["population"] = _representation(
                cube, scope.year, population, "disparities.population", audience
            )
    if scope.precinct is not None:
        precinct_counts = _race_counts(cube, scope.year, scope.precinct, contacts)
        precinct_totals = _base_totals(cube, scope.year, scope.precinct, contacts)
        tables["precinct_rates"] = _rates(precinct_counts, "disparities.precinct_rates", audience)
        tables["precinct_rri"] = _rri(
            precinct_counts, reference, "disparities.precinct_rri", audience
        )
        tables["precinct_unknown_share"] = _unknown_share(
            precinct_counts, precinct_totals, "disparities.precinct_unknown_share", audience
        )
    # Every table says the year it is for: a quarter of a year under way reads another.
    tables = {key: table.labelled("year", scope.year) for key, table in tables.items()}
    facts = words(
        {
            "year": scope.year,
            "year_phrase": scope.phrase,
            "year_note": scope.note,
            "reference": reference,
            "reference_label": race_label(reference),
            "races": ",".join(_races_present(counts)),
            "precinct": scope.precinct or "",
            "population_year": population_year,
            "eligible_contacts_published": "yes" if contacts else "no",
        }
    )
    return ViewResult("disparities", tables, facts, tuple(notes))


def _distance(row: dict) -> float:
    return abs(math.log(row["estimate"]))


@view("disparity_headline")
def disparity_headline_view(
    engine: sa.Engine, selection: Selection, audience: Audience
) -> ViewResult:
    """The largest disparity across the site's decision points for the year of the period.

    "Largest" is farthest from 1 on the log scale (0.5 is as far as 2) among
    results that are published and meet OJJDP's minimums; stable results win
    ties, then the order of the decision points. Table `headline` holds that
    one row (none when no result qualifies); facts give its words.
    """
    release, cube = _cube(engine, selection, audience)
    scope = _scope(release, selection)
    present = q.published_tables(engine, release.release_id, selection.site_id)
    counts = _race_counts(cube, scope.year, None, "eligible_contacts" in present)
    rri = _rri(counts, selection.reference, "disparity_headline", audience)
    frame = rri.frame.with_row_index("_order")
    usable = frame.filter(
        pl.col("estimate").is_not_null()
        & (pl.col("estimate") > 0)
        & pl.col("reliability").is_in(_USABLE)
        & (pl.col(RACE) != selection.reference)
    )
    facts: dict[str, object] = {
        "year": scope.year,
        "year_phrase": scope.phrase,
        "reference": selection.reference,
        "reference_label": race_label(selection.reference),
        "found": "no",
    }
    if usable.is_empty():
        headline = rri.subset(rows=pl.lit(False), view="disparity_headline")
    else:
        best = max(
            usable.iter_rows(named=True),
            key=lambda r: (_distance(r), r["reliability"] == OK, -r["_order"]),
        )
        headline = rri.subset(
            rows=(pl.col("decision_point") == best["decision_point"])
            & (pl.col(RACE) == best[RACE]),
            view="disparity_headline",
        )
        point = DECISION_POINTS[best["decision_point"]]
        facts |= {
            "found": "yes",
            "decision_point": point.code,
            "decision_label": point.label,
            "decision": point.decision,
            "group": best[RACE],
            "group_label": race_label(best[RACE]),
        }
    return ViewResult("disparity_headline", {"headline": headline}, words(facts))
