"""The pages' only door to the data: bounded Streamlit caches over data_access.

Caches are keyed by the database URL, the release and the filters, so two
releases or two databases never share an entry. Every cache is bounded (ttl
and max_entries): the server runs for weeks. Configuration is read inside
functions, never at import, so a test that changes DATABASE_URL is obeyed.

An unreachable database raises DatabaseUnavailable out of these functions.
Streamlit does not cache exceptions, so the next run tries again: the outage
message's "Try again" button (or reloading the page) is that next run. Nothing
reruns a page by itself, so the message says so rather than promise it.
"""

from __future__ import annotations

import datetime as dt
import logging

import polars as pl
import sqlalchemy as sa
import streamlit as st

from data_access import db, queries, views
from data_access.audience import Audience
from data_access.db import DatabaseUnavailable
from data_access.views import Selection

TTL_SECONDS = 600
log = logging.getLogger(__name__)


def database_url() -> str:
    return db.database_url()


@st.cache_resource(max_entries=4, show_spinner=False)
def engine(url: str) -> sa.Engine:
    """One engine (and connection pool) per database URL for the whole server."""
    return db.make_engine(url)


# The release list, sites and precincts are read by page_setup on every run, so they
# too are shared resources rather than unpickled copies (see view() below). Read them,
# never change them in place: a tuple of frozen Releases, and polars frames.
@st.cache_resource(ttl=60, max_entries=8, show_spinner=False)
def releases(url: str) -> tuple[queries.Release, ...]:
    # A short ttl: a newly loaded release appears within a minute.
    return tuple(queries.list_releases(engine(url)))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def release_history(url: str) -> pl.DataFrame:
    return queries.release_history(engine(url))


@st.cache_resource(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def sites(url: str, release_id: str) -> pl.DataFrame:
    return queries.sites(engine(url), release_id)


@st.cache_resource(ttl=TTL_SECONDS, max_entries=128, show_spinner=False)
def precincts(url: str, release_id: str, site_id: str) -> pl.DataFrame:
    return queries.precincts(engine(url), release_id, site_id)


# cache_resource, not cache_data: cache_data unpickles a fresh copy on every hit, and that
# copy was a good part of a warm page run. A ViewResult is immutable (its Protected
# tables hand out clones of their frames), so every session may share the one object.
@st.cache_resource(ttl=TTL_SECONDS, max_entries=512, show_spinner="Loading figures…")
def view(name: str, url: str, selection: Selection, audience: Audience) -> views.ViewResult:
    """A public (or staff) view by name: the only way pages get figures."""
    return views.build(name, engine(url), selection, audience)


def fetch(name: str, ctx, reference: str = "white") -> views.ViewResult:
    """A view for the page's context; a database outage shows the friendly message and stops."""
    try:
        return view(name, ctx.database_url, ctx.selection(reference), ctx.audience)
    except DatabaseUnavailable as exc:
        show_database_error(exc)
        st.stop()


def show_database_error(exc: DatabaseUnavailable) -> None:
    """The friendly message every page shows when the database cannot be reached.

    Every visitor may read it, so it shows only the exception's public words
    (no credential, host, port or database name: data_access.db.describe); the
    driver's own reason goes to the server's log for the administrator.
    """
    at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    log.warning("Database unavailable (%s): %s", at, exc.for_administrator())
    st.error(
        "The dashboard cannot reach its database right now, so no figures can be shown. "
        "This page does not refresh by itself: please try again in a minute with the "
        "button below, or reload the page.",
        icon=":material/cloud_off:",
    )
    # A click reruns the page, and the rerun asks the database again.
    st.button("Try again", key="database_retry", icon=":material/refresh:")
    with st.expander("Details for the site administrator"):
        st.text(f"{exc}.\nThe full reason is in the server's log ({at}).")
