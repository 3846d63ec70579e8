"""One protected cube for everything published about the referral flow of a site.

Referral counts, enrollments, screening outcomes and eligible contacts share
totals: the screening outcomes of a month add up to its referrals, enrolled
people are both a screening outcome and a column of referrals, and eligible
contacts contain the police-pathway referrals. Protecting them as separate
tables would let a reader subtract one table's total from another's, so they
are protected together, as margins of one finest table:

    precinct x quarter x race x pathway x offense x outcome

with `outcome` the screening result (or enrolled / not enrolled when a site
publishes no screening table), and the eligible contacts who were not referred
as extra rows (pathway "none", outcome "not_referred"). The finest table is
never published; only the margins in PUBLIC_LEVELS are.

Referrals and screening are not cross-tabulated in a release (no one knows the
race of the people excluded for violent history). Any finest table whose
margins equal the true margins serves here, because a reader who sees only
margins can deduce exactly the same from each: `_allocate` builds one by
stacking each precinct-quarter's non-enrolled referrals against its
non-enrolled screening outcomes (the "north-west corner" rule).

Time is published by quarter and year, never by month: monthly totals of small
sites are mostly under k and would force many quarterly totals to be withheld
as complements. Staff see exact monthly figures through the same queries.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import ProtectedCounts, protect_counts, quarter_of, year_of
from data_access.ledger import Publication
from data_access.views.base import earlier_publications, memoize
from data_access.views.linking import link_by_quarter, loaded_as_published, whole_periods_only

POLICE_PATHWAYS = ("arrest_diversion", "social_contact")
NONE = "none"
NOT_REFERRED = "not_referred"
NOT_ENROLLED = "not_enrolled"
# The funnel's stages as a dimension: `screen` groups the screening outcomes.
EXCLUDED, ELIGIBLE = "excluded", "eligible"
ELIGIBLE_OUTCOMES = ("enrolled", "declined", "pending")
COUNT = "persons"
DIMENSIONS = (
    "precinct_id",
    "quarter",
    "year",
    "race_ethnicity",
    "pathway",
    "offense",
    "outcome",
    "referred",
    "route",
    "enrolled",
    "screen",
)
# The headline figures, withheld as complements only as a last resort (first kept longest).
HEADLINE_LEVELS: tuple[tuple[str, ...], ...] = (
    ("referred", "year"),
    ("referred", "quarter"),
    ("enrolled", "year"),
    ("enrolled", "quarter"),
    ("referred", "precinct_id", "year"),
)
# Every margin published anywhere from this cube, on any page or download.
# `referred` separates referrals (yes) from eligible contacts not referred (no);
# `route` separates police pathways (whose denominator is eligible contacts)
# from community referrals; `enrolled` is yes / no / none (not referred).
PUBLIC_LEVELS: tuple[tuple[str, ...], ...] = (
    ("referred", "quarter"),
    ("referred", "year"),
    ("referred", "precinct_id", "quarter"),
    ("referred", "precinct_id", "year"),
    ("pathway", "quarter"),
    ("pathway", "year"),
    ("offense", "quarter"),
    ("offense", "year"),
    ("outcome", "quarter"),
    ("outcome", "year"),
    ("outcome", "precinct_id", "year"),
    # The funnel's own stages: everyone excluded (any reason) and everyone eligible. Each is
    # a sum of outcomes; published as margins, a sum that the other stages and the referral
    # total would pin ("excluded = referred - enrolled - declined - pending") is protected.
    ("screen", "quarter"),
    ("screen", "year"),
    ("screen", "precinct_id", "year"),
    ("enrolled", "quarter"),
    ("enrolled", "year"),
    ("referred", "year", "race_ethnicity"),
    ("route", "referred", "year", "race_ethnicity"),
    ("enrolled", "year", "race_ethnicity"),
    ("referred", "precinct_id", "year", "race_ethnicity"),
)


def _monthly(engine: sa.Engine, scope: q.Scope, table: str, by: list[str]) -> pl.DataFrame:
    frame = q.aggregate(engine, table, scope, by=by, grain="month")
    return frame.with_columns(
        quarter_of(pl.col("period")).alias("quarter"), year_of(pl.col("period")).alias("year")
    ).drop("period")


def _allocate(referrals: pl.DataFrame, screening: pl.DataFrame | None) -> pl.DataFrame:
    """Referral rows split by screening outcome, consistent with both tables' margins."""
    key = ["precinct_id", "quarter", "year"]
    detail = ["race_ethnicity", "pathway", "offense"]
    enrolled = referrals.select(*key, *detail, pl.lit("enrolled").alias("outcome"), "enrolled")
    enrolled = enrolled.rename({"enrolled": COUNT})
    rest = referrals.with_columns((pl.col("referrals") - pl.col("enrolled")).alias("n"))
    rest = rest.filter(pl.col("n") > 0)
    if screening is None:
        other = rest.select(*key, *detail, pl.lit(NOT_ENROLLED).alias("outcome"), pl.col("n"))
        return pl.concat([enrolled, other.rename({"n": COUNT})])
    rest = rest.sort([*key, *detail]).with_columns(pl.col("n").cum_sum().over(key).alias("a_end"))
    rest = rest.with_columns((pl.col("a_end") - pl.col("n")).alias("a_start"))
    outcomes = (
        screening.filter((pl.col("outcome") != "enrolled") & (pl.col("persons") > 0))
        .group_by([*key, "outcome"])
        .agg(pl.col("persons").sum())
        .sort([*key, "outcome"])
        .with_columns(pl.col("persons").cum_sum().over(key).alias("b_end"))
        .with_columns((pl.col("b_end") - pl.col("persons")).alias("b_start"))
    )
    paired = rest.join(outcomes.select(*key, "outcome", "b_start", "b_end"), on=key)
    overlap = pl.min_horizontal("a_end", "b_end") - pl.max_horizontal("a_start", "b_start")
    paired = paired.with_columns(overlap.alias(COUNT)).filter(pl.col(COUNT) > 0)
    return pl.concat([enrolled, paired.select(*key, *detail, "outcome", COUNT)])


