"""The open-data ZIP behind the methods page's download button: built on click, then cached.

The bundle is built by data_access.export from the same views the pages use,
for the page's release, site and audience, so the download holds exactly the
page's numbers: every count table whole (every quarter and year) and every
view for each whole year. Views for every quarter as well would make a visitor
wait a minute or more for a large site; `python -m data_access export` writes
those. Building takes seconds, so it runs only when a visitor clicks, and the
result is kept for the next one.
"""

from __future__ import annotations

import streamlit as st

from data_access.audience import Audience
from data_access.export import bundle_name, bundle_zip
from ui import data

PERIODS = "years"  # views for each whole year; count tables hold every quarter anyway


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def open_data_zip(url: str, release_id: str, checksum: str, site_id: str, audience: Audience):
    """The ZIP of the open-data bundle for one site of one release (checksum: cache key only)."""
    del checksum  # a replaced release has a new checksum, so a new cache entry
    return bundle_zip(
        data.engine(url),
        release_id=release_id,
        site_id=site_id,
        audience=audience,
        periods=PERIODS,
    )


def file_name(release_id: str, site_id: str, audience: Audience) -> str:
    return f"{bundle_name(release_id, site_id, audience)}.zip"
