"""Fixtures for the browser tests: a real Streamlit server, a real Chromium, the demo data.

Every test in this folder is marked `browser`. Without Debian's chromium the
tests are skipped with the reason; with LEAD_REQUIRE_BROWSER=1 (set by .ci/run)
they fail instead, so CI can never pass by skipping them.

Servers:
- `streamlit_server` (session): the public dashboard on the demo database,
  shared by every test that only reads, because a cold start costs seconds.
- `start_streamlit(env=..., script=...)` (per test): a fresh, cold server with
  its own environment, stopped when the test ends.

Pages: `page` is a new browser context per test (no shared cookies, storage or
session), with console messages and uncaught page errors recorded in
`browser_log`; an uncaught page error fails the test at teardown.

Helpers for tests (import with `from .conftest import ...`): `open_app`,
`wait_for_app_idle`, `app_rerun`, `wait_for_charts`, `wait_for_first_chart`,
`exception_texts`, `axe_violations`, `describe_violations`, `walk_tab_order`; for the
pages: `PUBLIC_PAGES`, `choose`, `selected_text`, `main_text`, `chart_titles`,
`headline_figures`, `chart_card`, `open_table_view`, `grid_rows`, `fresh_page`, and
the fixtures `dashboard` (the shared server, router already run) and `tcp_proxy`
(a relay to cut a database connection).
`harness_server` runs HARNESS_APP, a small app of Streamlit widgets without our data,
which checks the helpers and Streamlit's own chrome before the pages exist.
See tests/browser/README.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS_DIR = Path(__file__).resolve().parent

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root in CI's container
    "--disable-gpu",
    # The machine has no outside network: anything Chromium fetches on its own
    # would only add noise and delay.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 900}

CHART_TRACE = '[data-testid="stPlotlyChart"] .js-plotly-plot .trace'
EXCEPTION = '[data-testid="stException"]'
MAIN = '[data-testid="stMain"]'

SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 10.0
APP_TIMEOUT_MS = 30_000

# Counts the script runs the server reports finished, so that after a click a test
# waits for the rerun it caused. The DOM alone cannot tell: a quick rerun can go
# "notRunning" -> "running" -> "notRunning" inside one React render, so the state
# attribute never changes. The server ends every run with a ForwardMsg whose field
# `script_finished` (number 6, a varint) is set; status 2 (FINISHED_EARLY_FOR_RERUN)
# means another run follows, so it is not counted. A frame counter lets the wait
# require two painted frames after the message, time for React to commit the run.
SCRIPT_FINISHED_FIELD = 6
FINISHED_EARLY_FOR_RERUN = 2
_RUN_COUNTER_SCRIPT = f"""
(() => {{
  window.__leadRunsFinished = 0;
  window.__leadFinishedFrame = 0;
  window.__leadFrame = 0;
  const tick = () => {{ window.__leadFrame += 1; requestAnimationFrame(tick); }};
  requestAnimationFrame(tick);

  // The value of top-level varint field `wanted` in a protobuf message, or null.
  const topLevelVarint = (bytes, wanted) => {{
    let i = 0;
    const varint = () => {{
      let value = 0, shift = 0, b;
      do {{ b = bytes[i++]; value += (b & 0x7f) * 2 ** shift; shift += 7; }} while (b & 0x80);
      return value;
    }};
    while (i < bytes.length) {{
      const tag = varint(), field = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) {{ const v = varint(); if (field === wanted) return v; }}
      else if (wire === 2) {{ const length = varint(); i += length; }}
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return null;
    }}
    return null;
  }};
  const count = (buffer) => {{
    const status = topLevelVarint(new Uint8Array(buffer), {SCRIPT_FINISHED_FIELD});
    if (status === null || status === {FINISHED_EARLY_FOR_RERUN}) return;
    // After Streamlit's own handler for this message has run.
    setTimeout(() => {{
      window.__leadRunsFinished += 1;
      window.__leadFinishedFrame = window.__leadFrame;
    }}, 0);
  }};
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {{
    constructor(...args) {{
      super(...args);
      this.addEventListener("message", (event) => {{
        if (event.data instanceof ArrayBuffer) count(event.data);
        else if (event.data instanceof Blob) event.data.arrayBuffer().then(count);
      }});
    }}
  }};
}})();
"""

# Messages Chromium logs as console errors that say nothing about our app.
HARMLESS_CONSOLE_ERRORS = (
    # Streamlit asks for /<page>/_stcore/host-config on non-root URLs and gets a 404.
    "host-config",
    "Failed to load resource: the server responded with a status of 404",
)


# ---------------------------------------------------------------------------
# Marking and skipping


def pytest_collection_modifyitems(config, items):
    # A conftest hook sees every collected test, so only mark those in this folder.
    for item in items:
        if BROWSER_TESTS_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium, or a skip (a failure under LEAD_REQUIRE_BROWSER=1)."""
    path = shutil.which("chromium")
    if path:
        return path
    message = (
        "Debian's chromium is not installed (shutil.which('chromium') is None); install it "
        "with `apt-get install -y --no-install-recommends chromium`"
    )
    if os.environ.get("LEAD_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (LEAD_REQUIRE_BROWSER=1, so this is an error)")
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _browser_required(chromium_path) -> None:
    """Checked before any server is started, so a missing browser costs nothing."""


