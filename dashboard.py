"""The LEAD public dashboard: the router.

The pages are listed once, in ui/navigation.py. Every page is registered on every
server, so each address lands on its page: the staff page is in the menu for staff
only and hidden for everyone else, whom its own guard (ui.context.page_setup with
staff_only=True) stops with "Program staff only" before anything staff-only is drawn.
"""

import streamlit as st

from data_access import __version__
from ui.context import effective_audience
from ui.navigation import DEFAULT_PAGE, PAGES, pages_for

st.set_page_config(
    page_title="LEAD public dashboard",
    # No material icons on the page or its st.Page entries: Streamlit turns them into
    # a favicon fetched from a font CDN, which a locked-down city network (and CI)
    # cannot reach.
    layout="wide",
    menu_items={
        "About": f"LEAD public dashboard {__version__}: open-source (Apache-2.0), "
        "synthetic demo data by default."
    },
)

in_menu = pages_for(effective_audience(show_notices=False))
routed = {
    entry: st.Page(
        entry.script,
        title=entry.title,
        # Streamlit serves the default page at the root only ("" is its own address);
        # its name gets the alias below.
        url_path="" if entry is DEFAULT_PAGE else entry.url_path,
        default=entry is DEFAULT_PAGE,
        visibility="visible" if entry in in_menu else "hidden",
    )
    for entry in PAGES
}


def _default_page_by_name() -> None:
    """/overview: the default page's own name. Go to it at the root, with the same filters."""
    query = [(key, st.query_params.get_all(key)) for key in st.query_params]
    st.switch_page(routed[DEFAULT_PAGE], query_params=query)


alias = st.Page(
    _default_page_by_name,
    title=DEFAULT_PAGE.title,
    url_path=DEFAULT_PAGE.url_path,
    visibility="hidden",
)
st.navigation([*routed.values(), alias]).run()
