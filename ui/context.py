"""The first call of every page: who is looking, what they asked for, and the guard.

`page_setup` runs at the top of every file in app_pages/. The router registers
every page on every server (the staff page hidden from anyone but staff), so the
guard must live in each page: a staff page checks the audience itself and stops
before anything staff-only is drawn.

The global filters (site, period, precinct, release) live in the sidebar and
are bound to the URL, so a copied link reproduces the view. A value in the URL
that is not valid for the release falls back to the default with a visible
note, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import streamlit as st

from data_access.audience import (
    Audience,
    AudienceConfigurationError,
    audience_from_environment,
    unauthenticated_staff_allowed,
)
from data_access.db import DatabaseUnavailable
from data_access.periods import Period, available_periods
from data_access.problems import shorten
from data_access.queries import InvalidFilter, Release
from data_access.views import Selection
from ui import data
from ui.components import synthetic_banner
from ui.derive import derived, pairs
from ui.text import escape_markdown, one_line

# The allow-lists of signed-in staff, read from the server's environment on every run
# (see _email_list). Publishers are implicitly viewers.
STAFF_EMAILS_VARIABLE = "LEAD_STAFF_EMAILS"
PUBLISHER_EMAILS_VARIABLE = "LEAD_PUBLISHER_EMAILS"
ALL_PRECINCTS = "all"

# URL parameter names: short, stable, documented in docs/sharing.md.
SITE_KEY = "site"
PERIOD_KEY = "period"
PRECINCT_KEY = "precinct"
RELEASE_KEY = "release"
FILTER_KEYS = (SITE_KEY, PERIOD_KEY, PRECINCT_KEY, RELEASE_KEY)


@dataclass(frozen=True)
class PageContext:
    """Everything a page needs to ask the data layer for its view."""

    database_url: str
    audience: Audience
    release: Release
    site_id: str
    site_name: str
    period: Period
    precinct_ids: tuple[str, ...]
    precinct_names: dict[str, str] = field(default_factory=dict)

    @property
    def is_staff(self) -> bool:
        return self.audience is Audience.STAFF

    @property
    def precinct_label(self) -> str:
        if not self.precinct_ids:
            return "all precincts"
        return ", ".join(self.precinct_names.get(p, p) for p in self.precinct_ids)

    def selection(self, reference: str = "white") -> Selection:
        return Selection(
            release_id=self.release.release_id,
            site_id=self.site_id,
            period=self.period.code,
            precinct_ids=self.precinct_ids,
            reference=reference,
        )

    @property
    def source(self) -> str:
        """Where every figure on the page comes from, for captions."""
        kind = "Synthetic demonstration data" if self.release.synthetic else "Data"
        return (
            f"{kind}: release {self.release.release_id}, complete through "
            f"{self.release.as_of:%d %B %Y}."
        )

    @property
    def place(self) -> str:
        """Site and precincts in words, for titles: "Seattle (West precinct)"."""
        if not self.precinct_ids:
            return self.site_name
        return f"{self.site_name} ({self.precinct_label})"


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all: sign-in is not configured
        return False


# Said to a signed-in viewer refused for this reason; the claim is named so that the
# city's IT can find it in the provider's settings.
UNVERIFIED_EMAIL = (
    "You are signed in, but your sign-in provider has not confirmed that the e-mail "
    "address it gave belongs to you (its email_verified claim is not true), so staff "
    "figures stay closed and only public figures are shown. Ask the dashboard's "
    "administrator to check the provider's settings (docs/staff-mode.md)."
)


class StaffRole(StrEnum):
    """What a member of staff may do: every role sees exact figures."""

    VIEWER = "viewer"
    PUBLISHER = "publisher"  # a viewer who may also publish a release


# What each role means, in the words the staff page uses.
ROLE_MEANING = {
    StaffRole.VIEWER: "sees exact figures; cannot publish",
    StaffRole.PUBLISHER: "sees exact figures and may publish a release",
}


def _email_list(variable: str, environ: Mapping[str, str]) -> frozenset[str]:
    """A comma-separated allow-list, compared without regard to case or spaces."""
    return frozenset(e.strip().lower() for e in environ.get(variable, "").split(",") if e.strip())


def staff_role(
    user: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> tuple[StaffRole | None, str | None]:
    """The signed-in viewer's staff role (None: not staff) and, if refused for a reason
    they can act on, why.

    An e-mail address is matched against a list only when the provider vouches for
    it: many providers let a user type any address into a profile, and without
    email_verified an outsider could claim a listed one. Viewers are the addresses in
    LEAD_STAFF_EMAILS and LEAD_PUBLISHER_EMAILS, or everyone signed in when
    LEAD_STAFF_EMAILS is unset (the provider then decides who may sign in). Publishers
    are only ever the verified addresses in LEAD_PUBLISHER_EMAILS: publishing has no
    "everyone" default.
    """
    env = os.environ if environ is None else environ
    if user.get("is_logged_in") is not True:
        return None, None
    # True only as a JSON true: a missing claim, false or the text "true" are refused.
    verified = user.get("email_verified") is True
    email = str(user.get("email") or "").strip().lower()
    viewers = _email_list(STAFF_EMAILS_VARIABLE, env)
    publishers = _email_list(PUBLISHER_EMAILS_VARIABLE, env)
    if verified and email in publishers:
        return StaffRole.PUBLISHER, None
    if not viewers:
        return StaffRole.VIEWER, None
    if not verified:
        return None, UNVERIFIED_EMAIL
    return (StaffRole.VIEWER, None) if email in viewers else (None, None)


def _signed_in_staff() -> tuple[StaffRole | None, str | None]:
    """staff_role for the person looking now (st.user), from the server's environment."""
    return staff_role(st.user)


