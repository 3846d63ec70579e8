"""The dashboard's public pages, read from the router's list (ui/navigation.py), and helpers.

The benchmark measures what the router serves: each public entry of
ui.navigation.PAGES, in order. Reading the router's own list means a page added
there is benchmarked without touching this folder.
"""

from __future__ import annotations

import ast
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ROUTER = PROJECT_ROOT / "dashboard.py"


@dataclass(frozen=True)
class PageEntry:
    name: str  # the url_path, e.g. "referrals"
    script: str  # relative to the project root, e.g. "app_pages/referrals.py"
    title: str
    default: bool


def public_pages(router: Path = ROUTER) -> list[PageEntry]:
    """The public pages of the router's list (ui.navigation.PUBLIC_PAGES), in order.

    `router` is kept for callers that name it; the list lives in ui/navigation.py.
    """
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from ui.navigation import DEFAULT_PAGE, PUBLIC_PAGES

    return [
        PageEntry(
            name=entry.url_path,
            script=entry.script,
            title=entry.title,
            default=entry is DEFAULT_PAGE,
        )
        for entry in PUBLIC_PAGES
    ]


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
