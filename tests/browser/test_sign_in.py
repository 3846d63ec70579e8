"""Staff sign-in for real: Chromium signs in through an OpenID Connect provider on 127.0.0.1.

The provider is oidc-provider-mock (a real OIDC server built on Authlib: discovery,
authorize with a sign-in form, token, JWKS, end-session), run in this process on a
thread. Each test sets the claims of the user it signs in as (e-mail and
email_verified), so the ID token carries exactly what a real provider would say.
The dashboard is one staff server for the module, started with a secrets.toml whose
[auth] section points at that provider; every test has its own browser context, so
its own cookies.

No request leaves the machine: the provider's pages link a stylesheet on a CDN,
which the browser context refuses (see `loopback_only`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest

from .conftest import (
    MAIN,
    SIDEBAR,
    StreamlitServer,
    exception_texts,
    open_app,
    server_environment,
    wait_for_app_idle,
)

VIEWER = "case.manager@example.org"
PUBLISHER = "program.lead@example.org"
STAFF_ELEMENTS = '[class*="st-key-staff-"], [class*="st-key-chart_card_staff-"]'
STAFF_PAGE_TITLE = "Precinct operations (staff only)"
STAFF_ONLY_TITLE = "Program staff only"
UNVERIFIED_NOTE = "has not confirmed that the e-mail address it gave belongs to you"
NAV_LINK = '[data-testid="stSidebarNavLink"]'
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

pytestmark = [
    pytest.mark.browser,
    # The provider (not our code) uses an Authlib API that Authlib has deprecated.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.oidc.core.grants._legacy"),
]


@dataclass
class Provider:
    """The OIDC provider on 127.0.0.1: its issuer URL and a way to set a user's claims."""

    issuer: str

    def add_user(self, sub: str, **claims: object) -> str:
        """Make `sub` a user whose ID token carries `claims`; returns `sub`."""
        import httpx

        response = httpx.put(f"{self.issuer}/users/{quote(sub)}", json=claims, timeout=10)
        assert response.status_code == 204, response.text
        return sub


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    import httpx
    import oidc_provider_mock
    import werkzeug.serving

    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    issuer = f"http://127.0.0.1:{server.server_port}"
    try:
        # The endpoints Streamlit's sign-in uses are there before any test relies on them.
        metadata = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
        assert metadata["issuer"] == issuer
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            assert metadata[endpoint].startswith(issuer), endpoint
        assert httpx.get(metadata["jwks_uri"], timeout=10).json()["keys"]
        yield Provider(issuer)
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def sign_in_server(provider, demo_database, tmp_path_factory) -> Iterator[StreamlitServer]:
    """A staff server on the demo data whose [auth] points at `provider`."""
    folder = tmp_path_factory.mktemp("sign-in")
    env = server_environment(
        demo_database,
        {
            "LEAD_AUDIENCE": "staff",
            "LEAD_STAFF_EMAILS": VIEWER,
            "LEAD_PUBLISHER_EMAILS": PUBLISHER,
            # This file only, not the project's .streamlit/secrets.toml nor ~/.streamlit.
            "STREAMLIT_SECRETS_FILES": str(folder / "secrets.toml"),
        },
    )
    server = StreamlitServer("dashboard.py", env, folder / "streamlit.log")
    (folder / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{server.base_url}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-that-signs-nothing-outside-this-test"\n'
        'client_id = "lead-dashboard"\n'
        'client_secret = "a-test-client-secret"\n'
        f'server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"\n'
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def loopback_only(page) -> list[str]:
    """Refuse every request to a host off this machine; returns the refused URLs."""
    refused: list[str] = []

    def gate(route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOOPBACK or host.startswith("127."):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.context.route("**/*", gate)
    return refused


def sign_in(page, server: StreamlitServer, provider: Provider, sub: str) -> None:
    """Click "Staff sign-in", sign in at the provider as `sub`, and wait for the app again."""
    open_app(page, server.url(site="albany"))
    page.locator(SIDEBAR).get_by_role("button", name="Staff sign-in").click()
    page.wait_for_url(f"{provider.issuer}/oauth2/authorize**")
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{server.base_url}/**")
    wait_for_app_idle(page)


def open_staff_page(page, server: StreamlitServer) -> None:
    open_app(page, server.url("staff", site="albany"))


def main_words(page) -> str:
    """The main area's text as read: without the word joiners that keep an address unlinked."""
    return page.locator(MAIN).inner_text().replace("\u2060", "")


def headings(page) -> list[str]:
    return [t.strip() for t in page.locator(f"{MAIN} h1").all_inner_texts()]


def menu(page) -> list[str]:
    return [t.strip() for t in page.locator(NAV_LINK).all_inner_texts()]


def sidebar_buttons(page) -> list[str]:
    return [t.strip() for t in page.locator(SIDEBAR).get_by_role("button").all_inner_texts()]


def assert_staff_page_closed(page) -> None:
    """The staff address shows the guard's message and nothing staff-only."""
    assert exception_texts(page) == []
    assert headings(page) == [STAFF_ONLY_TITLE]
    assert page.locator(STAFF_ELEMENTS).count() == 0
    body = page.locator("body").inner_text()
    assert "exact counts" not in body.lower()
    assert "Page not found" not in body
    assert "Precinct operations" not in menu(page)


def assert_staff_page_open(page, role_line: str) -> None:
    assert exception_texts(page) == []
    assert headings(page) == [STAFF_PAGE_TITLE]
    assert page.locator(STAFF_ELEMENTS).count() > 0
    main = main_words(page)
    assert "exact counts, not for publication" in main
    assert role_line in main
    assert "Precinct operations" in menu(page)
    assert "Sign out" in " ".join(sidebar_buttons(page))


def test_a_listed_verified_viewer_reaches_the_staff_pages_as_a_viewer(
    sign_in_server, provider, page, loopback_only, screenshot
):
    sub = provider.add_user(VIEWER, email=VIEWER, email_verified=True)
    sign_in(page, sign_in_server, provider, sub)
    assert "Precinct operations" in menu(page)
    open_staff_page(page, sign_in_server)
    screenshot("signed-in-viewer-staff-page")
    assert_staff_page_open(
        page, f"Signed in as {VIEWER}. Role: viewer (sees exact figures; cannot publish)."
    )
    assert "Role: publisher" not in main_words(page)


def test_a_listed_publisher_is_a_viewer_with_the_publisher_role(
    sign_in_server, provider, page, loopback_only
):
    # On LEAD_PUBLISHER_EMAILS only, not LEAD_STAFF_EMAILS: publishers are viewers too.
    sub = provider.add_user(PUBLISHER, email=PUBLISHER.upper(), email_verified=True)
    sign_in(page, sign_in_server, provider, sub)
    open_staff_page(page, sign_in_server)
    assert_staff_page_open(
        page,
        f"Signed in as {PUBLISHER.upper()}. Role: publisher (sees exact figures and may "
        "publish a release).",
    )


def test_a_listed_address_the_provider_did_not_verify_is_refused(
    sign_in_server, provider, page, loopback_only, screenshot
):
    # The provider would let anyone type this address into a profile: email_verified false.
    sub = provider.add_user("typed-an-address", email=VIEWER, email_verified=False)
    sign_in(page, sign_in_server, provider, sub)
    assert UNVERIFIED_NOTE in main_words(page)
    assert "Precinct operations" not in menu(page)
    open_staff_page(page, sign_in_server)
    screenshot("unverified-staff-page")
    assert_staff_page_closed(page)
    assert UNVERIFIED_NOTE in main_words(page)
    # Signed in, so the way out is signing out, not signing in again.
    assert "Sign out" in " ".join(sidebar_buttons(page))


def test_a_verified_address_off_the_allow_list_is_refused(
    sign_in_server, provider, page, loopback_only
):
    sub = provider.add_user("someone.else", email="someone.else@example.org", email_verified=True)
    sign_in(page, sign_in_server, provider, sub)
    open_staff_page(page, sign_in_server)
    assert_staff_page_closed(page)
    assert "Staff sign-in" in " ".join(sidebar_buttons(page))


def test_signing_out_ends_access_and_neither_back_nor_refresh_restores_it(
    sign_in_server, provider, page, loopback_only, screenshot
):
    sub = provider.add_user(VIEWER, email=VIEWER, email_verified=True)
    sign_in(page, sign_in_server, provider, sub)
    open_staff_page(page, sign_in_server)
    assert page.locator(STAFF_ELEMENTS).count() > 0

    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    # Streamlit ends the provider's session too (its end_session_endpoint), then returns.
    page.wait_for_url(f"{provider.issuer}/oauth2/end_session**")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{sign_in_server.base_url}/**")
    wait_for_app_idle(page)
    assert not [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
    assert "Staff sign-in" in " ".join(sidebar_buttons(page))

    # Back through the history to the staff page as it was shown while signed in.
    for _ in range(5):
        page.go_back(wait_until="domcontentloaded")
        if urlsplit(page.url).path == "/staff" and page.url.startswith(sign_in_server.base_url):
            break
    else:
        pytest.fail(f"the back button never came back to the staff page (at {page.url})")
    wait_for_app_idle(page)
    screenshot("after-sign-out-back")
    assert_staff_page_closed(page)

    page.reload(wait_until="domcontentloaded")
    wait_for_app_idle(page)
    assert_staff_page_closed(page)