def current_staff_role() -> StaffRole | None:
    """The role of the person looking at this server now; None for anyone who is not staff.

    Staff mode without sign-in (the development flag) gives viewers only: nobody can
    publish without having signed in.
    """
    if effective_audience(show_notices=False) is not Audience.STAFF:
        return None
    if _auth_configured():
        return _signed_in_staff()[0]
    return StaffRole.VIEWER


def may_publish() -> bool:
    """Whether the person looking may publish: a signed-in publisher on a staff server."""
    return current_staff_role() is StaffRole.PUBLISHER


def role_statement() -> str:
    """Who is signed in and with which role, as the staff page says it (Markdown)."""
    role = current_staff_role()
    if role is None:
        return "Not signed in as staff."
    meaning = f"Role: {role.value} ({ROLE_MEANING[role]})."
    if not _auth_configured():
        return escape_markdown(f"Not signed in (staff mode without sign-in). {meaning}")
    email = st.user.get("email") or "an account without an e-mail address"
    return escape_markdown(f"Signed in as {email}. {meaning}")


def effective_audience(*, show_notices: bool = True) -> Audience:
    """Staff only when the server is in staff mode AND the viewer may see staff content.

    Staff mode with sign-in configured requires a signed-in user with a staff role
    (see staff_role: when LEAD_STAFF_EMAILS is set, an e-mail the provider verified
    on that list or on LEAD_PUBLISHER_EMAILS). Staff mode
    without sign-in shows nothing staff-only unless LEAD_ALLOW_UNAUTHENTICATED_STAFF=1,
    and then a banner says so. Read from the server's environment, never from the URL.
    The router asks without notices; each page shows them once.
    """
    try:
        configured = audience_from_environment()
        allow_unauthenticated = unauthenticated_staff_allowed()
    except AudienceConfigurationError as exc:
        st.error(f"The dashboard is misconfigured: {exc}")
        st.stop()
    if configured is Audience.PUBLIC:
        return Audience.PUBLIC
    if _auth_configured():
        role, refusal = _signed_in_staff()
        if role is not None:
            if show_notices:
                st.sidebar.button("Sign out", on_click=st.logout, key="staff_logout")
            return Audience.STAFF
        if show_notices:
            if refusal:
                st.warning(refusal, icon=":material/no_accounts:")
                st.sidebar.button("Sign out", on_click=st.logout, key="staff_logout")
            else:
                st.sidebar.button("Staff sign-in", on_click=st.login, key="staff_login")
        return Audience.PUBLIC
    if allow_unauthenticated:
        if show_notices:
            st.warning(
                "Staff mode without sign-in (LEAD_ALLOW_UNAUTHENTICATED_STAFF=1). Exact counts "
                "are shown. Use this only on a developer's own machine.",
                icon=":material/warning:",
            )
        return Audience.STAFF
    if show_notices:
        st.info(
            "This server is set to staff mode, but staff sign-in is not configured, so only "
            "public figures are shown. See docs/staff-mode.md."
        )
    return Audience.PUBLIC


