"""Compute a release's protected cubes ahead of visitors: `python -m data_access precompute`.

Every page reads its site's figures from a few protected cubes (referral flow,
caseload and services by year, recidivism, costs). Each needs the disclosure
audit, seconds of linear programs per site (about 16 s for a large one), and
the Compare page needs every site's. Run after a load, this computes each
site's public cubes once and keeps them in the database (data_access/cube_store.py),
so the first visitor after a load or a server restart waits for nothing.

Staff cubes are exact (no audit) and cheap; they are computed on demand.
The threshold is the one the server will use (LEAD_DISCLOSURE_K, read now):
precompute with the same environment as the dashboard.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.db import make_engine


@dataclass(frozen=True)
class SiteResult:
    site_id: str
    cubes: int  # cubes this site needs (computed or found stored)
    seconds: float

    def __str__(self) -> str:
        return f"  {self.site_id}: {self.cubes} cubes ready in {self.seconds:.1f} s"


def site_cubes(engine: sa.Engine, release: q.Release, site_id: str, audience: Audience) -> int:
    """Compute (or find stored) every protected cube the pages read for one site."""
    # Imported here: the views import this package's siblings, not the other way round.
    from data_access.views.caseload_cube import caseload_services
    from data_access.views.costs import site_costs
    from data_access.views.recidivism import recidivism_cube
    from data_access.views.referral_flow import referral_flow

    key = (release.release_id, release.checksum, site_id)
    referral_flow(engine, *key, audience)
    recidivism_cube(engine, *key, audience)
    site_costs(engine, *key, audience)
    years = _caseload_years(engine, release, site_id)
    for year in years:
        caseload_services(engine, *key, year, audience)
    return 3 + len(years)


def _caseload_years(engine: sa.Engine, release: q.Release, site_id: str) -> list[int]:
    """Every calendar year a page can ask of the caseload cube: launch year - 1 to as_of."""
    launched = q.sites(engine, release.release_id).filter(site_id=site_id)["launched"]
    first = int(str(launched[0])[:4]) if launched.len() else release.as_of.year
    # A period's comparison reaches back a year: the year before launch is asked for too.
    return list(range(first - 1, release.as_of.year + 1))


def precompute_release(
    engine: sa.Engine,
    release_id: str | None = None,
    sites: Iterable[str] = (),
    *,
    jobs: int = 1,
    audience: Audience = Audience.PUBLIC,
    report: Callable[[SiteResult], None] = lambda _result: None,
) -> list[SiteResult]:
    """Every site's cubes of a release (default: the newest), `jobs` sites at a time.

    LookupError names an unknown release or site. Results arrive in the order
    sites finish; `report` is called with each as it does.
    """
    release = q.get_release(engine, release_id)
    wanted = list(sites) or list(release.sites)
    unknown = sorted(set(wanted) - set(release.sites))
    if unknown:
        raise LookupError(
            f"release {release.release_id} has no site {', '.join(unknown)}; "
            f"its sites: {', '.join(release.sites)}"
        )
    results: list[SiteResult] = []
    if jobs <= 1:
        for site_id in wanted:
            results.append(_timed_site(engine, release, site_id, audience))
            report(results[-1])
        return results
    url = engine.url.render_as_string(hide_password=False)
    # spawn, not fork: polars' thread pool does not survive a fork.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [
            pool.submit(_site_in_worker, url, release.release_id, s, audience) for s in wanted
        ]
        for future in as_completed(futures):
            results.append(future.result())
            report(results[-1])
    return results


def _timed_site(
    engine: sa.Engine, release: q.Release, site_id: str, audience: Audience
) -> SiteResult:
    started = time.perf_counter()
    cubes = site_cubes(engine, release, site_id, audience)
    return SiteResult(site_id, cubes, time.perf_counter() - started)


def _site_in_worker(url: str, release_id: str, site_id: str, audience: Audience) -> SiteResult:
    engine = make_engine(url)
    try:
        return _timed_site(engine, q.get_release(engine, release_id), site_id, audience)
    finally:
        engine.dispose()
