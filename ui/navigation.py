"""The dashboard's pages, in menu order: the one list the router and the tests read.

dashboard.py turns each entry into an st.Page; the browser tests, the page sweep
and the benchmarks take the same entries, so a page added here is routed, tested
and measured without a second list to keep in step. Plain data, no streamlit.

The scripts live in app_pages/, not pages/: a folder named pages/ beside the main
script puts Streamlit into its legacy multipage mode until some session has run
the router, and in that mode a deep link to a cold server was served by file name
(/briefing, /staff opened a "Page not found" dialog; /staff_operations ran the page
file without the router). tests/test_architecture.py keeps pages/ from coming back.
"""

from __future__ import annotations

from dataclasses import dataclass

from data_access.audience import Audience

PAGES_FOLDER = "app_pages"


@dataclass(frozen=True)
class PageEntry:
    """One page of the dashboard."""

    script: str  # relative to the project root, e.g. "app_pages/referrals.py"
    title: str  # its name in the menu
    url_path: str  # its address: /<url_path> (the default page is also at /)
    audience: Audience  # PUBLIC: in everyone's menu; STAFF: in the menu of staff only

    @property
    def name(self) -> str:
        """The script's file name without .py, e.g. "briefing_page"."""
        return self.script.rsplit("/", 1)[-1].removesuffix(".py")


def _page(file: str, title: str, url_path: str, audience: Audience = Audience.PUBLIC):
    return PageEntry(f"{PAGES_FOLDER}/{file}", title, url_path, audience)


PAGES: tuple[PageEntry, ...] = (
    _page("overview.py", "Overview", "overview"),
    _page("referrals.py", "Referrals and screening", "referrals"),
    _page("services.py", "Services", "services"),
    _page("recidivism.py", "Recidivism", "recidivism"),
    _page("disparities.py", "Disparities", "disparities"),
    _page("costs.py", "Costs", "costs"),
    _page("compare.py", "Compare sites", "compare"),
    _page("briefing_page.py", "Briefing", "briefing"),
    _page("methods.py", "Data and methods", "methods"),
    _page("staff_operations.py", "Precinct operations", "staff", Audience.STAFF),
)
# The page at the app's root (/), which is also where an unknown address lands.
DEFAULT_PAGE = PAGES[0]


def pages_for(audience: Audience) -> tuple[PageEntry, ...]:
    """The pages in the menu of a viewer of this audience, in menu order."""
    return tuple(p for p in PAGES if p.audience is Audience.PUBLIC or audience is Audience.STAFF)


PUBLIC_PAGES = pages_for(Audience.PUBLIC)
