"""The dashboard's public pages, read from the router (dashboard.py), and small helpers.

The benchmark measures what the router serves: each `st.Page("pages/<file>.py",
..., url_path="<path>")` of PUBLIC_PAGES, in order. Reading them from the router
means a page added there is benchmarked without touching this folder.
"""

from __future__ import annotations

import ast
import statistics
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ROUTER = PROJECT_ROOT / "dashboard.py"


@dataclass(frozen=True)
class PageEntry:
    name: str  # the url_path, e.g. "referrals"
    script: str  # relative to the project root, e.g. "pages/referrals.py"
    title: str
    default: bool


def public_pages(router: Path = ROUTER) -> list[PageEntry]:
    """The st.Page entries of PUBLIC_PAGES in the router, in order."""
    tree = ast.parse(router.read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "PUBLIC_PAGES" for t in node.targets)
            and isinstance(node.value, ast.List)
        ):
            return [_entry(call) for call in node.value.elts if isinstance(call, ast.Call)]
    raise ValueError(f"{router}: no PUBLIC_PAGES = [st.Page(...), ...] list found")


def _entry(call: ast.Call) -> PageEntry:
    script = ast.literal_eval(call.args[0])
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    return PageEntry(
        name=keywords.get("url_path") or Path(script).stem,
        script=script,
        title=keywords.get("title", Path(script).stem),
        default=bool(keywords.get("default", False)),
    )


def select_pages(all_pages: list[PageEntry], wanted: list[str] | None) -> list[PageEntry]:
    """The pages named in `wanted` (url paths), in router order; all when None."""
    if not wanted:
        return all_pages
    known = {p.name for p in all_pages}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise SystemExit(
            f"--pages: no public page named {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return [p for p in all_pages if p.name in wanted]


def import_page_dependencies(pages: list[PageEntry]) -> None:
    """Import every module the page scripts import, so that no timed run pays for imports.

    Page scripts are executed, not imported; their imports run inside the first
    run of the page. A cold figure should measure empty caches, not Python's
    module loading, which a server does once at its first visitor.
    """
    import importlib

    for page in pages:
        tree = ast.parse((PROJECT_ROOT / page.script).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                importlib.import_module(node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    importlib.import_module(alias.name)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return value / floor


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f} s"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"