# ---------------------------------------------------------------------------
# The demo database


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> str:
    """DATABASE_URL of a temporary SQLite file holding the demo releases, built by the CLI."""
    path = tmp_path_factory.mktemp("demo-db") / "lead.sqlite"
    url = f"sqlite:///{path}"
    env = {**os.environ, "DATABASE_URL": url}
    for command in ("init", "demo"):
        done = subprocess.run(
            [sys.executable, "-m", "data_access", command],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.fail(
                f"`python -m data_access {command}` exited {done.returncode} while building "
                f"the demo database:\n{done.stdout}\n{done.stderr}"
            )
    return url


# ---------------------------------------------------------------------------
# Streamlit servers


def free_port() -> int:
    """A TCP port nobody listens on right now (the server binds it moments later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    """One `streamlit run` process on 127.0.0.1; `stop()` leaves no process behind."""

    script: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "", **query: str) -> str:
        """The URL of page `path` (its url_path, "" for the default page) with `query`."""
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.base_url}/{path.lstrip('/')}{suffix}"

    def start(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> StreamlitServer:
        command = [
            sys.executable, "-m", "streamlit", "run", self.script,
            "--server.port", str(self.port),
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        log = self.log_path.open("w")
        # A session of its own, so stop() can end the server and anything it spawned
        # (kaleido starts a Chromium for image export) by the server's process group.
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            self._wait_until_healthy(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with status {self.process.returncode} before it was "
                    f"ready:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.base_url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        return
            time.sleep(0.1)
        raise RuntimeError(
            f"streamlit did not answer /_stcore/health within {timeout_s:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        self._signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._signal_group(process, signal.SIGKILL)
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)

    @staticmethod
    def _signal_group(process: subprocess.Popen, signum: int) -> None:
        # The group id is the server's own pid (start_new_session): only what we started.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no server log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def server_environment(database_url: str, overrides: Mapping[str, str | None]) -> dict[str, str]:
    """The server's environment: ours, a public audience on `database_url`, then `overrides`.

    LEAD_* variables of the shell running pytest are dropped, so a developer's own
    setting (say LEAD_AUDIENCE=staff) cannot change what a test sees. An override of
    None removes the variable.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAD_")}
    env.update(DATABASE_URL=database_url, LEAD_AUDIENCE="public", PYTHONUNBUFFERED="1")
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.fixture(scope="session")
def streamlit_server(demo_database, tmp_path_factory) -> Iterator[StreamlitServer]:
    """The public dashboard on the demo database, shared by the whole session (read only)."""
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    server = StreamlitServer("dashboard.py", server_environment(demo_database, {}), log_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_streamlit(demo_database, tmp_path):
    """Factory: `start_streamlit(env={...}, script="dashboard.py")` -> a fresh, cold server.

    `env` overrides the defaults (DATABASE_URL = the demo database, LEAD_AUDIENCE =
    public); a value of None removes a variable. Every server started here is
    stopped when the test ends, even when it fails.
    """
    servers: list[StreamlitServer] = []

    def start(
        env: Mapping[str, str | None] | None = None, script: str = "dashboard.py"
    ) -> StreamlitServer:
        log_path = tmp_path / f"streamlit-{len(servers)}.log"
        server = StreamlitServer(script, server_environment(demo_database, env or {}), log_path)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# ---------------------------------------------------------------------------
# Browser and pages


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class BrowserLog:
    """What the page said while the test ran."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def meaningful_console_errors(self) -> list[str]:
        """Console errors minus the known harmless ones (see HARMLESS_CONSOLE_ERRORS)."""
        return [
            text
            for text in self.console_errors
            if not any(harmless in text for harmless in HARMLESS_CONSOLE_ERRORS)
        ]


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def browser_context(browser):
    """A new browser context: cookies, storage and the Streamlit session start empty."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.add_init_script(_RUN_COUNTER_SCRIPT)
    context.set_default_timeout(APP_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(browser_context, browser_log):
    """A page in a fresh context; an uncaught JavaScript error fails the test."""
    page = browser_context.new_page()
    page.on(
        "console",
        lambda message: (
            browser_log.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
    yield page
    if browser_log.page_errors:
        pytest.fail(
            "uncaught JavaScript error(s) in the page:\n" + "\n".join(browser_log.page_errors)
        )


@pytest.fixture
def screenshot(page, tmp_path):
    """`screenshot(name)` saves the whole page as a PNG under the test's tmp dir.

    When LEAD_SCREENSHOT_DIR is set, a copy goes there too, for a person to look at.
    """

    def save(name: str) -> Path:
        target = tmp_path / f"{name}.png"
        save_full_screenshot(page, target)
        extra_dir = os.environ.get("LEAD_SCREENSHOT_DIR")
        if extra_dir:
            Path(extra_dir).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, Path(extra_dir) / f"{name}.png")
        return target

    return save


def save_full_screenshot(page, target: Path, max_height: int = 8000) -> None:
    """A screenshot of everything, not just the first screen.

    Streamlit scrolls inside its main area rather than the document, so Playwright's
    full_page sees one screen only; the viewport is stretched to the content instead.
    """
    height = page.evaluate(
        """() => Math.max(window.innerHeight, ...['stMain', 'stSidebarContent'].map(
             (id) => document.querySelector(`[data-testid="${id}"]`)?.scrollHeight ?? 0))"""
    )
    original = page.viewport_size
    page.set_viewport_size({"width": original["width"], "height": min(height, max_height)})
    try:
        # Plotly redraws charts on resize; give it a frame to do so before the capture.
        page.wait_for_timeout(300)
        page.screenshot(path=str(target))
    finally:
        page.set_viewport_size(original)


# ---------------------------------------------------------------------------
# Helpers for tests


# True when the script has finished and the browser has mounted what it sent. Streamlit
# loads most widgets (buttons, select boxes, charts) lazily and shows a skeleton
# meanwhile; on a warm server the run ends before they are mounted, so "notRunning"
# alone would let a test look at a page still made of skeletons. Skeletons inside a
# collapsed expander stay until it opens, hence "visible" ones only.
APP_IDLE_JS = """
(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  return !Array.from(document.querySelectorAll('[data-testid="stSkeleton"]'))
    .some((s) => s.getClientRects().length > 0);
})()
"""


# A run reported finished at least two painted frames ago, and the app idle.
_RUN_SETTLED_JS = (
    "window.__leadRunsFinished > runsBefore"
    " && window.__leadFrame - window.__leadFinishedFrame >= 2"
    f" && {APP_IDLE_JS}"
)


def wait_for_app_idle(page, timeout_ms: int = APP_TIMEOUT_MS) -> None:
    """After a navigation: wait until the first run has finished and its elements are mounted.

    After a click, use `app_rerun` instead: the page may still look idle from the
    previous run.
    """
    page.wait_for_function(f"(runsBefore) => {_RUN_SETTLED_JS}", arg=0, timeout=timeout_ms)


def open_app(page, url: str, timeout_ms: int = APP_TIMEOUT_MS) -> None:
    """Go to `url` and wait for the first script run to finish and its elements to mount."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_for_app_idle(page, timeout_ms)


@contextlib.contextmanager
def app_rerun(page, timeout_ms: int = APP_TIMEOUT_MS) -> Iterator[None]:
    """Wrap an interaction that reruns the script; on exit, wait for that rerun to settle.

    Old and new elements coexist while a run is in flight, and a quick rerun may never
    show "running" in the DOM, so this waits for the server's next "script finished"
    message, then for the app to be idle. An interaction that causes no rerun (opening
    an expander) times out here: do not wrap it.
    """
    before = page.evaluate("window.__leadRunsFinished")
    yield
    page.wait_for_function(f"(runsBefore) => {_RUN_SETTLED_JS}", arg=before, timeout=timeout_ms)


def wait_for_charts(page, minimum: int = 1, timeout_ms: int = APP_TIMEOUT_MS) -> int:
    """Wait until at least `minimum` plotly charts exist and every one has drawn a trace.

    Returns the number of charts on the page.
    """
    page.wait_for_function(
        """(minimum) => {
             const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]');
             return charts.length >= minimum && Array.from(charts).every(
               (chart) => chart.querySelector('.js-plotly-plot .trace') !== null);
           }""",
        arg=minimum,
        timeout=timeout_ms,
    )
    return page.locator('[data-testid="stPlotlyChart"]').count()


def exception_texts(page) -> list[str]:
    """The text of every Streamlit exception box on the page (empty when there is none)."""
    return page.locator(EXCEPTION).all_inner_texts()


def wait_for_first_chart(page, timeout_ms: int = APP_TIMEOUT_MS) -> None:
    """Wait until any plotly chart on the page has drawn a trace."""
    page.wait_for_selector(CHART_TRACE, state="attached", timeout=timeout_ms)


# ---------------------------------------------------------------------------
# Accessibility helpers

WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = ("serious", "critical")


def axe_violations(page, include: str | None = None) -> list[dict]:
    """axe-core's WCAG 2.x A/AA violations on the page, or inside `include` (a CSS selector).

    Each violation is axe's own dict: id, impact, help, helpUrl, nodes (target, html,
    failureSummary).
    """
    from axe_playwright_python.sync_playwright import Axe

    context = {"include": [[include]]} if include else None
    options = {
        "runOnly": {"type": "tag", "values": WCAG_AA_TAGS},
        "resultTypes": ["violations"],
    }
    return Axe().run(page, context=context, options=options).response["violations"]


def describe_violations(violations: list[dict]) -> str:
    """A readable list: rule, impact, help and the first few offending elements of each."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['html'][:160]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


# Marks every element that Tab should reach, so that the walk below can tell which it
# reached. "Should" = a focusable kind, not disabled, not tabindex=-1, rendered.
_MARK_TABBABLES_SCRIPT = """
(scope) => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
  const root = scope ? document.querySelector(scope) : document;
  const found = [];
  for (const el of root.querySelectorAll(selector)) {
    if (el.disabled || el.getAttribute('tabindex') === '-1') continue;
    if (el.closest('[inert], [aria-hidden="true"]')) continue;
    if (el.getClientRects().length === 0) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    const id = `t${found.length}`;
    el.setAttribute('data-lead-tab-id', id);
    const holder = el.closest('[data-testid]');
    found.push({id, tag: el.tagName.toLowerCase(),
                label: el.getAttribute('aria-label') || (el.innerText || '').trim().slice(0, 40),
                testid: holder ? holder.dataset.testid : null});
  }
  return found;
}
"""

_FOCUSED_SCRIPT = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  let id = el.getAttribute('data-lead-tab-id');
  if (!id) {  // focusable in a way the marking did not foresee: name it now ("u" ids)
    window.__leadUnmarked = (window.__leadUnmarked || 0) + 1;
    id = `u${window.__leadUnmarked}`;
    el.setAttribute('data-lead-tab-id', id);
  }
  const holder = el.closest('[data-testid]');
  return {id, tag: el.tagName.toLowerCase(),
          testid: holder ? holder.dataset.testid : null,
          inside: Array.from(document.querySelectorAll('[data-testid]'))
                    .filter((h) => h.contains(el)).map((h) => h.dataset.testid)};
}
"""


@dataclass
class TabWalk:
    """What pressing Tab round the page reached, in order."""

    expected: list[dict]  # the tabbable elements in scope: id, tag, label, testid
    reached: list[dict]  # each focus stop: id ("u..." if not foreseen), tag, testid, inside

    def missed(self) -> list[dict]:
        """Elements in scope that Tab never reached."""
        reached = {stop["id"] for stop in self.reached}
        return [element for element in self.expected if element["id"] not in reached]

    def stops_inside(self, testid: str) -> list[dict]:
        """The focus stops within an element of this data-testid (e.g. "stDataFrame")."""
        return [stop for stop in self.reached if testid in stop["inside"]]


def walk_tab_order(page, scope: str | None = MAIN, max_presses: int = 300) -> TabWalk:
    """Press Tab until focus comes round to its first stop again; record every stop.

    `expected` lists the tabbable elements inside `scope` (a CSS selector; None for
    the whole page). Some widgets take focus on elements the marking cannot foresee
    (the data grid's canvas); those stops get ids starting with "u".
    """
    expected = page.evaluate(_MARK_TABBABLES_SCRIPT, scope)
    reached: list[dict] = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        stop = page.evaluate(_FOCUSED_SCRIPT)
        if stop is None:
            continue
        if reached and stop["id"] == reached[0]["id"]:
            break
        reached.append(stop)
    return TabWalk(expected=expected, reached=reached)


# ---------------------------------------------------------------------------
# A minimal app that uses the widgets our pages use, with no data of ours: it lets the
# helpers above be checked before the pages exist, and shows what Streamlit's own
# chrome (sidebar navigation with sections) gives to axe, apart from our content.

HARNESS_APP = """
import os

import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Browser test harness", layout="wide")


def chart_page():
    st.title("Harness chart page")
    with st.sidebar:
        site = st.selectbox("Site", ["Alpha", "Beta"], key="site")
    st.session_state.setdefault("clicks", 0)
    if st.button("Count a click"):
        st.session_state.clicks += 1
    st.markdown(f"Clicks so far: **{st.session_state.clicks}**")
    values = [3, 1, 2] if site == "Alpha" else [5, 8, 13]
    figure = go.Figure(go.Scatter(x=[1, 2, 3], y=values, name=site))
    figure.update_layout(title=f"Values for {site}")
    st.plotly_chart(figure)
    st.markdown(f"Plotted values: {values}")
    st.caption(f"Audience setting seen by the server: {os.environ.get('LEAD_AUDIENCE')}")
    with st.expander("Table view"):
        st.dataframe({"x": [1, 2, 3], "y": values})
    st.download_button("Download CSV", "x,y\\n1,3\\n", file_name="values.csv", mime="text/csv")


def other_page():
    st.title("Harness other page")


st.navigation(
    {
        "Public": [
            st.Page(chart_page, title="Charts", default=True),
            st.Page(other_page, title="Other", url_path="other"),
        ],
        "Staff only": [st.Page(other_page, title="Staff page", url_path="staff")],
    }
).run()
"""


@pytest.fixture(scope="session")
def harness_server(demo_database, tmp_path_factory) -> Iterator[StreamlitServer]:
    """The harness app (HARNESS_APP) on its own server, shared by the session."""
    folder = tmp_path_factory.mktemp("harness")
    script = folder / "harness_app.py"
    script.write_text(HARNESS_APP)
    server = StreamlitServer(
        str(script), server_environment(demo_database, {}), folder / "streamlit.log"
    )
    server.start()
    yield server
    server.stop()


# ---------------------------------------------------------------------------
# Helpers for the page tests (issue 7): the router, filters, chart cards, table views

CHART_CARD = '[class*="st-key-chart_card_"]'

# The public pages in dashboard.py: url_path, the page's heading, and how many charts
# the demo's default view (Seattle, Q4 2025) draws there. The overview and the methods
# page have figures, sentences and tables, no chart.
PUBLIC_PAGES = [
    ("", "LEAD at a glance", 0),
    ("referrals", "Referrals and screening", 5),
    ("services", "Services", 4),
    ("recidivism", "Recidivism", 5),
    ("disparities", "Disparities", 5),
    ("costs", "Costs", 5),
    ("compare", "Compare sites", 1),
    ("briefing", "Briefing", 2),
    ("methods", "Data and methods", 0),
]
SIDEBAR = '[data-testid="stSidebar"]'


@pytest.fixture(scope="session")
def dashboard(streamlit_server, browser) -> StreamlitServer:
    """The shared dashboard server after one visit to its default page, which warms it.

    (A cold server's first requests are tested in test_deep_links.py.)
    """
    with fresh_page(browser) as page:
        open_app(page, streamlit_server.url())
    return streamlit_server


def choose(page, label: str, option: str) -> None:
    """Pick the option whose visible text is `option` in the select box named `label`.

    The option's text is typed first: the list is virtualised, so an option far
    from the current one is not in the page until the list is filtered. Waits for
    the rerun the choice causes.
    """
    box = page.get_by_role("combobox", name=label)
    with app_rerun(page):
        box.click()
        box.fill(option)
        page.get_by_role("option", name=option, exact=True).click()


def selected_text(page, label: str) -> str:
    """The text a select box shows for its current value."""
    return page.get_by_role("combobox", name=label).input_value().strip()


def main_text(page, hide: str = "") -> str:
    """What the main area says, without the names of Material icons (nor `hide`).

    Streamlit draws those icons from a font ligature, so their names
    ("keyboard_arrow_right", "science") are text in the page, never seen as words.
    `hide` is a CSS selector of more elements to leave out, such as "code".
    """
    return page.evaluate(
        """([main, hide]) => {
             const root = document.querySelector(main);
             const selector = '[data-testid="stIconMaterial"], [data-testid$="DynamicIcon"]'
               + (hide ? `, ${hide}` : '');
             const hidden = Array.from(root.querySelectorAll(selector))
               .map((element) => [element, element.style.display]);
             hidden.forEach(([element]) => { element.style.display = 'none'; });
             const text = root.innerText;
             hidden.forEach(([element, display]) => { element.style.display = display; });
             return text;
           }""",
        [MAIN, hide],
    )


def chart_titles(page) -> list[str]:
    """The title (the finding in words) of every chart card, in page order."""
    return [t.strip() for t in page.locator(f"{CHART_CARD} h3").all_inner_texts()]


def headline_figures(page) -> list[str]:
    """The text of every headline figure (st.metric): label, value and change."""
    return [" ".join(t.split()) for t in page.locator('[data-testid="stMetric"]').all_inner_texts()]


def chart_card(page, key: str):
    """The chart card whose chart_card key is `key` (e.g. "chart-referrals-by_pathway")."""
    return page.locator(f'[class*="st-key-chart_card_{key}"]')


def open_table_view(card) -> None:
    """Open a chart card's "Table view" expander (no rerun) and wait for its grid's rows."""
    card.locator('[data-testid="stExpander"] summary').click()
    card.locator('[data-testid="stDataFrame"] table[role="grid"] tbody tr').first.wait_for(
        state="attached"
    )


def grid_rows(card) -> list[list[str]]:
    """The header and rows of the grid in a card, as the grid's accessible table gives them.

    The grid draws on a canvas; this table is what screen readers read. It holds
    the rows on screen only, so use it for tables short enough to be seen whole.
    """
    table = card.locator('[data-testid="stDataFrame"] table[role="grid"]')
    return table.evaluate(
        """(t) => Array.from(t.querySelectorAll('tr')).map(
             (row) => Array.from(row.querySelectorAll('th, td')).map((c) => c.innerText.trim()))"""
    )


class TcpProxy:
    """A TCP relay to `upstream` on a local port, which a test can cut and restore.

    Cutting closes the listening socket and every relayed connection, so the
    database looks unreachable exactly as it would after a network failure:
    existing connections die and new ones are refused. Restoring listens again
    on the same port.
    """

    def __init__(self, upstream: tuple[str, int]):
        import threading

        self.upstream = upstream
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = free_port()
        self.restore()

    def restore(self) -> None:
        import threading

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        with self._lock:
            doomed = list(self._sockets) + ([listener] if listener else [])
            self._sockets.clear()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def tcp_proxy() -> Iterator:
    """Factory: `tcp_proxy(("127.0.0.1", 5432))` -> a TcpProxy, cut when the test ends."""
    proxies: list[TcpProxy] = []

    def make(upstream: tuple[str, int]) -> TcpProxy:
        proxies.append(TcpProxy(upstream))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.cut()


@contextlib.contextmanager
def fresh_page(browser) -> Iterator:
    """A page in a new browser context, as someone else opening a link would have."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.add_init_script(_RUN_COUNTER_SCRIPT)
    context.set_default_timeout(APP_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
