"""The briefing page's cached door to briefing.assemble (the same code the command line runs).

A briefing is public whoever opens it: it is printed and passed on, so it is
assembled for the public audience even on a staff server. The PDF is drawn
only when someone presses "Download PDF" (the button is given a callable) and
is then kept, so a second download of the same view is instant.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from briefing.assemble import Assembled, assemble, public_base_url
from briefing.pdf import render_pdf
from data_access.audience import Audience
from data_access.views import Selection
from ui import data
from ui.data import TTL_SECONDS


def site_selection(ctx) -> Selection:
    """The page's selection for the whole site: a briefing never covers one precinct."""
    return dataclasses.replace(ctx.selection(), precinct_ids=())


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner="Writing the briefing…")
def briefing_for(url: str, selection: Selection, base_url: str) -> Assembled:
    return assemble(data.engine(url), selection, Audience.PUBLIC, base_url)


@st.cache_data(ttl=TTL_SECONDS, max_entries=16, show_spinner=False)
def pdf_for(url: str, selection: Selection, base_url: str) -> bytes:
    return render_pdf(briefing_for(url, selection, base_url).briefing)


def fetch_briefing(ctx) -> tuple[Assembled, Selection, str]:
    """The assembled briefing for the page's site and period, and what rebuilds its PDF."""
    selection = site_selection(ctx)
    try:
        base_url = public_base_url()
    except ValueError as exc:  # a misconfigured server: say so rather than print a bad link
        st.error(f"The dashboard is misconfigured: {exc}")
        st.stop()
    try:
        return briefing_for(ctx.database_url, selection, base_url), selection, base_url
    except data.DatabaseUnavailable as exc:
        data.show_database_error(exc)
        st.stop()
