"""Every site of a release side by side: each site's own protected headline figures.

Nothing is added up across sites (no national total is published), so each
figure is exactly what that site's own pages show, protected in that site's
own cubes. The view gathers them; the page lays them out.
"""

from __future__ import annotations

import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import Protected
from data_access.periods import available_periods, parse_period
from data_access.views.base import Selection, ViewResult, build, view, words

# (view, table) pairs gathered for every site.
HEADLINES = (
    ("referrals", "change"),
    ("referrals", "funnel"),
    ("recidivism_headline", "rates"),
    ("recidivism_headline", "comparison"),
    ("disparity_headline", "headline"),
    ("cost_headline", "saving"),
)


@view("compare_sites")
def compare_sites_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """Headline tables of every site for the selected period, keyed "<site_id>/<view>/<table>"."""
    release = q.get_release(engine, selection.release_id)
    site_table = q.sites(engine, release.release_id)
    launched = dict(zip(site_table["site_id"], site_table["launched"], strict=True))
    order = [s for s in release.sites if s in launched] + [
        s for s in launched if s not in release.sites
    ]
    period = parse_period(selection.period)
    tables: dict[str, Protected] = {}
    facts = {"sites": ",".join(order), "period_phrase": period.phrase}
    for site_id in order:
        covered = {p.code for p in available_periods(release.as_of, launched[site_id])}
        if period.code not in covered:
            facts[f"{site_id}/status"] = f"no data for {period.phrase}"
            continue
        site_selection = Selection(
            release.release_id, site_id, period.code, (), selection.reference
        )
        results: dict[str, ViewResult] = {}
        for name, table in HEADLINES:
            if name not in results:
                results[name] = build(name, engine, site_selection, audience)
            if table in results[name].tables:
                tables[f"{site_id}/{name}/{table}"] = results[name].table(table)
        for name, result in results.items():
            for key, value in result.facts.items():
                facts[f"{site_id}/{name}/{key}"] = value
    return ViewResult("compare_sites", tables, words(facts))
