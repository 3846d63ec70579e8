"""National-scale performance benchmark of the dashboard (issue 7). Prints figures; not a test.

    .venv/bin/python bench/national.py                       # everything, 50 extra sites
    .venv/bin/python bench/national.py --skip-postgres --skip-browser --repeat 3
    .venv/bin/python bench/national.py --pages referrals costs --sites 50 --report out.md

Steps:
1. Data: the demo release with --sites invented sites added (53 sites and over a
   million referral rows with the default 50), loaded through the real loader into
   SQLite (a file under --data-dir, reused by later runs) and into PostgreSQL (a
   schema of its own, dropped at the end).
2. Server-side time per page, cold and warm, through dashboard.py with AppTest
   (bench/server_time.py, a process per database). The figure specs of every page
   are saved for step 3.
3. The floor: bench/floor_app.py sends the same figures from that JSON and
   nothing else; timed the same way (AppTest and browser). Every page figure is
   quoted with its ratio to the floor.
4. Browser (Debian's chromium, as tests/browser does): the first visit of each
   page on a fresh server (cold), a period change and a change to a site not
   seen yet, warm visits with the browser cache kept and empty, and the server's
   RSS with 1, 10 and 25 sessions open at once.

The machine is shared and noisy: every figure is a median, and ratios to the
floor (measured in the same minutes) are the figures to compare across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(BENCH_DIR))

from national_data import (  # noqa: E402
    copy_stored_cubes,
    load_sqlite,
    loaded_postgres,
    postgres_problem,
    precompute,
    write_national_release,
)
from pages import (  # noqa: E402
    fmt_ms,
    fmt_ratio,
    fmt_s,
    median,
    public_pages,
    ratio,
    select_pages,
)

GOAL_RATIO = 1.3  # a warm page within 1.3x its floor
GOAL_CHARTS_S = 1.5  # every chart visible
GOAL_FILTER_S = 0.5  # a filter change


def machine_description() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu model": cpu,
        "memory": memory,
        "load average at start (1, 5, 15 min)": load,
        "python": platform.python_version(),
    }


def run_server_time(url: str, out: Path, args, pages, extra: list[str]) -> list[dict]:
    command = [
        sys.executable,
        str(BENCH_DIR / "server_time.py"),
        "--database-url",
        url,
        "--out",
        str(out),
        "--repeat",
        str(args.repeat),
        "--pages",
        *[p.name for p in pages],
        *extra,
    ]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, stderr=subprocess.DEVNULL)
    return json.loads(out.read_text())


def browser_section(browser, label: str, url: str, script: str, pages, args, work: Path) -> dict:
    """Every browser figure for one server kind (the dashboard on one database, or the floor).

    One server, started for this section: its cubes are in the database's cube
    store (precomputed), its Streamlit caches and memos empty, as after any
    restart. In order: the first visit of each page (a cold server), filter
    changes, warm visits with the browser cache kept and empty, and the RSS with
    concurrent sessions.
    """
    from browser_measures import (
        filter_change,
        first_visits,
        memory_with_sessions,
        page_switches,
        page_visits,
    )

    from tests.browser.conftest import StreamlitServer, server_environment

    floor = script != "dashboard.py"
    env = server_environment(url, {"LEAD_BENCH_FLOOR_DIR": str(work / "figures")})
    # The floor is one script that picks its page from ?page=; server.url("?page=x")
    # gives http://host:port/?page=x.
    # The default page lives at "/": its url_path (/overview) opens a "page not found" notice.
    paths = {p.name: f"?page={p.name}" if floor else ("" if p.default else p.name) for p in pages}
    result: dict = {"label": label, "first_visits": [], "filter_changes": []}
    server = StreamlitServer(script, env, work / f"streamlit-{label}.log").start()
    try:
        print(f"  [{label}] first visits on a cold server", flush=True)
        result["first_visits"] = [
            asdict(v) for v in first_visits(browser, server, list(paths.values()))
        ]
        if not floor:
            print(f"  [{label}] page switches through the sidebar", flush=True)
            titles = {paths[p.name]: p.title for p in pages}
            switches = page_switches(browser, server, titles, args.repeat)
            result["page_switches"] = [asdict(s) for s in switches]
            target = "referrals" if "referrals" in paths else pages[0].name
            print(f"  [{label}] filter changes on {target}", flush=True)
            changes = []
            # Each change picks a period not shown yet: its view is computed from the
            # site's cubes, as for a visitor stepping back through time.
            for index in range(1, 1 + args.repeat):
                changes.append(filter_change(browser, server, paths[target], "Period", index))
            # A site nobody has opened on this server: its cubes come from the store.
            for index in range(5, 5 + args.repeat):
                changes.append(filter_change(browser, server, paths[target], "Site", index))
            result["filter_changes"] = [asdict(c) for c in changes]
        print(f"  [{label}] warm visits, browser cache kept", flush=True)
        kept = page_visits(browser, server, list(paths.values()), args.repeat, keep_cache=True)
        result["warm_kept"] = [asdict(v) for v in kept]
        print(f"  [{label}] warm visits, empty browser cache", flush=True)
        empty = page_visits(browser, server, list(paths.values()), args.repeat, keep_cache=False)
        result["warm_empty"] = [asdict(v) for v in empty]
        if not floor and args.sessions:
            print(f"  [{label}] memory with {args.sessions} sessions", flush=True)
            memory = memory_with_sessions(browser, server, list(paths.values()), args.sessions)
            result["memory"] = [asdict(m) for m in memory]
    finally:
        server.stop()
    # Visits name their page by url path; give them the page names back.
    names = {path: name for name, path in paths.items()}
    names["(default)"] = names.get("", "(default)")
    for key in ("first_visits", "warm_kept", "warm_empty", "page_switches"):
        for v in result.get(key, []):
            v["page"] = names.get(v["page"], v["page"])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=50, help="invented sites added (default 50)")
    parser.add_argument("--pages", nargs="*", help="url paths; default: every public page")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs/visits per page")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument(
        "--sessions", type=int, nargs="*", default=[1, 10, 25], help="concurrent sessions"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "lead-bench-data",
        help="release files and the SQLite database, kept for later runs",
    )
    parser.add_argument(
        "--recompute-cubes",
        action="store_true",
        help="drop the stored cubes of a reused SQLite file and precompute them again",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="processes for the precompute (default 2)"
    )
    parser.add_argument(
        "--without-store",
        action="store_true",
        help="also time every page but Compare cold with the cube store off (the audit itself)",
    )
    parser.add_argument("--report", type=Path, help="also write the figures as markdown here")
    parser.add_argument("--json", type=Path, help="also write every raw figure as JSON here")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    pages = select_pages(public_pages(), args.pages)
    results: dict = {"machine": machine_description(), "command": " ".join(sys.argv)}
    print("Machine:", results["machine"], flush=True)
    if not args.skip_browser and not shutil.which("chromium"):
        print("Debian's chromium is required: apt-get install -y chromium", file=sys.stderr)
        return 2
    if not args.skip_postgres and (problem := postgres_problem()):
        print(f"PostgreSQL is not reachable ({problem}); use --skip-postgres", file=sys.stderr)
        return 2

    args.data_dir.mkdir(parents=True, exist_ok=True)
    release = write_national_release(args.data_dir, args.sites)
    results["release"] = {
        "release_id": release.release_id,
        "sites": release.sites,
        "referral_rows": release.referral_rows,
        "total_rows": release.total_rows,
        "generate_seconds": release.generate_seconds,
    }
    made = (
        f"generated in {fmt_s(release.generate_seconds)}" if release.generate_seconds else "reused"
    )
    print(
        f"Release {release.release_id}: {release.sites} sites, {release.referral_rows:,} "
        f"referral rows, {release.total_rows:,} rows in all ({made})",
        flush=True,
    )
    sqlite = load_sqlite(args.data_dir, release)
    print(
        f"SQLite: {'loaded in ' + fmt_s(sqlite.load_seconds) if sqlite.load_seconds else 'reused'}"
    )
    results["loads"] = {"sqlite": sqlite.load_seconds}
    if args.recompute_cubes:
        _drop_stored_cubes(sqlite.url, release.release_id)
    print(f"SQLite: python -m data_access precompute --jobs {args.jobs} ...", flush=True)
    cubes = precompute(sqlite.url, release.release_id, args.jobs)
    results["precompute"] = {
        "sqlite_seconds": cubes.seconds,
        "cubes": cubes.cubes,
        "computed_seconds": cubes.computed_seconds,
        "jobs": args.jobs,
        "output": cubes.output,
    }
    print(
        f"  {cubes.cubes} cubes ready in {fmt_s(cubes.seconds)} "
        f"(their audits took {fmt_s(cubes.computed_seconds)} of compute when first made)",
        flush=True,
    )

    with (
        tempfile.TemporaryDirectory(prefix="lead-bench-") as folder,
        contextlib.ExitStack() as stack,
    ):
        work = Path(folder)
        databases = [("sqlite", sqlite.url)]
        if not args.skip_postgres:
            postgres = stack.enter_context(loaded_postgres(release))
            print(f"PostgreSQL: loaded in {fmt_s(postgres.load_seconds)}", flush=True)
            results["loads"]["postgres"] = postgres.load_seconds
            copied = copy_stored_cubes(sqlite.url, postgres.url, release.release_id)
            print(f"PostgreSQL: {copied} stored cubes copied from SQLite", flush=True)
            databases.append(("postgres", postgres.url))

        results["server"] = {}
        for number, (kind, url) in enumerate(databases):
            print(f"\nServer-side run time, {kind} (AppTest through dashboard.py):", flush=True)
            extra = ["--figures-dir", str(work / "figures")] if number == 0 else []
            if args.without_store:
                extra.append("--without-store")
            results["server"][kind] = run_server_time(
                url, work / f"server-{kind}.json", args, pages, extra
            )
        print("\nServer-side run time, floor (same figures from JSON):", flush=True)
        results["server"]["floor"] = run_server_time(
            sqlite.url,
            work / "server-floor.json",
            args,
            pages,
            ["--floor-dir", str(work / "figures")],
        )

        if not args.skip_browser:
            from playwright.sync_api import sync_playwright

            from tests.browser.conftest import CHROMIUM_ARGS

            results["browser"] = {}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
                )
                try:
                    print("\nBrowser, floor:", flush=True)
                    results["browser"]["floor"] = browser_section(
                        browser, "floor", sqlite.url, str(BENCH_DIR / "floor_app.py"),
                        pages, args, work,
                    )  # fmt: skip
                    for kind, url in databases:
                        print(f"\nBrowser, dashboard on {kind}:", flush=True)
                        results["browser"][kind] = browser_section(
                            browser, kind, url, "dashboard.py", pages, args, work
                        )
                finally:
                    browser.close()

    results["total_seconds"] = time.perf_counter() - started
    report = render_report(results, pages)
    print("\n" + report)
    if args.report:
        args.report.write_text(report)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


def _drop_stored_cubes(url: str, release_id: str) -> None:
    from data_access import cube_store
    from data_access.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cube_store.forget_release(conn, release_id)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------
# The report


def _by_page(rows: list[dict]) -> dict[str, dict]:
    return {r["page"]: r for r in rows}


def _visit_median(rows: list[dict], page: str, field: str = "all_charts_ms") -> float | None:
    values = [r[field] / 1000 for r in rows if r["page"] == page and r[field] is not None]
    return median(values)


def render_report(results: dict, pages) -> str:
    lines = ["## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in results["machine"].items()]
    rel = results["release"]
    lines += [
        "",
        f"Release {rel['release_id']}: {rel['sites']} sites, {rel['referral_rows']:,} referral "
        f"rows, {rel['total_rows']:,} rows in all. Loads: "
        + ", ".join(f"{k} {fmt_s(v) if v else 'reused'}" for k, v in results["loads"].items())
        + f". Whole benchmark: {results['total_seconds'] / 60:.1f} min.",
        "",
        "## Precomputed cubes",
        "",
    ]
    pre = results.get("precompute")
    if pre:
        lines += [
            f"`python -m data_access precompute --jobs {pre['jobs']}` on SQLite: "
            f"{pre['cubes']} cubes ready in {fmt_s(pre['sqlite_seconds'])}; their audits took "
            f"{fmt_s(pre['computed_seconds'])} of compute in all when first made "
            "(a reused SQLite file finds them stored). PostgreSQL received the same rows.",
            "",
            "```",
            pre["output"].rstrip(),
            "```",
            "",
        ]
    lines += [
        "## Server-side run time (AppTest through dashboard.py; medians)",
        "",
        "Cold: Streamlit caches and memoized cubes cleared, modules imported, cubes in the "
        "database's store (a server restart after precompute). No store: the same with the "
        "store off, so the page runs its sites' audits. Warm: every cache filled. Floor: the "
        "same figures sent from JSON by bench/floor_app.py.",
        "",
    ]
    floor = _by_page(results["server"]["floor"])
    kinds = [k for k in results["server"] if k != "floor"]
    header = "| page | charts | figure JSON | floor warm |"
    rule = "|---|---:|---:|---:|"
    for kind in kinds:
        header += f" {kind} cold | {kind} no store | {kind} warm | {kind} warm / floor |"
        rule += "---:|---:|---:|---:|"
    lines += [header, rule]
    for page in pages:
        f = floor.get(page.name, {})
        first = _by_page(results["server"][kinds[0]]).get(page.name, {})
        floor_warm = median(f.get("warm_s", []))
        row = (
            f"| {page.name} | {first.get('charts', '-')} | "
            f"{first.get('figure_bytes', 0) / 1024:.1f} kB | {fmt_ms(floor_warm)} |"
        )
        for kind in kinds:
            r = _by_page(results["server"][kind]).get(page.name, {})
            cold, warm = median(r.get("cold_s", [])), median(r.get("warm_s", []))
            row += (
                f" {fmt_s(cold)} | {fmt_s(median(r.get('unstored_s', [])))} | {fmt_ms(warm)} |"
                f" {fmt_ratio(ratio(warm, floor_warm))} |"
            )
        lines.append(row)
    exceptions = [
        f"{kind}/{r['page']}: {r['exceptions']}"
        for kind in results["server"]
        for r in results["server"][kind]
        if r["exceptions"]
    ]
    if exceptions:
        lines += ["", "**Exceptions on pages:** " + "; ".join(exceptions)]

    browser = results.get("browser")
    if browser:
        lines += [
            "",
            "## Browser: time until every chart is visible (medians of warm visits)",
            "",
            "Each visit is a new Streamlit session; time from navigation start (the page's "
            "own clock) until the run has finished, its elements are mounted and every chart "
            f"has a trace. Goal: {GOAL_CHARTS_S} s; a warm page within {GOAL_RATIO}x its floor.",
            "",
        ]
        fl = browser["floor"]
        header = "| page | floor (cache kept) | floor (empty cache) |"
        rule = "|---|---:|---:|"
        for kind in [k for k in browser if k != "floor"]:
            header += (
                f" {kind} first visit, cold server | {kind} cache kept | ratio |"
                f" {kind} empty cache | ratio |"
            )
            rule += "---:|---:|---:|---:|---:|"
        lines += [header, rule]
        for page in pages:
            floor_kept = _visit_median(fl["warm_kept"], page.name)
            floor_empty = _visit_median(fl["warm_empty"], page.name)
            row = f"| {page.name} | {fmt_s(floor_kept)} | {fmt_s(floor_empty)} |"
            for kind in [k for k in browser if k != "floor"]:
                b = browser[kind]
                cold = _visit_median(b["first_visits"], page.name)
                kept = _visit_median(b["warm_kept"], page.name)
                empty = _visit_median(b["warm_empty"], page.name)
                row += (
                    f" {fmt_s(cold)} | {fmt_s(kept)} |"
                    f" {fmt_ratio(ratio(kept, floor_kept))} |"
                    f" {fmt_s(empty)} | {fmt_ratio(ratio(empty, floor_empty))} |"
                )
            lines.append(row)
        first_kind = next(k for k in browser if k != "floor")
        received = []
        for page in pages:
            sizes = [
                v["websocket_bytes"]
                for v in browser[first_kind]["warm_kept"]
                if v["page"] == page.name
            ]
            received.append(f"{page.name} {(median(sizes) or 0) / 1024:.0f} kB")
        lines += [
            "",
            f"Websocket bytes received per visit (dashboard on {first_kind}): "
            + ", ".join(received)
            + ".",
        ]

        kinds = [k for k in browser if k != "floor"]
        lines += [
            "",
            f"## Browser: moving between pages through the sidebar (goal {GOAL_CHARTS_S} s)",
            "",
            "One tab per round opens the first page, then clicks each page's link in turn; "
            "plotly.js is already loaded. From the click until the new page is complete "
            "(medians).",
            "",
            "| page | " + " | ".join(kinds) + " |",
            "|---|" + "---:|" * len(kinds),
        ]
        for page in pages:
            cells = []
            for kind in kinds:
                values = [
                    s["seconds"]
                    for s in browser[kind].get("page_switches", [])
                    if s["page"] == page.name and s["seconds"] is not None
                ]
                cells.append(fmt_s(median(values)))
            lines.append(f"| {page.name} | " + " | ".join(cells) + " |")

        lines += ["", f"## Browser: filter changes (goal {GOAL_FILTER_S} s)", ""]
        lines += ["| database | page | control | option | seconds |", "|---|---|---|---|---:|"]
        for kind in [k for k in browser if k != "floor"]:
            for c in browser[kind]["filter_changes"]:
                lines.append(
                    f"| {kind} | {c['page']} | {c['control']} | {c['chosen']} | "
                    f"{fmt_s(c['seconds']) if c['seconds'] is not None else 'timed out'} |"
                )
        lines += [
            "",
            "## Server memory (RSS of the streamlit process) with concurrent sessions",
            "",
        ]
        lines += ["| database | sessions open | RSS | time until all showed their charts |",
                  "|---|---:|---:|---:|"]  # fmt: skip
        for kind in [k for k in browser if k != "floor"]:
            for m in browser[kind].get("memory", []):
                loaded = fmt_s(m["seconds_to_load_all"]) if m["sessions"] else "(idle, warm)"
                lines.append(f"| {kind} | {m['sessions']} | {m['rss_mb']:.0f} MB | {loaded} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