def _not_referred(referrals: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    """Eligible contacts minus police-pathway referrals, per precinct, quarter and race."""
    key = ["precinct_id", "quarter", "year", "race_ethnicity"]
    police = (
        referrals.filter(pl.col("pathway").is_in(POLICE_PATHWAYS))
        .group_by(key)
        .agg(pl.col("referrals").sum())
    )
    rows = contacts.group_by(key).agg(pl.col("eligible_contacts").sum())
    rows = rows.join(police, on=key, how="left").with_columns(
        (pl.col("eligible_contacts") - pl.col("referrals").fill_null(0)).clip(0).alias(COUNT)
    )
    return rows.filter(pl.col(COUNT) > 0).select(
        *key,
        pl.lit(NONE).alias("pathway"),
        pl.lit(NONE).alias("offense"),
        pl.lit(NOT_REFERRED).alias("outcome"),
        COUNT,
    )


def finest_table(
    engine: sa.Engine, release_id: str, site_id: str, precinct_ids: tuple[str, ...] = ()
) -> pl.DataFrame:
    """The exact finest table of the cube (never published itself).

    `precinct_ids` restricts it to some precincts: staff only, whose figures
    are exact; the public see one precinct through the precinct levels instead.
    """
    scope = q.Scope(release_id, site_id, precinct_ids)
    present = q.published_tables(engine, release_id, site_id)
    referrals = _monthly(
        engine, scope, "referrals", ["precinct_id", "race_ethnicity", "pathway", "offense"]
    )
    screening = (
        _monthly(engine, scope, "screening", ["precinct_id", "outcome"])
        if "screening" in present
        else None
    )
    parts = [_allocate(referrals, screening)]
    if "eligible_contacts" in present:
        contacts = _monthly(engine, scope, "eligible_contacts", ["precinct_id", "race_ethnicity"])
        parts.append(_not_referred(referrals, contacts))
    frame = pl.concat(parts, how="diagonal_relaxed").filter(pl.col(COUNT) > 0)
    frame = frame.with_columns(
        pl.when(pl.col("pathway") == NONE).then(pl.lit("no")).otherwise(pl.lit("yes"))
        .alias("referred"),
        pl.when(pl.col("pathway") == "community_referral").then(pl.lit("community"))
        .otherwise(pl.lit("police")).alias("route"),
        pl.when(pl.col("outcome") == "enrolled").then(pl.lit("yes"))
        .when(pl.col("outcome") == NOT_REFERRED).then(pl.lit(NONE))
        .otherwise(pl.lit("no")).alias("enrolled"),
        pl.when(pl.col("outcome").str.starts_with("excluded_")).then(pl.lit(EXCLUDED))
        .when(pl.col("outcome").is_in(ELIGIBLE_OUTCOMES)).then(pl.lit(ELIGIBLE))
        .otherwise(pl.lit(NONE)).alias("screen"),
    )  # fmt: skip
    if screening is None:  # no screening table: nobody is known to be excluded or eligible
        frame = frame.with_columns(pl.lit(NONE).alias("screen"))
    return frame.group_by(DIMENSIONS).agg(pl.col(COUNT).sum()).sort(DIMENSIONS)


@memoize(maxsize=64)
def referral_flow(
    engine: sa.Engine,
    release_id: str,
    checksum: str,
    site_id: str,
    audience: Audience,
    precinct_ids: tuple[str, ...] = (),
) -> ProtectedCounts:
    """The site's referral-flow cube with every public level protected together."""
    del checksum  # only part of the memo key: a replaced release is recomputed
    if precinct_ids and audience is not Audience.STAFF:
        raise PermissionError("only staff may restrict the cube to a set of precincts")
    finest = finest_table(engine, release_id, site_id, precinct_ids)
    earlier = ()
    if audience is Audience.PUBLIC:
        # The public see whole periods only, protected against every earlier release.
        finest = whole_periods_only(finest, q.get_release(engine, release_id).as_of)
        finest, earlier = link_by_quarter(
            finest,
            earlier_publications(referral_flow, engine, release_id, site_id),
            finest_then=lambda publication: _finest_then(engine, publication, site_id),
            levels_then=lambda publication: {
                level: table.frame for level, table in publication.value.levels.items()
            },
            count=COUNT,
        )
    return protect_counts(
        finest,
        view=f"referral_flow:{site_id}",
        dimensions=DIMENSIONS,
        count=COUNT,
        margins=PUBLIC_LEVELS,
        finest_published=False,
        protect=HEADLINE_LEVELS,
        audience=audience,
        earlier=earlier,
    )


def _finest_then(engine: sa.Engine, publication: Publication, site_id: str) -> pl.DataFrame | None:
    """The finest table an earlier publication was made from, while its rows are loaded."""
    if not loaded_as_published(engine, publication):
        return None
    return finest_table(engine, publication.release_id, site_id)
