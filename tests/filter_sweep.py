"""What the sidebar offers, and the seeded sample of it that the page sweep renders.

The sidebar (ui.context.page_setup) offers, for each loaded release, its sites;
for each site, the whole quarters and years from its launch to the release's
as-of date; and "All precincts" or one of the site's precincts. `sidebar_choices`
reads the same tables through the same functions, so the sweep tries what a
visitor can click, no more and no less (the sweep also checks the sidebar shows
each choice it asked for).

The full product is about 1,700 choices per page, too many to render every one
on each CI run, so `sweep_sample` takes the edges, where "nothing to show yet"
lives, every time, and a seeded random draw of the rest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from data_access import queries
from data_access.periods import QUARTER, YEAR, available_periods
from ui.context import ALL_PRECINCTS


@dataclass(frozen=True)
class Choice:
    """One combination of the four sidebar filters, as URL codes."""

    release: str
    site: str
    period: str
    precinct: str

    def query(self) -> dict[str, str]:
        return {"release": self.release, "site": self.site, "period": self.period,
                "precinct": self.precinct}  # fmt: skip

    def url(self, page: str) -> str:
        """The address a visitor would open, for failure messages."""
        return f"/{page}?{urlencode(self.query())}"


@dataclass(frozen=True)
class SiteChoices:
    """What the sidebar offers once a release and a site are chosen."""

    release: str
    site: str
    quarters: tuple[str, ...]  # newest first, as the sidebar lists them
    years: tuple[str, ...]
    precincts: tuple[str, ...]  # ALL_PRECINCTS first

    def every(self) -> list[Choice]:
        return [
            Choice(self.release, self.site, period, precinct)
            for period in (*self.quarters, *self.years)
            for precinct in self.precincts
        ]


def public_pages(dashboard: Path | None = None) -> list[str]:
    """The page scripts of the public menu ("overview", ...), in its order (ui/navigation.py).

    The router's own list, so a page added there is swept without a change here.
    `dashboard` is accepted for the callers that name the router; the list is not in it.
    """
    from ui.navigation import PUBLIC_PAGES

    return [entry.name for entry in PUBLIC_PAGES]


def sidebar_choices(engine: sa.Engine) -> list[SiteChoices]:
    """Every release and site the public sidebar offers, with its periods and precincts."""
    found = []
    for release in queries.list_releases(engine):
        for site in queries.sites(engine, release.release_id).iter_rows(named=True):
            periods = available_periods(release.as_of, site["launched"])
            precincts = queries.precincts(engine, release.release_id, site["site_id"])
            found.append(
                SiteChoices(
                    release=release.release_id,
                    site=site["site_id"],
                    quarters=tuple(p.code for p in periods if p.grain == QUARTER),
                    years=tuple(p.code for p in periods if p.grain == YEAR),
                    precincts=(ALL_PRECINCTS, *precincts["precinct_id"]),
                )
            )
    return found


def edges(site: SiteChoices, rng: random.Random, *, every_precinct: bool) -> list[Choice]:
    """The choices most likely to have nothing to show: the first and last periods.

    With `every_precinct`, the earliest and the latest quarter with each precinct
    option (a precinct can join the program years after the site launched), and
    the earliest and latest year site-wide. Without, the earliest and latest
    quarter site-wide and the earliest and latest year in a precinct drawn from
    `rng` (older releases repeat most of the newest one's data).
    """
    quarters = [site.quarters[-1], site.quarters[0]] if site.quarters else []
    years = [site.years[-1], site.years[0]] if site.years else []

    def make(period: str, precinct: str) -> Choice:
        return Choice(site.release, site.site, period, precinct)

    if every_precinct:
        chosen = [make(q, p) for q in quarters for p in site.precincts]
        chosen += [make(y, ALL_PRECINCTS) for y in years]
    else:
        chosen = [make(q, ALL_PRECINCTS) for q in quarters]
        chosen += [make(y, rng.choice(site.precincts[1:] or site.precincts)) for y in years]
    return list(dict.fromkeys(chosen))


def sweep_sample(sites: list[SiteChoices], seed: str, extra: int) -> list[Choice]:
    """The edges of every release and site (in full for the newest release) and `extra`
    more drawn at random from the rest of the product, with a fixed seed."""
    rng = random.Random(seed)
    newest = sites[0].release if sites else None
    chosen: list[Choice] = []
    for site in sites:
        chosen += edges(site, rng, every_precinct=site.release == newest)
    taken = set(chosen)
    rest = [c for site in sites for c in site.every() if c not in taken]
    return chosen + rng.sample(rest, min(extra, len(rest)))


def missing_edges(sample: list[Choice], sites: list[SiteChoices]) -> list[str]:
    """The edges a sample lacks: each release and site with its first and last quarter and
    year, and each precinct of each site of the newest release, at least once."""
    newest = sites[0].release if sites else None
    missing = []
    for site in sites:
        mine = [c for c in sample if (c.release, c.site) == (site.release, site.site)]
        ends = {*site.quarters[:1], *site.quarters[-1:], *site.years[:1], *site.years[-1:]}
        missing += [
            f"{site.release}/{site.site} period {p}"
            for p in sorted(ends - {c.period for c in mine})
        ]
        if site.release == newest:
            missing += [
                f"{site.release}/{site.site} precinct {p}"
                for p in site.precincts
                if p not in {c.precinct for c in mine}
            ]
    return missing
