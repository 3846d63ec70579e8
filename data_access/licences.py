"""The terms a site publishes its open data under: licence, contact, privacy policy.

A release may give, per site, in release.json's optional `open_data` object:

    "open_data": {"seattle": {"licence": "CC-BY-4.0",
                              "contact": "opendata@seattle.example",
                              "privacy_policy_url": "https://seattle.example/lead/privacy"}}

Every key is optional. A site without a licence publishes under CC BY 4.0
(DEFAULT_LICENCE); one without a contact or a privacy-policy address has none
stated, and the bundle's README says so. data_access/manifest.py checks the
values at the edge; this module holds the licences a site may choose (their
Open Definition identifiers, as a Data Package names them) and fills in the
default, in one place, for the database reader and everything after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

OPEN_DATA_FIELD = "open_data"
LICENCE, CONTACT, PRIVACY_POLICY_URL = "licence", "contact", "privacy_policy_url"
TERM_KEYS: dict[str, str] = {
    LICENCE: "the licence's identifier, one of {licences} (default CC-BY-4.0)",
    CONTACT: "an email address, or the https:// address of a contact page",
    PRIVACY_POLICY_URL: "the https:// address where the privacy policy can be read",
}
MAX_ADDRESS_LENGTH = 300


@dataclass(frozen=True)
class Licence:
    """An open licence: its Open Definition identifier, its title and where it is read."""

    id: str
    title: str
    url: str
    attribution: bool  # whoever reuses the data must credit the producer


# Open licences for data (Open Definition conformant), by identifier.
LICENCES: dict[str, Licence] = {
    licence.id: licence
    for licence in (
        Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0",
            "https://creativecommons.org/licenses/by/4.0/",
            True,
        ),
        Licence(
            "CC-BY-SA-4.0",
            "Creative Commons Attribution Share-Alike 4.0",
            "https://creativecommons.org/licenses/by-sa/4.0/",
            True,
        ),
        Licence("CC0-1.0", "CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/", False),
        Licence(
            "ODC-BY-1.0",
            "Open Data Commons Attribution License 1.0",
            "https://opendatacommons.org/licenses/by/1-0/",
            True,
        ),
        Licence(
            "ODbL-1.0",
            "Open Data Commons Open Database License 1.0",
            "https://opendatacommons.org/licenses/odbl/1-0/",
            True,
        ),
        Licence(
            "ODC-PDDL-1.0",
            "Open Data Commons Public Domain Dedication and Licence 1.0",
            "https://opendatacommons.org/licenses/pddl/1-0/",
            False,
        ),
    )
}
DEFAULT_LICENCE = "CC-BY-4.0"

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# Characters that would end a Markdown link or a quoted attribute early, or hide text.
_UNSAFE = re.compile(r"[\s<>\"'`()\[\]\\]")


@dataclass(frozen=True)
class SiteTerms:
    """One site's terms, the default filled in: what the bundle states."""

    site_id: str
    licence: Licence
    contact: str | None
    privacy_policy_url: str | None

    @property
    def contact_is_email(self) -> bool:
        return bool(self.contact) and "@" in self.contact and "://" not in self.contact


def site_terms(
    site_id: str,
    licence: str | None = None,
    contact: str | None = None,
    privacy_policy_url: str | None = None,
) -> SiteTerms:
    """A site's terms from what its release gave (None: not given; the licence defaults)."""
    return SiteTerms(
        site_id, LICENCES[licence or DEFAULT_LICENCE], contact or None, privacy_policy_url or None
    )


def web_address_problem(value: str) -> str | None:
    """Why `value` is not an https:// address a reader can open, else None."""
    if len(value) > MAX_ADDRESS_LENGTH:
        return f"is longer than {MAX_ADDRESS_LENGTH} characters"
    if _UNSAFE.search(value):
        return "holds a space, a quote, a bracket or '<', '>'; write the address alone"
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname:
        return "is not a web address starting https:// followed by a host name"
    return None


def contact_problem(value: str) -> str | None:
    """Why `value` is neither an email address nor an https:// address, else None."""
    if "@" in value and "://" not in value:
        if len(value) > MAX_ADDRESS_LENGTH or not _EMAIL.match(value):
            return "is not an email address such as opendata@lead.example.org"
        return None
    problem = web_address_problem(value)
    if problem:
        return f"is neither an email address nor a web address: it {problem}"
    return None
