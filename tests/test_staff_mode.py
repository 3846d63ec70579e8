"""Staff mode: exact counts for program staff, and nothing staff-only for anyone else.

The staff page is run two ways. Through the router (dashboard.py), as a
visitor who opens the app does: the router registers the page on every server,
hidden from the menu of anyone but staff, so /staff lands on it for everyone.
And directly (`AppTest.from_file` on the page file): either way the page's own
guard is all that stands between a visitor and the exact figures (see
docs/staff-mode.md).

Exactness is proved against direct queries of the database (data_access.queries),
not against numbers copied into the test.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from apptest_support import DASHBOARD, ROOT, SMALL_COUNT, texts
from release_builder import minimal_release
from streamlit.testing.v1 import AppTest

import data_access.views.staff  # noqa: F401  (registers the staff view until views/__init__ does)
from data_access import queries as q
from data_access.audience import Audience
from data_access.db import init_db, make_engine
from data_access.load import load_release
from data_access.views import Selection, build
from data_access.views.staff import STAFF_OPERATIONS, month_window
from ui.context import StaffRole, staff_role
from ui.text import escape_markdown

STAFF_PAGE = "app_pages/staff_operations.py"
STAFF_PAGE_FILE = str(ROOT / STAFF_PAGE)
STAFF_ONLY_TITLE = "Program staff only"
EXACT_MARKER = "Staff only: exact counts, not for publication"
RELEASE = "demo-2025-12"
# Placeholders only: nothing here is contacted unless someone clicks "Staff sign-in".
AUTH_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret-not-used-for-anything-real",
    "client_id": "lead-dashboard",
    "client_secret": "placeholder",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


# --------------------------------------------------------------------------- helpers


def _keys(block) -> list[str]:
    """Every element key in a block and below it (containers, charts, widgets)."""
    found = [block.key] if getattr(block, "key", None) else []
    proto_id = getattr(getattr(block, "proto", None), "id", "")
    if isinstance(proto_id, str) and proto_id:
        found.append(proto_id)
    for child in getattr(block, "children", {}).values():
        found += _keys(child)
    return found


def staff_keys(at: AppTest) -> list[str]:
    """Keys of staff-only elements on the page: chart cards and the page's container."""
    return [k for k in _keys(at.main) + _keys(at.sidebar) if "staff-" in k]


def assert_nothing_staff_only(at: AppTest) -> None:
    assert not at.exception, at.exception
    shown = texts(at)
    assert EXACT_MARKER not in shown
    assert "exact counts" not in shown.lower()
    assert staff_keys(at) == []
    assert len(at.get("plotly_chart")) == 0
    assert len(at.dataframe) == 0
    assert len(at.metric) == 0


