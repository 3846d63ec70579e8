"""The rules of the house that keep privacy and honesty by construction, checked on the source.

- Every page starts with the shared guard, because the router registers every
  page on every server (the staff page hidden from anyone but staff).
- The page scripts are exactly the router's list (ui/navigation.py), and no pages/
  folder sits beside dashboard.py: it would put Streamlit into its legacy mode.
- Pages and ui/ never reach the database, the queries or the metrics except
  through ui/data.py, whose only data door is data_access.views (the choke
  point). So every figure a viewer sees has passed disclosure control.
- data_access never imports streamlit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "app_pages").glob("*.py"))
UI = sorted((ROOT / "ui").glob("*.py"))
DATA_ACCESS = sorted((ROOT / "data_access").rglob("*.py"))

# Modules that hold exact aggregates or the means to get them.
EXACT_SOURCES = ("data_access.queries", "data_access.db", "data_access.load", "sqlalchemy")
# Names that carry no figures: exception and record types.
HARMLESS = {
    "data_access.db.DatabaseUnavailable",
    "data_access.queries.InvalidFilter",
    "data_access.queries.Release",
}
# Pure functions that compute statistics: pages must not do statistics themselves.
STATISTICS = ("data_access.metrics.stats", "data_access.metrics.referrals", "scipy", "numpy")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _touches(imports: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(i for i in imports if i.startswith(prefixes))


def test_there_are_pages():
    assert len(PAGES) >= 2


def test_the_page_scripts_are_exactly_the_routers_list():
    from ui.navigation import PAGES as ROUTED

    assert sorted(ROOT / entry.script for entry in ROUTED) == PAGES


def test_no_pages_folder_beside_the_router():
    # Streamlit 1.67 runs an app with a pages/ folder beside its main script in its legacy
    # multipage mode until some session has called st.navigation: on a cold server a
    # deep link is then resolved by file name (/briefing and /staff opened "Page not
    # found"; /staff_operations ran the staff page's file without the router).
    assert not (ROOT / "pages").exists(), "move page scripts to app_pages/ (ui/navigation.py)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_starts_with_the_shared_guard(page):
    tree = ast.parse(page.read_text())
    body = [n for n in tree.body if not isinstance(n, ast.Expr | ast.ImportFrom | ast.Import)]
    first = body[0]
    assert isinstance(first, ast.Assign), f"{page.name}: first statement is not the guard"
    call = first.value
    assert isinstance(call, ast.Call) and getattr(call.func, "id", None) == "page_setup", (
        f"{page.name}: the first statement must be ctx = page_setup(...)"
    )
    # Nothing but the guard's own import may come before it.
    before = tree.body[: tree.body.index(first)]
    for node in before:
        if isinstance(node, ast.ImportFrom):
            assert node.module == "ui.context", f"{page.name}: {node.module} imported before guard"
        else:
            assert isinstance(node, ast.Expr), f"{page.name}: code runs before the guard"


@pytest.mark.parametrize("module", [*PAGES, *UI], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_presentation_reads_figures_only_through_the_views(module):
    imports = _imports(module)
    allowed_here = module.name == "data.py" and module.parent.name == "ui"
    exact = [i for i in _touches(imports, EXACT_SOURCES) if i not in HARMLESS]
    if allowed_here:  # ui/data.py: the engine and the release list, never a count
        exact = [i for i in exact if i in ("data_access.load",)]
    assert not exact, f"{module.name} imports {exact}: use ui.data.fetch (the views)"
    assert not _touches(imports, STATISTICS), f"{module.name} computes statistics itself"


@pytest.mark.parametrize("module", DATA_ACCESS, ids=lambda p: str(p.relative_to(ROOT)))
def test_data_access_never_imports_streamlit(module):
    assert not _touches(_imports(module), ("streamlit",)), module


def test_ui_data_gets_figures_only_from_the_views():
    source = (ROOT / "ui" / "data.py").read_text()
    tree = ast.parse(source)
    calls = {
        f"{n.func.value.id}.{n.func.attr}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
    }
    query_calls = sorted(c for c in calls if c.startswith("queries."))
    # Releases, sites and precinct names are reference data (no counts of people).
    assert set(query_calls) <= {
        "queries.list_releases",
        "queries.release_history",
        "queries.sites",
        "queries.precincts",
    }, query_calls


# The threshold is the policy's: a literal "fewer than 11" or a use of DEFAULT_POLICY outside
# data_access/disclosure/ would state or apply 11 where a site has set LEAD_DISCLOSURE_K.
POLICY_HOME = ROOT / "data_access" / "disclosure"
OUTSIDE_POLICY = [
    path
    for path in [
        *PAGES,
        *UI,
        *DATA_ACCESS,
        *sorted((ROOT / "briefing").glob("*.py")),
        ROOT / "dashboard.py",
    ]  # fmt: skip
    if POLICY_HOME not in path.parents
]


@pytest.mark.parametrize("module", OUTSIDE_POLICY, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_threshold_is_never_written_outside_the_policy(module):
    source = module.read_text()
    assert "fewer than 11" not in source.lower(), f"{module.name}: say policy.small_reason"
    uses = [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if (isinstance(node, ast.Name) and node.id == "DEFAULT_POLICY")
        or (isinstance(node, ast.Attribute) and node.attr == "DEFAULT_POLICY")
        or (isinstance(node, ast.ImportFrom) and "DEFAULT_POLICY" in [a.name for a in node.names])
    ]
    assert not uses, f"{module.name}:{uses} uses DEFAULT_POLICY: use policy_from_environment()"
