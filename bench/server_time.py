"""Server-side run time of each page, cold and warm, through the real router (AppTest).

    .venv/bin/python bench/server_time.py --database-url URL --out result.json \
        [--pages referrals costs] [--repeat 5] [--cold-repeat 1] [--figures-dir DIR]

Run by bench/national.py in a process of its own per database, so that neither
Streamlit's caches nor the memoized cubes of one database leak into the other's
figures. Prints one line per page and writes the figures as JSON to --out.

- cold: st.cache_data, st.cache_resource and the memoized cubes
  (data_access.views.base.clear_memos) cleared before the run; Python modules
  already imported (a server imports once, at its first visitor). This is the first
  visitor to a site after a server start; the cubes come from the database's cube
  store (`python -m data_access precompute`). With --without-store, also cold with
  the store off: the first visitor if nobody had precomputed the cubes.
- warm: the same page run again with every cache filled; the median is quoted.
- figure bytes: the plotly figure specs the run sends (the JSON of every
  st.plotly_chart), the bulk of what a page sends to the browser.

With --figures-dir the figure specs of each page's warm run are written to
<dir>/<page>.json, for the floor (bench/floor_app.py).
With --floor-dir the floor app is timed the same way, page by page, instead of the
dashboard.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from pages import (  # noqa: E402
    PROJECT_ROOT,
    fmt_ms,
    fmt_s,
    import_page_dependencies,
    median,
    public_pages,
    select_pages,
)

RUN_TIMEOUT_S = 1800  # a cold Compare page at national scale takes minutes


@dataclass
class PageTiming:
    page: str
    cold_s: list[float] = field(default_factory=list)
    warm_s: list[float] = field(default_factory=list)
    # Cold as well, but with the cube store switched off (LEAD_CUBE_STORE=off): the
    # first visitor to a site whose cubes nobody precomputed, who waits for its audit.
    unstored_s: list[float] = field(default_factory=list)
    charts: int = 0
    figure_bytes: int = 0  # JSON of every plotly figure the run sends
    exceptions: list[str] = field(default_factory=list)

    @property
    def cold_median(self) -> float | None:
        return median(self.cold_s)

    @property
    def warm_median(self) -> float | None:
        return median(self.warm_s)


def clear_caches() -> None:
    import streamlit as st

    from data_access.views.base import clear_memos

    st.cache_data.clear()
    st.cache_resource.clear()
    clear_memos()


def timed_run(at) -> float:
    started = time.perf_counter()
    at.run(timeout=RUN_TIMEOUT_S)
    return time.perf_counter() - started


def chart_protos(at) -> list:
    return [chart.proto for chart in at.get("plotly_chart")]


def record_charts(at, timing: PageTiming) -> list[dict]:
    protos = chart_protos(at)
    timing.charts = len(protos)
    timing.figure_bytes = sum(len(p.spec.encode()) for p in protos)
    timing.exceptions = [str(e.value)[:300] for e in at.exception]
    return [{"spec": p.spec, "config": p.config, "alt": p.alt} for p in protos]


def time_dashboard(
    pages,
    repeat: int,
    cold_repeat: int,
    figures_dir: Path | None,
    without_store: bool = False,
):
    """Cold and warm run times of each page through dashboard.py.

    Cold: Streamlit's caches and the memoized cubes cleared, as after a server
    restart; the cubes come from the database's cube store (filled by
    `python -m data_access precompute`). With `without_store`, each page but
    Compare (whose 53 sites' audits take many minutes) is also run cold with the
    store switched off, so the audit itself is timed.
    """
    from streamlit.testing.v1 import AppTest

    from data_access import cube_store

    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=RUN_TIMEOUT_S)
    # AppTest learns the router's pages from a first run (the default page). It is not
    # timed: the caches it fills are cleared before every cold run below.
    at.run(timeout=RUN_TIMEOUT_S)
    results = []
    for page in pages:
        timing = PageTiming(page.name)
        at.switch_page(page.script)
        if without_store and page.name != "compare":
            os.environ[cube_store.SWITCH] = "off"
            try:
                for _ in range(cold_repeat):
                    clear_caches()
                    timing.unstored_s.append(timed_run(at))
            finally:
                del os.environ[cube_store.SWITCH]
        for _ in range(cold_repeat):
            clear_caches()
            timing.cold_s.append(timed_run(at))
        for _ in range(repeat):
            timing.warm_s.append(timed_run(at))
        figures = record_charts(at, timing)
        if figures_dir is not None:
            (figures_dir / f"{page.name}.json").write_text(json.dumps(figures))
        print(_line(timing), flush=True)
        results.append(timing)
    return results


def time_floor(pages, repeat: int, floor_dir: Path):
    """Run times of the floor app (figures from precomputed JSON), page by page."""
    from streamlit.testing.v1 import AppTest

    os.environ["LEAD_BENCH_FLOOR_DIR"] = str(floor_dir)
    results = []
    for page in pages:
        timing = PageTiming(page.name)
        at = AppTest.from_file(str(BENCH_DIR / "floor_app.py"), default_timeout=RUN_TIMEOUT_S)
        at.query_params["page"] = page.name
        timing.cold_s.append(timed_run(at))  # reads the JSON file: its only "cold" work
        for _ in range(repeat):
            timing.warm_s.append(timed_run(at))
        record_charts(at, timing)
        print(_line(timing), flush=True)
        results.append(timing)
    return results


def _line(t: PageTiming) -> str:
    problems = f"  EXCEPTIONS: {t.exceptions}" if t.exceptions else ""
    unstored = f"  no store {fmt_s(median(t.unstored_s)):>8}" if t.unstored_s else ""
    return (
        f"  {t.page:<14} cold {fmt_s(t.cold_median):>9}{unstored}  "
        f"warm {fmt_ms(t.warm_median):>8}  charts {t.charts:>2}  "
        f"figure JSON {t.figure_bytes / 1024:7.1f} kB{problems}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", type=Path, required=True, help="write the figures as JSON here")
    parser.add_argument("--pages", nargs="*", help="url paths; default: every public page")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per page")
    parser.add_argument("--cold-repeat", type=int, default=1, help="cold runs per page")
    parser.add_argument("--figures-dir", type=Path, help="dump each page's figure specs here")
    parser.add_argument("--floor-dir", type=Path, help="time the floor app on these figures")
    parser.add_argument(
        "--without-store",
        action="store_true",
        help="also time each page (but Compare) cold with the cube store off",
    )
    args = parser.parse_args(argv)

    os.environ["DATABASE_URL"] = args.database_url
    os.environ["LEAD_AUDIENCE"] = "public"
    for variable in ("LEAD_ALLOW_UNAUTHENTICATED_STAFF", "LEAD_DISCLOSURE_K"):
        os.environ.pop(variable, None)
    # AppTest outside `streamlit run` warns about a missing ScriptRunContext and a
    # missing runtime at every cache; the figures are what this prints.
    os.environ["STREAMLIT_LOGGER_LEVEL"] = "error"
    warnings.filterwarnings("ignore")

    pages = select_pages(public_pages(), args.pages)
    import_page_dependencies(pages)
    if args.floor_dir:
        results = time_floor(pages, args.repeat, args.floor_dir)
    else:
        if args.figures_dir:
            args.figures_dir.mkdir(parents=True, exist_ok=True)
        results = time_dashboard(
            pages, args.repeat, args.cold_repeat, args.figures_dir, args.without_store
        )
    args.out.write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