# A URL value is repeated in the note only this far: enough to recognise a typo.
NOTE_VALUE_LIMIT = 40


def _fallback_note(parameter: str, value: object, reason: str, default_text: str) -> None:
    shown = escape_markdown(shorten(one_line(value), NOTE_VALUE_LIMIT))
    st.warning(
        f"The link asked for {parameter} “{shown}”, which {reason}. "
        f"Showing {default_text} instead.",
        icon=":material/link_off:",
    )


def _url_values(key: str) -> list[str]:
    """The URL parameter's values on this run (several for a repeated parameter)."""
    return [v for v in st.query_params.get_all(key) if v != ""]


def _seed_from_url(key: str, valid: list[str], default: list[str], multiple: bool) -> list[str]:
    """The filter's value: the URL's when it is new and valid, else what the session had.

    Widgets hold their value in session state under "w_<key>"; the URL is
    written back after every run (see _write_url), so a value in the URL that
    differs from the one we last wrote came from a pasted link or the browser's
    back button, and wins.
    """
    asked = _url_values(key)
    if asked and asked != st.session_state.get(f"url_{key}"):
        good = [a for a in asked if a in valid]
        if multiple:
            return good or default
        return [asked[0]] if asked[0] in valid else default
    held = st.session_state.get(f"keep_{key}", default)
    return [h for h in held if h in valid] or default


def _write_url(key: str, value: list[str], default: list[str]) -> None:
    """Keep the URL in step with the filter (a default value leaves the URL clean)."""
    st.session_state[f"keep_{key}"] = value
    st.session_state[f"url_{key}"] = value
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif value != st.query_params.get_all(key):
        st.query_params[key] = value if len(value) > 1 else value[0]


def _select(
    label: str, options: list[str], key: str, labels: dict[str, str], default_text: str, what: str
) -> str:
    """A sidebar selectbox whose value is carried in the URL as a stable code.

    (Streamlit's own URL binding writes the *displayed label* into the URL, which
    for precincts is data; we keep codes.) A URL value not among the options
    gets a visible note and the default.
    """
    asked = _url_values(key)
    if asked and asked != st.session_state.get(f"url_{key}") and asked[0] not in options:
        _fallback_note(what, asked[0], "is not available here", default_text)
    seeded = _seed_from_url(key, options, options[:1], multiple=False)[0]
    widget = f"w_{key}"
    if (
        st.session_state.get(widget) not in options
        or seeded != st.session_state.get(f"keep_{key}", [None])[0]
    ):
        st.session_state[widget] = seeded
    value = st.sidebar.selectbox(
        label, options, key=widget, format_func=lambda code: labels.get(code, code)
    )
    _write_url(key, [value], options[:1])
    return value


