"""The LEAD public dashboard: the router.

Every page script in pages/ starts with ui.context.page_setup (or the staff
guard), because Streamlit serves those files directly on a cold server before
this router has run. The staff page is listed only for staff; the guard in the
page itself is what keeps it closed.
"""

import streamlit as st

from data_access import __version__
from data_access.audience import Audience
from ui.context import effective_audience

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

PUBLIC_PAGES = [
    st.Page("pages/overview.py", title="Overview", url_path="overview", default=True),
    st.Page("pages/referrals.py", title="Referrals and screening", url_path="referrals"),
    st.Page("pages/services.py", title="Services", url_path="services"),
    st.Page("pages/recidivism.py", title="Recidivism", url_path="recidivism"),
    st.Page("pages/disparities.py", title="Disparities", url_path="disparities"),
    st.Page("pages/costs.py", title="Costs", url_path="costs"),
    st.Page("pages/compare.py", title="Compare sites", url_path="compare"),
    st.Page("pages/briefing_page.py", title="Briefing", url_path="briefing"),
    st.Page("pages/methods.py", title="Data and methods", url_path="methods"),
]  # fmt: skip
STAFF_PAGES = [
    st.Page("pages/staff_operations.py", title="Precinct operations", url_path="staff"),
]

pages = PUBLIC_PAGES + (
    STAFF_PAGES if effective_audience(show_notices=False) is Audience.STAFF else []
)
st.navigation(pages).run()