def run_staff_page(**query: str | list[str]) -> AppTest:
    """The staff page file run by itself, without the router."""
    at = AppTest.from_file(STAFF_PAGE_FILE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def staff_mode(env, *, dev_flag: bool) -> None:
    env.setenv("LEAD_AUDIENCE", "staff")
    if dev_flag:
        env.setenv("LEAD_ALLOW_UNAUTHENTICATED_STAFF", "1")


def period_table(at: AppTest) -> pl.DataFrame:
    """The page's table of exact counts by precinct for the period (the first dataframe)."""
    frame = pl.from_pandas(at.dataframe[0].value)
    assert frame.columns == ["Precinct", "Referrals", "Enrolled", "Share enrolled (%)"]
    return frame


def direct_referrals(url: str, site: str, start: str, end: str, precincts=()) -> pl.DataFrame:
    """Referrals and enrollments per precinct name, straight from the database."""
    engine = make_engine(url)
    frame = q.aggregate(
        engine,
        "referrals",
        q.Scope(RELEASE, site, tuple(precincts), start, end),
        by=["precinct_id"],
    )
    names = q.precincts(engine, RELEASE, site)
    engine.dispose()
    return (
        frame.join(names.select("precinct_id", "precinct_name"), on="precinct_id")
        .select(pl.col("precinct_name").alias("Precinct"), "referrals", "enrolled")
        .sort("Precinct")
    )


# --------------------------------------------------------------------------- public mode


def run_router() -> AppTest:
    """dashboard.py on its default page; Albany's small figures keep the run quick."""
    at = AppTest.from_file(DASHBOARD, default_timeout=120)
    at.query_params["site"] = "albany"
    return at.run()


def test_public_router_opens_the_staff_address_on_the_staff_only_message(app_env):
    # The page is registered (hidden from the public menu: see tests/browser), so the
    # address lands on it, and its guard shows only the staff-only message.
    at = run_router()
    assert not at.exception
    at.switch_page(STAFF_PAGE).run()
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(at)


def test_public_deep_link_to_the_page_file_shows_only_the_staff_only_message(app_env):
    at = run_staff_page(site="albany", period="2025-Q4")
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert "This page is for program staff" in texts(at)
    assert_nothing_staff_only(at)
    # No filters either: the guard stops before the sidebar is drawn.
    assert len(at.sidebar.selectbox) == 0 and len(at.sidebar.multiselect) == 0


def test_a_url_parameter_cannot_ask_for_staff_mode(app_env):
    at = run_staff_page(audience="staff", LEAD_AUDIENCE="staff", staff="1")
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(at)


# --------------------------------------------------------------------------- staff mode, no sign-in


def test_staff_mode_without_sign_in_configured_shows_nothing_staff_only(app_env):
    staff_mode(app_env, dev_flag=False)
    at = run_staff_page(site="albany")
    assert "staff sign-in is not configured" in " ".join(i.value for i in at.info)
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(at)

    router = run_router()
    assert not router.exception
    router.switch_page(STAFF_PAGE).run()
    assert [t.value for t in router.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(router)


def test_dev_flag_alone_does_not_open_staff_mode_on_a_public_server(app_env):
    app_env.setenv("LEAD_ALLOW_UNAUTHENTICATED_STAFF", "1")  # LEAD_AUDIENCE unset: public
    at = run_staff_page(site="albany")
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(at)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LEAD_AUDIENCE", "stafff"), ("LEAD_ALLOW_UNAUTHENTICATED_STAFF", "yes")],
)
def test_a_bad_setting_gives_a_clear_error_naming_the_variable(app_env, variable, value):
    app_env.setenv("LEAD_AUDIENCE", "staff")
    app_env.setenv(variable, value)
    for at in (run_staff_page(), run_router()):
        assert not at.exception  # a message, not a traceback
        errors = " ".join(e.value for e in at.error)
        assert "misconfigured" in errors
        assert variable in errors and repr(value) in errors
        assert_nothing_staff_only(at)


# --------------------------------------------------------------------------- staff mode, dev flag


def test_dev_flag_shows_exact_counts_matching_a_direct_query(app_env, demo_sqlite_url):
    staff_mode(app_env, dev_flag=True)
    at = run_staff_page(site="albany", period="2025-Q4")
    assert not at.exception
    assert [t.value for t in at.title] == ["Precinct operations (staff only)"]
    assert "LEAD_ALLOW_UNAUTHENTICATED_STAFF=1" in " ".join(w.value for w in at.warning)
    assert EXACT_MARKER in " ".join(w.value for w in at.warning)

    table = period_table(at)
    by_precinct = table.filter(pl.col("Precinct") != "All selected precincts").sort("Precinct")
    direct = direct_referrals(demo_sqlite_url, "albany", "2025-10", "2025-12")
    assert by_precinct["Precinct"].to_list() == direct["Precinct"].to_list()
    assert by_precinct["Referrals"].to_list() == direct["referrals"].to_list()
    assert by_precinct["Enrolled"].to_list() == direct["enrolled"].to_list()
    # The total row is the sum of the precinct rows (e.g. 9 + 2 + 3 = 14 referrals).
    total = table.filter(pl.col("Precinct") == "All selected precincts").row(0, named=True)
    assert total["Referrals"] == sum(direct["referrals"])
    assert total["Enrolled"] == sum(direct["enrolled"])
    # Share enrolled is enrolled / referrals, in percent to one decimal (e.g. 7/9 = 77.8).
    for row in by_precinct.iter_rows(named=True):
        assert row["Share enrolled (%)"] == round(100 * row["Enrolled"] / row["Referrals"], 1)
    # Albany's precincts are small: staff see counts the public never sees.
    cells = [str(v) for v in table["Referrals"].to_list() + table["Enrolled"].to_list()]
    assert [c for c in cells if SMALL_COUNT.match(c)], "no count from 1 to 10 on the page"


def test_dev_flag_page_has_staff_charts_each_with_alt_text_and_a_table(app_env):
    staff_mode(app_env, dev_flag=True)
    at = run_staff_page(site="seattle", period="2025")
    charts = at.get("plotly_chart")
    assert len(charts) == 6
    for chart in charts:
        assert chart.proto.alt.strip()
        assert "-staff-" in chart.proto.id  # keys "staff-<what>_chart"
    assert len(at.dataframe) >= len(charts) + 1  # each chart's table, and the period table
    assert len(at.get("download_button")) >= len(charts) + 1
    keys = staff_keys(at)
    assert "staff-operations" in keys and "chart_card_staff-pending-monthly" in keys
    labels = [m.label for m in at.metric]
    assert labels == ["Referrals", "Enrolled", "Active caseload", "Screenings pending"]
    assert "in December 2025" in [c.value for c in at.caption]


def test_pending_screenings_match_a_direct_query_including_small_numbers(app_env, demo_sqlite_url):
    staff_mode(app_env, dev_flag=True)
    at = run_staff_page(site="albany", period="2025-Q4")
    # The pending bar chart's table: precinct and pending screenings over the window.
    pending_tables = [
        pl.from_pandas(d.value) for d in at.dataframe if "Screenings pending" in d.value.columns
    ]
    shown = pending_tables[0]
    start, end = month_window("2025-Q4", "2025-12", "2016-04")[0], "2025-12"
    assert start == "2025-01"  # twelve months ending with the quarter: January to December
    engine = make_engine(demo_sqlite_url)
    screening = q.aggregate(
        engine,
        "screening",
        q.Scope(RELEASE, "albany", (), start, end),
        by=["precinct_id", "outcome"],
    ).filter(pl.col("outcome") == "pending")
    names = dict(
        q.precincts(engine, RELEASE, "albany").select("precinct_id", "precinct_name").rows()
    )
    expected = {names[p]: 0 for p in names}
    for row in screening.iter_rows(named=True):
        expected[names[row["precinct_id"]]] += row["persons"]
    got = dict(zip(shown["Precinct"], shown["Screenings pending"].cast(pl.Int64), strict=True))
    assert got == expected
    assert any(1 <= v <= 10 for v in got.values())


def test_the_precinct_filter_takes_any_set_of_precincts(app_env, demo_sqlite_url):
    staff_mode(app_env, dev_flag=True)
    at = run_staff_page(site="seattle", period="2025-Q4", precinct=["west", "east"])
    assert at.multiselect(key="w_precinct").value == ["west", "east"]
    table = period_table(at)
    direct = direct_referrals(demo_sqlite_url, "seattle", "2025-10", "2025-12", ["west", "east"])
    assert sorted(table["Precinct"].to_list()) == sorted(
        ["East Precinct", "West Precinct", "All selected precincts"]
    )
    total = table.filter(pl.col("Precinct") == "All selected precincts").row(0, named=True)
    assert total["Referrals"] == direct["referrals"].sum()

    # Adding a precinct through the widget widens the view, and the URL follows.
    at.multiselect(key="w_precinct").select("north").run()
    assert not at.exception
    assert "North Precinct" in period_table(at)["Precinct"].to_list()
    assert sorted(at.query_params["precinct"]) == ["east", "north", "west"]


def test_changing_the_period_changes_the_exact_counts(app_env):
    staff_mode(app_env, dev_flag=True)
    at = run_staff_page(site="seattle", period="2025-Q4")
    before = period_table(at)
    at.selectbox(key="w_period").select("2025-Q3").run()
    assert not at.exception
    after = period_table(at)
    assert before["Referrals"].to_list() != after["Referrals"].to_list()
    assert "Exact counts by precinct, the third quarter of 2025" in texts(at)


# --------------------------------------------------------------------------- signed in (OIDC)


VERIFIED = object()  # signed_in_page's default: the claim is JSON true
UNVERIFIED_NOTE = "has not confirmed that the e-mail address it gave belongs to you"


def signed_in_page(
    env,
    email: str | None,
    allow_list: str | None,
    verified: object = VERIFIED,
    *,
    publishers: str | None = None,
    at: AppTest | None = None,
) -> AppTest:
    """`at` (default: the staff page) for a viewer signed in as `email` (None: signed out).

    `verified` is the provider's email_verified claim: True by default, MISSING
    to leave it out, or any value to send as it is. `allow_list` and `publishers`
    are LEAD_STAFF_EMAILS and LEAD_PUBLISHER_EMAILS (None: unset).
    """
    env.setenv("LEAD_AUDIENCE", "staff")
    for variable, value in (
        ("LEAD_STAFF_EMAILS", allow_list),
        ("LEAD_PUBLISHER_EMAILS", publishers),
    ):
        if value is not None:
            env.setenv(variable, value)
        else:
            env.delenv(variable, raising=False)
    if at is None:
        at = AppTest.from_file(STAFF_PAGE_FILE, default_timeout=120)
    at.secrets["auth"] = AUTH_SECRETS
    user: dict[str, object] = {"is_logged_in": False}
    if email:
        user = {"is_logged_in": True, "email": email}
        if verified is VERIFIED:
            user["email_verified"] = True
        elif verified is not MISSING:
            user["email_verified"] = verified
    at.user = user
    at.query_params["site"] = "albany"
    return at.run()


MISSING = object()


def test_signed_out_viewer_gets_the_sign_in_button_and_nothing_staff_only(app_env):
    at = signed_in_page(app_env, None, None)
    assert [b.label for b in at.sidebar.button] == ["Staff sign-in"]
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(at)


def test_signed_in_staff_on_the_allow_list_see_exact_counts(app_env):
    # The list is compared without regard to case or spaces around commas.
    at = signed_in_page(
        app_env, "case.manager@example.org", "lead@example.org, Case.Manager@Example.org"
    )
    assert not at.exception
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert [t.value for t in at.title] == ["Precinct operations (staff only)"]
    assert EXACT_MARKER in " ".join(w.value for w in at.warning)
    # Signed-in staff get no "without sign-in" warning.
    assert "LEAD_ALLOW_UNAUTHENTICATED_STAFF" not in texts(at)


@pytest.mark.parametrize(
    "verified", [False, MISSING, "true", 1, None], ids=["false", "missing", "text", "one", "null"]
)
def test_a_listed_e_mail_the_provider_did_not_verify_is_refused_with_a_plain_message(
    app_env, verified
):
    # Many providers let a user type any address into a profile: without the
    # provider's word for it, a listed address proves nothing.
    at = signed_in_page(app_env, "Case.Manager@example.org", "case.manager@example.org", verified)
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(at)
    assert UNVERIFIED_NOTE in texts(at)
    # Signing in again would not help; signing out (as someone else) might.
    assert [b.label for b in at.sidebar.button] == ["Sign out"]


def test_signed_in_user_missing_from_the_allow_list_sees_nothing_staff_only(app_env):
    at = signed_in_page(app_env, "someone.else@example.org", "case.manager@example.org")
    assert [b.label for b in at.sidebar.button] == ["Staff sign-in"]
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(at)


def test_without_an_allow_list_any_signed_in_user_is_staff(app_env):
    at = signed_in_page(app_env, "anyone@example.org", None)
    assert [t.value for t in at.title] == ["Precinct operations (staff only)"]
    assert staff_keys(at)


PUBLISHER = "program.lead@example.org"
VIEWER = "case.manager@example.org"
SIGNED_IN = {"is_logged_in": True, "email_verified": True}


@pytest.mark.parametrize(
    ("user", "viewers", "publishers", "role"),
    [
        ({**SIGNED_IN, "email": PUBLISHER}, VIEWER, PUBLISHER, StaffRole.PUBLISHER),
        # A publisher is a viewer without being on LEAD_STAFF_EMAILS too.
        ({**SIGNED_IN, "email": " Program.Lead@Example.org "}, VIEWER, PUBLISHER, "publisher"),
        ({**SIGNED_IN, "email": VIEWER}, VIEWER, PUBLISHER, StaffRole.VIEWER),
        ({**SIGNED_IN, "email": "someone@example.org"}, VIEWER, PUBLISHER, None),
        # Publishing needs the provider's word for the address, even without a viewer list.
        ({"is_logged_in": True, "email": PUBLISHER}, "", PUBLISHER, StaffRole.VIEWER),
        (
            {"is_logged_in": True, "email": PUBLISHER, "email_verified": "true"},
            VIEWER,
            PUBLISHER,
            None,
        ),
        # No viewer list: everyone signed in views; only the publisher list publishes.
        ({**SIGNED_IN, "email": "anyone@example.org"}, "", PUBLISHER, StaffRole.VIEWER),
        ({**SIGNED_IN, "email": "anyone@example.org"}, "", "", StaffRole.VIEWER),
        ({"is_logged_in": False, "email": PUBLISHER, "email_verified": True}, "", PUBLISHER, None),
    ],
)
def test_staff_role_says_who_views_and_who_publishes(user, viewers, publishers, role):
    environ = {"LEAD_STAFF_EMAILS": viewers, "LEAD_PUBLISHER_EMAILS": publishers}
    assert staff_role(user, environ)[0] == role


def test_an_unverified_publisher_is_told_why():
    role, refusal = staff_role(
        {"is_logged_in": True, "email": PUBLISHER, "email_verified": False},
        {"LEAD_STAFF_EMAILS": VIEWER, "LEAD_PUBLISHER_EMAILS": PUBLISHER},
    )
    assert role is None and refusal and "email_verified" in refusal


MAY_PUBLISH_APP = """
import streamlit as st
from ui.context import may_publish
st.markdown(f"may publish: {may_publish()}")
"""


@pytest.mark.parametrize(
    ("email", "verified", "expected"),
    [(PUBLISHER, VERIFIED, True), (VIEWER, VERIFIED, False), (PUBLISHER, False, False)],
    ids=["publisher", "viewer", "unverified-publisher"],
)
def test_may_publish_only_for_a_signed_in_verified_publisher(app_env, email, verified, expected):
    at = signed_in_page(
        app_env,
        email,
        VIEWER,
        verified,
        publishers=PUBLISHER,
        at=AppTest.from_string(MAY_PUBLISH_APP, default_timeout=60),
    )
    assert not at.exception
    assert f"may publish: {expected}" in texts(at)


def test_nobody_may_publish_without_sign_in_even_with_the_dev_flag(app_env):
    staff_mode(app_env, dev_flag=True)
    app_env.setenv("LEAD_PUBLISHER_EMAILS", PUBLISHER)
    at = AppTest.from_string(MAY_PUBLISH_APP, default_timeout=60).run()
    assert "may publish: False" in texts(at)
    page = run_staff_page(site="albany")
    assert escape_markdown("Not signed in (staff mode without sign-in). Role: viewer") in texts(
        page
    )


def test_the_staff_page_shows_who_is_signed_in_and_their_role(app_env):
    publisher = signed_in_page(app_env, PUBLISHER, VIEWER, publishers=PUBLISHER)
    # The page escapes the sentence for Markdown (an address is data).
    assert escape_markdown(f"Signed in as {PUBLISHER}. Role: publisher") in texts(publisher)
    viewer = signed_in_page(app_env, VIEWER, VIEWER, publishers=PUBLISHER)
    said = escape_markdown(
        f"Signed in as {VIEWER}. Role: viewer (sees exact figures; cannot publish)"
    )
    assert said in texts(viewer)


def test_sign_in_configured_outranks_the_dev_flag(app_env):
    # With [auth] configured, LEAD_ALLOW_UNAUTHENTICATED_STAFF=1 must not let a
    # signed-out viewer in: sign-in is what a real deployment relies on.
    app_env.setenv("LEAD_ALLOW_UNAUTHENTICATED_STAFF", "1")
    at = signed_in_page(app_env, None, None)
    assert [t.value for t in at.title] == [STAFF_ONLY_TITLE]
    assert_nothing_staff_only(at)


# ------------------------------------------------------------------ router


def test_router_offers_the_staff_page_to_staff_only(app_env):
    staff_mode(app_env, dev_flag=True)
    at = run_router()
    at.switch_page(STAFF_PAGE).run()
    assert not at.exception
    assert "Precinct operations (staff only)" in [t.value for t in at.title]
    assert staff_keys(at)


def test_router_signed_in_staff_reach_the_page(app_env):
    app_env.setenv("LEAD_AUDIENCE", "staff")
    at = AppTest.from_file(DASHBOARD, default_timeout=120)
    at.secrets["auth"] = AUTH_SECRETS
    at.user = {"is_logged_in": True, "email": "case.manager@example.org"}
    at.query_params["site"] = "albany"
    at.run()
    at.switch_page(STAFF_PAGE).run()
    assert not at.exception
    assert staff_keys(at)


# --------------------------------------------------------------------------- the view itself


@pytest.mark.parametrize("audience", [Audience.PUBLIC, "public", "staff"])
def test_the_staff_view_refuses_anyone_but_staff(demo_sqlite_url, audience):
    engine = make_engine(demo_sqlite_url)
    with pytest.raises(PermissionError, match="program staff only"):
        build(STAFF_OPERATIONS, engine, Selection(RELEASE, "albany", "2025-Q4"), audience)
    engine.dispose()


def test_every_staff_table_is_protected_and_exact(demo_sqlite_url):
    engine = make_engine(demo_sqlite_url)
    result = build(STAFF_OPERATIONS, engine, Selection(RELEASE, "seattle", "2025"), Audience.STAFF)
    engine.dispose()
    assert result.tables, "the view published nothing"
    for name, table in result.tables.items():
        assert table.exact, name
        flags = [c for c in table.frame.columns if c.endswith("_flag")]
        for flag in flags:  # nothing withheld for staff
            assert set(table.frame[flag].to_list()) <= {""}, (name, flag)


def _load_minimal(url: str, tmp_path: Path, change=None) -> None:
    release = minimal_release()
    if change:
        change(release)
    folder = release.write(tmp_path / "release")
    engine = make_engine(url)
    init_db(engine)
    load_release(engine, folder)
    engine.dispose()


def test_worked_example_on_the_minimal_release(database_url, tmp_path):
    _load_minimal(database_url, tmp_path)
    engine = make_engine(database_url)
    result = build(
        STAFF_OPERATIONS, engine, Selection("test-2024-12", "sea", "2024-Q1"), Audience.STAFF
    )
    engine.dispose()
    # Seattle, Q1 2024: north has 3 + 2 = 5 referrals (2 + 1 = 3 enrolled) in January;
    # west has 1 referral (1 enrolled) in February. Together 6 referred, 4 enrolled.
    period = result.table("period_by_precinct").frame.sort("precinct_id")
    assert period.select("precinct_id", "referrals", "enrolled").rows() == [
        ("north", 5, 3),
        ("west", 1, 1),
    ]
    assert period["enrolled_share"].to_list() == pytest.approx([3 / 5, 1 / 1])
    total = result.table("period_total").frame.row(0, named=True)
    assert (total["referrals"], total["enrolled"]) == (5 + 1, 3 + 1)
    assert total["enrolled_share"] == pytest.approx(4 / 6)
    # Twelve months ending with March 2024, every precinct-month present (0 when empty).
    monthly = result.table("referrals_by_month").frame
    assert monthly.height == 2 * 12
    assert monthly["month"].min() == "2023-04" and monthly["month"].max() == "2024-03"
    assert monthly.filter(pl.col("referrals") > 0).rows() == [
        ("north", "2024-01", 5, ""),
        ("west", "2024-02", 1, ""),
    ]
    # Caseload in January 2024: north 12 + 9 = 21 active; it is not added across months.
    caseload = result.table("caseload_by_month").frame
    assert caseload.filter(pl.col("active_participants") > 0).rows() == [
        ("north", "2024-01", 21, "")
    ]
    assert result.facts["caseload_month"] == "2024-03"
    latest = result.table("caseload_latest").frame
    assert latest["active_participants"].to_list() == [0, 0]  # nobody active in March
    # Seattle has no pending screening; Santa Fe has 1 (January 2024).
    assert result.table("pending_total").frame["pending"].to_list() == [0]


def test_a_site_without_caseload_or_screening_says_so(sqlite_url, tmp_path, app_env):
    def without_optional_tables(release):
        # Services are checked against the caseload, so they go too.
        for table in ("caseload", "screening", "services"):
            del release.tables[table]

    _load_minimal(sqlite_url, tmp_path, without_optional_tables)
    engine = make_engine(sqlite_url)
    result = build(
        STAFF_OPERATIONS, engine, Selection("test-2024-12", "sea", "2024"), Audience.STAFF
    )
    engine.dispose()
    assert result.facts["caseload_published"] == "no"
    assert result.facts["screening_published"] == "no"
    assert not {k for k in result.tables if k.startswith(("caseload", "pending"))}
    assert result.table("period_total").frame["referrals"].to_list() == [3 + 2 + 1]

    # The page says so in words instead of drawing empty charts.
    app_env.setenv("DATABASE_URL", sqlite_url)
    staff_mode(app_env, dev_flag=True)
    at = run_staff_page(site="sea", period="2024")
    assert not at.exception
    infos = " ".join(i.value for i in at.info)
    assert "does not publish caseload figures" in infos
    assert "does not publish screening outcomes" in infos
    assert len(at.get("plotly_chart")) == 2  # referrals and enrollments only


def test_an_unknown_precinct_is_refused_by_the_view(demo_sqlite_url):
    engine = make_engine(demo_sqlite_url)
    with pytest.raises(q.InvalidFilter, match="precinct"):
        build(
            STAFF_OPERATIONS,
            engine,
            Selection(RELEASE, "albany", "2025-Q4", ("nowhere",)),
            Audience.STAFF,
        )
    engine.dispose()
