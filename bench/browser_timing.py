"""Time until the charts are visible, page by page, in a real Chromium (prints figures; not a test).

    .venv/bin/python bench/browser_timing.py                      # demo data, every page
    .venv/bin/python bench/browser_timing.py --database-url URL --repeat 5
    .venv/bin/python bench/browser_timing.py --pages "" recidivism --cold

For each page URL it opens a fresh browser context (a new Streamlit session, as a new
visitor would get) and reads, from the page's own clock (milliseconds since the
navigation started):
- first chart: the first plotly trace drawn (or the end of the run on a page without charts);
- all charts: every chart drawn and the script finished (for a page without charts:
  the script finished and its elements mounted);
- the bytes the server sent over the websocket for that page (figure specs dominate).

Run 1 of a page is its first visit since the server started; with --cold the server
is restarted before every page, so run 1 pays for imports and empty caches. The other
runs are warm. The medians of the warm runs are the figures to quote.

By default every visit starts with an empty browser cache (a first-time visitor, who
downloads and parses plotly.js: about 2.5-3 s on two cores even for a tiny chart);
--browser-cache keeps one context so later visits reuse the cached JavaScript (a
returning visitor). Say which one a figure is.

Server and browser are started exactly as the browser tests start them
(tests/browser/conftest.py), so the numbers describe what the tests exercise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.browser.conftest import (  # noqa: E402  (needs the project root on sys.path)
    _RUN_COUNTER_SCRIPT,
    APP_IDLE_JS,
    APP_TIMEOUT_MS,
    CHROMIUM_ARGS,
    VIEWPORT,
    StreamlitServer,
    open_app,
    server_environment,
)

# Resolves with performance.now() once the first trace is drawn, or -1 when the run
# ended on a page that has no chart at all.
_FIRST_CHART = f"""
() => {{
  if (document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot .trace'))
    return performance.now();
  const idle = {APP_IDLE_JS};
  return idle && !document.querySelector('[data-testid="stPlotlyChart"]') ? -1 : false;
}}
"""

# Resolves with performance.now() once the run has finished, its elements are mounted
# and every chart (if any) has drawn a trace: the page is complete.
_ALL_CHARTS = f"""
() => {{
  if (!{APP_IDLE_JS}) return false;
  const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'));
  return charts.every((c) => c.querySelector('.js-plotly-plot .trace'))
    ? performance.now() : false;
}}
"""


@dataclass
class Visit:
    page: str
    run: int
    first_chart_ms: float | None  # None: the page has no chart
    all_charts_ms: float | None  # page complete: every chart drawn (or no chart), run over
    charts: int
    websocket_bytes: int


def build_demo_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'lead.sqlite'}"
    env = {**os.environ, "DATABASE_URL": url}
    for command in ("init", "demo"):
        subprocess.run(
            [sys.executable, "-m", "data_access", command],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    return url


def discover_pages(browser, server: StreamlitServer) -> list[str]:
    """The url paths of the pages listed in the sidebar navigation ("" alone if none)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(_RUN_COUNTER_SCRIPT)
    page = context.new_page()
    open_app(page, server.url())
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.inner_text().lower():
        more.click()
    hrefs = page.locator('[data-testid="stSidebarNavLink"]').evaluate_all(
        "(links) => links.map((a) => new URL(a.href).pathname.replace(/^\\//, ''))"
    )
    context.close()
    return hrefs or [""]


def visit(browser, server: StreamlitServer, path: str, run: int, shared_context=None) -> Visit:
    """One visit in a new Streamlit session: a new tab in `shared_context`, else a new context."""
    context = shared_context or browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    received = [0]
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: received.__setitem__(0, received[0] + len(payload)),
        ),
    )
    page.goto(server.url(path), wait_until="commit", timeout=APP_TIMEOUT_MS)
    first = page.wait_for_function(_FIRST_CHART, timeout=APP_TIMEOUT_MS).json_value()
    done = page.wait_for_function(_ALL_CHARTS, timeout=APP_TIMEOUT_MS).json_value()
    charts = page.locator('[data-testid="stPlotlyChart"]').count()
    page.close()
    if shared_context is None:
        context.close()
    return Visit(
        page=path or "(default)",
        run=run,
        first_chart_ms=None if first == -1 else first,
        all_charts_ms=done,
        charts=charts,
        websocket_bytes=received[0],
    )


def print_report(visits: list[Visit]) -> None:
    header = (
        f"{'page':<28} {'run':>3} {'first chart':>12} {'all charts':>11} {'charts':>6} {'ws kB':>8}"
    )
    print(header)
    print("-" * len(header))
    for v in visits:
        print(
            f"{v.page:<28} {v.run:>3} {_ms(v.first_chart_ms):>12} {_ms(v.all_charts_ms):>11} "
            f"{v.charts:>6} {v.websocket_bytes / 1024:>8.1f}"
        )
    print()
    print("Median of the warm runs (run > 1), per page:")
    for page in dict.fromkeys(v.page for v in visits):
        warm = [v for v in visits if v.page == page and v.run > 1 and v.all_charts_ms]
        if warm:
            first = statistics.median(v.first_chart_ms for v in warm)
            every = statistics.median(v.all_charts_ms for v in warm)
            print(f"  {page:<28} first chart {first:7.0f} ms   all charts {every:7.0f} ms")
        else:
            print(f"  {page:<28} no chart (or a single run)")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite demo database")
    parser.add_argument("--pages", nargs="*", help='url paths ("" = default page); default: all')
    parser.add_argument("--repeat", type=int, default=3, help="visits per page (default 3)")
    parser.add_argument("--audience", default="public", choices=["public", "staff"])
    parser.add_argument("--cold", action="store_true", help="restart the server before each page")
    parser.add_argument(
        "--browser-cache",
        action="store_true",
        help="keep one browser context, so visits after the first reuse cached JavaScript "
        "(a returning visitor); default: every visit starts with an empty cache",
    )
    parser.add_argument("--script", default="dashboard.py")
    args = parser.parse_args(argv)

    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        print("Debian's chromium is required: apt-get install -y chromium", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="lead-bench-") as folder:
        folder = Path(folder)
        url = args.database_url or build_demo_database(folder)
        env = server_environment(url, {"LEAD_AUDIENCE": args.audience})

        def new_server() -> StreamlitServer:
            return StreamlitServer(args.script, env, folder / "streamlit.log").start()

        visits: list[Visit] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            server = new_server()
            try:
                pages = args.pages if args.pages is not None else discover_pages(browser, server)
                if not args.cold:
                    # Discovery ran the script once; restart so run 1 of the first page
                    # is honestly the first visit.
                    server.stop()
                    server = new_server()
                shared = browser.new_context(viewport=VIEWPORT) if args.browser_cache else None
                for path in pages:
                    if args.cold:
                        server.stop()
                        server = new_server()
                    for run in range(1, args.repeat + 1):
                        visits.append(visit(browser, server, path, run, shared))
            finally:
                server.stop()
                browser.close()

    print(f"Database: {url if args.database_url else 'demo (SQLite, fresh)'}")
    print(
        f"Audience: {args.audience}; cold restarts per page: {'yes' if args.cold else 'no'}; "
        f"browser cache: {'kept' if args.browser_cache else 'empty at every visit'}"
    )
    print_report(visits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
