"""The one registry of metric definitions.

Pages, downloads, the methods page and the briefing PDF all read a metric's
name, description, numerator, denominator, method, caveats and sources from
here, so each definition is written once. Every output frame of
data_access.metrics carries a `metric_id` column that names an entry below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TypeVar

import polars as pl

from data_access.metrics.reliability import OJJDP_MIN_BASE, OJJDP_MIN_EVENTS


@dataclass(frozen=True)
class MetricDefinition:
    id: str
    name: str
    description: str  # plain language, for anyone
    numerator: str
    denominator: str
    unit: str
    method: str  # the formula
    interval: str  # how the 95% interval is computed, or why there is none
    reliability: str  # which reliability rules apply
    caveats: tuple[str, ...]
    sources: tuple[str, ...]


# Sources, as cited in ../shared/reference/lead-facts-and-methods.md.
_OJJDP_RRI = (
    "OJJDP National DMC Databook, 'What is an RRI?' and 'Constructing an RRI Matrix' — "
    "https://www.ojjdp.gov/ojstatbb/dmcdb/asp/whatis.asp ; "
    "https://www.ojjdp.gov/ojstatbb/dmcdb/asp/matrix.asp"
)
_FEYERHERM = (
    "Feyerherm & Butts, Proposed Methods for Measuring DMC (rev. 2002): groups of at least 1% "
    "of the population are analysed separately"
)
_ALTMAN = (
    "Altman, Machin, Bryant & Gardner, Statistics with Confidence, 2nd ed. (BMJ Books, 2000): "
    "log-scale interval for a ratio of proportions"
)
_WILSON = (
    "Wilson (1927), J. Am. Stat. Assoc. 22:209-212; Newcombe (1998), Statistics in Medicine "
    "17:857-872 (score interval for a single proportion)"
)
_NEWCOMBE_RD = (
    "Newcombe (1998), Statistics in Medicine 17:873-890, method 10 "
    "(hybrid score interval for a difference of proportions)"
)
_MEDCALC = (
    "MedCalc odds-ratio notes (Altman 1991; 0.5 correction per Pagano & Gauvreau) — "
    "https://www.medcalc.org/calc/odds_ratio.php"
)
_BYAR = (
    "Breslow & Day (1987), Statistical Methods in Cancer Research vol. II: Byar's "
    "approximation to exact Poisson limits"
)
_NCHS = (
    "NCHS presentation conventions as summarised in the reference, section D.4 items 6-7: "
    "no proportion from fewer than 30 people; flag estimates from fewer than 20 events"
)
_COLLINS_2017 = (
    "Collins, Lonczak & Clifasefi (2017), Evaluation and Program Planning 64:49-56, "
    "doi:10.1016/j.evalprogplan.2017.05.008 (58% lower odds of arrest, OR about 0.42)"
)
_COLLINS_2019 = (
    "Collins et al. (2019), Journal of Experimental Criminology, doi:10.1007/s11292-019-09352-7 "
    "(legal-system cost per person-year: LEAD -$2,100, comparison +$5,961)"
)
_WI_CJCC = (
    "Wisconsin CJCC, Framework for Defining and Measuring Recidivism (2016): defined start "
    "date, bounded cohort, consistent follow-up — https://docsbay.net/defining-recidivism"
)
_BJS = (
    "BJS, Durose, Cooper & Snyder (2014), NCJ 244205: fixed follow-up windows from release "
    "cohorts — https://bjs.ojp.gov/redirect-legacy/content/pub/ascii/rprts05p0510.txt"
)
_EMERSON = (
    "Emerson, Life Table Methods (actuarial estimator, Greenwood variance) — "
    "http://emersonstatistics.com/courses/Short/SoCal2004/socal01may04-1_files/slide2352.htm"
)
_LEAD_KC = (
    "LEAD King County, Data & Results (referrals received, enrolled clients per quarter) — "
    "https://leadkingcounty.org/data-results"
)
_LEAD_ENROLLMENT = (
    "LEAD Support Bureau Toolkit, ch. 3 'LEAD Enrollment' (pathways and eligibility) — "
    "https://leadbureau.org/toolkit/chapters/lead-enrollment/"
)
_CRIMESOLUTIONS = (
    "CrimeSolutions program profile (Seattle eligibility and exclusions) — "
    "https://www.crimesolutions.gov/ProgramDetails.aspx?ID=477"
)
_NCTAC = (
    "UNC NC Training & Technical Assistance Center, pre- and post-arrest diversion evaluation "
    "resources — https://www.med.unc.edu/fammed/nctac/resources/evaluation/"
    "pre-and-post-arrest-diversion-resources/"
)
_CASEY = (
    "Annie E. Casey Foundation, 'Adjusting for relative risk' (disparity index for entry, RRI "
    "inside a system) — https://aecf.org/blog/adjusting-for-relative-risk-an-apples-to-apples-"
    "approach-to-racial-disparit"
)
_CCWIP = (
    "Shaw, Putnam-Hornstein, Magruder & Needell (2008), Child Welfare 87(2):23-36 (the "
    "representation ratio's ceiling of 1/population share)"
)
_BURNS = (
    "W. Haywood Burns Institute, Unbalanced Youth Justice: measurements — "
    "https://data.burnsinstitute.org/about/measurements"
)
_VERA_JAILS = (
    "Vera Institute, The Price of Jails (2015): jail budgets understate full costs — "
    "https://www.macfound.org/press/grantee-publications/assessing-costs-jails"
)
_SANTA_FE = (
    "NM Sentencing Commission, LEAD Santa Fe evaluation (2018): $7,541 per client-year, "
    "program plus criminal-justice cost — https://www.lead-santafe.org/about/cost-and-funding"
)
_SEATTLE_COST = (
    "Collins et al. (2015), LEAD program evaluation: criminal justice and legal system "
    "utilization and associated costs ($899 per person-month on average, $532 at steady state)"
)

_PROPORTION_RULES = (
    "not computable when the denominator is 0 or an input is withheld; insufficient when the "
    "denominator is under 30; unstable when the numerator is under 20"
)
_TWO_GROUP_RULES = (
    "not computable when either group is empty or an input is withheld; insufficient when "
    "either group has fewer than 30 people; unstable when either group has fewer than 20 events"
)
_COUNT_RULES = "not computable when the count is withheld; counts are otherwise exact"
_QUASI = (
    "A quasi-experimental comparison, not a randomized trial: the comparison group was not "
    "assigned by chance, so differences need not be caused by LEAD."
)
_WINDOW = (
    "Only cohorts whose whole window has passed by the release's as-of date are counted: "
    "cohort quarter end + window <= as_of."
)
_CHANGE_METHOD = (
    "Periods inside the span with no row count as zero; a withheld count withholds every "
    "change computed from it."
)


def _d(**kwargs) -> MetricDefinition:
    kwargs["caveats"] = tuple(kwargs.get("caveats", ()))
    kwargs["sources"] = tuple(kwargs.get("sources", ()))
    return MetricDefinition(**kwargs)


_DEFINITIONS: tuple[MetricDefinition, ...] = (
    # Referrals ---------------------------------------------------------------------------
    _d(
        id="referrals.count",
        name="Referrals",
        description="How many people were referred to LEAD, by period and by pathway, offense, "
        "precinct or race.",
        numerator="People referred to LEAD",
        denominator="None (a count)",
        unit="people",
        method="Sum of referrals over the chosen groups and period.",
        interval="None: a full count of referrals, not a sample.",
        reliability=_COUNT_RULES,
        caveats=(
            "Counts, not rates: a rise can reflect more policing, a new precinct or more "
            "capacity as much as more need.",
        ),
        sources=(_LEAD_KC, _LEAD_ENROLLMENT),
    ),
    _d(
        id="referrals.change_vs_previous",
        name="Change in referrals from the previous period",
        description="How many more (or fewer) referrals there were than in the period before.",
        numerator="Referrals this period",
        denominator="Referrals in the previous period (the base compared with)",
        unit="people",
        method="count(t) − count(t − 1). " + _CHANGE_METHOD,
        interval="None.",
        reliability="not computable when either count is withheld or there is no previous "
        "period in the data",
        caveats=("Month-to-month swings in small programs are often noise.",),
        sources=(_LEAD_KC,),
    ),
    _d(
        id="referrals.relative_change_vs_previous",
        name="Relative change in referrals from the previous period",
        description="The change from the previous period as a share of the previous period "
        "(0.25 means 25% more).",
        numerator="Referrals this period minus referrals in the previous period",
        denominator="Referrals in the previous period",
        unit="proportion (0.25 = +25%)",
        method="(count(t) − count(t − 1)) / count(t − 1). " + _CHANGE_METHOD,
        interval="None.",
        reliability="not computable when the previous period had no referrals (undefined) or a "
        "count is withheld; unstable when the previous period had fewer than 20",
        caveats=("Percent changes from small bases swing widely.",),
        sources=(_LEAD_KC,),
    ),
    _d(
        id="referrals.change_vs_year_earlier",
        name="Change in referrals from the same period a year earlier",
        description="How many more (or fewer) referrals there were than in the same month, "
        "quarter or year one year before; removes seasonal patterns.",
        numerator="Referrals this period",
        denominator="Referrals in the same period a year earlier (the base compared with)",
        unit="people",
        method="count(t) − count(t − one year). " + _CHANGE_METHOD,
        interval="None.",
        reliability="not computable when either count is withheld or the data do not reach "
        "back a year",
        caveats=(),
        sources=(_LEAD_KC,),
    ),
    _d(
        id="referrals.relative_change_vs_year_earlier",
        name="Relative change in referrals from the same period a year earlier",
        description="The change from a year earlier as a share of the year-earlier count.",
        numerator="Referrals this period minus referrals a year earlier",
        denominator="Referrals in the same period a year earlier",
        unit="proportion (0.25 = +25%)",
        method="(count(t) − count(t − one year)) / count(t − one year). " + _CHANGE_METHOD,
        interval="None.",
        reliability="not computable when the year-earlier period had no referrals or a count "
        "is withheld; unstable when it had fewer than 20",
        caveats=("Percent changes from small bases swing widely.",),
        sources=(_LEAD_KC,),
    ),
    _d(
        id="referrals.rolling_3_month_average",
        name="Referrals, three-month rolling average",
        description="The average of this month's referrals and the two months before it; "
        "smooths month-to-month noise.",
        numerator="Referrals over the three months ending this month",
        denominator="3 months",
        unit="people per month",
        method="(count(m) + count(m − 1) + count(m − 2)) / 3, only when all three are known.",
        interval="None.",
        reliability="not computable for the first two months of the series or when a month in "
        "the window is withheld",
        caveats=("Lags turning points by about a month.",),
        sources=(_LEAD_KC,),
    ),
    _d(
        id="referrals.enrollment_rate",
        name="Enrollment rate of referrals",
        description="Of the people referred, the share who enrolled in LEAD.",
        numerator="People referred who enrolled",
        denominator="People referred",
        unit="proportion",
        method="enrolled / referrals.",
        interval="Wilson score interval.",
        reliability=_PROPORTION_RULES,
        caveats=("Recent referrals may still be in screening, which lowers the latest rates.",),
        sources=(_WILSON, _LEAD_ENROLLMENT),
    ),
    # Screening ---------------------------------------------------------------------------
    _d(
        id="screening.referred",
        name="Referred for screening",
        description="Everyone referred and screened for eligibility: the top of the funnel.",
        numerator="People referred (sum of every screening outcome)",
        denominator="The same (the base of the funnel)",
        unit="proportion (1 by definition); the count is the numerator",
        method="Sum of persons over all screening outcomes.",
        interval="None.",
        reliability=_PROPORTION_RULES,
        caveats=(),
        sources=(_LEAD_ENROLLMENT,),
    ),
    _d(
        id="screening.eligible",
        name="Eligible after screening",
        description="Of the people referred, the share not excluded by the eligibility rules.",
        numerator="People referred minus people excluded (= enrolled + declined + pending)",
        denominator="People referred",
        unit="proportion",
        method="(referred − Σ exclusions) / referred.",
        interval="Wilson score interval.",
        reliability=_PROPORTION_RULES,
        caveats=("Eligibility rules differ between sites (e.g. drug quantity limits).",),
        sources=(_WILSON, _CRIMESOLUTIONS, _LEAD_ENROLLMENT),
    ),
    _d(
        id="screening.excluded",
        name="Excluded at screening, by reason",
        description="Of the people referred, the share excluded for a history of violent "
        "crime, exploitation of minors or dealing beyond subsistence (and all reasons together).",
        numerator="People excluded for the reason (or for any reason)",
        denominator="People referred",
        unit="proportion",
        method="excluded_reason / referred; the 'excluded' stage sums every reason.",
        interval="Wilson score interval.",
        reliability=_PROPORTION_RULES,
        caveats=("Officers may also screen people out before a referral is recorded.",),
        sources=(_WILSON, _CRIMESOLUTIONS),
    ),
    _d(
        id="screening.enrolled",
        name="Enrolled after screening",
        description="Of the eligible people, the share who enrolled.",
        numerator="People enrolled",
        denominator="Eligible people (referred minus excluded)",
        unit="proportion",
        method="enrolled / eligible.",
        interval="Wilson score interval.",
        reliability=_PROPORTION_RULES,
        caveats=("People still pending lower the latest periods' shares.",),
        sources=(_WILSON, _LEAD_ENROLLMENT),
    ),
    _d(
        id="screening.declined",
        name="Declined to take part",
        description="Of the eligible people, the share who declined LEAD.",
        numerator="People who declined",
        denominator="Eligible people",
        unit="proportion",
        method="declined / eligible.",
        interval="Wilson score interval.",
        reliability=_PROPORTION_RULES,
        caveats=(),
        sources=(_WILSON,),
    ),
    _d(
        id="screening.pending",
        name="Screening still pending",
        description="Of the eligible people, the share whose screening had not finished.",
        numerator="People pending",
        denominator="Eligible people",
        unit="proportion",
        method="pending / eligible.",
        interval="Wilson score interval.",
        reliability=_PROPORTION_RULES,
        caveats=("Highest in the most recent months; falls as screening completes.",),
        sources=(_WILSON,),
    ),
    # Diversion ---------------------------------------------------------------------------
    _d(
        id="diversion.rate",
        name="Diversion rate",
        description="Referrals to LEAD per police contact or arrest for a LEAD-eligible "
        "offense: how often officers used LEAD when they could have.",
        numerator="Referrals made by police (arrest diversion and social contact pathways)",
        denominator="Police contacts or arrests for LEAD-eligible offenses",
        unit="proportion",
        method="police referrals / eligible contacts, by race or precinct. Community referrals "
        "are left out of the numerator because they do not come from a police contact.",
        interval="Wilson score interval.",
        reliability=_PROPORTION_RULES
        + "; not computable when referrals exceed eligible contacts (inconsistent data)",
        caveats=(
            "Social contact referrals need not follow a recorded contact, so the rate is an "
            "upper bound on diversion of arrests.",
            "Eligible contacts depend on where police patrol.",
        ),
        sources=(_WILSON, _LEAD_ENROLLMENT, _OJJDP_RRI),
    ),
    # Services ----------------------------------------------------------------------------
    _d(
        id="services.uptake",
        name="Service uptake",
        description="Of the participants active in a month, the share who received each of "
        "the eight services (housing, counseling, mental health, drug treatment, health care, "
        "groceries, clothing, job training), pooled over the months of the period.",
        numerator="Participant-months with the service (sum over months of participants served)",
        denominator="Participant-months active (sum over months of active participants)",
        unit="proportion of participant-months",
        method="Σ_months participants_served / Σ_months active_participants. A person active "
        "for three months counts three times in both sums, so this is the share of active "
        "participant-months in which the service was received, not the share of people ever "
        "served in the period.",
        interval="Wilson score interval (treats participant-months as independent, so it is "
        "somewhat too narrow when the same people recur month after month).",
        reliability=_PROPORTION_RULES
        + "; not computable when more were served than were active (inconsistent data)",
        caveats=(
            "Recorded linkage, not need: a low share can mean a service is scarce, not unwanted.",
        ),
        sources=(_WILSON, _NCTAC),
    ),
    # Recidivism --------------------------------------------------------------------------
    _d(
        id="recidivism.rate",
        name="Re-arrest (or new felony charge) within a fixed window",
        description="Of the people who entered LEAD (or the comparison group) in cohorts whose "
        "whole 6, 12, 24 or 36-month window has passed, the share arrested again (or charged "
        "with a new felony) within that window. With a cohort grouping it is the trend across "
        "entry cohorts.",
        numerator="People with at least one arrest (or felony charge) within the window",
        denominator="People who entered in the cohorts counted",
        unit="proportion",
        method="Σ events at followup_months = window / Σ cohort_size, over cohorts whose "
        "window closed by as_of. " + _WINDOW,
        interval="Wilson score interval.",
        reliability=_PROPORTION_RULES,
        caveats=(
            _WINDOW,
            "Arrests reflect police activity as well as behaviour; convictions are deliberately "
            "not used.",
        ),
        sources=(_WILSON, _WI_CJCC, _BJS, _COLLINS_2017),
    ),
    _d(
        id="recidivism.risk_difference",
        name="Re-arrest: difference between LEAD and comparison",
        description="The LEAD re-arrest rate minus the comparison group's, in percentage "
        "points; negative means fewer LEAD participants were re-arrested.",
        numerator="LEAD: people re-arrested within the window (reference cells: comparison)",
        denominator="LEAD: people in closed cohorts (reference cells: comparison)",
        unit="difference of proportions",
        method="RD = a/n1 − b/n0 (a, n1 LEAD; b, n0 comparison).",
        interval="Newcombe's hybrid score interval (method 10), built from the two Wilson "
        "intervals; better than the Wald interval when counts are small.",
        reliability=_TWO_GROUP_RULES,
        caveats=(_QUASI, _WINDOW),
        sources=(_NEWCOMBE_RD, _COLLINS_2017),
    ),
    _d(
        id="recidivism.risk_ratio",
        name="Re-arrest: risk ratio, LEAD against comparison (headline)",
        description="The LEAD re-arrest rate divided by the comparison group's: 0.7 means LEAD "
        "participants were re-arrested 30% less often.",
        numerator="LEAD: people re-arrested within the window (reference cells: comparison)",
        denominator="LEAD: people in closed cohorts (reference cells: comparison)",
        unit="ratio",
        method="RR = (a/n1) / (b/n0); SE[ln RR] = sqrt(1/a − 1/n1 + 1/b − 1/n0).",
        interval="Katz log interval exp(ln RR ± 1.96·SE); 0.5 added to every cell when a or b "
        "is 0 (flagged in the note).",
        reliability=_TWO_GROUP_RULES + "; not computable when neither group has an event",
        caveats=(_QUASI, _WINDOW),
        sources=(_ALTMAN, _MEDCALC, _COLLINS_2017),
    ),
    _d(
        id="recidivism.odds_ratio",
        name="Re-arrest: odds ratio, LEAD against comparison",
        description="The odds of re-arrest for LEAD divided by the comparison group's odds. "
        "Shown beside the risk ratio so it can be set next to the published Seattle figure "
        "('58% lower odds', an odds ratio of about 0.42). Odds ratios exaggerate risk "
        "reductions when re-arrest is common: read 'lower odds', not 'less likely'.",
        numerator="LEAD: people re-arrested within the window (reference cells: comparison)",
        denominator="LEAD: people in closed cohorts (reference cells: comparison)",
        unit="ratio",
        method="OR = (a·d) / (b·c), c = n1 − a, d = n0 − b; "
        "SE[ln OR] = sqrt(1/a + 1/b + 1/c + 1/d).",
        interval="Woolf log interval exp(ln OR ± 1.96·SE); Haldane's 0.5 added to every cell "
        "when any cell is 0 (flagged in the note).",
        reliability=_TWO_GROUP_RULES
        + "; not computable when neither group has an event or everyone in both groups has one",
        caveats=(
            _QUASI,
            "The published Seattle estimate came from a propensity-weighted model, not a crude "
            "2×2 table; the two are comparable in direction and size, not identical.",
        ),
        sources=(_MEDCALC, _COLLINS_2017),
    ),
    _d(
        id="recidivism.cumulative_curve",
        name="Cumulative re-arrest curve",
        description="The share re-arrested by each month since entry, using every cohort for "
        "as long as it has been followed (life table), with a 95% band.",
        numerator="People re-arrested up to this month (events summed over intervals)",
        denominator="People who entered (at risk at the start of follow-up)",
        unit="proportion",
        method="Actuarial life table over the follow-up points: N_j at risk at the start of "
        "interval j, D_j first re-arrests, C_j censored (cohorts whose follow-up stops inside "
        "the interval, counted as at risk for half of it). n'_j = N_j − C_j/2, "
        "q_j = D_j/n'_j, S(t) = Π(1 − q_j); the curve is 1 − S(t).",
        interval="Greenwood variance with a log(−log) transform: S^exp(±1.96·σ), "
        "σ = sqrt(Σ D_j/(n'_j(n'_j − D_j))) / |ln S|.",
        reliability="not computable when no one is at risk; unstable when fewer than 20 people "
        "are at risk at the start of the interval (disclosure stops the curve where fewer than "
        "k, the disclosure threshold, remain at risk)",
        caveats=(
            _QUASI,
            "Assumes people censored are as likely to be re-arrested as those still followed.",
        ),
        sources=(_EMERSON, _WI_CJCC),
    ),
    # Disparities -------------------------------------------------------------------------
    _d(
        id="disparity.rri",
        name="Relative Rate Index (RRI)",
        description="How often a group moves on at a decision point compared with the "
        "reference group (white unless chosen otherwise): 2 means twice as often, 0.5 half as "
        "often. Decision points: eligible contact to referral, referral to enrollment, "
        "active participation to each service, participation to re-arrest.",
        numerator="The group's rate at the decision point (events / feeder stage)",
        denominator="The reference group's rate at the same decision point",
        unit="ratio (1 = parity)",
        method="RRI = (a/A) / (b/B): a of A for the group, b of B for the reference group, "
        "A and B counted at the stage that feeds the decision. "
        "SE[ln RRI] = sqrt(1/a − 1/A + 1/b − 1/B).",
        interval="exp(ln RRI ± 1.96·SE); the interval 'excludes 1' flags a difference unlikely "
        "to be chance alone. 0.5 added to each cell when a or b is 0 (flagged).",
        reliability="OJJDP minimums, as this dashboard applies them: insufficient when the "
        f"group's or the reference group's base is under {OJJDP_MIN_BASE}, when either has "
        f"not reached OJJDP's minimum of {OJJDP_MIN_EVENTS} events (a rule of its own, apart "
        "from the disclosure threshold), or when the group is under 1% of the base; "
        "unstable when either has fewer than 20 events; not computable when the reference "
        "group is absent, empty or has no events. Race unknown is never a group; its share "
        "is shown beside every result.",
        caveats=(
            "A ratio hides the size of the groups: read it with the counts and rates.",
            "People of unknown race are left out of every group; a large unknown share can "
            "bias the comparison.",
        ),
        sources=(_OJJDP_RRI, _FEYERHERM, _ALTMAN, _BURNS),
    ),
    _d(
        id="disparity.unknown_race_share",
        name="Share with race unknown",
        description="The share of people whose race or ethnicity was not recorded, shown "
        "beside every disparity result because it limits what the comparison can say.",
        numerator="People with race unknown",
        denominator="All people counted",
        unit="proportion",
        method="unknown / total.",
        interval="Wilson score interval.",
        reliability="not computable when the total is 0 or withheld; otherwise reported as is",
        caveats=(),
        sources=(_WILSON,),
    ),
    _d(
        id="disparity.representation_ratio",
        name="Representation against population",
        description="A group's share of referrals (or of another count) divided by its share "
        "of the adult population: above 1 means over-represented.",
        numerator="The group's share of the count (people of known race)",
        denominator="The group's share of the adult population",
        unit="ratio (1 = parity)",
        method="DI_g = (x_g / X) / (P_g / P), people of unknown race left out of X.",
        interval="Byar's Poisson interval on x_g, divided by X·P_g/P (X and P held fixed).",
        reliability="insufficient when the group is under 1% of the population or its "
        "population is under 100; unstable when x_g is under 20; not computable when a "
        "population or the total is 0 or withheld",
        caveats=(
            "Cannot exceed 1/(population share) (column `ceiling`), so it is not comparable "
            "across groups of different sizes; the RRI is the within-system measure.",
            "Residents are not the same as the people police meet.",
        ),
        sources=(_CASEY, _CCWIP, _BYAR),
    ),
    _d(
        id="disparity.population_rate",
        name="Rate per 10,000 residents",
        description="How many people of a group were counted (e.g. referred) per 10,000 adult "
        "residents of that group.",
        numerator="People of the group counted",
        denominator="Adult residents of the group",
        unit="per 10,000 residents",
        method="x_g / P_g × 10,000.",
        interval="Byar's Poisson interval on x_g, scaled the same way.",
        reliability="not computable when the population is 0 or withheld; insufficient when "
        "the population is under 100; unstable when x_g is under 20",
        caveats=("Residents are not the same as the people police meet.",),
        sources=(_BURNS, _BYAR),
    ),
    # Costs -------------------------------------------------------------------------------
    _d(
        id="costs.per_person_year",
        name="Cost per person-year",
        description="Public spending per person in a fiscal year, by category, for LEAD "
        "participants and the comparison group.",
        numerator="Total cost in US dollars",
        denominator="People in the group during the fiscal year (one person-year each)",
        unit="US dollars per person-year",
        method="total_cost_usd / persons; the 'all' category sums every category over the "
        "group's persons.",
        interval="None: aggregate costs carry no person-level variation; see the range of the "
        "difference-in-differences saving.",
        reliability="not computable when there are no persons or an input is withheld; "
        "insufficient when fewer than 30 persons",
        caveats=(
            "Counts each person in the fiscal year as one person-year; people present for part "
            "of the year make this an upper bound on the cost per full year.",
            "Budgets understate full costs (benefits, capital and health care sit elsewhere).",
        ),
        sources=(_COLLINS_2019, _VERA_JAILS, _SANTA_FE),
    ),
    _d(
        id="costs.change_vs_previous_year",
        name="Change in cost per person-year",
        description="How much the cost per person-year rose or fell from the previous fiscal year.",
        numerator="Cost per person-year this fiscal year",
        denominator="Cost per person-year in the previous fiscal year",
        unit="US dollars per person-year",
        method="cost_per_person_year(y) − cost_per_person_year(y − 1).",
        interval="None.",
        reliability="not computable when either year's cost is not computable",
        caveats=("Not adjusted for inflation unless the input costs are.",),
        sources=(_COLLINS_2019,),
    ),
    _d(
        id="costs.relative_change_vs_previous_year",
        name="Relative change in cost per person-year",
        description="The change from the previous fiscal year as a share of that year's cost.",
        numerator="Change in cost per person-year",
        denominator="Cost per person-year in the previous fiscal year",
        unit="proportion (0.25 = +25%)",
        method="(cost(y) − cost(y − 1)) / cost(y − 1).",
        interval="None.",
        reliability="not computable when the previous year's cost is 0 or not computable",
        caveats=("Not adjusted for inflation unless the input costs are.",),
        sources=(_COLLINS_2019,),
    ),
    _d(
        id="costs.did_saving",
        name="Criminal-justice saving per person-year (difference in differences)",
        description="How much less LEAD participants' public costs grew (or how much more they "
        "fell) than the comparison group's, from the baseline years to the later years. "
        "Shown as a range: 'marginal' leaves out fixed-cost categories (police, courts) that "
        "do not shrink when caseloads do; 'fully loaded' counts every category.",
        numerator="(post − pre)_comparison − (post − pre)_LEAD, cost per person-year",
        denominator="Person-years of each group in each period (carried as four counts)",
        unit="US dollars per person-year",
        method="Per group and period: Σ cost / Σ persons over the period's fiscal years. "
        "Saving = (post − pre)_comparison − (post − pre)_LEAD. The LEAD program's own cost is "
        "left out (see the net saving).",
        interval="None from aggregates (a bootstrap needs person-level data); the range "
        "marginal to fully loaded shows the cost-assumption uncertainty instead.",
        reliability="not computable when any group-period has no persons or a withheld input; "
        "insufficient when any has fewer than 30 persons",
        caveats=(
            _QUASI,
            "Assumes both groups' costs would have moved in parallel without LEAD.",
            "Savings land in different budgets (city jail, county prosecutor, state prison).",
        ),
        sources=(_COLLINS_2019, _VERA_JAILS, _SEATTLE_COST),
    ),
    _d(
        id="costs.net_saving",
        name="Net saving per person-year, after the program's cost",
        description="The criminal-justice saving minus what LEAD itself cost per participant-"
        "year in the later years.",
        numerator="DiD saving − LEAD program cost per person-year (post years)",
        denominator="Person-years (as for the saving)",
        unit="US dollars per person-year",
        method="did_saving − Σ program cost / Σ LEAD persons over the post years.",
        interval="None (see the range).",
        reliability="as for the saving",
        caveats=(_QUASI,),
        sources=(_SANTA_FE, _COLLINS_2019),
    ),
    _d(
        id="costs.program_per_participant",
        name="Program cost per participant",
        description="What the LEAD program (case management and services) cost per participant "
        "in a fiscal year.",
        numerator="LEAD program cost in US dollars",
        denominator="LEAD participants during the fiscal year",
        unit="US dollars per participant-year",
        method="program total_cost_usd / persons, LEAD group.",
        interval="None.",
        reliability="not computable when there are no participants or an input is withheld; "
        "insufficient when fewer than 30",
        caveats=("Start-up years cost more per participant than steady state.",),
        sources=(_SEATTLE_COST, _SANTA_FE),
    ),
    _d(
        id="costs.program_per_participant_month",
        name="Program cost per participant-month",
        description="What the LEAD program cost per month of active participation.",
        numerator="LEAD program cost in US dollars",
        denominator="Participant-months (sum over the fiscal year's months of active participants)",
        unit="US dollars per participant-month",
        method="program total_cost_usd / Σ active_participants over the months of the fiscal year.",
        interval="None.",
        reliability="not computable when there are no participant-months or an input is "
        "withheld; insufficient when fewer than 30",
        caveats=("Seattle reported $899 per person-month on average and $532 at steady state.",),
        sources=(_SEATTLE_COST,),
    ),
)

REGISTRY: dict[str, MetricDefinition] = {d.id: d for d in _DEFINITIONS}
if len(REGISTRY) != len(_DEFINITIONS):  # pragma: no cover - guards editing mistakes
    raise RuntimeError("metric registry: two definitions share an id")

# metric id -> names of the functions that compute it (filled by @implements).
IMPLEMENTED_BY: dict[str, list[str]] = {}

F = TypeVar("F", bound=Callable)


def implements(*metric_ids: str) -> Callable[[F], F]:
    """Mark a function as computing these metrics; an unknown id fails at import."""
    unknown = [m for m in metric_ids if m not in REGISTRY]
    if unknown:
        raise KeyError(f"metric ids not in the registry: {unknown}")

    def mark(fn: F) -> F:
        fn.metric_ids = tuple(metric_ids)  # type: ignore[attr-defined]
        for m in metric_ids:
            IMPLEMENTED_BY.setdefault(m, []).append(f"{fn.__module__}.{fn.__qualname__}")
        return fn

    return mark


def list_metrics() -> tuple[MetricDefinition, ...]:
    """Every definition, in the order the methods page lists them."""
    return _DEFINITIONS


def get_metric(metric_id: str) -> MetricDefinition:
    """One definition by id; a KeyError that lists the known ids otherwise."""
    try:
        return REGISTRY[metric_id]
    except KeyError:
        raise KeyError(f"no metric {metric_id!r}; known: {sorted(REGISTRY)}") from None


def registry_frame() -> pl.DataFrame:
    """The registry as a table, for downloads: caveats and sources joined with ' | '."""
    rows = []
    for d in _DEFINITIONS:
        row = {f.name: getattr(d, f.name) for f in fields(d)}
        row["caveats"] = " | ".join(d.caveats)
        row["sources"] = " | ".join(d.sources)
        rows.append(row)
    return pl.DataFrame(rows, schema={f.name: pl.String for f in fields(MetricDefinition)})