def _choose_release(url: str) -> Release:
    releases = data.releases(url)
    if not releases:
        st.error(
            "No data release is loaded yet. An administrator can load the demonstration "
            "data with `python -m data_access demo`."
        )
        st.stop()
    # Short labels: the sidebar cuts long ones. The date is in the page caption and
    # on the Data and methods page.
    labels = {
        r.release_id: r.release_id + (" (latest)" if i == 0 else "") for i, r in enumerate(releases)
    }
    chosen = _select(
        "Data release",
        list(labels),
        RELEASE_KEY,
        labels,
        "the latest release",
        "release",
    )
    return next(r for r in releases if r.release_id == chosen)


# page_setup runs first on every rerun of every page: the lookups below are the same
# every time for the same release, so they are derived once (ui.derive, keyed by the
# frames' content) instead of walking polars columns on each run. Read-only results.
@derived
def _period_choices(as_of, launched: str) -> tuple[tuple[Period, ...], dict[str, str]]:
    periods = tuple(available_periods(as_of, launched))
    return periods, {p.code: p.label for p in periods}


def _choose_precincts(ctx_url: str, release: Release, site_id: str, audience: Audience):
    precincts = data.precincts(ctx_url, release.release_id, site_id)
    names = pairs(precincts, "precinct_id", "precinct_name")
    if audience is Audience.STAFF:
        asked = _url_values(PRECINCT_KEY)
        unknown = [p for p in asked if p not in names]
        if unknown and asked != st.session_state.get(f"url_{PRECINCT_KEY}"):
            _fallback_note("precinct", unknown[0], "is not a precinct of this site", "the others")
        seeded = _seed_from_url(PRECINCT_KEY, list(names), [], multiple=True)
        widget = f"w_{PRECINCT_KEY}"
        if seeded != st.session_state.get(f"keep_{PRECINCT_KEY}") or widget not in st.session_state:
            st.session_state[widget] = seeded
        chosen = st.sidebar.multiselect(
            "Precincts",
            list(names),
            key=widget,
            format_func=lambda p: names.get(p, p),
            placeholder="All precincts",
        )
        _write_url(PRECINCT_KEY, list(chosen), [])
        return tuple(chosen), names
    # The public choose one precinct or all: sums over arbitrary sets of precincts
    # would let a reader subtract one published total from another.
    labels = {ALL_PRECINCTS: "All precincts", **names}
    chosen = _select("Precinct", list(labels), PRECINCT_KEY, labels, "all precincts", "precinct")
    return (() if chosen == ALL_PRECINCTS else (chosen,)), names


def page_setup(title: str, *, staff_only: bool = False) -> PageContext:
    """Guard, filters and banners; the first statement of every page script."""
    audience = effective_audience()
    if staff_only and audience is not Audience.STAFF:
        st.title("Program staff only")
        st.info("This page is for program staff. Public figures are on the other pages.")
        st.stop()
    url = data.database_url()
    try:
        release = _choose_release(url)
        site_table = data.sites(url, release.release_id)
        names = pairs(site_table, "site_id", "site_name")
        # The release's own order (its first site is the default), then any others.
        site_names = {s: names[s] for s in release.sites if s in names} | names
        site_id = _select("Site", list(site_names), SITE_KEY, site_names, "the first site", "site")
        launched = pairs(site_table, "site_id", "launched")
        periods, period_labels = _period_choices(release.as_of, launched[site_id])
        period_code = _select(
            "Period", list(period_labels), PERIOD_KEY, period_labels, "the latest quarter", "period"
        )
        precinct_ids, precinct_names = _choose_precincts(url, release, site_id, audience)
    except DatabaseUnavailable as exc:
        data.show_database_error(exc)
        st.stop()
    except InvalidFilter as exc:  # a value valid for the widget but not for the data
        st.warning(f"{escape_markdown(exc)}. Showing the default view instead.")
        st.stop()
    if release.synthetic:
        synthetic_banner()
    st.title(title)
    return PageContext(
        database_url=url,
        audience=audience,
        release=release,
        site_id=site_id,
        site_name=site_names[site_id],
        period=next(p for p in periods if p.code == period_code),
        precinct_ids=precinct_ids,
        precinct_names=precinct_names,
    )
