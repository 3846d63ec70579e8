"""Who the deployment serves: the public (protected aggregates) or staff (exact aggregates).

The audience is a deployment setting read from the server's environment on
every call. It is never taken from a URL parameter or a widget: a visitor must
not be able to ask for exact numbers. Anything other than the two allowed
values is a configuration mistake, reported with the variable's name rather
than silently treated as one or the other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

AUDIENCE_VARIABLE = "LEAD_AUDIENCE"
ALLOW_UNAUTHENTICATED_STAFF_VARIABLE = "LEAD_ALLOW_UNAUTHENTICATED_STAFF"


class Audience(StrEnum):
    PUBLIC = "public"
    STAFF = "staff"


class AudienceConfigurationError(ValueError):
    """An audience setting in the environment has a value we do not accept."""


def audience_from_environment(environ: Mapping[str, str] | None = None) -> Audience:
    """The configured audience: `LEAD_AUDIENCE`, "public" when unset or empty."""
    env = os.environ if environ is None else environ
    raw = env.get(AUDIENCE_VARIABLE, "").strip().lower()
    if not raw:
        return Audience.PUBLIC
    try:
        return Audience(raw)
    except ValueError:
        allowed = " or ".join(f'"{a.value}"' for a in Audience)
        raise AudienceConfigurationError(
            f"{AUDIENCE_VARIABLE} is {env.get(AUDIENCE_VARIABLE)!r}; it must be {allowed} "
            f'(unset means "public").'
        ) from None


def unauthenticated_staff_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether staff content may be shown without sign-in (local development only).

    True only for `LEAD_ALLOW_UNAUTHENTICATED_STAFF=1`. Unset, empty or "0" is
    False; any other value is an error, so a typo such as "yes" or "true" cannot
    be mistaken for either answer.
    """
    env = os.environ if environ is None else environ
    raw = env.get(ALLOW_UNAUTHENTICATED_STAFF_VARIABLE, "").strip()
    if raw in ("", "0"):
        return False
    if raw == "1":
        return True
    raise AudienceConfigurationError(
        f'{ALLOW_UNAUTHENTICATED_STAFF_VARIABLE} is {raw!r}; it must be "1" (allow, for local '
        f'development only) or "0" / unset (require sign-in).'
    )
