"""What a visitor's browser sees at national scale: chart times, filter changes, server memory.

Used by bench/national.py; each function takes a running StreamlitServer (from
tests/browser/conftest.py, so the server is started exactly as the browser tests
start it) and a Playwright browser.

- `first_visits`: every page once on a server that has not run it yet: the
  cold figure a visitor gets after a restart (generous timeout: the cold Compare
  page computes every site's cubes).
- `page_visits` (from bench/browser_timing.py): warm visits, each a new Streamlit
  session; with a kept browser cache (a returning visitor: plotly.js cached) or
  an empty one (a first-time visitor).
- `filter_change`: on a loaded page, pick another period (or site) in the
  sidebar and time from the click on the option until the rerun has finished,
  its elements are mounted and every chart has a trace.
- `page_switches`: within one tab, click each page in the sidebar navigation and
  time until the new page is complete (plotly.js is loaded once per visit).
- `memory_with_sessions`: RSS of the server process with N sessions open at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from browser_timing import _ALL_CHARTS, Visit, visit

from tests.browser.conftest import (
    _RUN_COUNTER_SCRIPT,
    _RUN_SETTLED_JS,
    APP_TIMEOUT_MS,
    VIEWPORT,
    StreamlitServer,
    wait_for_app_idle,
)

COLD_TIMEOUT_MS = 1_800_000  # a cold Compare page at national scale takes minutes
BENCH_DIR = Path(__file__).resolve().parent


def new_context(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.add_init_script(_RUN_COUNTER_SCRIPT)
    return context


def first_visits(browser, server: StreamlitServer, paths: list[str]) -> list[Visit]:
    """Each page once, in a fresh context, on a server that has not shown it yet."""
    visits = []
    for path in paths:
        context = new_context(browser)
        context.set_default_timeout(COLD_TIMEOUT_MS)
        visits.append(_timed_visit(context, server, path, COLD_TIMEOUT_MS))
        context.close()
    return visits


def _timed_visit(context, server: StreamlitServer, path: str, timeout_ms: int) -> Visit:
    page = context.new_page()
    page.goto(server.url(path), wait_until="commit", timeout=timeout_ms)
    done = page.wait_for_function(_ALL_CHARTS, timeout=timeout_ms, polling=200).json_value()
    charts = page.locator('[data-testid="stPlotlyChart"]').count()
    page.close()
    return Visit(path or "(default)", 1, None, done, charts, 0)


def page_visits(
    browser, server: StreamlitServer, paths: list[str], repeat: int, keep_cache: bool
) -> list[Visit]:
    """`repeat` warm visits of each page, each a new session (see browser_timing.visit)."""
    shared = new_context(browser) if keep_cache else None
    try:
        if shared is not None:
            # Prime the browser cache (plotly.js and Streamlit's bundles) once.
            primer = shared.new_page()
            primer.goto(server.url(paths[0]), timeout=APP_TIMEOUT_MS)
            primer.wait_for_function(_ALL_CHARTS, timeout=APP_TIMEOUT_MS)
            primer.close()
        return [
            visit(browser, server, path, run, shared)
            for path in paths
            for run in range(1, repeat + 1)
        ]
    finally:
        if shared is not None:
            shared.close()


@dataclass
class FilterChange:
    page: str
    control: str  # "Period" or "Site"
    chosen: str  # the option picked
    seconds: float | None  # None: it did not finish within the timeout
    charts: int


# Resolves with performance.now() once the run caused by the change has settled
# and every chart on the page has a trace.
_CHANGE_DONE = f"""
(runsBefore) => {{
  if (!({_RUN_SETTLED_JS})) return false;
  const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'));
  return charts.every((c) => c.querySelector('.js-plotly-plot .trace'))
    ? performance.now() : false;
}}
"""


def filter_change(
    browser,
    server: StreamlitServer,
    path: str,
    control: str,
    option_index: int,
    timeout_ms: int = APP_TIMEOUT_MS,
) -> FilterChange:
    """Open `path`, then pick option `option_index` of the sidebar select box `control`.

    The clock starts just before the click on the option (the visitor's choice)
    and stops when the rerun it caused has finished, its elements are mounted and
    every chart has a trace, all read from the page's own clock.
    """
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(server.url(path), wait_until="domcontentloaded", timeout=APP_TIMEOUT_MS)
        wait_for_app_idle(page)
        page.wait_for_function(_ALL_CHARTS, timeout=APP_TIMEOUT_MS)
        page.get_by_role("combobox", name=control).click()
        options = page.get_by_role("option")
        options.first.wait_for()
        # A short list (a small test release) has fewer options: take the last one.
        option = options.nth(min(option_index, options.count() - 1))
        chosen = option.inner_text()
        before = page.evaluate("window.__leadRunsFinished")
        started = page.evaluate("performance.now()")
        option.click()
        try:
            done = page.wait_for_function(_CHANGE_DONE, arg=before, timeout=timeout_ms).json_value()
            seconds = (done - started) / 1000
        except Exception:  # a timeout: report it as a miss rather than stop the benchmark
            seconds = None
        charts = page.locator('[data-testid="stPlotlyChart"]').count()
        return FilterChange(path or "(default)", control, chosen, seconds, charts)
    finally:
        context.close()


@dataclass
class PageSwitch:
    page: str
    seconds: float | None  # None: it did not finish within the timeout
    charts: int


def page_switches(
    browser, server: StreamlitServer, titles: dict[str, str], repeat: int
) -> list[PageSwitch]:
    """Move between pages through the sidebar, as a visitor does after arriving.

    One browser tab per round: it opens the first page, then clicks each page's
    link in the navigation in turn. Streamlit swaps the page without reloading,
    so plotly.js and the app's bundles are already running: the time is what a
    visitor waits after each click, from the click until the new page's run has
    finished, its elements are mounted and every chart has a trace. `titles`
    maps each page's url path to its title in the navigation, in visiting order.
    """
    paths = list(titles)
    switches = []
    for _ in range(repeat):
        context = new_context(browser)
        page = context.new_page()
        try:
            page.goto(server.url(paths[0]), wait_until="domcontentloaded", timeout=APP_TIMEOUT_MS)
            wait_for_app_idle(page)
            page.wait_for_function(_ALL_CHARTS, timeout=APP_TIMEOUT_MS)
            for path in [*paths[1:], paths[0]]:
                more = page.locator('[data-testid="stSidebarNavViewButton"]')
                if more.count() and "more" in more.inner_text().lower():
                    more.click()
                link = page.locator('[data-testid="stSidebarNavLink"]').filter(
                    has_text=titles[path]
                )
                before = page.evaluate("window.__leadRunsFinished")
                started = page.evaluate("performance.now()")
                link.first.click()
                try:
                    done = page.wait_for_function(
                        _CHANGE_DONE, arg=before, timeout=APP_TIMEOUT_MS
                    ).json_value()
                    seconds = (done - started) / 1000
                except Exception:  # a timeout: report it as a miss rather than stop
                    seconds = None
                charts = page.locator('[data-testid="stPlotlyChart"]').count()
                switches.append(PageSwitch(path, seconds, charts))
        finally:
            context.close()
    return switches


@dataclass
class MemorySample:
    sessions: int
    rss_mb: float
    seconds_to_load_all: float  # wall time until every session showed all its charts


def rss_mb(pid: int) -> float:
    """Resident set size of process `pid`, from /proc (the Streamlit server: one process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def memory_with_sessions(
    browser, server: StreamlitServer, paths: list[str], counts: list[int]
) -> list[MemorySample]:
    """Server RSS with N sessions open at once, N in `counts` (pages assigned round-robin).

    The sessions of one step stay open while RSS is read, then close before the
    next step; one browser context is shared so that Chromium's own cost stays low.
    """
    samples = [MemorySample(0, rss_mb(server.process.pid), 0.0)]
    context = new_context(browser)
    context.set_default_timeout(APP_TIMEOUT_MS * 4)
    try:
        for count in counts:
            started = time.perf_counter()
            tabs = []
            for number in range(count):
                tab = context.new_page()
                tab.goto(server.url(paths[number % len(paths)]), wait_until="commit")
                tabs.append(tab)
            for tab in tabs:
                tab.wait_for_function(_ALL_CHARTS, timeout=APP_TIMEOUT_MS * 4, polling=250)
            elapsed = time.perf_counter() - started
            time.sleep(1.0)  # let the server finish any bookkeeping after the runs
            samples.append(MemorySample(count, rss_mb(server.process.pid), elapsed))
            for tab in tabs:
                tab.close()
            time.sleep(1.0)
    finally:
        context.close()
    return samples
